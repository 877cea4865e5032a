// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// `phoneprov resync`: makes phones fetch their configuration again, now, without
// a reboot: the vendor's re-sync NOTIFY (check-sync;reboot=false, resync, Cisco's
// service-control) to each phone at the address Kea leased it, taken from the
// memfile lease file or from Kea's control channel (libdhcp_lease_cmds.so).
#include "args.h"
#include "commands.h"
#include "control_socket.h"

#include <identify.h>
#include <params.h>
#include <reservations.h>
#include <sip.h>

#include <boost/asio.hpp>

#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

namespace asio = boost::asio;
using udp = asio::ip::udp;
using namespace phoneprov;
using phoneprov::tools::Args;
using phoneprov::tools::ControlSocketError;
using phoneprov::tools::keaCommand;
using phoneprov::tools::UsageError;

namespace phoneprov {
namespace tools {
// Defined in tools/pnp.cc (documented there).
void loadKeaSetup(const std::string& path, const std::string& profilesDir,
                  const std::string& registryDir, nlohmann::json& kea, Config& config,
                  std::shared_ptr<const Identifier>& identifier, HostIndexPtr& hosts,
                  std::vector<std::string>& warnings);
long numberOption(const Args& a, const std::string& name, long def, long lo, long hi);
std::string randomToken(std::mt19937_64& rng);
asio::ip::address sourceAddressFor(asio::io_context& io, const udp::endpoint& peer);
}  // namespace tools
}  // namespace phoneprov

namespace {

/// @brief A DHCPv4 lease, as far as re-sync needs it.
struct Lease {
    Mac mac;
    std::string ip;
    int64_t expire = 0;   ///< seconds since the epoch
    int state = 0;        ///< 0 default, 1 declined, 2 expired-reclaimed
};

bool exists(const std::string& path) {
    struct stat st;
    return (::stat(path.c_str(), &st) == 0);
}

std::vector<std::string> splitCsv(const std::string& line) {
    std::vector<std::string> out;
    std::stringstream ss(line);
    std::string field;
    while (std::getline(ss, field, ',')) {
        out.push_back(field);
    }
    return (out);
}

/// @brief Reads one memfile CSV into `byAddress` (later rows replace earlier ones;
/// a row with valid_lifetime 0 deletes the lease, as Kea reads it).
void readLeaseCsv(const std::string& path, std::map<std::string, Lease>& byAddress) {
    std::ifstream in(path);
    if (!in) {
        throw ConfigError("cannot read the lease file '" + path + "'");
    }
    std::string line;
    std::map<std::string, size_t> column;
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        std::vector<std::string> f = splitCsv(line);
        if (column.empty()) {
            for (size_t i = 0; i < f.size(); ++i) {
                column[f[i]] = i;
            }
            for (const char* need : {"address", "hwaddr", "valid_lifetime", "expire", "state"}) {
                if (!column.count(need)) {
                    throw ConfigError(path + ": no column '" + need + "': not a Kea DHCPv4 lease file");
                }
            }
            continue;
        }
        auto field = [&](const char* name) -> std::string {
            size_t i = column[name];
            return (i < f.size() ? f[i] : std::string());
        };
        auto mac = parseMac(field("hwaddr"));
        if (!mac) {
            continue;
        }
        Lease l;
        l.mac = *mac;
        l.ip = field("address");
        try {
            l.expire = std::stoll(field("expire"));
            l.state = std::stoi(field("state"));
            if (std::stoll(field("valid_lifetime")) == 0) {
                byAddress.erase(l.ip);
                continue;
            }
        } catch (const std::exception&) {
            continue;  // a torn last line, for instance
        }
        byAddress[l.ip] = l;
    }
}

/// @brief Every lease in a memfile lease file and the files Kea's lease file
/// cleanup (LFC) leaves beside it, read in the order Kea reads them at start.
std::vector<Lease> leasesFromFile(const std::string& path) {
    std::map<std::string, Lease> byAddress;
    if (exists(path + ".completed")) {
        readLeaseCsv(path + ".completed", byAddress);
    } else {
        for (const char* suffix : {".2", ".1"}) {
            if (exists(path + suffix)) {
                readLeaseCsv(path + suffix, byAddress);
            }
        }
    }
    readLeaseCsv(path, byAddress);
    std::vector<Lease> out;
    for (auto& l : byAddress) {
        out.push_back(l.second);
    }
    return (out);
}

