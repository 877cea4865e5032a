// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// `phoneprov list`, `get` and `metrics`: the running server's phone records
// (phoneprov-list, phoneprov-get, statistic-get-all on kea-dhcp4's control socket).
#include "args.h"
#include "commands.h"
#include "control_socket.h"
#include "fleet_page.h"

#include <catalogue.h>
#include <json_check.h>
#include <mac.h>
#include <metrics.h>
#include <reservations.h>
#include <safe_write.h>

#include <nlohmann/json.hpp>

#include <set>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

using namespace phoneprov;
using phoneprov::tools::Args;
using phoneprov::tools::keaCommand;
using phoneprov::tools::UsageError;

namespace {

/// Where Debian's kea-dhcp4.conf puts the control socket (and where Kea 2.6 confines it).
const char* const kDefaultSocket = "/run/kea/kea4-ctrl-socket";

/// @brief The control socket: --control-socket, else the one --config names, else Debian's default.
std::string socketPath(const Args& a) {
    if (a.has("control-socket")) {
        return (a.get("control-socket"));
    }
    if (!a.has("config")) {
        return (kDefaultSocket);
    }
    std::ifstream in(a.get("config"), std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read '" + a.get("config") + "'");
    }
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json kea = parseKeaConfigText(text.str(), a.get("config"));
    const nlohmann::json* dhcp4 = kea.is_object() && kea.contains("Dhcp4") ? &kea["Dhcp4"] : nullptr;
    if (dhcp4 && dhcp4->is_object() && dhcp4->contains("control-socket")) {
        std::string name = getString((*dhcp4)["control-socket"], "socket-name");
        if (!name.empty()) {
            // Kea 2.6 reads a bare name inside its socket folder.
            return (name.find('/') == std::string::npos ? std::string("/run/kea/") + name : name);
        }
    }
    throw ConfigError(a.get("config") + ": Dhcp4 has no control-socket with a socket-name");
}

std::string text(const nlohmann::json& j, const char* key) {
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) {
        return ("-");
    }
    const nlohmann::json& v = j[key];
    if (v.is_string()) {
        return (v.get<std::string>());
    }
    if (v.is_boolean()) {
        return (v.get<bool>() ? "yes" : "no");
    }
    return (v.dump());
}

/// @brief A time as "2026-12-08 02:59:52" (local time) with how long ago, or "never".
std::string when(const nlohmann::json& j, const char* key, std::time_t now) {
    if (!j.is_object() || !j.contains(key) || !j[key].is_number()) {
        return ("never");
    }
    std::time_t t = j[key].get<std::time_t>();
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
    long long ago = static_cast<long long>(now - t);
    std::string rel;
    if (ago < 0) {
        rel = "in the future";
    } else if (ago < 120) {
        rel = std::to_string(ago) + " s ago";
    } else if (ago < 7200) {
        rel = std::to_string(ago / 60) + " min ago";
    } else if (ago < 172800) {
        rel = std::to_string(ago / 3600) + " h ago";
    } else {
        rel = std::to_string(ago / 86400) + " days ago";
    }
    return (std::string(buf) + " (" + rel + ")");
}

/// @brief Prints rows as columns as wide as their widest cell.
void printTable(const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> width;
    for (const auto& r : rows) {
        width.resize(std::max(width.size(), r.size()), 0);
        for (size_t c = 0; c < r.size(); ++c) {
            width[c] = std::max(width[c], r[c].size());
        }
    }
    for (const auto& r : rows) {
        std::string line;
        for (size_t c = 0; c < r.size(); ++c) {
            line += r[c];
            if (c + 1 < r.size()) {
                line += std::string(width[c] - r[c].size() + 2, ' ');
            }
        }
        std::printf("%s\n", line.c_str());
    }
}

int timeoutOf(const Args& a) {
    std::string t = a.get("timeout", "10");
    if (t.empty() || t.size() > 4 || t.find_first_not_of("0123456789") != std::string::npos ||
        std::stoi(t) < 1) {
        throw UsageError("--timeout takes whole seconds, 1 to 9999");
    }
    return (std::stoi(t));
}

