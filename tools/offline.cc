// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// identify, render and validate: the hook's core, used offline.
#include "args.h"
#include "commands.h"

#include <config_check.h>
#include <host_db.h>
#include <json_check.h>
#include <identify.h>
#include <options.h>
#include <params.h>
#include <provisioner.h>
#include <reservations.h>
#include <token.h>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unordered_set>
#include <unistd.h>

using namespace phoneprov;
using phoneprov::tools::Args;
using phoneprov::tools::UsageError;

namespace {

const char* const kDefaultRegistry = "/usr/share/ieee-data";

/// @brief The profiles installed next to this program, or the compiled-in default.
std::string defaultProfiles() {
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    if (n <= 0) {
        return (PHONEPROV_PROFILES_DIR);
    }
    return (installedProfilesDir(std::string(buf, static_cast<size_t>(n)),
                                 PHONEPROV_BIN_TO_PROFILES));
}

std::string readText(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError("cannot read '" + path + "'");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return (ss.str());
}

/// @brief The hook parameters from a Kea config file (or an empty set).
nlohmann::json hookParams(const nlohmann::json& keaConfig) {
    nlohmann::json p = findHookParameters(keaConfig);
    if (p.is_null()) {
        throw ConfigError("the configuration loads no libdhcp_phoneprov.so");
    }
    return (p);
}

/// @brief Builds the identifier from a catalogue folder, a registry folder and admin prefixes.
Identifier makeIdentifier(const std::string& profiles, const std::string& registry,
                          const std::vector<std::pair<std::string, std::string>>& prefixes) {
    CataloguePtr catalogue = Catalogue::load(profiles);
    std::vector<std::pair<Prefix, int>> admin;
    for (const auto& p : prefixes) {
        int vendor = catalogue->find(p.second);
        auto prefix = parsePrefix(p.first);
        if (vendor < 0 || !prefix) {
            throw ConfigError("oui-prefixes: '" + p.first + "' -> '" + p.second + "' is not usable");
        }
        admin.emplace_back(*prefix, vendor);
    }
    return (Identifier(catalogue, OuiRegistry::build(registry, *catalogue, admin)));
}

std::string unescapeC(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '\\' || i + 1 >= s.size()) {
            out.push_back(s[i]);
            continue;
        }
        char n = s[++i];
        if (n == 'x' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
            std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
            i += 2;
        } else if (n == '0') {
            out.push_back('\0');
        } else if (n == 'n') {
            out.push_back('\n');
        } else if (n == 'r') {
            out.push_back('\r');
        } else if (n == 't') {
            out.push_back('\t');
        } else {
            out.push_back(n);
        }
    }
    return (out);
}

int fail(const std::string& cmd, const std::string& msg) {
    std::fprintf(stderr, "phoneprov %s: %s\n", cmd.c_str(), msg.c_str());
    return (2);
}

}  // namespace