/// @brief Leases from Kea's control channel: `lease4-get-by-hw-address` for one
/// MAC, `lease4-get-all` for every phone (both from libdhcp_lease_cmds.so).
std::vector<Lease> leasesFromSocket(const std::string& path, const Mac* mac, int timeoutMs) {
    nlohmann::json cmd = {{"command", mac ? "lease4-get-by-hw-address" : "lease4-get-all"}};
    if (mac) {
        cmd["arguments"] = {{"hw-address", mac->colon()}};
    }
    nlohmann::json j;
    try {
        j = keaCommand(path, cmd, timeoutMs);
    } catch (const ControlSocketError& e) {
        throw ConfigError(e.what());
    }
    int result = j.value("result", 1);
    if (result == 3) {
        return {};  // empty: nothing found
    }
    if (result != 0) {
        throw ConfigError("Kea answered " + cmd["command"].get<std::string>() + " with " +
                          std::to_string(result) + ": " + j.value("text", std::string()) +
                          " (is libdhcp_lease_cmds.so loaded?)");
    }
    std::vector<Lease> out;
    for (const auto& l : j["arguments"].value("leases", nlohmann::json::array())) {
        auto m = parseMac(l.value("hw-address", std::string()));
        if (!m) {
            continue;
        }
        Lease lease;
        lease.mac = *m;
        lease.ip = l.value("ip-address", std::string());
        lease.expire = l.value("cltt", int64_t(0)) + l.value("valid-lft", int64_t(0));
        lease.state = l.value("state", 0);
        out.push_back(lease);
    }
    return (out);
}

/// @brief The newest active lease of each MAC (all MACs, or one).
std::map<uint64_t, Lease> activeLeases(const std::vector<Lease>& leases, const Mac* only) {
    std::map<uint64_t, Lease> out;
    int64_t now = static_cast<int64_t>(std::time(nullptr));
    for (const Lease& l : leases) {
        if (l.state != 0 || l.expire <= now || (only && l.mac != *only)) {
            continue;
        }
        auto it = out.find(l.mac.value());
        if (it == out.end() || it->second.expire < l.expire) {
            out[l.mac.value()] = l;
        }
    }
    return (out);
}

/// @brief One phone to re-sync.
struct Target {
    Mac mac;
    std::string vendor;
    std::string event;
    udp::endpoint to;
};

/// @brief Sends every NOTIFY (at most 32 at once), retransmitting on timer E, and
/// records each phone's final answer.
class Sender {
public:
    Sender(asio::io_context& io, int t1Ms, int timeoutMs)
        : io_(io), t1_(t1Ms), timeout_(timeoutMs), rng_(std::random_device{}()) {}

    /// @return how many phones answered 2xx.
    size_t run(const std::vector<Target>& targets) {
        queue_.assign(targets.begin(), targets.end());
        for (int i = 0; i < 32; ++i) {
            next();
        }
        io_.run();
        return (ok_);
    }

private:
    struct Job {
        explicit Job(asio::io_context& io) : sock(io), timer(io) {}
        Target t;
        udp::socket sock;
        asio::steady_timer timer;
        std::string bytes;
        std::string branch;
        std::chrono::milliseconds interval{0};
        std::chrono::steady_clock::time_point deadline;
        std::vector<char> buf = std::vector<char>(65536);
        udp::endpoint from;
        bool done = false;
    };

