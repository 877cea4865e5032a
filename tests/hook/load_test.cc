// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Loads the built libdhcp_phoneprov.so through Kea's HooksManager with good and
// bad configurations; a bad one must never fail load() (Kea 2.2 would stop serving
// DHCP): it loads degraded or in passthrough, with a message naming the key or file.
#include "hook_fixture.h"

#include <stats/stats_mgr.h>

#include <functional>

using namespace phoneprov_test;

namespace {

class LoadTest : public HookFixture {};

TEST_F(LoadTest, GoodParametersLoad) {
    ASSERT_TRUE(load(goodParams()));
    std::string log = logText();
    EXPECT_NE(log.find("PHONEPROV_LOAD_OK"), std::string::npos) << log;
    EXPECT_NE(log.find("base URL http://127.0.0.1:8080/prov"), std::string::npos);
    // Standard callouts are registered; never leases4_committed (Kea would make every
    // REQUEST pay for it): ACKs are held in pkt4_send.
    EXPECT_TRUE(HooksManager::calloutsPresent(hookIndex("pkt4_receive")));
    EXPECT_TRUE(HooksManager::calloutsPresent(hookIndex("pkt4_send")));
    EXPECT_FALSE(HooksManager::calloutsPresent(hookIndex("leases4_committed")));
}

TEST_F(LoadTest, HoldingAcksNeedsNoLeasesCommitted) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(500));
    ASSERT_TRUE(load(p));
    EXPECT_TRUE(HooksManager::calloutsPresent(hookIndex("pkt4_send")));
    EXPECT_FALSE(HooksManager::calloutsPresent(hookIndex("leases4_committed")));
}

TEST_F(LoadTest, ParkingLotHoldRegistersLeasesCommitted) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(500));
    p->set("ack-hold", Element::create("parking-lot"));
    ASSERT_TRUE(load(p));
    EXPECT_TRUE(HooksManager::calloutsPresent(hookIndex("leases4_committed")));
}

TEST_F(LoadTest, RefusesOtherProcesses) {
    isc::process::Daemon::setProcName("kea-dhcp6");
    EXPECT_FALSE(load(goodParams()));
    EXPECT_NE(logText().find("PHONEPROV_NOT_DHCP4 phoneprov loaded in kea-dhcp6"),
              std::string::npos);
}

/// @brief What load() made of a configuration, from phoneprov-status.
struct Health {
    std::string state;
    std::string parameters;
    std::vector<std::string> errors;
    std::vector<std::string> leftOut;
};

/// @brief Runs phoneprov-status as the control channel does.
ConstElementPtr statusAnswer() {
    ElementPtr cmd = Element::createMap();
    cmd->set("command", Element::create("phoneprov-status"));
    CalloutHandlePtr handle = HooksManager::createCalloutHandle();
    handle->setArgument("command", ConstElementPtr(cmd));
    HooksManager::callCommandHandlers("phoneprov-status", *handle);
    ConstElementPtr answer;
    handle->getArgument("response", answer);
    return (answer);
}

Health health() {
    Health h;
    ConstElementPtr a = statusAnswer();
    ConstElementPtr args = a ? a->get("arguments") : ConstElementPtr();
    if (!args) {
        return (h);
    }
    h.state = args->get("state")->stringValue();
    h.parameters = args->get("parameters")->stringValue();
    for (const auto& e : args->get("config-errors")->listValue()) {
        h.errors.push_back(e->stringValue());
    }
    for (const auto& e : args->get("vendors-left-out")->listValue()) {
        h.leftOut.push_back(e->stringValue());
    }
    return (h);
}

int64_t statValue(const std::string& name) {
    auto obs = isc::stats::StatsMgr::instance().getObservation(name);
    return (obs ? obs->getInteger().first : -1);
}

void writeText(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::trunc) << text;
}

const std::vector<uint8_t> kYealinkMac = {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc};
const std::vector<uint8_t> kSnomMac = {0x00, 0x04, 0x13, 0x01, 0x02, 0x03};

const std::string kPassthrough = "passthrough: DHCP packets pass untouched, nothing is rendered";

