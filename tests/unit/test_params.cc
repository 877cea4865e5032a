// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The hook parameters: checks with exact messages, defaults, vendor overrides.
#include "params.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace phoneprov;
using nlohmann::json;

namespace {

json base() {
    return (json{{"output-dir", "/srv/phoneprov"}, {"base-url", "http://10.0.0.5/prov"}});
}

std::string configError(const json& params) {
    try {
        parseConfig(params);
    } catch (const ConfigError& e) {
        return (e.what());
    }
    return ("");
}

const std::string kTypes =
    "is not one of string, ipv4-list, hex, uint8, uint16, uint32, sub-options, vivso";

TEST(ParseConfig, errorsAreExact) {
    struct Scenario {
        int line_;
        std::string key;  ///< top-level key to set
        json value;       ///< null with erase: remove the key
        std::string expected;
        bool erase = false;
    };
    const std::string urlRule =
        "' must be an http://, https:// or tftp:// URL without spaces or quotes";
    const std::vector<Scenario> scenarios = {
        {__LINE__, "output-dir", nullptr, "phoneprov: missing parameter 'output-dir'", true},
        {__LINE__, "base-url", nullptr, "phoneprov: missing parameter 'base-url'", true},
        {__LINE__, "colour", "red", "phoneprov: unknown parameter 'colour'"},
        {__LINE__, "outputdir", "/x", "phoneprov: unknown parameter 'outputdir'"},
        {__LINE__, "output-dir", 5, "phoneprov: 'output-dir' must be a string"},
        {__LINE__, "render-threads", "2", "phoneprov: 'render-threads' must be an integer"},
        {__LINE__, "render-threads", 2.5, "phoneprov: 'render-threads' must be an integer"},
        {__LINE__, "provision-unknown", "yes", "phoneprov: 'provision-unknown' must be a boolean"},
        {__LINE__, "render", 1, "phoneprov: 'render' must be a boolean"},
        {__LINE__, "render-reserved", "yes", "phoneprov: 'render-reserved' must be a boolean"},
        {__LINE__, "device-tokens", "on", "phoneprov: 'device-tokens' must be a boolean"},
        {__LINE__, "key-file", 7, "phoneprov: 'key-file' must be a string"},
        {__LINE__, "key-file", "site.key", "phoneprov: 'key-file' 'site.key' must be an absolute path"},
        {__LINE__, "vendors", json::array(), "phoneprov: 'vendors' must be a map"},
        {__LINE__, "defaults", "x", "phoneprov: 'defaults' must be a map"},
        {__LINE__, "oui-prefixes", json::array({"00:15:65"}), "phoneprov: 'oui-prefixes' must be a map"},
        {__LINE__, "render-threads", 0, "phoneprov: 'render-threads' is 0, must be between 1 and 64"},
        {__LINE__, "render-threads", 65, "phoneprov: 'render-threads' is 65, must be between 1 and 64"},
        {__LINE__, "render-threads", -3, "phoneprov: 'render-threads' is -3, must be between 1 and 64"},
        {__LINE__, "render-nice", -1, "phoneprov: 'render-nice' is -1, must be between 0 and 19"},
        {__LINE__, "render-nice", 20, "phoneprov: 'render-nice' is 20, must be between 0 and 19"},
        {__LINE__, "render-nice", "low", "phoneprov: 'render-nice' must be an integer"},
        {__LINE__, "queue-size", 15, "phoneprov: 'queue-size' is 15, must be between 16 and 1000000"},
        {__LINE__, "queue-size", 1000001,
         "phoneprov: 'queue-size' is 1000001, must be between 16 and 1000000"},
        {__LINE__, "render-wait-ms", 30001,
         "phoneprov: 'render-wait-ms' is 30001, must be between 0 and 30000"},
        {__LINE__, "ack-hold", "kea", "phoneprov: 'ack-hold' 'kea' must be pkt4-send or parking-lot"},
        {__LINE__, "ack-hold", true, "phoneprov: 'ack-hold' must be a string"},
        {__LINE__, "render-interval", -1,
         "phoneprov: 'render-interval' is -1, must be between 0 and 86400"},
        {__LINE__, "resync-min-interval", 86401,
         "phoneprov: 'resync-min-interval' is 86401, must be between 0 and 86400"},
        {__LINE__, "tftp-server", "tftp.example.com",
         "phoneprov: 'tftp-server' 'tftp.example.com' must be an IPv4 address"},
        {__LINE__, "tftp-server", "10.0.0.256",
         "phoneprov: 'tftp-server' '10.0.0.256' must be an IPv4 address"},
        {__LINE__, "tftp-server", "10.0.0.1, 10.0.0.2",
         "phoneprov: 'tftp-server' '10.0.0.1, 10.0.0.2' must be an IPv4 address"},
        {__LINE__, "output-dir", "srv/phoneprov",
         "phoneprov: 'output-dir' 'srv/phoneprov' must be an absolute path"},
        {__LINE__, "output-dir", "", "phoneprov: 'output-dir' '' must be an absolute path"},
        {__LINE__, "base-url", "ftp://10.0.0.5/", "phoneprov: 'base-url' 'ftp://10.0.0.5/" + urlRule},
        {__LINE__, "base-url", "10.0.0.5/prov", "phoneprov: 'base-url' '10.0.0.5/prov" + urlRule},
        {__LINE__, "base-url", "HTTP://10.0.0.5", "phoneprov: 'base-url' 'HTTP://10.0.0.5" + urlRule},
        {__LINE__, "base-url", "http://a b/", "phoneprov: 'base-url' 'http://a b/" + urlRule},
        {__LINE__, "base-url", "http://a/\"x", "phoneprov: 'base-url' 'http://a/\"x" + urlRule},
        {__LINE__, "base-url", "http://a/<x>", "phoneprov: 'base-url' 'http://a/<x>" + urlRule},
        {__LINE__, "base-url", "", "phoneprov: 'base-url' '" + urlRule},
        {__LINE__, "base-url", "http://" + std::string(200, 'a'),
         "phoneprov: 'base-url' 'http://" + std::string(200, 'a') + urlRule},
        {__LINE__, "oui-prefixes", {{"00:15", "yealink"}},
         "phoneprov.oui-prefixes: '00:15' is not a MAC prefix (00:15:65, 70:B3:D5:1/28, ...)"},
        {__LINE__, "oui-prefixes", {{"00:15:65", 3}},
         "phoneprov.oui-prefixes: '00:15:65' must name a vendor id (a string)"},
        {__LINE__, "defaults", {{"accounts", "1001"}}, "phoneprov.defaults: 'accounts' must be a list"},
        {__LINE__, "defaults", {{"ntp-server", json::object()}},
         "phoneprov.defaults: 'ntp-server' must be a string, a number or a boolean"},
        {__LINE__, "vendors", {{"yealink", "on"}}, "phoneprov.vendors.yealink: must be a map"},
        {__LINE__, "vendors", {{"yealink", {{"colour", 1}}}},
         "phoneprov.vendors.yealink: unknown parameter 'colour'"},
        {__LINE__, "vendors", {{"yealink", {{"enabled", "no"}}}},
         "phoneprov.vendors.yealink: 'enabled' must be a boolean"},
        {__LINE__, "vendors", {{"yealink", {{"variables", {{"x", json::array()}}}}}},
         "phoneprov.vendors.yealink.variables: 'x' must be a string, a number or a boolean"},
        {__LINE__, "vendors",
         {{"yealink", {{"options", json::parse(R"([{"code": 66, "type": "blob", "value": "x"}])")}}}},
         "phoneprov.vendors.yealink.options[0]: 'type' 'blob' " + kTypes},
        {__LINE__, "vendors",
         {{"yealink", {{"add-options", json::parse(R"([{"code": 66, "type": "string", "value": "x"},
                                                      {"code": 300, "type": "string", "value": "y"}])")}}}},
         "phoneprov.vendors.yealink.add-options[1]: 'code' is 300, must be between 1 and 254"},
        {__LINE__, "vendors", {{"yealink", {{"options", json::parse(R"([{"code": 66, "type": "string"}])")}}}},
         "phoneprov.vendors.yealink.options[0]: missing parameter 'value'"},
        {__LINE__, "vendors", {{"yealink", {{"models", {{"T 46", json::object()}}}}}},
         "phoneprov.vendors.yealink.models.T 46: model name must be 1-32 of [A-Za-z0-9._-]"},
        {__LINE__, "vendors", {{"yealink", {{"models", {{"T46S", {{"files", json::array()}}}}}}}},
         "phoneprov.vendors.yealink.models.T46S: unknown parameter 'files'"},
        {__LINE__, "vendors",
         {{"yealink",
           {{"models", {{"T46S", {{"options", json::parse(R"([{"code": 0, "type": "uint8", "value": "1"}])")}}}}}}}},
         "phoneprov.vendors.yealink.models.T46S.options[0]: 'code' is 0, must be between 1 and 254"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        json p = base();
        if (s.erase) {
            p.erase(s.key);
        } else {
            p[s.key] = s.value;
        }
        EXPECT_EQ(s.expected, configError(p));
    }
    EXPECT_EQ("phoneprov: must be a map", configError(json::array()));
    EXPECT_EQ("phoneprov: must be a map", configError(nullptr));
}

TEST(ParseConfig, defaults) {
    Config c = parseConfig(base());
    EXPECT_EQ("/srv/phoneprov", c.outputDir);
    EXPECT_EQ("http://10.0.0.5/prov", c.baseUrl);
    EXPECT_EQ("", c.tftpServer);
    EXPECT_EQ(PHONEPROV_PROFILES_DIR, c.profilesDir);
    EXPECT_EQ("/usr/share/ieee-data", c.registryDir);
    EXPECT_TRUE(c.defaults.is_object());
    EXPECT_TRUE(c.defaults.empty());
    EXPECT_TRUE(c.vendors.empty());
    EXPECT_TRUE(c.ouiPrefixes.empty());
    EXPECT_FALSE(c.provisionUnknown);
    EXPECT_TRUE(c.deviceTokens);
    EXPECT_EQ("/var/lib/kea-phoneprov/site.key", c.keyFile);
    EXPECT_EQ("", c.fileGroup);
    EXPECT_EQ(2, c.renderThreads);
    EXPECT_EQ(65536, c.queueSize);
    EXPECT_EQ(2000, c.renderWaitMs);  // ACKs wait (bounded) for their phone's file
    EXPECT_EQ(60, c.renderInterval);
    EXPECT_EQ(300, c.resyncMinInterval);
    EXPECT_TRUE(c.render);
}

TEST(ParseConfig, everyParameter) {
    json p = json::parse(R"({
        "output-dir": "/var/lib/kea-phoneprov/www",
        "base-url": "https://prov.example.com/phones/",
        "tftp-server": "10.0.0.6",
        "profiles-dir": "/etc/kea-phoneprov/profiles",
        "registry-dir": "/opt/ieee",
        "defaults": {"sip-server": "pbx.example.com", "sip-port": 5060, "vlan": true,
                     "accounts": []},
        "oui-prefixes": {"00:90:7A": "polycom", "70:B3:D5:1/28": "yealink"},
        "provision-unknown": true,
        "device-tokens": false,
        "key-file": "/etc/kea/site.key",
        "file-group": "www-data",
        "render": false,
        "render-reserved": false,
        "render-threads": 64,
        "render-nice": 0,
        "queue-size": 16,
        "render-wait-ms": 30000,
        "ack-hold": "parking-lot",
        "render-interval": 86400,
        "resync-min-interval": 0,
        "comment": "anything"
    })");
    Config c = parseConfig(p);
    EXPECT_EQ("/var/lib/kea-phoneprov/www", c.outputDir);
    EXPECT_EQ("https://prov.example.com/phones", c.baseUrl);
    EXPECT_EQ("10.0.0.6", c.tftpServer);
    EXPECT_EQ("/etc/kea-phoneprov/profiles", c.profilesDir);
    EXPECT_EQ("/opt/ieee", c.registryDir);
    EXPECT_EQ("pbx.example.com", c.defaults["sip-server"]);
    EXPECT_EQ(5060, c.defaults["sip-port"]);
    ASSERT_EQ(2u, c.ouiPrefixes.size());
    auto sorted = c.ouiPrefixes;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ((std::pair<std::string, std::string>("00:90:7A", "polycom")), sorted[0]);
    EXPECT_EQ((std::pair<std::string, std::string>("70:B3:D5:1/28", "yealink")), sorted[1]);
    EXPECT_TRUE(c.provisionUnknown);
    EXPECT_FALSE(c.deviceTokens);
    EXPECT_EQ("/etc/kea/site.key", c.keyFile);
    EXPECT_EQ("www-data", c.fileGroup);
    EXPECT_FALSE(c.render);
    EXPECT_FALSE(c.renderReserved);
    EXPECT_TRUE(parseConfig(base()).renderReserved);
    EXPECT_EQ(64, c.renderThreads);
    EXPECT_EQ(0, c.renderNice);
    EXPECT_EQ(10, parseConfig(base()).renderNice);
    EXPECT_EQ(16, c.queueSize);
    EXPECT_EQ("parking-lot", c.ackHold);
    EXPECT_EQ("pkt4-send", parseConfig(base()).ackHold);
    EXPECT_EQ(30000, c.renderWaitMs);
    EXPECT_EQ(86400, c.renderInterval);
    EXPECT_EQ(0, c.resyncMinInterval);
}

TEST(ParseConfig, trailingSlashesStrippedFromBaseUrl) {
    struct Scenario {
        int line_;
        std::string in;
        std::string out;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "http://10.0.0.5/prov/", "http://10.0.0.5/prov"},
        {__LINE__, "http://10.0.0.5/prov///", "http://10.0.0.5/prov"},
        {__LINE__, "http://10.0.0.5", "http://10.0.0.5"},
        {__LINE__, "http://10.0.0.5:8080/", "http://10.0.0.5:8080"},
        {__LINE__, "tftp://10.0.0.6/", "tftp://10.0.0.6"},
        {__LINE__, "https://prov.example.com/a/b/", "https://prov.example.com/a/b"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        json p = base();
        p["base-url"] = s.in;
        EXPECT_EQ(s.out, parseConfig(p).baseUrl);
    }
}

TEST(ParseConfig, baseUrlNeedsAHost) {
    for (const char* url : {"http://", "https:///", "tftp://"}) {
        json p = base();
        p["base-url"] = url;
        EXPECT_NE("", configError(p)) << url;
    }
}

TEST(ParseConfig, vendorOverrides) {
    json p = base();
    p["vendors"] = json::parse(R"({
        "yealink": {
            "variables": {"sip-port": "5070", "timezone": "Europe/Paris"},
            "options": [{"code": 66, "type": "string", "value": "http://other/"}],
            "add-options": [{"code": 160, "type": "string", "value": "{{vendor-url}}"}],
            "override-subnet-options": false,
            "models": {"t46s": {"variables": {"language": "French"},
                                "options": [{"code": 66, "type": "string", "value": "m"}]},
                       "T48S": {"variables": {"language": "German"}}}
        },
        "cisco": {"enabled": false},
        "polycom": {"override-subnet-options": true}
    })");
    Config c = parseConfig(p);
    ASSERT_EQ(3u, c.vendors.size());
    const VendorOverride& y = c.vendors.at("yealink");
    EXPECT_TRUE(y.enabled);
    EXPECT_EQ("5070", y.variables["sip-port"]);
    EXPECT_EQ("Europe/Paris", y.variables["timezone"]);
    EXPECT_TRUE(y.hasOptions);
    ASSERT_EQ(1u, y.options.size());
    EXPECT_EQ(66, y.options[0].code);
    EXPECT_EQ("http://other/", y.options[0].value);
    ASSERT_EQ(1u, y.addOptions.size());
    EXPECT_EQ(160, y.addOptions[0].code);
    EXPECT_EQ(0, y.overrideSubnetOptions);
    ASSERT_EQ(2u, y.models.size());
    ASSERT_EQ(1u, y.models.count("T46S"));  // upper-cased
    EXPECT_TRUE(y.models.at("T46S").hasOptions);
    EXPECT_EQ("French", y.models.at("T46S").variables["language"]);
    EXPECT_FALSE(y.models.at("T48S").hasOptions);
    const VendorOverride& cisco = c.vendors.at("cisco");
    EXPECT_FALSE(cisco.enabled);
    EXPECT_FALSE(cisco.hasOptions);
    EXPECT_EQ(-1, cisco.overrideSubnetOptions);
    EXPECT_EQ(1, c.vendors.at("polycom").overrideSubnetOptions);
}

TEST(ConfigKeywords, listsTheTopLevelKeys) {
    std::vector<std::string> k = configKeywords();
    for (const char* key : {"output-dir", "base-url", "tftp-server", "profiles-dir", "registry-dir",
                            "defaults", "vendors", "oui-prefixes", "provision-unknown", "file-group",
                            "render", "render-threads", "queue-size", "render-wait-ms",
                            "render-interval", "client-classes", "resync-on-change",
                            "resync-port", "ack-hold", "render-nice", "render-reserved",
                            "resync-min-interval", "device-tokens", "key-file", "state-db",
                            "record-retention", "fetch-log-socket", "lease-binding"}) {
        EXPECT_NE(k.end(), std::find(k.begin(), k.end(), key)) << key;
    }
    EXPECT_EQ(k.end(), std::find(k.begin(), k.end(), "comment"));
    EXPECT_EQ(28u, k.size());
    // Every listed keyword is accepted by parseConfig, with a value of the right type.
    json p = base();
    p["profiles-dir"] = "/x";
    EXPECT_EQ("", configError(p));
}

}  // namespace

namespace {

// Issue 24's parameters: the phone records and the fetch socket.
TEST(ConfigRecords, PathsAndRetentionAreChecked) {
    json p = base();
    Config c = parseConfig(p);
    EXPECT_EQ("/var/lib/kea-phoneprov/state.db", c.stateDb);
    EXPECT_EQ(30 * 86400, c.recordRetention);
    EXPECT_EQ("", c.fetchLogSocket);
    p["state-db"] = "";
    p["fetch-log-socket"] = "/run/kea-phoneprov/fetch.sock";
    p["record-retention"] = 3600;
    c = parseConfig(p);
    EXPECT_EQ("", c.stateDb);
    EXPECT_EQ("/run/kea-phoneprov/fetch.sock", c.fetchLogSocket);
    EXPECT_EQ(3600, c.recordRetention);
    p = base();
    p["state-db"] = "state.db";
    EXPECT_EQ("phoneprov: 'state-db' 'state.db' must be an absolute path", configError(p));
    p = base();
    p["fetch-log-socket"] = "fetch.sock";
    EXPECT_EQ("phoneprov: 'fetch-log-socket' 'fetch.sock' must be an absolute path", configError(p));
    p = base();
    p["record-retention"] = 59;
    EXPECT_NE("", configError(p));
    p["record-retention"] = "1 day";
    EXPECT_NE("", configError(p));
}

}  // namespace
