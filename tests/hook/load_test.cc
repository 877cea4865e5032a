// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Loads the built libdhcp_phoneprov.so through Kea's HooksManager with good and
// bad parameters; a bad one must fail load() with a message naming the key.
#include "hook_fixture.h"

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

TEST_F(LoadTest, RefusesOtherProcesses) {
    isc::process::Daemon::setProcName("kea-dhcp6");
    EXPECT_FALSE(load(goodParams()));
    EXPECT_NE(logText().find("PHONEPROV_NOT_DHCP4 phoneprov loaded in kea-dhcp6"),
              std::string::npos);
}

/// @brief A bad parameter and the message that must name it.
struct BadScenario {
    int line_;
    std::string key;
    ConstElementPtr value;  ///< null: remove the key
    std::string message;
};

TEST_F(LoadTest, BadParametersFailWithTheKeyNamed) {
    const std::vector<BadScenario> scenarios = {
        {__LINE__, "output-dir", ConstElementPtr(), "phoneprov: missing parameter 'output-dir'"},
        {__LINE__, "base-url", ConstElementPtr(), "phoneprov: missing parameter 'base-url'"},
        {__LINE__, "output-dir", Element::create(12), "phoneprov: 'output-dir' must be a string"},
        {__LINE__, "base-url", Element::create("ftp://x/"),
         "phoneprov: 'base-url' 'ftp://x/' must be an http://, https:// or tftp:// URL"},
        {__LINE__, "output-dir", Element::create("relative/dir"),
         "phoneprov: 'output-dir' 'relative/dir' must be an absolute path"},
        {__LINE__, "output-dir", Element::create("/nonexistent/phoneprov"),
         "phoneprov: 'output-dir': output-dir '/nonexistent/phoneprov': No such file or directory"},
        {__LINE__, "bogus", Element::create(true), "phoneprov: unknown parameter 'bogus'"},
        {__LINE__, "render-threads", Element::create(0),
         "phoneprov: 'render-threads' is 0, must be between 1 and 64"},
        {__LINE__, "render-threads", Element::create("2"),
         "phoneprov: 'render-threads' must be an integer"},
        {__LINE__, "tftp-server", Element::create("tftp.example"),
         "phoneprov: 'tftp-server' 'tftp.example' must be an IPv4 address"},
        {__LINE__, "profiles-dir", Element::create("/nonexistent/profiles"),
         "profiles-dir: cannot open '/nonexistent/profiles'"},
        {__LINE__, "file-group", Element::create("no-such-group-xyz"),
         "phoneprov: 'file-group' 'no-such-group-xyz' is not a group"},
        {__LINE__, "vendors", Element::fromJSON("{\"nokia\": {}}"),
         "phoneprov.vendors: unknown vendor 'nokia'"},
        {__LINE__, "vendors", Element::fromJSON("{\"yealink\": {\"colour\": 1}}"),
         "phoneprov.vendors.yealink: unknown parameter 'colour'"},
        {__LINE__, "oui-prefixes", Element::fromJSON("{\"zz:zz:zz\": \"yealink\"}"),
         "phoneprov.oui-prefixes: 'zz:zz:zz' is not a MAC prefix"},
        {__LINE__, "oui-prefixes", Element::fromJSON("{\"00:11:22\": \"nokia\"}"),
         "phoneprov.oui-prefixes: '00:11:22' names unknown vendor 'nokia'"},
        {__LINE__, "defaults", Element::fromJSON("{\"sip-server\": {\"a\": 1}}"),
         "phoneprov.defaults: 'sip-server' must be a string, a number or a boolean"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        TearDown();
        SetUp();
        ElementPtr p = goodParams();
        if (s.value) {
            p->set(s.key, s.value);
        } else {
            p->remove(s.key);
        }
        EXPECT_FALSE(load(p));
        std::string log = logText();
        EXPECT_NE(log.find("PHONEPROV_LOAD_FAILED phoneprov failed to load: " + s.message),
                  std::string::npos)
            << log.substr(log.find("PHONEPROV") == std::string::npos ? 0 : log.find("PHONEPROV"));
    }
}

TEST_F(LoadTest, ParametersThatAreNotAMapFail) {
    EXPECT_FALSE(load(ConstElementPtr()));
    EXPECT_NE(logText().find("the parameters must be a map"), std::string::npos);
}

}  // namespace
