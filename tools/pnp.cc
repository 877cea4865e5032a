// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// `phoneprov pnp`: the SIP PnP responder (RFC 6080). Phones multicast a SUBSCRIBE
// (Event: ua-profile) to 224.0.1.75:5060 at boot; we answer 200 OK, render the
// phone's files as the hook would, and send a NOTIFY whose body is the URL that
// DHCP gives the same phone. One thread, Boost.Asio; every datagram is untrusted.
#include "args.h"
#include "commands.h"

#include <identify.h>
#include <params.h>
#include <provisioner.h>
#include <recent_phones.h>
#include <reservations.h>
#include <safe_write.h>
#include <sip.h>
#include <token.h>

#include <boost/asio.hpp>

#include <arpa/inet.h>
#include <grp.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <fstream>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <unordered_map>

namespace asio = boost::asio;
using udp = asio::ip::udp;
using Clock = std::chrono::steady_clock;
using namespace phoneprov;
using phoneprov::tools::Args;
using phoneprov::tools::UsageError;

namespace phoneprov {
namespace tools {

/// @brief The profiles installed next to this program, or the compiled-in default.
std::string installedProfiles() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) {
        return (PHONEPROV_PROFILES_DIR);
    }
    return (installedProfilesDir(std::string(buf, static_cast<size_t>(n)), PHONEPROV_BIN_TO_PROFILES));
}

/// @brief Reads a Kea configuration and the hook parameters in it, as the hook
/// would: catalogue, IEEE registry with the admin's prefixes, reservations.
/// Also used by `phoneprov resync` (tools/resync.cc).
/// @param profilesDir, registryDir: overrides ("" to keep the configuration's).
/// @throw ConfigError.
void loadKeaSetup(const std::string& path, const std::string& profilesDir,
                  const std::string& registryDir, nlohmann::json& kea, Config& config,
                  std::shared_ptr<const Identifier>& identifier, HostIndexPtr& hosts,
                  std::vector<std::string>& warnings) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read '" + path + "'");
    }
    std::ostringstream text;
    text << in.rdbuf();
    kea = parseKeaConfigText(text.str(), path);
    nlohmann::json params = findHookParameters(kea);
    if (params.is_null()) {
        throw ConfigError(path + ": the configuration loads no libdhcp_phoneprov.so");
    }
    config = parseConfig(params);
    if (!profilesDir.empty()) {
        config.profilesDir = profilesDir;
    } else if (!params.contains("profiles-dir")) {
        config.profilesDir = installedProfiles();
    }
    if (!registryDir.empty()) {
        config.registryDir = registryDir;
    }
    CataloguePtr catalogue = Catalogue::load(config.profilesDir);
    std::vector<std::pair<Prefix, int>> admin;
    for (const auto& p : config.ouiPrefixes) {
        int vendor = catalogue->find(p.second);
        auto prefix = parsePrefix(p.first);
        if (vendor < 0 || !prefix) {
            throw ConfigError("oui-prefixes: '" + p.first + "' -> '" + p.second + "' is not usable");
        }
        admin.emplace_back(*prefix, vendor);
    }
    OuiRegistryPtr registry = OuiRegistry::build(config.registryDir, *catalogue, admin);
    for (const std::string& missing : registry->stats().missingFiles) {
        warnings.push_back("IEEE registry file missing: " + missing);
    }
    identifier = std::make_shared<const Identifier>(catalogue, registry);
    std::vector<std::string> problems;
    hosts = HostIndex::build(kea, problems);
    for (const std::string& p : problems) {
        warnings.push_back("reservation " + p);
    }
}

/// @brief A numeric option in [lo, hi], or def when absent. Also used by resync.cc.
/// @throw UsageError.
long numberOption(const Args& a, const std::string& name, long def, long lo, long hi) {
    if (!a.has(name)) {
        return (def);
    }
    std::string v = a.get(name);
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < lo || n > hi) {
        throw UsageError("--" + name + " must be a number from " + std::to_string(lo) + " to " +
                         std::to_string(hi));
    }
    return (n);
}

/// @brief 16 hex digits for a tag, branch or Call-ID. Also used by resync.cc.
std::string randomToken(std::mt19937_64& rng) {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng()));
    return (buf);
}

/// @brief The address the kernel sends from to reach a peer (what the peer must
/// answer to); unspecified when there is no route. Also used by resync.cc.
asio::ip::address sourceAddressFor(asio::io_context& io, const udp::endpoint& peer) {
    udp::socket probe(io);
    boost::system::error_code ec;
    probe.open(peer.protocol(), ec);
    if (!ec) {
        probe.connect(peer, ec);  // UDP: nothing is sent, a route is chosen
    }
    udp::endpoint local = ec ? udp::endpoint() : probe.local_endpoint(ec);
    return (ec ? asio::ip::address() : local.address());
}

}  // namespace tools
}  // namespace phoneprov