int cmdIdentify(int argc, char** argv) {
    try {
        Args a(argc, argv, {"mac", "vendor-class", "vendor-class-hex", "profiles-dir",
                            "registry-dir", "config"},
               {"json", "help"});
        if (a.has("help") || !a.has("mac")) {
            std::printf("usage: phoneprov identify --mac MAC [--vendor-class STRING | "
                        "--vendor-class-hex HEX] [--json]\n"
                        "  [--config kea.json] [--profiles-dir D] [--registry-dir D]\n"
                        "Vendor class escapes: \\xNN, \\0, \\n, \\r, \\t.\n");
            return (a.has("help") ? 0 : 1);
        }
        auto mac = parseMac(a.get("mac"));
        if (!mac) {
            throw UsageError("'" + a.get("mac") + "' is not a MAC address");
        }
        std::string profiles = a.get("profiles-dir", defaultProfiles());
        std::string registry = a.get("registry-dir", kDefaultRegistry);
        std::vector<std::pair<std::string, std::string>> prefixes;
        HostIndexPtr hosts;
        if (a.has("config")) {
            nlohmann::json kea = parseKeaConfigText(readText(a.get("config")), a.get("config"));
            nlohmann::json params = hookParams(kea);
            Config c = parseConfig(params);
            profiles = a.get("profiles-dir", params.contains("profiles-dir") ? c.profilesDir
                                                                              : defaultProfiles());
            registry = a.get("registry-dir", c.registryDir);
            prefixes = c.ouiPrefixes;
            std::vector<std::string> problems;
            hosts = HostIndex::build(kea, problems);
        }
        std::string vc = unescapeC(a.get("vendor-class"));
        if (a.has("vendor-class-hex")) {
            std::string hex = a.get("vendor-class-hex");
            vc.clear();
            for (size_t i = 0; i + 1 < hex.size(); i += 2) {
                vc.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
            }
        }
        Identifier id = makeIdentifier(profiles, registry, prefixes);
        Verdict v = id.identify(*mac, vc);
        const HostEntry* host = hosts ? hosts->find(*mac) : nullptr;
        if (host && !host->pinVendor.empty()) {
            id.pin(v, host->pinVendor, host->pinModel);
        }
        const auto& vendors = id.catalogue().vendors();
        if (a.has("json")) {
            std::printf("%s\n", verdictJson(v, id.catalogue()).dump().c_str());
            return (0);
        }
        auto hit = id.registry().lookup(*mac);
        std::printf("MAC:           %s\n", mac->colon().c_str());
        std::printf("prefix:        %s\n",
                    hit.bits ? (Prefix::of(*mac, hit.bits).text() + " " +
                                (hit.organization ? *hit.organization : std::string("(catalogue)")))
                                   .c_str()
                             : "(not in the registry)");
        std::printf("prefix vendor: %s\n", v.prefixVendor >= 0 ? vendors[v.prefixVendor].id.c_str() : "-");
        std::printf("class vendor:  %s\n", v.classVendor >= 0 ? vendors[v.classVendor].id.c_str() : "-");
        if (!v.phone) {
            std::printf("verdict:       not a phone (%s)\n", v.reason);
            return (0);
        }
        std::printf("verdict:       phone: %s, model '%s', %s (%s)\n", vendors[v.vendor].id.c_str(),
                    v.model.c_str(), confidenceText(v.confidence), v.reason);
        std::printf("classes:       PHONEPROV %s\n", vendors[v.vendor].className.c_str());
        return (0);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov identify: %s\n", e.what());
        return (1);
    } catch (const std::exception& e) {
        return (fail("identify", e.what()));
    }
}