    void next() {
        if (queue_.empty()) {
            return;
        }
        auto job = std::make_shared<Job>(io_);
        job->t = queue_.front();
        queue_.pop_front();
        boost::system::error_code ec;
        // The address the phone answers to: the one the kernel routes from.
        asio::ip::address localAddr = tools::sourceAddressFor(io_, job->t.to);
        job->sock.open(job->t.to.protocol(), ec);
        if (!ec) {
            job->sock.bind(udp::endpoint(job->t.to.protocol(), 0), ec);
        }
        if (ec || localAddr.is_unspecified()) {
            finish(job, "cannot send: " + (ec ? ec.message() : std::string("no route")), false);
            return;
        }
        sip::Local me;
        me.contact = {localAddr.to_string(), job->sock.local_endpoint().port()};
        me.tag = tools::randomToken(rng_);
        me.branch = std::string(sip::kBranchCookie) + tools::randomToken(rng_);
        me.callId = tools::randomToken(rng_) + "@" + me.contact.address;
        me.cseq = 1;
        sip::Endpoint phone{job->t.to.address().to_string(), job->t.to.port()};
        job->bytes = sip::serialize(sip::makeResyncNotify(phone, job->t.event, me));
        job->branch = me.branch;
        job->interval = std::chrono::milliseconds(t1_);
        job->deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_);
        receive(job);
        transmit(job);
    }

    void transmit(const std::shared_ptr<Job>& job) {
        if (job->done) {
            return;
        }
        if (std::chrono::steady_clock::now() >= job->deadline) {
            finish(job, "no answer within " + std::to_string(timeout_) + " ms", false);
            return;
        }
        boost::system::error_code ec;
        job->sock.send_to(asio::buffer(job->bytes), job->t.to, 0, ec);
        auto wait = std::min(job->interval,
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                                 job->deadline - std::chrono::steady_clock::now()));
        job->interval = std::min(job->interval * 2, std::chrono::milliseconds(8 * t1_));
        job->timer.expires_after(wait);
        job->timer.async_wait([this, job](const boost::system::error_code& err) {
            if (!err) {
                transmit(job);
            }
        });
    }

    void receive(const std::shared_ptr<Job>& job) {
        job->sock.async_receive_from(asio::buffer(job->buf), job->from,
                                     [this, job](const boost::system::error_code& ec, size_t n) {
            if (ec || job->done) {
                return;
            }
            sip::Message m;
            std::string error;
            if (sip::parse(std::string_view(job->buf.data(), n), m, error) &&
                sip::answers(m, job->branch, "NOTIFY") && m.status >= 200) {
                finish(job, std::to_string(m.status) + " " + m.reason, m.status < 300);
                return;
            }
            receive(job);
        });
    }

    void finish(const std::shared_ptr<Job>& job, const std::string& outcome, bool ok) {
        job->done = true;
        job->timer.cancel();
        boost::system::error_code ec;
        job->sock.close(ec);
        ok_ += ok ? 1 : 0;
        std::printf("%s %s %s %s: %s\n", job->t.mac.colon().c_str(), job->t.vendor.c_str(),
                    sip::hostPort({job->t.to.address().to_string(), job->t.to.port()}).c_str(),
                    job->t.event.c_str(), outcome.c_str());
        std::fflush(stdout);
        asio::post(io_, [this] { next(); });  // not recursion: thousands may fail at once
    }

    asio::io_context& io_;
    int t1_;
    int timeout_;
    std::mt19937_64 rng_;
    std::deque<Target> queue_;
    size_t ok_ = 0;
};

/// @brief Where the leases are when no option says: the control socket of the
/// Kea configuration when it loads libdhcp_lease_cmds.so, else its lease file.
void leaseSource(const nlohmann::json& kea, std::string& file, std::string& socket) {
    const nlohmann::json& d4 = kea.contains("Dhcp4") ? kea["Dhcp4"] : kea;
    bool leaseCmds = false;
    for (const auto& lib : d4.value("hooks-libraries", nlohmann::json::array())) {
        leaseCmds = leaseCmds || lib.value("library", std::string()).find("libdhcp_lease_cmds") !=
                                     std::string::npos;
    }
    if (leaseCmds && d4.contains("control-socket")) {
        socket = d4["control-socket"].value("socket-name", std::string());
        return;
    }
    nlohmann::json db = d4.value("lease-database", nlohmann::json::object());
    if (db.value("type", std::string("memfile")) != "memfile" || !db.value("persist", true)) {
        throw UsageError("the Kea configuration keeps no lease file: give --control-socket "
                         "(with libdhcp_lease_cmds.so) or --lease-file");
    }
    file = db.value("name", std::string("/var/lib/kea/kea-leases4.csv"));
}

const char* const kUsage =
    "usage: phoneprov resync (--mac MAC | --all) --config kea-dhcp4.conf\n"
    "  [--lease-file FILE | --control-socket PATH] [--ip ADDR] [--port N]\n"
    "  [--vendor ID] [--event EVENT] [--timeout MS] [--t1-ms N] [--dry-run]\n"
    "  [--profiles-dir D] [--registry-dir D]\n"
    "Sends the vendor's re-sync NOTIFY (its profile's resync-event) to a phone at its\n"
    "leased address, so that it fetches its configuration again without a reboot.\n"
    "Leases: --control-socket (Kea with libdhcp_lease_cmds.so), --lease-file, or what\n"
    "the Kea configuration names. --ip skips the lease lookup. Exit 0 when every phone\n"
    "answered 2xx, 3 when one did not.\n";

}  // namespace