/// @brief Runs a command: the answer, or the exit code of a failure it printed.
int run(const char* cmd, const Args& a, const nlohmann::json& command, nlohmann::json& answer) {
    try {
        answer = keaCommand(socketPath(a), command, timeoutOf(a) * 1000);
    } catch (const UsageError&) {
        throw;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "phoneprov %s: %s\n", cmd, e.what());
        return (2);
    }
    int result = answer["result"].get<int>();
    if (result == 2) {
        std::fprintf(stderr, "phoneprov %s: the server does not know %s: is libdhcp_phoneprov.so loaded, "
                             "with records (Kea's answer: %s)?\n",
                     cmd, command["command"].get<std::string>().c_str(), text(answer, "text").c_str());
        return (2);
    }
    if (result == 1) {
        std::fprintf(stderr, "phoneprov %s: %s\n", cmd, text(answer, "text").c_str());
        return (2);
    }
    return (0);
}

const std::set<std::string> kServerOptions = {"control-socket", "config", "timeout"};

std::set<std::string> with(std::set<std::string> s, const std::set<std::string>& more) {
    s.insert(more.begin(), more.end());
    return (s);
}

const char* const kListUsage =
    "usage: phoneprov list [--control-socket PATH | --config kea.json] [--vendor ID] [--state STATE]\n"
    "                      [--seen-since EPOCH] [--limit N] [--offset N] [--timeout S] [--json]\n"
    "The phones the running kea-dhcp4 knows (phoneprov-list). STATE: seen, rendered, fetched,\n"
    "fetched-stale, failed. The socket: --control-socket, else the control-socket of --config, else\n"
    "/run/kea/kea4-ctrl-socket. Exit: 0 (also when no phone matches), 1 usage, 2 server error.\n";

const char* const kMetricsUsage =
    "usage: phoneprov metrics [--control-socket PATH | --config kea.json] [--output FILE] [--timeout S]\n"
    "The hook's statistics in Prometheus' text format (statistic-get-all, phoneprov.* only).\n"
    "--output FILE: written whole (a temp file renamed over it, mode 0644), as node_exporter's\n"
    "textfile collector wants (FILE ending in .prom). Exit: 0, 1 usage, 2 server or write error.\n";

/// @brief Writes a file whole: a temp file beside it, flushed, renamed over it.
void writeWhole(const std::string& path, const std::string& content) {
    std::string tmp = path + ".tmp.XXXXXX";
    int fd = ::mkstemp(&tmp[0]);
    if (fd < 0) {
        throw std::runtime_error("cannot create a temp file beside '" + path + "': " + std::strerror(errno));
    }
    bool ok = ::fchmod(fd, 0644) == 0 && writeAll(fd, content) && ::fsync(fd) == 0;
    int err = errno;
    ok = ::close(fd) == 0 && ok;
    if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
        err = ok ? errno : err;
        ::unlink(tmp.c_str());
        throw std::runtime_error("cannot write '" + path + "': " + std::strerror(err));
    }
}

const char* const kFleetUsage =
    "usage: phoneprov fleet --output FILE.html [--control-socket PATH | --config kea.json] [--timeout S]\n"
    "The fleet page: one HTML file (phones by state and vendor, the last rollout's latency from\n"
    "DHCP ACK to fetch, a searchable table of every phone) with the running server's records\n"
    "inline, written whole (mode 0644). Serve it on an admin location with authentication\n"
    "(examples/nginx-fleet-admin.conf), never inside the phones' tree; refresh it from a timer.\n"
    "Exit: 0, 1 usage, 2 server or write error.\n";

/// @brief JSON that is safe inside an HTML <script> element: no '<' (no "</script>",
/// no "<!--"), no raw U+2028/U+2029 (all non-ASCII is escaped).
std::string scriptSafeJson(const nlohmann::json& j) {
    std::string text = j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '<') {
            out += "\\u003c";  // '<' occurs only inside JSON strings
        } else {
            out.push_back(c);
        }
    }
    return (out);
}

const char* const kGetUsage =
    "usage: phoneprov get MAC [--control-socket PATH | --config kea.json] [--timeout S] [--json]\n"
    "One phone's record, its per-device files and each one's last fetch (phoneprov-get).\n"
    "Exit: 0, 1 usage, 2 server error, 3 no record of that MAC.\n";