/// @brief A configuration load() must survive: what is broken, and what it must say.
struct Scenario {
    int line_;
    /// Breaks the parameters or the copy of the profiles (folder given).
    std::function<void(ElementPtr&, const std::string&)> breakIt;
    std::string state;
    std::string error;   ///< exact; "@" stands for the profiles folder
    std::string effect;  ///< the second part of PHONEPROV_CONFIG_ERROR
    std::string leftOut;  ///< the vendor left out, or ""
};

void setKey(ElementPtr& p, const std::string& key, const ConstElementPtr& v) {
    if (v) {
        p->set(key, v);
    } else {
        p->remove(key);
    }
}

/// @brief load() returns 0 for anything in phoneprov's own configuration, logs
/// PHONEPROV_CONFIG_ERROR with the exact error, counts it, and phoneprov-status
/// gives the state; a passthrough hook leaves packets untouched; a vendor left out
/// does not stop the others.
TEST_F(LoadTest, BrokenConfigurationsLoadDegradedOrPassthrough) {
    // Errors about a parameter end with where Kea read it: "(<string>:1:2)" for a map
    // made by Element::fromJSON here, "(/etc/kea/kea-dhcp4.conf:40:21)" from a file.
    auto param = [](const std::string& key, ConstElementPtr v) {
        return ([key, v](ElementPtr& p, const std::string&) { setKey(p, key, v); });
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, param("base_url", Element::create("http://10.0.0.1/prov")), "passthrough",
         "phoneprov: unknown parameter 'base_url'", kPassthrough, ""},
        {__LINE__, param("output-dir", ConstElementPtr()), "passthrough",
         "phoneprov: missing parameter 'output-dir'", kPassthrough, ""},
        {__LINE__, param("base-url", ConstElementPtr()), "passthrough",
         "phoneprov: missing parameter 'base-url'", kPassthrough, ""},
        {__LINE__, param("output-dir", Element::create(12)), "passthrough",
         "phoneprov: 'output-dir' must be a string", kPassthrough, ""},
        {__LINE__, param("base-url", Element::create("ftp://x/")), "passthrough",
         "phoneprov: 'base-url' 'ftp://x/' must be an http://, https:// or tftp:// URL without "
         "spaces or quotes",
         kPassthrough, ""},
        {__LINE__, param("output-dir", Element::create("relative/dir")), "passthrough",
         "phoneprov: 'output-dir' 'relative/dir' must be an absolute path", kPassthrough, ""},
        {__LINE__, param("output-dir", Element::create("/nonexistent/phoneprov")), "passthrough",
         "phoneprov: 'output-dir': output-dir '/nonexistent/phoneprov': No such file or directory",
         kPassthrough, ""},
        {__LINE__, param("render-threads", Element::create(0)), "passthrough",
         "phoneprov: 'render-threads' is 0, must be between 1 and 64", kPassthrough, ""},
        {__LINE__, param("render-threads", Element::create("2")), "passthrough",
         "phoneprov: 'render-threads' must be an integer", kPassthrough, ""},
        {__LINE__, param("tftp-server", Element::create("tftp.example")), "passthrough",
         "phoneprov: 'tftp-server' 'tftp.example' must be an IPv4 address", kPassthrough, ""},
        {__LINE__, param("profiles-dir", Element::create("/nonexistent/profiles")), "passthrough",
         "profiles-dir: cannot open '/nonexistent/profiles'", kPassthrough, ""},
        {__LINE__, param("file-group", Element::create("no-such-group-xyz")), "passthrough",
         "phoneprov: 'file-group' 'no-such-group-xyz' is not a group", kPassthrough, ""},
        {__LINE__, param("vendors", Element::fromJSON("{\"nokia\": {}}")), "passthrough",
         "phoneprov.vendors: unknown vendor 'nokia' (<string>:1:2)", kPassthrough, ""},
        {__LINE__, param("vendors", Element::fromJSON("{\"yealink\": {\"colour\": 1}}")),
         "passthrough", "phoneprov.vendors.yealink: unknown parameter 'colour' (<string>:1:2)", kPassthrough, ""},
        {__LINE__, param("oui-prefixes", Element::fromJSON("{\"zz:zz:zz\": \"yealink\"}")),
         "passthrough",
         "phoneprov.oui-prefixes: 'zz:zz:zz' is not a MAC prefix (00:15:65, 70:B3:D5:1/28, ...) (<string>:1:2)",
         kPassthrough, ""},
        {__LINE__, param("oui-prefixes", Element::fromJSON("{\"00:11:22\": \"nokia\"}")),
         "passthrough", "phoneprov.oui-prefixes: '00:11:22' names unknown vendor 'nokia' (<string>:1:2)",
         kPassthrough, ""},
        {__LINE__, param("defaults", Element::fromJSON("{\"sip-server\": {\"a\": 1}}")),
         "passthrough", "phoneprov.defaults: 'sip-server' must be a string, a number or a boolean (<string>:1:2)",
         kPassthrough, ""},
        // A template with a syntax error: that vendor is left out, with the line.
        {__LINE__,
         [](ElementPtr&, const std::string& profiles) {
             writeText(profiles + "/yealink/templates/mac.cfg.mustache",
                       "#!version:1.0.0.1\naccount.1.enable = {{#accounts}}1\n");
         },
         "degraded", "@/yealink/templates/mac.cfg.mustache:2:20: Unclosed section \"accounts\"",
         "vendor 'yealink' left out", "yealink"},
        // A profile that is not JSON: line and column.
        {__LINE__,
         [](ElementPtr&, const std::string& profiles) {
             writeText(profiles + "/snom/profile.json", "{\n  \"id\": \"snom\",\n  name: 1\n}\n");
         },
         "degraded",
         "@/snom/profile.json:3:4: not valid JSON: invalid literal, expected string literal",
         "vendor 'snom' left out", "snom"},
        // The parameters may still name a vendor that is left out.
        {__LINE__,
         [](ElementPtr& p, const std::string& profiles) {
             writeText(profiles + "/snom/profile.json", "{}");
             p->set("vendors", Element::fromJSON("{\"snom\": {\"enabled\": true}}"));
             p->set("oui-prefixes", Element::fromJSON("{\"00:11:22\": \"snom\"}"));
         },
         "degraded", "@/snom/profile.json: missing parameter 'id'", "vendor 'snom' left out",
         "snom"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        TearDown();
        SetUp();
        std::string profiles = dir_ + "/profiles";
        std::string cmd = "cp -r '" + std::string(PHONEPROV_SOURCE_DIR) + "/profiles' '" +
                          profiles + "'";
        ASSERT_EQ(0, system(cmd.c_str()));
        ElementPtr p = goodParams();
        p->set("profiles-dir", Element::create(profiles));
        s.breakIt(p, profiles);
        ASSERT_TRUE(load(p)) << "load() failed: Kea 2.2 would stop serving DHCP";
        std::string error = s.error;
        if (error[0] == '@') {
            error = profiles + error.substr(1);
        }
        std::string log = logText();
        EXPECT_NE(std::string::npos,
                  log.find("ERROR [kea-dhcp4.phoneprov-hooks/") == std::string::npos
                      ? std::string::npos
                      : log.find("PHONEPROV_CONFIG_ERROR phoneprov configuration error: " +
                                 error + " (" + s.effect + ")"))
            << log.substr(log.find("PHONEPROV") == std::string::npos ? 0 : log.find("PHONEPROV"));
        Health h = health();
        EXPECT_EQ(s.state, h.state);
        ASSERT_EQ(1u, h.errors.size());
        EXPECT_EQ(error, h.errors[0]);
        EXPECT_EQ(1, statValue("phoneprov.config-errors"));
        if (s.state == "passthrough") {
            EXPECT_EQ("none", h.parameters);
            EXPECT_NE(std::string::npos, log.find("PHONEPROV_PASSTHROUGH"));
            // Packets pass untouched.
            Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "Yealink SIP-T54W"));
            EXPECT_FALSE(rsp->getOption(66));
            EXPECT_FALSE(rsp->inClass("PHONEPROV"));
            continue;
        }
        EXPECT_EQ("current", h.parameters);
        ASSERT_EQ(1u, h.leftOut.size());
        EXPECT_EQ(s.leftOut, h.leftOut[0]);
        EXPECT_EQ(1, statValue("phoneprov.profiles-broken"));
        // The vendor left out gets nothing; the other one its options.
        bool yealinkOut = s.leftOut == "yealink";
        Pkt4Ptr y = exchange(query(DHCPDISCOVER, kYealinkMac, "Yealink SIP-T54W"));
        Pkt4Ptr n = exchange(query(DHCPDISCOVER, kSnomMac, "snomD785"));
        EXPECT_EQ(!yealinkOut, static_cast<bool>(y->getOption(66)));
        EXPECT_EQ(yealinkOut, static_cast<bool>(n->getOption(66)));
    }
}