namespace {

const char* const kPnpGroup = "224.0.1.75";

enum class Level { Debug, Info, Warn, Error };
bool gVerbose = false;

void logLine(Level level, const std::string& msg) {
    if (level == Level::Debug && !gVerbose) {
        return;
    }
    static const char* const kPrefix[] = {"debug", "info", "warning", "error"};
    std::fprintf(stderr, "%s: %s\n", kPrefix[static_cast<int>(level)], msg.c_str());
}

/// @brief Text from a datagram, safe for a log line: at most 64 characters,
/// anything but printable ASCII as \xNN.
std::string printable(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size() && i < 64; ++i) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out.push_back(static_cast<char>(c));
        } else {
            char hex[8];
            std::snprintf(hex, sizeof(hex), "\\x%02x", c);
            out += hex;
        }
    }
    return (s.size() > 64 ? out + "..." : out);
}

std::string text(const udp::endpoint& e) {
    return (sip::hostPort(sip::Endpoint{e.address().to_string(), e.port()}));
}

/// @brief At most 20 lines per 10 seconds (a flood must not flood the log), a line
/// when it starts leaving lines out, and one saying how many it left out. Every line
/// about a datagram goes through one (debug lines too, when --verbose shows them).
class LogLimiter {
public:
    explicit LogLimiter(std::string what) : what_(std::move(what)) {}

    void note(Level level, const std::string& msg) {
        if (level == Level::Debug && !gVerbose) {
            return;
        }
        auto now = Clock::now();
        if (now - windowStart_ > std::chrono::seconds(10)) {
            if (suppressed_) {
                logLine(Level::Warn, std::to_string(suppressed_) + " " + what_ + " lines left out");
            }
            windowStart_ = now;
            lines_ = 0;
            suppressed_ = 0;
        }
        if (++lines_ > 20) {
            if (++suppressed_ == 1) {
                logLine(Level::Warn, "more than 20 " + what_ + " lines in 10 seconds: the next ones are left out");
            }
            return;
        }
        logLine(level, msg);
    }

private:
    std::string what_;
    Clock::time_point windowStart_{};
    int lines_ = 0;
    int suppressed_ = 0;
};

/// @brief Everything read from the Kea configuration; replaced whole on SIGHUP.
struct Setup {
    Config config;
    std::shared_ptr<const Identifier> identifier;
    HostIndexPtr hosts;
    ProvisioningPtr provisioning;
    std::unique_ptr<OutputDir> output;
};

struct Options {
    std::string config;
    std::string profilesDir;
    std::string registryDir;
    std::vector<std::string> interfaces;
    std::string listen = "0.0.0.0";
    int port = 5060;
    bool multicast = true;
    long maxRequests = 0;   ///< 0: run until stopped
    int t1Ms = 500;         ///< RFC 3261 T1
    int notifyTries = 7;    ///< NOTIFY sends before giving up (7 with T1 500 ms: about 20 s)
};

std::shared_ptr<const Setup> loadSetup(const Options& o) {
    auto s = std::make_shared<Setup>();
    nlohmann::json kea;
    std::vector<std::string> warnings;
    tools::loadKeaSetup(o.config, o.profilesDir, o.registryDir, kea, s->config, s->identifier,
                        s->hosts, warnings);
    // The hook's site key: reserved phones' files in the same per-device folders as the
    // hook's (without it, in the vendor's folder without their secrets).
    SiteKey key;
    std::string keyError;
    if (s->config.deviceTokens && !key.load(s->config.keyFile, keyError)) {
        warnings.push_back(keyError + ": per-device files are rendered without credentials");
    }
    s->provisioning = Provisioning::build(s->identifier->cataloguePtr(), s->config, warnings, &key);
    for (const std::string& w : warnings) {
        logLine(Level::Warn, w);
    }
    s->output.reset(new OutputDir(s->config.outputDir, 0640, fileGroupId(s->config.fileGroup)));
    std::string bad = s->config.render ? s->output->check() : "";
    if (!bad.empty()) {
        throw ConfigError("output-dir: " + bad);
    }
    return (s);
}

/// @brief Who sent a PnP SUBSCRIBE: the Event's vendor when the catalogue knows
/// it, else what identification makes of the MAC (and the User-Agent as a vendor
/// class); a reservation's pinned vendor wins, as on the DHCP path.
Verdict identifyPnp(const Setup& s, const sip::PnpSubscribe& p) {
    const Identifier& id = *s.identifier;
    Verdict v = id.identify(p.mac, p.userAgent);
    if (v.macProblem != MacProblem::None) {
        return (v);
    }
    const auto& vendors = id.catalogue().vendors();
    int named = sip::pnpVendor(id.catalogue(), p.vendor);
    if (named >= 0) {
        bool agree = v.prefixVendor >= 0 && vendors[v.prefixVendor].family == vendors[named].family;
        std::string model = sip::pnpModel(vendors[named], p.model);
        if (!model.empty() || v.vendor != named) {
            v.model = model;  // else keep the model the User-Agent gave for this vendor
        }
        v.phone = true;
        v.vendor = named;
        v.confidence = agree ? Confidence::Sure : Confidence::Class;
        v.reason = agree ? "Event vendor and MAC prefix agree" : "Event vendor";
    }
    const HostEntry* host = s.hosts->find(p.mac);
    if (host && !host->pinVendor.empty() && !id.pin(v, host->pinVendor, host->pinModel)) {
        logLine(Level::Warn, p.mac.colon() + ": reservation pins unknown vendor '" + host->pinVendor + "'");
    }
    return (v);
}