/// @brief A command that asks the running server: its options (the server's and
/// `options`) and flags checked, --help answered, `positionals` arguments required
/// (`positionalsText` says what, for a usage error), a usage error turned into exit
/// code 1 with the usage. `body` does the rest.
int serverCommand(const char* name, const char* usage, int argc, char** argv,
                  const std::set<std::string>& options, const std::set<std::string>& flags,
                  size_t positionals, const char* positionalsText,
                  const std::function<int(const Args&)>& body) {
    try {
        Args a(argc, argv, with(kServerOptions, options), with(flags, {"help"}));
        if (a.has("help")) {
            std::fputs(usage, stdout);
            return (0);
        }
        if (a.positional().size() != positionals) {
            throw UsageError(positionals == 0 ? "unexpected argument '" + a.positional()[0] + "'"
                                              : std::string(positionalsText));
        }
        return (body(a));
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov %s: %s\n%s", name, e.what(), usage);
        return (1);
    }
}

/// @brief writeWhole for a command: 0, or 2 with the error printed.
int writeOutput(const char* name, const std::string& path, const std::string& content) {
    try {
        writeWhole(path, content);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "phoneprov %s: %s\n", name, e.what());
        return (2);
    }
    return (0);
}

}  // namespace

int cmdList(int argc, char** argv) {
    return (serverCommand("list", kListUsage, argc, argv, {"vendor", "state", "seen-since", "limit", "offset"}, {"json"}, 0, nullptr, [&](const Args& a) {
        nlohmann::json args = nlohmann::json::object();
        for (const char* k : {"vendor", "state"}) {
            if (a.has(k)) {
                args[k] = a.get(k);
            }
        }
        for (const char* k : {"seen-since", "limit", "offset"}) {
            if (a.has(k)) {
                std::string v = a.get(k);
                if (v.empty() || v.size() > 12 || v.find_first_not_of("0123456789") != std::string::npos) {
                    throw UsageError(std::string("--") + k + " takes a whole number");
                }
                args[k] = std::stoll(v);
            }
        }
        nlohmann::json answer;
        int rc = run("list", a, {{"command", "phoneprov-list"}, {"arguments", args}}, answer);
        if (rc != 0) {
            return (rc);
        }
        const nlohmann::json empty = nlohmann::json::object();
        const nlohmann::json& body = answer.contains("arguments") ? answer["arguments"] : empty;
        if (a.has("json")) {
            nlohmann::json out = body;
            if (!out.contains("phones")) {
                out["phones"] = nlohmann::json::array();
                out["total"] = 0;
            }
            std::printf("%s\n", out.dump(2).c_str());
            return (0);
        }
        std::time_t now = std::time(nullptr);
        std::vector<std::vector<std::string>> rows = {
            {"MAC", "VENDOR", "MODEL", "ADDRESS", "STATE", "LAST DHCP", "LAST FETCH"}};
        size_t shown = 0;
        if (body.contains("phones") && body["phones"].is_array()) {
            for (const auto& p : body["phones"]) {
                rows.push_back({text(p, "mac"), text(p, "vendor"), text(p, "model"), text(p, "address"),
                                text(p, "state"), when(p, "last-seen", now), when(p, "last-fetch", now)});
                ++shown;
            }
        }
        if (shown == 0) {
            std::printf("no phone matches\n");
            return (0);
        }
        printTable(rows);
        long long total = body.contains("total") && body["total"].is_number() ? body["total"].get<long long>() : 0;
        long long offset = body.contains("offset") && body["offset"].is_number() ? body["offset"].get<long long>() : 0;
        std::printf("\n%zu of %lld phones", shown, total);
        if (offset > 0 || static_cast<long long>(shown) + offset < total) {
            std::printf(" (from %lld; --offset %lld for the next page)", offset + 1,
                        offset + static_cast<long long>(shown));
        }
        std::printf("%s\n", body.value("persistent", true) ? "" : "; state-db not open: records in memory only");
        return (0);
    }));
}

