// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "params.h"

#include "json_check.h"
#include "prefix.h"

#include <arpa/inet.h>
#include <grp.h>
#include <sys/stat.h>

namespace phoneprov {

namespace {

const std::vector<Keyword> kTopKeywords = {
    {"output-dir", JType::String, true},
    {"base-url", JType::String, true},
    {"tftp-server", JType::String, false},
    {"profiles-dir", JType::String, false},
    {"registry-dir", JType::String, false},
    {"defaults", JType::Map, false},
    {"vendors", JType::Map, false},
    {"oui-prefixes", JType::Map, false},
    {"provision-unknown", JType::Bool, false},
    {"device-tokens", JType::Bool, false},
    {"lease-binding", JType::Bool, false},
    {"key-file", JType::String, false},
    {"file-group", JType::String, false},
    {"render", JType::Bool, false},
    {"render-reserved", JType::Bool, false},
    {"client-classes", JType::String, false},
    {"resync-on-change", JType::Bool, false},
    {"resync-port", JType::Int, false},
    {"resync-min-interval", JType::Int, false},
    {"render-threads", JType::Int, false},
    {"render-nice", JType::Int, false},
    {"queue-size", JType::Int, false},
    {"render-wait-ms", JType::Int, false},
    {"ack-hold", JType::String, false},
    {"render-interval", JType::Int, false},
    {"state-db", JType::String, false},
    {"record-retention", JType::Int, false},
    {"fetch-log-socket", JType::String, false},
    {"comment", JType::Any, false},
};

const std::vector<Keyword> kVendorKeywords = {
    {"enabled", JType::Bool, false},
    {"variables", JType::Map, false},
    {"options", JType::List, false},
    {"add-options", JType::List, false},
    {"override-subnet-options", JType::Bool, false},
    {"models", JType::Map, false},
    {"comment", JType::Any, false},
};

const std::vector<Keyword> kModelKeywords = {
    {"variables", JType::Map, false},
    {"options", JType::List, false},
    {"comment", JType::Any, false},
};

std::vector<OptionSpec> optionList(const nlohmann::json& list, const std::string& where) {
    // Reuses the profile parser for option specs: one grammar for both.
    nlohmann::json fake = {{"id", "x"},           {"name", "x"},
                           {"phones-only", true}, {"dir", ""},
                           {"format", "text"},    {"options", list}};
    try {
        return (Catalogue::parseProfile(fake, where, "").options);
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        std::string prefix = where + ".options";
        if (msg.compare(0, prefix.size(), prefix) == 0) {
            msg = where + msg.substr(prefix.size());
        }
        throw ConfigError(msg);
    }
}

void checkVariables(const nlohmann::json& vars, const std::string& where) {
    for (auto it = vars.begin(); it != vars.end(); ++it) {
        const auto& v = it.value();
        if (it.key() == "accounts") {
            if (!v.is_array()) {
                throw ConfigError(where + ": 'accounts' must be a list");
            }
            continue;
        }
        if (!(v.is_string() || v.is_number() || v.is_boolean())) {
            throw ConfigError(where + ": '" + it.key() +
                              "' must be a string, a number or a boolean");
        }
    }
}

}  // namespace

gid_t fileGroupId(const std::string& name) {
    if (name.empty()) {
        return (static_cast<gid_t>(-1));
    }
    struct group grp;
    struct group* result = nullptr;
    std::vector<char> buf(16384);
    if (getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &result) != 0 || !result) {
        throw ConfigError("phoneprov: 'file-group' '" + name + "' is not a group");
    }
    return (result->gr_gid);
}