class Responder {
public:
    Responder(asio::io_context& io, const Options& o, std::shared_ptr<const Setup> setup)
        : io_(io), opts_(o), setup_(std::move(setup)), rng_(std::random_device{}()) {}

    /// @throw ConfigError or boost::system::system_error when a socket cannot be set up.
    void open() {
        asio::ip::address listen = asio::ip::make_address(opts_.listen);
        if (opts_.multicast && !listen.is_v4()) {
            throw ConfigError("multicast needs an IPv4 --listen address (or --no-multicast)");
        }
        // One socket receives unicast and sends everything. Bound to 0.0.0.0 it
        // also receives the group; bound to one address it cannot, so a second
        // socket bound to the group address receives that.
        sockets_.push_back(bind(udp::endpoint(listen, static_cast<unsigned short>(opts_.port))));
        if (!opts_.multicast) {
            logLine(Level::Info, "listening on " + text(sockets_[0]->sock.local_endpoint()) + " (unicast only)");
            return;
        }
        if (!listen.is_unspecified()) {
            sockets_.push_back(bind(udp::endpoint(asio::ip::make_address(kPnpGroup),
                                                  static_cast<unsigned short>(opts_.port))));
        }
        udp::socket& group = sockets_.back()->sock;
        std::vector<std::string> interfaces = opts_.interfaces;
        if (interfaces.empty()) {
            interfaces.push_back("");  // the kernel's choice (the default route's interface)
        }
        for (const std::string& name : interfaces) {
            join(group, name);
        }
        std::string names;
        for (const std::string& name : interfaces) {
            names += (names.empty() ? "" : ", ") + (name.empty() ? "the default interface" : name);
        }
        logLine(Level::Info, "listening on " + text(sockets_[0]->sock.local_endpoint()) + ", group " +
                             kPnpGroup + " joined on " + names);
    }

    void start() {
        readSubnets();
        for (auto& s : sockets_) {
            receive(*s);
        }
    }

    void reload(std::shared_ptr<const Setup> setup) {
        setup_ = std::move(setup);
        recent_.clear();
    }

private:
    struct Socket {
        explicit Socket(asio::io_context& io) : sock(io) {}
        udp::socket sock;
        std::vector<char> buf = std::vector<char>(65536);
        udp::endpoint from;
    };

    /// @brief A response already sent, for retransmitted requests (RFC 3261 17.2.2).
    struct Answered {
        std::string bytes;
        udp::endpoint to;
        Clock::time_point when;
    };

    /// @brief A NOTIFY waiting for its final response.
    struct Pending {
        std::string bytes;
        udp::endpoint to;
        std::string mac;
        int sent = 0;
        std::chrono::milliseconds interval{0};
        std::unique_ptr<asio::steady_timer> timer;
        Clock::time_point started;
    };

    /// @brief What one source address sent us and what we sent it. Until it has
    /// answered one of our NOTIFYs (proof that it receives what is sent to its
    /// address), we send it at most twice the bytes it sent: a spoofed SUBSCRIBE
    /// cannot turn the responder into an amplifier.
    struct Peer {
        uint64_t in = 0;
        uint64_t out = 0;
        bool verified = false;
        double tokens = kPeerBurst;   ///< SUBSCRIBEs it may still have answered
        Clock::time_point refilled{};
        int pending = 0;              ///< NOTIFYs to it waiting for an answer
        std::list<std::string>::iterator lru;
    };

    /// @brief A network an interface is on.
    struct Subnet {
        asio::ip::address net;
        int bits = 0;
    };

    /// Per source address: SUBSCRIBEs answered per second, and at once.
    static constexpr double kPeerRate = 5.0;
    static constexpr double kPeerBurst = 20.0;
    /// All sources together.
    static constexpr double kGlobalRate = 200.0;
    static constexpr double kGlobalBurst = 400.0;
    /// Most source addresses remembered (least recently heard from out first).
    static constexpr size_t kMaxPeers = 4096;
    /// Most NOTIFYs waiting for an answer, in all and per source address: a
    /// source's flood only replaces its own oldest NOTIFYs.
    static constexpr size_t kMaxPending = 1024;
    static constexpr int kMaxPendingPerPeer = 4;

    std::unique_ptr<Socket> bind(const udp::endpoint& at) {
        auto s = std::make_unique<Socket>(io_);
        s->sock.open(at.protocol());
        s->sock.set_option(asio::socket_base::reuse_address(true));
        s->sock.bind(at);
        s->sock.non_blocking(true);
        return (s);
    }