int cmdGet(int argc, char** argv) {
    return (serverCommand("get", kGetUsage, argc, argv, {}, {"json"}, 1, "one MAC, please", [&](const Args& a) {
        auto mac = parseMac(a.positional()[0]);
        if (!mac) {
            throw UsageError("'" + a.positional()[0] + "' is not a MAC address");
        }
        nlohmann::json answer;
        int rc = run("get", a, {{"command", "phoneprov-get"}, {"arguments", {{"mac", mac->colon()}}}},
                     answer);
        if (rc != 0) {
            return (rc);
        }
        if (answer["result"].get<int>() == 3) {
            std::fprintf(stderr, "phoneprov get: no record of %s\n", mac->colon().c_str());
            return (3);
        }
        const nlohmann::json& p = answer["arguments"];
        if (a.has("json")) {
            std::printf("%s\n", p.dump(2).c_str());
            return (0);
        }
        std::time_t now = std::time(nullptr);
        const nlohmann::json none = nlohmann::json::object();
        const nlohmann::json& render = p.contains("render") ? p["render"] : none;
        printTable({{"MAC", text(p, "mac")},
                    {"state", text(p, "state")},
                    {"vendor", text(p, "vendor")},
                    {"model", text(p, "model")},
                    {"identified by", text(p, "identified-by")},
                    {"reserved", text(p, "reserved")},
                    {"address", text(p, "address")},
                    {"first DHCP", when(p, "first-seen", now)},
                    {"last DHCP", when(p, "last-seen", now)},
                    {"last ACK", when(p, "last-ack", now)},
                    {"last render", when(render, "time", now) + ", " + text(render, "outcome")},
                    {"last fetch", when(p, "last-fetch", now)}});
        std::vector<std::vector<std::string>> rows = {
            {"FILE", "LAST FETCH", "PROTOCOL", "FROM", "STATUS", "BYTES", "CURRENT"}};
        if (p.contains("files") && p["files"].is_array()) {
            for (const auto& f : p["files"]) {
                const nlohmann::json& lf = f.contains("last-fetch") && f["last-fetch"].is_object()
                                               ? f["last-fetch"]
                                               : none;
                rows.push_back({text(f, "path"), when(lf, "time", now), text(lf, "protocol"),
                                text(lf, "address"), text(lf, "status"), text(lf, "bytes"),
                                text(lf, "current")});
            }
        }
        std::printf("\n");
        if (rows.size() == 1) {
            std::printf("no per-device file\n");
        } else {
            printTable(rows);
        }
        return (0);
    }));
}

int cmdMetrics(int argc, char** argv) {
    return (serverCommand("metrics", kMetricsUsage, argc, argv, {"output"}, {}, 0, nullptr, [&](const Args& a) {
        nlohmann::json answer;
        int rc = run("metrics", a, {{"command", "statistic-get-all"}}, answer);
        if (rc != 0) {
            return (rc);
        }
        std::string text = prometheusText(answer.value("arguments", nlohmann::json::object()));
        if (!a.has("output")) {
            std::fputs(text.c_str(), stdout);
            return (0);
        }
        return (writeOutput("metrics", a.get("output"), text));
    }));
}

int cmdFleet(int argc, char** argv) {
    return (serverCommand("fleet", kFleetUsage, argc, argv, {"output"}, {}, 0, nullptr, [&](const Args& a) {
        if (!a.has("output")) {
            throw UsageError("--output FILE.html is required");
        }
        nlohmann::json status;
        int rc = run("fleet", a, {{"command", "phoneprov-status"}}, status);
        if (rc != 0) {
            return (rc);
        }
        // Every phone, a page of 10,000 at a time (the command's largest).
        nlohmann::json phones = nlohmann::json::array();
        const size_t kPage = 10000;
        for (size_t offset = 0;; offset += kPage) {
            nlohmann::json page;
            rc = run("fleet", a,
                     {{"command", "phoneprov-list"}, {"arguments", {{"limit", kPage}, {"offset", offset}}}},
                     page);
            if (rc != 0) {
                return (rc);
            }
            const nlohmann::json& body = page.value("arguments", nlohmann::json::object());
            const nlohmann::json list = body.value("phones", nlohmann::json::array());
            for (const auto& p : list) {
                phones.push_back(p);
            }
            if (list.size() < kPage || phones.size() >= body.value("total", size_t(0))) {
                break;
            }
        }
        nlohmann::json data = {{"generated", static_cast<long long>(std::time(nullptr))},
                               {"version", status.value("arguments", nlohmann::json::object()).value("version", "")},
                               {"phones", phones}};
        std::string page = kFleetPage;
        const std::string marker = "/*PHONEPROV_FLEET_DATA*/null";
        size_t at = page.find(marker);
        if (at == std::string::npos) {
            std::fprintf(stderr, "phoneprov fleet: the compiled-in page has no data marker\n");
            return (2);
        }
        page.replace(at, marker.size(), scriptSafeJson(data));
        return (writeOutput("fleet", a.get("output"), page));
    }));
}