TEST_F(LoadTest, ParametersThatAreNotAMapPassThrough) {
    EXPECT_TRUE(load(ConstElementPtr()));
    EXPECT_NE(logText().find("PHONEPROV_CONFIG_ERROR phoneprov configuration error: phoneprov: "
                             "the parameters must be a map with 'output-dir' and 'base-url' (" +
                             kPassthrough + ")"),
              std::string::npos);
    EXPECT_EQ("passthrough", health().state);
}

TEST_F(LoadTest, GoodParametersAreOk) {
    ASSERT_TRUE(load(goodParams()));
    Health h = health();
    EXPECT_EQ("ok", h.state);
    EXPECT_EQ("current", h.parameters);
    EXPECT_TRUE(h.errors.empty());
    EXPECT_EQ(0, statValue("phoneprov.config-errors"));
    EXPECT_EQ(std::string::npos, logText().find("PHONEPROV_CONFIG_ERROR"));
}

/// @brief A reconfiguration with unusable parameters (Kea unloads, then loads the
/// library again) keeps the last good parameters in force, every time.
TEST_F(LoadTest, ReloadWithBadParametersKeepsTheLastGood) {
    ASSERT_TRUE(load(goodParams()));
    ElementPtr bad = goodParams();
    bad->remove("base-url");
    bad->set("base_url", Element::create("http://10.9.9.9/other"));
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE(round);
        ASSERT_TRUE(load(bad));
        Health h = health();
        EXPECT_EQ("degraded", h.state);
        EXPECT_EQ("previous", h.parameters);
        ASSERT_EQ(1u, h.errors.size());
        EXPECT_EQ("phoneprov: unknown parameter 'base_url'", h.errors[0]);
        EXPECT_NE(std::string::npos,
                  logText().find("PHONEPROV_CONFIG_ERROR phoneprov configuration error: phoneprov: "
                                 "unknown parameter 'base_url' (parameters refused: the previous "
                                 "parameters stay in force)"));
        // Phones are still provisioned, from the parameters loaded before.
        Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "Yealink SIP-T54W"));
        ASSERT_TRUE(rsp->getOption(66));
        EXPECT_EQ(0u, bytes(rsp->getOption(66)).find("http://127.0.0.1:8080/prov/"));
    }
    // A fresh process has nothing to fall back on.
    TearDown();
    SetUp();
    ASSERT_TRUE(load(bad));
    EXPECT_EQ("passthrough", health().state);
}

/// @brief Debug logging turned on by a reconfiguration shows from the next packet
/// (the cached debug check survives unload()/load(): the library stays mapped).
TEST_F(LoadTest, DebugLoggingFromAReloadShowsAtOnce) {
    logAt(isc::log::INFO);
    ASSERT_TRUE(load(goodParams()));
    exchange(query(DHCPDISCOVER, kYealinkMac, "Yealink SIP-T54W"));
    EXPECT_EQ(std::string::npos, logText().find("PHONEPROV_PHONE_IDENTIFIED"));
    logAt(isc::log::DEBUG);
    ASSERT_TRUE(load(goodParams()));  // config-reload: unload(), then load()
    exchange(query(DHCPDISCOVER, kYealinkMac, "Yealink SIP-T54W"));
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_PHONE_IDENTIFIED"));
}

}  // namespace