    void join(udp::socket& s, const std::string& name) {
        ip_mreqn mreq{};
        inet_pton(AF_INET, kPnpGroup, &mreq.imr_multiaddr);
        if (!name.empty()) {
            mreq.imr_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
            if (mreq.imr_ifindex == 0) {
                throw ConfigError("--interface " + name + ": no such interface");
            }
        }
        int fd = s.native_handle();
        if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof(mreq)) != 0) {
            throw ConfigError("cannot join " + std::string(kPnpGroup) + " on " +
                              (name.empty() ? "the default interface" : name) + ": " +
                              std::strerror(errno));
        }
        int off = 0;  // only the groups joined on this socket, not every socket's
        setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off));
    }

    void receive(Socket& s) {
        s.sock.async_receive_from(asio::buffer(s.buf), s.from,
                                  [this, &s](const boost::system::error_code& ec, size_t n) {
            if (ec == asio::error::operation_aborted) {
                return;
            }
            if (ec) {
                limiter_.note(Level::Warn, "receive: " + ec.message());
            } else {
                try {
                    onDatagram(std::string_view(s.buf.data(), n), s.from);
                } catch (const std::exception& e) {
                    limiter_.note(Level::Error, "datagram from " + text(s.from) + ": " + e.what());
                }
            }
            receive(s);
        });
    }

    /// @brief An IPv4-mapped IPv6 address as IPv4.
    static asio::ip::address plain(const asio::ip::address& a) {
        if (a.is_v6() && a.to_v6().is_v4_mapped()) {
            return (asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()));
        }
        return (a);
    }

    /// @brief The source address as render-interval compares it: an IPv4 address
    /// itself; an IPv6 one folded to 32 bits (two of a phone's addresses that fold
    /// alike within render-interval only put its next render off to the interval's end).
    static uint32_t addressKey(const asio::ip::address& a) {
        if (a.is_v4()) {
            return (a.to_v4().to_uint());
        }
        uint32_t h = 2166136261u;  // FNV-1a
        for (unsigned char b : a.to_v6().to_bytes()) {
            h = (h ^ b) * 16777619u;
        }
        return (h);
    }

    static bool within(const asio::ip::address& a, const Subnet& s) {
        if (a.is_v4() != s.net.is_v4()) {
            return (false);
        }
        auto bytesA = a.is_v4() ? std::vector<unsigned char>(a.to_v4().to_bytes().begin(),
                                                             a.to_v4().to_bytes().end())
                                : std::vector<unsigned char>(a.to_v6().to_bytes().begin(),
                                                             a.to_v6().to_bytes().end());
        auto bytesN = s.net.is_v4() ? std::vector<unsigned char>(s.net.to_v4().to_bytes().begin(),
                                                                 s.net.to_v4().to_bytes().end())
                                    : std::vector<unsigned char>(s.net.to_v6().to_bytes().begin(),
                                                                 s.net.to_v6().to_bytes().end());
        int bits = s.bits;
        for (size_t i = 0; i < bytesA.size() && bits > 0; ++i, bits -= 8) {
            unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
            if ((bytesA[i] & mask) != (bytesN[i] & mask)) {
                return (false);
            }
        }
        return (true);
    }

    /// @brief The networks of the interfaces we serve: those named by --interface
    /// (every interface without one), and loopback.
    void readSubnets() {
        subnets_.clear();
        subnetsRead_ = Clock::now();
        ifaddrs* list = nullptr;
        if (getifaddrs(&list) != 0) {
            return;
        }
        for (ifaddrs* i = list; i; i = i->ifa_next) {
            if (!i->ifa_addr || !i->ifa_netmask || !i->ifa_name) {
                continue;
            }
            const bool loopback = (i->ifa_flags & IFF_LOOPBACK) != 0;
            const bool named = opts_.interfaces.empty() ||
                               std::find(opts_.interfaces.begin(), opts_.interfaces.end(),
                                         std::string(i->ifa_name)) != opts_.interfaces.end();
            if (!loopback && !named) {
                continue;
            }
            Subnet s;
            if (i->ifa_addr->sa_family == AF_INET) {
                auto* a = reinterpret_cast<sockaddr_in*>(i->ifa_addr);
                auto* m = reinterpret_cast<sockaddr_in*>(i->ifa_netmask);
                s.net = asio::ip::address_v4(ntohl(a->sin_addr.s_addr));
                s.bits = __builtin_popcount(m->sin_addr.s_addr);
            } else if (i->ifa_addr->sa_family == AF_INET6) {
                auto* a = reinterpret_cast<sockaddr_in6*>(i->ifa_addr);
                auto* m = reinterpret_cast<sockaddr_in6*>(i->ifa_netmask);
                asio::ip::address_v6::bytes_type b;
                std::memcpy(b.data(), &a->sin6_addr, b.size());
                s.net = asio::ip::address_v6(b);
                for (size_t k = 0; k < 16; ++k) {
                    s.bits += __builtin_popcount(m->sin6_addr.s6_addr[k]);
                }
            } else {
                continue;
            }
            subnets_.push_back(s);
        }
        freeifaddrs(list);
    }

    /// @brief Whether a source is on the network of an interface we serve (the
    /// interfaces are read again, at most every 10 s, when it is not).
    bool onLink(const asio::ip::address& source) {
        asio::ip::address a = plain(source);
        if (a.is_loopback()) {
            return (true);
        }
        for (int pass = 0; pass < 2; ++pass) {
            for (const Subnet& s : subnets_) {
                if (within(a, s)) {
                    return (true);
                }
            }
            if (pass == 0 && Clock::now() - subnetsRead_ < std::chrono::seconds(10)) {
                break;
            }
            if (pass == 0) {
                readSubnets();
            }
        }
        return (false);
    }

    /// @brief The record of a source address (made, or moved to the front).
    Peer& peer(const asio::ip::address& address) {
        std::string key = plain(address).to_string();
        auto it = peers_.find(key);
        if (it != peers_.end()) {
            peerOrder_.splice(peerOrder_.begin(), peerOrder_, it->second.lru);
            return (it->second);
        }
        // Full: the least recently heard from without a NOTIFY in flight goes.
        auto old = peerOrder_.end();
        while (peers_.size() >= kMaxPeers && old != peerOrder_.begin()) {
            --old;
            auto p = peers_.find(*old);
            if (p->second.pending > 0) {
                continue;
            }
            peers_.erase(p);
            old = peerOrder_.erase(old);
        }
        peerOrder_.push_front(key);
        Peer& p = peers_[key];
        p.lru = peerOrder_.begin();
        p.refilled = Clock::now();
        return (p);
    }

    /// @brief Takes one from a token bucket (rate per second, at most burst).
    static bool take(double& tokens, Clock::time_point& refilled, double rate, double burst) {
        auto now = Clock::now();
        std::chrono::duration<double> gone = now - refilled;
        tokens = std::min(burst, tokens + gone.count() * rate);
        refilled = now;
        if (tokens < 1.0) {
            return (false);
        }
        tokens -= 1.0;
        return (true);
    }

    /// @brief Sends within the source's budget. @return false when not sent.
    bool send(const std::string& bytes, const udp::endpoint& to) {
        Peer& p = peer(to.address());
        if (!p.verified && p.out + bytes.size() > 2 * p.in) {
            return (false);
        }
        boost::system::error_code ec;
        sockets_[0]->sock.send_to(asio::buffer(bytes), to, 0, ec);
        if (ec) {
            limiter_.note(Level::Warn, "send to " + text(to) + ": " + ec.message());
            return (false);
        }
        p.out += bytes.size();
        return (true);
    }

    /// @brief Our address as the peer reaches us: the listen address, or the one
    /// the kernel picks to route to the peer.
    sip::Endpoint local(const udp::endpoint& peer) {
        asio::ip::address a = sockets_[0]->sock.local_endpoint().address();
        if (a.is_unspecified()) {
            a = tools::sourceAddressFor(io_, peer);
        }
        return (sip::Endpoint{a.to_string(), opts_.port});
    }

    void onDatagram(std::string_view data, const udp::endpoint& from) {
        if (!onLink(from.address())) {
            limiter_.note(Level::Info, "ignored a datagram from " + text(from) +
                                           ": not on the network of an interface served");
            return;
        }
        peer(from.address()).in += data.size();
        sip::Message m;
        std::string error;
        if (!sip::parse(data, m, error)) {
            if (error != "empty datagram or keep-alive") {
                limiter_.note(Level::Warn, "malformed datagram from " + text(from) + " (" +
                                              std::to_string(data.size()) + " bytes): " + error);
            }
            return;
        }
        if (!m.request) {
            onResponse(m, from);
        } else if (m.method == "SUBSCRIBE") {
            onSubscribe(m, from);
        } else {
            limiter_.note(Level::Debug, "ignored " + printable(m.method) + " from " + text(from));
        }
    }

    void onSubscribe(const sip::Message& m, const udp::endpoint& from) {
        std::string key = sip::transactionKey(m);
        auto again = answered_.find(key);
        if (again != answered_.end() && again->second.to == from) {
            bool sent = send(again->second.bytes, from);
            limiter_.note(Level::Debug, "retransmitted SUBSCRIBE from " + text(from) + ": " +
                                            (sent ? "200 OK sent again" : "200 OK not sent again (budget)"));
            return;
        }
        sip::PnpSubscribe p;
        std::string why;
        if (!sip::parsePnpSubscribe(m, p, why)) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE from " + text(from) + ": " + why);
            return;
        }
        if (opts_.maxRequests > 0 && handled_ >= opts_.maxRequests) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE from " + text(from) + ": --max-requests reached");
            return;
        }
        std::shared_ptr<const Setup> setup = setup_;
        const auto& vendors = setup->identifier->catalogue().vendors();
        Verdict v = identifyPnp(*setup, p);
        std::string who = p.mac.colon() + " from " + text(from);
        if (v.macProblem != MacProblem::None) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE of " + who + ": " + v.reason);
            return;
        }
        if (!v.phone) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE of " + who + ": unknown vendor '" +
                                          printable(p.vendor) + "' (User-Agent '" +
                                          printable(p.userAgent) + "'; " + v.reason + ")");
            return;
        }
        const VendorProfile& vendor = vendors[v.vendor];
        if (!vendor.sipPnp || !setup->provisioning->enabled(v.vendor)) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE of " + who + ": vendor " + vendor.id +
                                          (vendor.sipPnp ? " is disabled" : " does not use SIP PnP"));
            return;
        }
        Peer& source = peer(from.address());
        if (!take(source.tokens, source.refilled, kPeerRate, kPeerBurst)) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE of " + who + ": more than " +
                                           std::to_string(static_cast<int>(kPeerRate)) +
                                           " a second from " + plain(from.address()).to_string());
            return;
        }
        if (!take(globalTokens_, globalRefilled_, kGlobalRate, kGlobalBurst)) {
            limiter_.note(Level::Info, "ignored SUBSCRIBE of " + who + ": more than " +
                                           std::to_string(static_cast<int>(kGlobalRate)) +
                                           " a second from all sources");
            return;
        }
        std::string tag = tools::randomToken(rng_);
        // Answers go where the datagram came from, never to an address it names
        // (makeResponse sets received= and rport= from the socket's source).
        sip::Endpoint src{plain(from.address()).to_string(), from.port()};
        auto ok = sip::makeResponse(m, 200, "OK", tag, src);
        if (!ok) {
            return;  // parsePnpSubscribe checked every header makeResponse needs
        }
        sip::Local me;
        me.contact = local(from);
        ok->add("Contact", "<sip:" + sip::hostPort(me.contact) + ">");
        ok->add("Expires", "0");
        std::string bytes = sip::serialize(*ok);
        bool okSent = send(bytes, from);
        remember(key, Answered{bytes, from, Clock::now()});
        ++handled_;
        std::string rendered = render(*setup, v, p.mac, plain(from.address()));
        // What DHCP's option 66 gives the phone: its own folder when it has one.
        const std::string url = phoneUrl(*setup, v.vendor, p.mac);
        me.branch = std::string(sip::kBranchCookie) + tools::randomToken(rng_);
        me.cseq = 1;
        auto notify = sip::makePnpNotify(m, tag, url, me);
        std::string notified = "NOTIFY not made";
        if (okSent && notify) {
            notified = startNotify(me.branch, sip::serialize(*notify), from, p.mac.colon());
        } else if (!okSent) {
            notified = "no NOTIFY";
        }
        answers_.note(Level::Info, "SUBSCRIBE of " + who + ": " + vendor.id + " '" + v.model + "' (" +
                                       confidenceText(v.confidence) + "): " +
                                       (okSent ? "200 OK sent" : "200 OK not sent (budget: twice the bytes received)") +
                                       ", " + notified + rendered);
        finishIfDone();
    }

    /// @brief The URL a phone is given: base-url/<dir>/<token>/ for a phone with
    /// reservation data of a vendor with per-device folders (its files are there
    /// only), else base-url/<dir>/.
    static std::string phoneUrl(const Setup& s, int vendor, const Mac& mac) {
        const Provisioning& prov = *s.provisioning;
        const HostEntry* host = s.hosts->find(mac);
        if (host && host->hasData && prov.deviceFolder(vendor)) {
            std::string token = prov.token(mac);
            if (!token.empty()) {
                return (prov.vendorUrl(vendor) + token + "/");
            }
        }
        return (prov.vendorUrl(vendor));
    }

    /// @brief Renders the phone's files as the hook does; "" or ", N files written...".
    /// Not again for a phone rendered at the same address less than render-interval ago
    /// (seenLately: the last kRecentPhones MACs, least recently used out).
    std::string render(const Setup& s, const Verdict& v, const Mac& mac, const asio::ip::address& from) {
        if (!s.config.render) {
            return ("");
        }
        const std::string ip = from.to_string();
        const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                Clock::now().time_since_epoch())
                                .count();
        if (seenLately(recent_, mac.value(), addressKey(from), now,
                       static_cast<int64_t>(s.config.renderInterval) * 1000)) {
            return (", rendered recently");
        }
        const HostEntry* host = s.hosts->find(mac);
        nlohmann::json data = host ? host->data() : nlohmann::json();
        RenderOutcome r = s.provisioning->render(*s.output, v.vendor, v.model, mac, ip,
                                                 host && host->hasData ? &data : nullptr);
        for (const std::string& e : r.errors) {
            limiter_.note(Level::Error, mac.colon() + ": " + e);
        }
        return (", files: " + std::to_string(r.written) + " written, " + std::to_string(r.unchanged) +
                " unchanged, " + std::to_string(r.failed) + " failed" +
                (r.skipped ? ", per-device files skipped (no reservation data)" : ""));
    }

    void remember(const std::string& key, Answered a) {
        auto now = Clock::now();
        // 64*T1: how long a peer may retransmit a non-INVITE request.
        auto keep = std::chrono::milliseconds(64 * opts_.t1Ms);
        while (!order_.empty() && (now - order_.front().first > keep || order_.size() >= 4096)) {
            answered_.erase(order_.front().second);
            order_.pop_front();
        }
        answered_[key] = std::move(a);
        order_.emplace_back(now, key);
    }

    /// @brief Forgets a NOTIFY (answered, given up or replaced).
    void drop(std::map<std::string, Pending>::iterator it) {
        it->second.timer->cancel();
        auto p = peers_.find(plain(it->second.to.address()).to_string());
        if (p != peers_.end() && p->second.pending > 0) {
            --p->second.pending;
        }
        pending_.erase(it);
    }

    /// @brief Starts a NOTIFY transaction. @return what was done, for the log line.
    std::string startNotify(const std::string& branch, std::string bytes, const udp::endpoint& to,
                            const std::string& mac) {
        Peer& source = peer(to.address());
        std::string replaced;
        if (source.pending >= kMaxPendingPerPeer) {
            // This source's own oldest NOTIFY makes room: no other source's slot.
            auto oldest = pending_.end();
            for (auto it = pending_.begin(); it != pending_.end(); ++it) {
                if (it->second.to.address() == to.address() &&
                    (oldest == pending_.end() || it->second.started < oldest->second.started)) {
                    oldest = it;
                }
            }
            if (oldest != pending_.end()) {
                replaced = " (replacing the NOTIFY to " + oldest->second.mac + ")";
                drop(oldest);
            }
        }
        if (pending_.size() >= kMaxPending) {
            return ("NOTIFY not sent (" + std::to_string(kMaxPending) + " NOTIFYs wait for an answer)");
        }
        if (!source.verified && source.out + bytes.size() > 2 * source.in) {
            return ("NOTIFY not sent (budget: twice the bytes received)");
        }
        Pending& p = pending_[branch];
        p.bytes = std::move(bytes);
        p.to = to;
        p.mac = mac;
        p.interval = std::chrono::milliseconds(opts_.t1Ms);
        p.timer = std::make_unique<asio::steady_timer>(io_);
        p.started = Clock::now();
        ++source.pending;
        return (transmit(branch) ? "NOTIFY sent" + replaced : "NOTIFY not sent");
    }

    /// @brief Sends (again) and arms timer E: T1, doubling up to T2 (4 s). A
    /// retransmission the budget does not allow ends the transaction.
    /// @return whether it was sent.
    bool transmit(const std::string& branch) {
        auto it = pending_.find(branch);
        if (it == pending_.end()) {
            return (false);
        }
        Pending& p = it->second;
        if (p.sent >= opts_.notifyTries) {
            limiter_.note(Level::Warn, p.mac + ": no answer to the NOTIFY sent to " + text(p.to) + " (" +
                                           std::to_string(p.sent) + " tries)");
            drop(it);
            finishIfDone();
            return (false);
        }
        if (!send(p.bytes, p.to)) {
            limiter_.note(Level::Warn, p.mac + ": NOTIFY to " + text(p.to) + " not sent " +
                                           (p.sent ? "again" : "") +
                                           " (budget: twice the bytes received); given up after " +
                                           std::to_string(p.sent) + " sent");
            drop(it);
            finishIfDone();
            return (false);
        }
        ++p.sent;
        p.timer->expires_after(p.interval);
        p.interval = std::min(p.interval * 2, std::chrono::milliseconds(8 * opts_.t1Ms));
        p.timer->async_wait([this, branch](const boost::system::error_code& ec) {
            if (!ec) {
                transmit(branch);
            }
        });
        return (true);
    }

    void onResponse(const sip::Message& m, const udp::endpoint& from) {
        std::vector<std::string> vias = m.list("Via");
        sip::Via top;
        const sip::Param* branch = !vias.empty() && sip::parseVia(vias[0], top)
                                       ? sip::findParam(top.params, "branch")
                                       : nullptr;
        auto it = branch ? pending_.find(branch->value) : pending_.end();
        if (it == pending_.end() || !sip::answers(m, branch->value, "NOTIFY") ||
            plain(it->second.to.address()) != plain(from.address())) {
            limiter_.note(Level::Debug, "response " + std::to_string(m.status) + " from " + text(from) +
                                            " answers nothing we sent");
            return;
        }
        if (m.status < 200) {
            return;  // provisional: keep retransmitting
        }
        if (m.status < 300) {
            // It knew our branch: it receives what is sent to its address.
            peer(from.address()).verified = true;
        }
        answers_.note(m.status < 300 ? Level::Info : Level::Warn,
                      it->second.mac + ": NOTIFY answered " + std::to_string(m.status) + " " +
                          printable(m.reason));
        drop(it);
        finishIfDone();
    }

    void finishIfDone() {
        if (opts_.maxRequests > 0 && handled_ >= opts_.maxRequests && pending_.empty()) {
            logLine(Level::Info, "handled " + std::to_string(handled_) + " requests: stopping");
            io_.stop();
        }
    }

    asio::io_context& io_;
    Options opts_;
    std::shared_ptr<const Setup> setup_;
    std::vector<std::unique_ptr<Socket>> sockets_;
    std::unordered_map<std::string, Answered> answered_;
    std::deque<std::pair<Clock::time_point, std::string>> order_;
    std::map<std::string, Pending> pending_;
    /// Phones rendered lately (render-interval), by whole MAC, least recently used out:
    /// a flood of new MACs resets no phone's interval unless it brings kRecentPhones
    /// of them after that phone's last SUBSCRIBE (at kGlobalRate answered a second,
    /// kGlobalBurst at once: at least (65,536 - 400) / 200 = 325 s). Cleared on reload.
    static constexpr size_t kRecentPhones = 65536;
    RecentPhones recent_{kRecentPhones};
    std::unordered_map<std::string, Peer> peers_;
    std::list<std::string> peerOrder_;  ///< most recently heard from first
    std::vector<Subnet> subnets_;
    Clock::time_point subnetsRead_{};
    double globalTokens_ = kGlobalBurst;
    Clock::time_point globalRefilled_ = Clock::now();
    std::mt19937_64 rng_;
    LogLimiter limiter_{"ignored-datagram"};
    LogLimiter answers_{"answered-SUBSCRIBE"};
    long handled_ = 0;
};