std::string installedProfilesDir(const std::string& file, const std::string& relative) {
    size_t slash = file.rfind('/');
    if (slash != std::string::npos && !relative.empty()) {
        std::string candidate = file.substr(0, slash) + "/" + relative;
        struct stat st;
        if (::stat((candidate + "/.").c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
            return (candidate);
        }
    }
    return (PHONEPROV_PROFILES_DIR);
}

bool configUsesPhoneClasses(const nlohmann::json& config) {
    // Every place Kea reads a class name or expression: guards, definitions,
    // required classes, reservation classes, test expressions. Our own hook
    // parameters are left out. A plain text search over the rest is enough.
    nlohmann::json copy = config.contains("Dhcp4") ? config["Dhcp4"] : config;
    if (copy.is_object() && copy.contains("hooks-libraries")) {
        copy.erase("hooks-libraries");
    }
    return (copy.dump().find("PHONEPROV") != std::string::npos);
}

std::vector<std::string> configKeywords() {
    std::vector<std::string> out;
    for (const Keyword& k : kTopKeywords) {
        if (std::string(k.name) != "comment") {
            out.push_back(k.name);
        }
    }
    return (out);
}

Config parseConfig(const nlohmann::json& params) {
    const std::string where = "phoneprov";
    checkKeywords(params, kTopKeywords, where);
    Config c;
    c.outputDir = params.at("output-dir").get<std::string>();
    if (c.outputDir.empty() || c.outputDir[0] != '/') {
        throw ConfigError(where + ": 'output-dir' '" + c.outputDir + "' must be an absolute path");
    }
    c.baseUrl = params.at("base-url").get<std::string>();
    bool scheme = c.baseUrl.rfind("http://", 0) == 0 || c.baseUrl.rfind("https://", 0) == 0 ||
                  c.baseUrl.rfind("tftp://", 0) == 0;
    bool clean = c.baseUrl.find_first_of(" \t\r\n\"'<>\\") == std::string::npos;
    if (!scheme || !clean || c.baseUrl.size() > 200) {
        throw ConfigError(where + ": 'base-url' '" + c.baseUrl +
                          "' must be an http://, https:// or tftp:// URL without spaces or quotes");
    }
    size_t hostStart = c.baseUrl.find("://") + 3;  // the scheme was checked above
    if (c.baseUrl.size() <= hostStart || c.baseUrl[hostStart] == '/') {
        throw ConfigError(where + ": 'base-url' '" + c.baseUrl + "' has no host");
    }
    while (!c.baseUrl.empty() && c.baseUrl.back() == '/') {
        c.baseUrl.pop_back();
    }
    c.tftpServer = getString(params, "tftp-server");
    if (!c.tftpServer.empty()) {
        in_addr a;
        if (inet_pton(AF_INET, c.tftpServer.c_str(), &a) != 1) {
            throw ConfigError(where + ": 'tftp-server' '" + c.tftpServer +
                              "' must be an IPv4 address");
        }
    }
    c.profilesDir = getString(params, "profiles-dir", c.profilesDir);
    c.registryDir = getString(params, "registry-dir", c.registryDir);
    if (params.contains("defaults")) {
        c.defaults = params.at("defaults");
        checkVariables(c.defaults, where + ".defaults");
    }
    if (params.contains("vendors")) {
        for (auto it = params.at("vendors").begin(); it != params.at("vendors").end(); ++it) {
            std::string w = where + ".vendors." + it.key();
            checkKeywords(it.value(), kVendorKeywords, w);
            VendorOverride v;
            v.enabled = getBool(it.value(), "enabled", true);
            if (it.value().contains("variables")) {
                v.variables = it.value().at("variables");
                checkVariables(v.variables, w + ".variables");
            }
            if (it.value().contains("options")) {
                v.hasOptions = true;
                v.options = optionList(it.value().at("options"), w + ".options");
            }
            if (it.value().contains("add-options")) {
                v.addOptions = optionList(it.value().at("add-options"), w + ".add-options");
            }
            if (it.value().contains("override-subnet-options")) {
                v.overrideSubnetOptions = it.value().at("override-subnet-options").get<bool>() ? 1 : 0;
            }
            if (it.value().contains("models")) {
                const auto& models = it.value().at("models");
                for (auto m = models.begin(); m != models.end(); ++m) {
                    std::string mw = w + ".models." + m.key();
                    checkKeywords(m.value(), kModelKeywords, mw);
                    ModelOverride mo;
                    if (m.value().contains("variables")) {
                        mo.variables = m.value().at("variables");
                        checkVariables(mo.variables, mw + ".variables");
                    }
                    if (m.value().contains("options")) {
                        mo.hasOptions = true;
                        mo.options = optionList(m.value().at("options"), mw + ".options");
                    }
                    std::string model = normaliseModel(m.key());
                    if (model.empty()) {
                        throw ConfigError(mw + ": model name must be 1-32 of [A-Za-z0-9._-]");
                    }
                    v.models[model] = std::move(mo);
                }
            }
            c.vendors[it.key()] = std::move(v);
        }
    }
    if (params.contains("oui-prefixes")) {
        const auto& map = params.at("oui-prefixes");
        for (auto it = map.begin(); it != map.end(); ++it) {
            if (!parsePrefix(it.key())) {
                throw ConfigError(where + ".oui-prefixes: '" + it.key() +
                                  "' is not a MAC prefix (00:15:65, 70:B3:D5:1/28, ...)");
            }
            if (!it.value().is_string()) {
                throw ConfigError(where + ".oui-prefixes: '" + it.key() +
                                  "' must name a vendor id (a string)");
            }
            c.ouiPrefixes.emplace_back(it.key(), it.value().get<std::string>());
        }
    }
    c.provisionUnknown = getBool(params, "provision-unknown", false);
    c.deviceTokens = getBool(params, "device-tokens", true);
    c.leaseBinding = getBool(params, "lease-binding", false);
    c.keyFile = getString(params, "key-file", c.keyFile);
    if (c.keyFile.empty() || c.keyFile[0] != '/') {
        throw ConfigError(where + ": 'key-file' '" + c.keyFile + "' must be an absolute path");
    }
    c.render = getBool(params, "render", true);
    c.renderReserved = getBool(params, "render-reserved", true);
    c.resyncOnChange = getBool(params, "resync-on-change", false);
    c.resyncPort = static_cast<int>(getInt(params, "resync-port", 5060, 1, 65535, where));
    c.resyncMinInterval =
        static_cast<int>(getInt(params, "resync-min-interval", 300, 0, 86400, where));
    c.fileGroup = getString(params, "file-group");
    c.clientClasses = getString(params, "client-classes", "auto");
    if (c.clientClasses != "auto" && c.clientClasses != "always" && c.clientClasses != "never") {
        throw ConfigError(where + ": 'client-classes' '" + c.clientClasses +
                          "' must be auto, always or never");
    }
    c.renderThreads = static_cast<int>(getInt(params, "render-threads", 2, 1, 64, where));
    c.renderNice = static_cast<int>(getInt(params, "render-nice", 10, 0, 19, where));
    c.queueSize = static_cast<int>(getInt(params, "queue-size", 65536, 16, 1000000, where));
    c.renderWaitMs = static_cast<int>(getInt(params, "render-wait-ms", 2000, 0, 30000, where));
    c.renderInterval = static_cast<int>(getInt(params, "render-interval", 60, 0, 86400, where));
    c.stateDb = getString(params, "state-db", c.stateDb);
    c.recordRetention = getInt(params, "record-retention", c.recordRetention, 60, 3650LL * 86400,
                               where);
    c.fetchLogSocket = getString(params, "fetch-log-socket");
    for (const auto* key : {"state-db", "fetch-log-socket"}) {
        const std::string& v = key[0] == 's' ? c.stateDb : c.fetchLogSocket;
        if (!v.empty() && v[0] != '/') {
            throw ConfigError(where + ": '" + key + "' '" + v + "' must be an absolute path");
        }
    }
    c.ackHold = getString(params, "ack-hold", "pkt4-send");
    if (c.ackHold != "pkt4-send" && c.ackHold != "parking-lot") {
        throw ConfigError(where + ": 'ack-hold' '" + c.ackHold + "' must be pkt4-send or parking-lot");
    }
    return (c);
}

}  // namespace phoneprov