int cmdRender(int argc, char** argv) {
    try {
        Args a(argc, argv, {"config", "mac", "output", "vendor", "model", "profiles-dir",
                            "registry-dir", "ip"},
               {"help", "quiet"});
        if (a.has("help") || !a.has("config")) {
            std::printf("usage: phoneprov render --config kea.json [--mac MAC] [--output DIR]\n"
                        "  [--vendor ID] [--model M] [--ip A] [--quiet]\n"
                        "Renders the files of every phone with a reservation (or one MAC)\n"
                        "into DIR (default: the hook's output-dir), as the hook would.\n"
                        "Reservations come from the file and from its hosts-database(s).\n");
            return (a.has("help") ? 0 : 1);
        }
        nlohmann::json kea = parseKeaConfigText(readText(a.get("config")), a.get("config"));
        nlohmann::json params = hookParams(kea);
        Config c = parseConfig(params);
        c.profilesDir = a.get("profiles-dir", params.contains("profiles-dir") ? c.profilesDir
                                                                               : defaultProfiles());
        if (a.has("registry-dir")) {
            c.registryDir = a.get("registry-dir");
        }
        std::string outDir = a.get("output", c.outputDir);
        Identifier id = makeIdentifier(c.profilesDir, c.registryDir, c.ouiPrefixes);
        std::vector<std::string> warnings;
        // The hook's site key: the same per-device folders as the hook's.
        SiteKey key;
        std::string keyError;
        if (c.deviceTokens && !key.load(c.keyFile, keyError)) {
            std::fprintf(stderr, "error: %s: per-device files are rendered without credentials\n",
                         keyError.c_str());
        }
        ProvisioningPtr prov = Provisioning::build(id.cataloguePtr(), c, warnings, &key);
        for (const auto& w : warnings) {
            std::fprintf(stderr, "warning: %s\n", w.c_str());
        }
        std::vector<std::string> problems;
        HostIndexPtr hosts = HostIndex::build(kea, problems);
        for (const auto& p : problems) {
            std::fprintf(stderr, "warning: reservation %s\n", p.c_str());
        }
        OutputDir out(outDir);
        std::string bad = out.check();
        if (!bad.empty()) {
            throw ConfigError(bad);
        }
        // Kea's host databases (hosts-database(s)) hold the phones the file has no
        // data for, as in the hook: a reservation in the file wins.
        std::shared_ptr<isc::phoneprov::HostDb> db = isc::phoneprov::HostDb::fromConfig(kea);
        if (db) {
            isc::phoneprov::HostDb::initStandaloneLogging("phoneprov");
        }
        auto fromDb = [&](nlohmann::json list) {
            std::vector<std::string> unusable;
            HostIndexPtr index = HostIndex::build({{"reservations", std::move(list)}}, unusable);
            for (const auto& p : unusable) {
                std::fprintf(stderr, "warning: database reservation %s\n", p.c_str());
            }
            return (index);
        };
        std::vector<HostEntry> todo;
        if (a.has("mac")) {
            auto mac = parseMac(a.get("mac"));
            if (!mac) {
                throw UsageError("'" + a.get("mac") + "' is not a MAC address");
            }
            const HostEntry* h = hosts->find(*mac);
            HostIndexPtr dbHosts;
            if ((!h || !h->hasData) && db) {
                dbHosts = fromDb(db->find(*mac));
                if (const HostEntry* d = dbHosts->find(*mac)) {
                    h = d;
                }
            }
            HostEntry e = h ? *h : HostEntry();
            e.mac = *mac;
            todo.push_back(e);
        } else {
            std::unordered_set<uint64_t> seen;
            for (const auto& h : hosts->all()) {
                if (h.second.hasData) {
                    todo.push_back(h.second);
                    seen.insert(h.first);
                }
            }
            if (db) {
                nlohmann::json list = nlohmann::json::array();
                db->forEach([&](nlohmann::json&& host) { list.push_back(std::move(host)); });
                HostIndexPtr dbHosts = fromDb(std::move(list));
                for (const auto& h : dbHosts->all()) {
                    if (h.second.hasData && seen.count(h.first) == 0) {
                        todo.push_back(h.second);
                    }
                }
                std::fprintf(stderr, "%zu phones with data in the host database(s)\n",
                             dbHosts->withData());
            }
            std::sort(todo.begin(), todo.end(), [](const HostEntry& x, const HostEntry& y) {
                return (x.mac.value() < y.mac.value());
            });
        }
        // Group commit: a batch's files are staged, then made durable with one
        // sync and renamed together (OutputDir::Batch), every kBatchPhones phones.
        const char* syncMode = std::getenv("PHONEPROV_BATCH_SYNC");  // benchmarks only
        if (syncMode && std::string(syncMode) == "perfile") {
            out.setBatchSync(OutputDir::BatchSync::PerFile);
        }
        constexpr size_t kBatchPhones = 256;
        int failed = 0;
        int rendered = 0;
        std::vector<std::pair<Mac, StagedRender>> staged;
        OutputDir::Batch batch = out.begin();
        auto flush = [&]() {
            batch.commit();
            for (const auto& p : staged) {
                RenderOutcome r = p.second.finish(batch);
                for (const auto& e : r.errors) {
                    std::fprintf(stderr, "error: %s\n", e.c_str());
                }
                failed += r.ok() ? 0 : 1;
                ++rendered;
                if (!a.has("quiet")) {
                    for (const auto& f : r.files) {
                        std::printf("%s\t%s\n", p.first.colon().c_str(), f.c_str());
                    }
                }
            }
            staged.clear();
        };
        for (const HostEntry& h : todo) {
            Verdict v = id.identify(h.mac, "");
            std::string vendor = a.get("vendor", h.pinVendor);
            if (!vendor.empty() && !id.pin(v, vendor, a.get("model", h.pinModel))) {
                std::fprintf(stderr, "%s: unknown vendor '%s'\n", h.mac.colon().c_str(), vendor.c_str());
                ++failed;
                continue;
            }
            if (!v.phone) {
                std::fprintf(stderr, "%s: vendor unknown offline (pin it with "
                             "user-context.phoneprov.vendor or --vendor): skipped\n",
                             h.mac.colon().c_str());
                continue;
            }
            nlohmann::json data = h.data();
            staged.emplace_back(h.mac, prov->stage(batch, v.vendor, v.model, h.mac,
                                                   a.get("ip", h.ip),
                                                   h.hasData ? &data : nullptr));
            if (staged.size() >= kBatchPhones) {
                flush();
                batch = out.begin();
            }
        }
        flush();
        std::fprintf(stderr, "rendered %d phones into %s, %d failed\n", rendered, outDir.c_str(), failed);
        return (failed ? 2 : 0);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov render: %s\n", e.what());
        return (1);
    } catch (const std::exception& e) {
        return (fail("render", e.what()));
    }
}