const char* const kUsage =
    "usage: phoneprov pnp --config /etc/kea/kea-dhcp4.conf [--interface NAME]...\n"
    "  [--listen ADDR] [--port N] [--no-multicast] [--profiles-dir D] [--registry-dir D]\n"
    "  [--once | --max-requests N] [--t1-ms N] [--notify-tries N] [--verbose]\n"
    "SIP PnP responder (RFC 6080): joins 224.0.1.75 on each interface, answers a phone's\n"
    "SUBSCRIBE (Event: ua-profile) with 200 OK, renders its files and sends a NOTIFY\n"
    "carrying the URL DHCP would give it, all from the hook's parameters in the Kea\n"
    "configuration. SIGHUP reads the configuration again.\n";

}  // namespace

int cmdPnp(int argc, char** argv) {
    try {
        Args a(argc, argv, {"config", "interface", "listen", "port", "profiles-dir", "registry-dir",
                            "max-requests", "t1-ms", "notify-tries"},
               {"no-multicast", "once", "verbose", "help"});
        if (a.has("help") || !a.has("config")) {
            std::printf("%s", kUsage);
            return (a.has("help") ? 0 : 1);
        }
        Options o;
        o.config = a.get("config");
        o.profilesDir = a.get("profiles-dir");
        o.registryDir = a.get("registry-dir");
        o.listen = a.get("listen", o.listen);
        o.port = static_cast<int>(tools::numberOption(a, "port", 5060, 1, 65535));
        o.multicast = !a.has("no-multicast");
        o.maxRequests = a.has("once") ? 1 : tools::numberOption(a, "max-requests", 0, 0, 1L << 30);
        o.t1Ms = static_cast<int>(tools::numberOption(a, "t1-ms", 500, 10, 10000));
        o.notifyTries = static_cast<int>(tools::numberOption(a, "notify-tries", 7, 1, 20));
        gVerbose = a.has("verbose");
        // Args keeps one value per option: --interface may be given several times.
        for (int i = 1; i < argc; ++i) {
            std::string arg = argv[i];
            if (arg == "--interface" && i + 1 < argc) {
                o.interfaces.push_back(argv[++i]);
            } else if (arg.rfind("--interface=", 0) == 0) {
                o.interfaces.push_back(arg.substr(12));
            }
        }
        if (!o.multicast && !o.interfaces.empty()) {
            throw UsageError("--interface joins the multicast group: not with --no-multicast");
        }
        boost::system::error_code ec;
        asio::ip::make_address(o.listen, ec);
        if (ec) {
            throw UsageError("--listen '" + o.listen + "' is not an IP address");
        }
        asio::io_context io;
        Responder responder(io, o, loadSetup(o));
        responder.open();
        asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
        std::function<void(const boost::system::error_code&, int)> onSignal =
            [&](const boost::system::error_code& err, int sig) {
                if (err) {
                    return;
                }
                if (sig != SIGHUP) {
                    logLine(Level::Info, std::string("stopping on ") + strsignal(sig));
                    io.stop();
                    return;
                }
                try {
                    responder.reload(loadSetup(o));
                    logLine(Level::Info, "configuration read again from " + o.config);
                } catch (const std::exception& e) {
                    logLine(Level::Error, std::string("reload failed, keeping the old configuration: ") +
                                          e.what());
                }
                signals.async_wait(onSignal);
            };
        signals.async_wait(onSignal);
        responder.start();
        io.run();
        return (0);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov pnp: %s\n", e.what());
        return (1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: phoneprov pnp: %s\n", e.what());
        return (2);
    }
}