int cmdResync(int argc, char** argv) {
    try {
        Args a(argc, argv, {"mac", "config", "lease-file", "control-socket", "ip", "port", "vendor",
                            "event", "timeout", "t1-ms", "profiles-dir", "registry-dir"},
               {"all", "dry-run", "help"});
        if (a.has("help") || !a.has("config") || a.has("mac") == a.has("all")) {
            std::printf("%s", kUsage);
            return (a.has("help") ? 0 : 1);
        }
        if (a.has("lease-file") && a.has("control-socket")) {
            throw UsageError("--lease-file or --control-socket, not both");
        }
        if (a.has("ip") && a.has("all")) {
            throw UsageError("--ip names one phone: not with --all");
        }
        int port = static_cast<int>(tools::numberOption(a, "port", 5060, 1, 65535));
        int timeoutMs = static_cast<int>(tools::numberOption(a, "timeout", 8000, 100, 120000));
        int t1Ms = static_cast<int>(tools::numberOption(a, "t1-ms", 500, 10, 10000));
        std::optional<Mac> mac;
        if (a.has("mac") && !(mac = parseMac(a.get("mac")))) {
            throw UsageError("'" + a.get("mac") + "' is not a MAC address");
        }
        nlohmann::json kea;
        Config config;
        std::shared_ptr<const Identifier> id;
        HostIndexPtr hosts;
        std::vector<std::string> warnings;
        tools::loadKeaSetup(a.get("config"), a.get("profiles-dir"), a.get("registry-dir"), kea,
                            config, id, hosts, warnings);
        if (a.has("vendor") && id->catalogue().find(a.get("vendor")) < 0) {
            throw UsageError("--vendor '" + a.get("vendor") + "' is no vendor profile");
        }
        std::map<uint64_t, Lease> leases;
        if (a.has("ip")) {
            leases[mac->value()] = Lease{*mac, a.get("ip"), 0, 0};
        } else {
            std::string file = a.get("lease-file");
            std::string socket = a.get("control-socket");
            if (file.empty() && socket.empty()) {
                leaseSource(kea, file, socket);
            }
            leases = activeLeases(socket.empty() ? leasesFromFile(file)
                                                 : leasesFromSocket(socket, mac ? &*mac : nullptr, timeoutMs),
                                  mac ? &*mac : nullptr);
            if (mac && leases.empty()) {
                std::fprintf(stderr, "phoneprov resync: %s has no active lease in %s\n",
                             mac->colon().c_str(), (socket.empty() ? file : socket).c_str());
                return (2);
            }
        }
        std::vector<Target> targets;
        int skipped = 0;
        for (const auto& entry : leases) {
            const Lease& l = entry.second;
            Verdict v = id->identify(l.mac, "");
            const HostEntry* host = hosts->find(l.mac);
            std::string pinned = a.get("vendor", host ? host->pinVendor : "");
            if (!pinned.empty()) {
                id->pin(v, pinned, host ? host->pinModel : "");
            }
            // A lease says nothing of option 60: a vendor that also makes other devices
            // is known by its MAC prefix only. That is enough when the admin names the
            // MAC, or gave the device phone data in its reservation.
            if (!v.phone && v.prefixVendor >= 0 && (mac || (host && host->hasData))) {
                v.phone = true;
                v.vendor = v.prefixVendor;
            }
            const VendorProfile* vendor = v.phone ? &id->catalogue().vendors()[v.vendor] : nullptr;
            std::string event = a.get("event", vendor ? vendor->resyncEvent : "");
            boost::system::error_code ec;
            asio::ip::address ip = asio::ip::make_address(l.ip, ec);
            if (!vendor || event.empty() || ec) {
                ++skipped;
                if (mac || ec) {
                    std::fprintf(stderr, "phoneprov resync: %s (%s): %s\n", l.mac.colon().c_str(),
                                 l.ip.c_str(),
                                 ec ? "not an IP address"
                                 : !vendor ? "vendor unknown: give --vendor or pin it in the reservation"
                                           : "the vendor profile has no resync-event: give --event");
                }
                continue;
            }
            targets.push_back(Target{l.mac, vendor->id, event, udp::endpoint(ip, static_cast<unsigned short>(port))});
        }
        if (mac && targets.empty()) {
            return (2);
        }
        if (a.has("dry-run")) {
            for (const Target& t : targets) {
                std::printf("%s %s %s %s: not sent (--dry-run)\n", t.mac.colon().c_str(), t.vendor.c_str(),
                            sip::hostPort({t.to.address().to_string(), t.to.port()}).c_str(),
                            t.event.c_str());
            }
            return (0);
        }
        asio::io_context io;
        Sender sender(io, t1Ms, timeoutMs);
        size_t ok = sender.run(targets);
        if (a.has("all")) {
            std::fprintf(stderr, "%zu of %zu phones answered 2xx; %d leases skipped (not a phone "
                         "with a resync-event)\n", ok, targets.size(), skipped);
        }
        return (ok == targets.size() ? 0 : 3);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov resync: %s\n", e.what());
        return (1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "phoneprov resync: %s\n", e.what());
        return (2);
    }
}