namespace {

/// @brief Where a hook parameter is in a Kea config file ("kea.json:40:21"): its
/// first `"key":` after the library's name; "" when not found.
std::string locateParameter(const std::string& text, const std::string& file,
                            const std::string& key) {
    size_t lib = text.find("libdhcp_phoneprov");
    if (lib == std::string::npos) {
        return ("");
    }
    std::string quoted = "\"" + key + "\"";
    for (size_t at = text.find(quoted, lib); at != std::string::npos;
         at = text.find(quoted, at + 1)) {
        size_t colon = text.find_first_not_of(" \t\r\n", at + quoted.size());
        if (colon != std::string::npos && text[colon] == ':') {
            return (file + ":" + lineColumn(text, at));
        }
    }
    return ("");
}

/// @brief Renders every file of every vendor and model with sample data.
/// @return the errors found.
int renderSamples(const CheckedConfig& checked, int& files) {
    nlohmann::json sample = {
        {"sip-server", "pbx.example.com"}, {"sip-port", 5060}, {"sip-transport", "udp"},
        {"ntp-server", "ntp.example.com"}, {"timezone", "Europe/Berlin"},
        {"language", "English"}, {"firmware-url", "http://fw.example.com/fw.rom"},
        {"admin-password", "Adm1n<&>'"},
        {"accounts", {{{"user", "1001"}, {"password", "p&ss<w>rd"}, {"display-name", "Alice O'Neil"}},
                      {{"user", "1002"}, {"password", "x"}, {"auth-user", "a1002"}}}}};
    Mac mac = *parseMac("00:00:5e:00:53:01");
    int errors = 0;
    const Catalogue& catalogue = *checked.catalogue;
    const Provisioning& prov = *checked.provisioning;
    for (size_t v = 0; v < catalogue.vendors().size(); ++v) {
        const VendorProfile& vp = catalogue.vendors()[v];
        std::vector<std::string> models = {""};
        for (const auto& m : vp.models) {
            models.push_back(m.first);
        }
        for (const std::string& model : models) {
            std::vector<std::string> errs;
            int skipped = 0;
            auto out = prov.renderFiles(static_cast<int>(v), model, mac, "192.0.2.10", &sample,
                                        errs, skipped);
            files += static_cast<int>(out.size());
            for (const auto& e : errs) {
                std::printf("error: %s\n", e.c_str());
                ++errors;
            }
            for (const auto& f : out) {
                if (!f.perDevice && f.content.find("p&ss") != std::string::npos) {
                    std::printf("error: %s %s: a common file holds a password\n",
                                vp.id.c_str(), f.name.c_str());
                    ++errors;
                }
            }
        }
        std::printf("ok: %-12s %zu patterns, %zu options, %zu files, %zu models\n", vp.id.c_str(),
                    vp.vendorClass.size(), prov.options(static_cast<int>(v), "").size(),
                    vp.files.size(), vp.models.size());
    }
    return (errors);
}

}  // namespace

int cmdKeygen(int argc, char** argv) {
    try {
        Args a(argc, argv, {"out"}, {"help", "force"});
        if (a.has("help")) {
            std::printf("usage: phoneprov keygen [--out FILE] [--force]\n"
                        "Writes a new site key (32 random bytes, mode 0600) to FILE (default\n"
                        "/var/lib/kea-phoneprov/site.key), atomically; an existing file is kept\n"
                        "unless --force. The key names every phone's per-device folder: a new\n"
                        "key moves every folder (phones learn the new URL at their next DHCP\n"
                        "exchange). HA peers share one key file.\n");
            return (0);
        }
        const std::string path = a.get("out", Config().keyFile);
        std::string error = writeSiteKey(path, a.has("force"));
        if (!error.empty()) {
            std::fprintf(stderr, "phoneprov keygen: %s\n", error.c_str());
            return (1);
        }
        std::printf("wrote %s (mode 0600)\n", path.c_str());
        return (0);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov keygen: %s\n", e.what());
        return (1);
    }
}

int cmdValidate(int argc, char** argv) {
    try {
        Args a(argc, argv, {"profiles-dir", "config", "registry-dir"}, {"help"});
        if (a.has("help")) {
            std::printf("usage: phoneprov validate [--config kea.json] [--profiles-dir D] "
                        "[--registry-dir D]\n"
                        "Runs the checks the hook's load() runs, with the same code: the hook\n"
                        "parameters (with --config), output-dir, every profile with its\n"
                        "templates, options and patterns, the IEEE registry; lists every error\n"
                        "(JSON and template errors with line and column), then renders every\n"
                        "file of every vendor and model with sample data. Run it before\n"
                        "config-set or config-reload. Exit 0 when all is well, 2 otherwise.\n");
            return (0);
        }
        // Without --config: the profiles alone, with stand-in parameters.
        nlohmann::json params = {{"output-dir", "/"},
                                 {"base-url", "http://192.0.2.1/prov"},
                                 {"tftp-server", "192.0.2.1"},
                                 {"registry-dir", ""}};
        CheckOptions options;
        options.defaultProfilesDir = defaultProfiles();
        if (a.has("config")) {
            std::string file = a.get("config");
            std::string text = readText(file);
            try {
                params = hookParams(parseKeaConfigText(text, file));
            } catch (const ConfigError& e) {
                std::printf("error: %s\n", e.what());
                std::printf("state: the configuration cannot be read\n0 vendors, 0 files "
                            "rendered, 1 errors\n");
                return (2);
            }
            options.locate = [text, file](const std::string& key) {
                return (locateParameter(text, file, key));
            };
        }
        if (a.has("profiles-dir")) {
            params["profiles-dir"] = a.get("profiles-dir");
        }
        if (a.has("registry-dir")) {
            params["registry-dir"] = a.get("registry-dir");
        }
        CheckedConfig checked = checkConfig(params, options);
        std::vector<CheckedConfig::Problem> problems = checked.errors;
        if (checked.state == LoadState::Passthrough && params.is_object()) {
            // load() stops at a parameter error; the profiles are still worth a look
            // (with stand-in parameters) so that one run lists everything to fix.
            nlohmann::json standIn = {{"output-dir", "/"},
                                      {"base-url", "http://192.0.2.1/prov"},
                                      {"tftp-server", "192.0.2.1"},
                                      {"registry-dir", ""}};
            auto dir = params.find("profiles-dir");
            if (dir != params.end() && dir->is_string()) {
                standIn["profiles-dir"] = *dir;
            }
            for (const auto& e : checkConfig(standIn, options).errors) {
                if (!e.vendor.empty()) {
                    problems.push_back(e);
                }
            }
        }
        int errors = static_cast<int>(problems.size());
        for (const auto& e : problems) {
            std::printf("error: %s%s\n", e.message.c_str(),
                        e.vendor.empty() ? "" : (" (vendor '" + e.vendor + "' left out)").c_str());
        }
        if (!checked.keyError.empty()) {
            std::printf("warning: %s (per-device files would hold no secret)\n",
                        checked.keyError.c_str());
        }
        for (const auto& w : checked.warnings) {
            std::printf("warning: %s\n", w.c_str());
        }
        for (const auto& m : checked.registryMissing) {
            std::printf("warning: IEEE registry file %s is missing\n", m.c_str());
        }
        int files = 0;
        size_t vendors = 0;
        if (checked.state != LoadState::Passthrough) {
            errors += renderSamples(checked, files);
            vendors = checked.catalogue->vendors().size();
        }
        std::printf("state: %s (what the hook's load() would run in)\n",
                    loadStateText(checked.state));
        std::printf("%zu vendors, %d files rendered, %d errors\n", vendors, files, errors);
        return (errors ? 2 : 0);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "phoneprov validate: %s\n", e.what());
        return (1);
    } catch (const std::exception& e) {
        return (fail("validate", e.what()));
    }
}
