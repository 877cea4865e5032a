// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Host reservations read from a Kea configuration, the hook's parameters, Kea's comments.
#include "reservations.h"

#include "catalogue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace phoneprov;
using nlohmann::json;

namespace {

Mac mac(const std::string& text) {
    return (*parseMac(text));
}

const char* const kConfig = R"({
  "Dhcp4": {
    "reservations": [
      {"hw-address": "00:15:65:aa:bb:01", "ip-address": "10.0.0.11",
       "option-data": [{"code": 66, "data": "http://x/"}, {"name": "domain-name", "data": "x"},
                       {"code": 0, "data": "x"}, {"code": 255, "data": "x"}, {"code": "43"},
                       {"code": 150, "data": "10.0.0.6"}],
       "user-context": {"phoneprov": {"vendor": "yealink", "model": "T46S",
                                      "accounts": [{"user": "1001", "password": "x"}]}}},
      {"client-id": "01:02:03", "ip-address": "10.0.0.99"},
      {"hw-address": "not a mac", "user-context": {"phoneprov": {}}},
      {"hw-address": "00:15:65:aa:bb:05", "user-context": {"other-hook": {"x": 1}}}
    ],
    "subnet4": [
      {"id": 1, "subnet": "10.0.0.0/24",
       "reservations": [
         {"hw-address": "00-15-65-AA-BB-02", "ip-address": "10.0.0.12",
          "user-context": {"phoneprov": {"vendor": 7, "model": ["x"], "sip-server": "pbx"}}},
         {"hw-address": "00:15:65:aa:bb:01", "ip-address": "10.0.0.111",
          "option-data": [{"code": 67, "data": "boot"}],
          "user-context": {"phoneprov": {"vendor": "snom"}}}
       ]},
      {"id": 2, "subnet": "10.0.1.0/24"}
    ],
    "shared-networks": [
      {"name": "phones",
       "subnet4": [
         {"id": 3, "subnet": "10.0.2.0/24",
          "reservations": [
            {"hw-address": "001565aabb03", "user-context": {"phoneprov": {"accounts": "1001"}}},
            {"hw-address": "0015.65aa.bb04", "ip-address": "10.0.2.4"}
          ]}
       ]}
    ]
  }
})";

TEST(HostIndex, globalSubnetAndSharedNetworkReservations) {
    std::vector<std::string> problems;
    auto index = HostIndex::build(json::parse(kConfig), problems);
    EXPECT_EQ(5u, index->size());
    EXPECT_EQ(3u, index->withData());

    // Global: pins, option codes, address.
    const HostEntry* h1 = index->find(mac("00:15:65:aa:bb:01"));
    ASSERT_NE(nullptr, h1);
    EXPECT_EQ(mac("00:15:65:aa:bb:01"), h1->mac);
    EXPECT_TRUE(h1->hasData);
    EXPECT_EQ("yealink", h1->pinVendor);  // the first reservation with data wins
    EXPECT_EQ("T46S", h1->pinModel);
    EXPECT_EQ("10.0.0.11", h1->ip);
    EXPECT_EQ("1001", h1->data()["accounts"][0]["user"]);
    // Codes of every reservation of the MAC, valid ones only.
    EXPECT_EQ((std::vector<uint8_t>{66, 150, 67}), h1->optionCodes);

    // Subnet: non-string pins are ignored, the data kept.
    const HostEntry* h2 = index->find(mac("00:15:65:aa:bb:02"));
    ASSERT_NE(nullptr, h2);
    EXPECT_TRUE(h2->hasData);
    EXPECT_EQ("", h2->pinVendor);
    EXPECT_EQ("", h2->pinModel);
    EXPECT_EQ("10.0.0.12", h2->ip);
    EXPECT_EQ("pbx", h2->data()["sip-server"]);
    EXPECT_TRUE(h2->optionCodes.empty());

    // Shared network: bad data is kept (the render refuses it) and reported (with the
    // subnet's list-valued model above), naming no value.
    const HostEntry* h3 = index->find(mac("00:15:65:aa:bb:03"));
    ASSERT_NE(nullptr, h3);
    EXPECT_TRUE(h3->hasData);
    EXPECT_EQ("", h3->ip);
    ASSERT_EQ(2u, problems.size());
    EXPECT_EQ("00:15:65:aa:bb:02: 'model' must be a string, a number or a boolean", problems[0]);
    EXPECT_EQ("00:15:65:aa:bb:03: 'accounts' must be a list", problems[1]);
    EXPECT_EQ(std::string::npos, problems[1].find("1001"));

    const HostEntry* h4 = index->find(mac("00:15:65:aa:bb:04"));
    ASSERT_NE(nullptr, h4);
    EXPECT_FALSE(h4->hasData);
    EXPECT_EQ("10.0.2.4", h4->ip);

    // Another hook's user context is not ours.
    const HostEntry* h5 = index->find(mac("00:15:65:aa:bb:05"));
    ASSERT_NE(nullptr, h5);
    EXPECT_FALSE(h5->hasData);

    EXPECT_EQ(nullptr, index->find(mac("00:15:65:aa:bb:06")));
    size_t withData = 0;
    for (const auto& e : index->all()) {
        EXPECT_EQ(e.first, e.second.mac.value());
        withData += e.second.hasData ? 1 : 0;
    }
    EXPECT_EQ(index->withData(), withData);
}

TEST(HostIndex, dhcp4MapWithoutWrapperAndOddInput) {
    std::vector<std::string> problems;
    json dhcp4 = json::parse(kConfig)["Dhcp4"];
    EXPECT_EQ(5u, HostIndex::build(dhcp4, problems)->size());
    for (const json& odd : {json(), json::array(), json("x"), json::object(),
                            json{{"Dhcp4", json::array()}},
                            json{{"reservations", json::object()}, {"subnet4", "x"},
                                 {"shared-networks", json::array({1, json::object()})}},
                            json{{"subnet4", json::array({1, {{"reservations", json::array({"x", 2})}}})}}}) {
        SCOPED_TRACE(odd.dump());
        problems.clear();
        auto index = HostIndex::build(odd, problems);
        EXPECT_EQ(0u, index->size());
        EXPECT_EQ(0u, index->withData());
        EXPECT_TRUE(problems.empty());
    }
}

TEST(FindHookParameters, findsOurLibrary) {
    json config = json::parse(R"({"Dhcp4": {"hooks-libraries": [
        {"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so"},
        {"library": 5},
        "junk",
        {"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_phoneprov.so",
         "parameters": {"output-dir": "/srv/phoneprov", "base-url": "http://x/"}}]}})");
    json p = findHookParameters(config);
    ASSERT_TRUE(p.is_object());
    EXPECT_EQ("/srv/phoneprov", p["output-dir"]);
    // The Dhcp4 map itself.
    EXPECT_EQ(p, findHookParameters(config["Dhcp4"]));
    // Loaded without parameters: an empty map.
    json bare = json::parse(R"({"hooks-libraries": [{"library": "libdhcp_phoneprov.so"}]})");
    json q = findHookParameters(bare);
    EXPECT_TRUE(q.is_object());
    EXPECT_TRUE(q.empty());
    // Not loaded: null.
    EXPECT_TRUE(findHookParameters(json::parse(R"({"Dhcp4": {"hooks-libraries": [
        {"library": "libdhcp_lease_cmds.so"}]}})")).is_null());
    EXPECT_TRUE(findHookParameters(json::parse(R"({"Dhcp4": {}})")).is_null());
    EXPECT_TRUE(findHookParameters(json::parse(R"({"hooks-libraries": {}})")).is_null());
}

TEST(ParseKeaConfigText, commentsOfEveryKind) {
    const std::string text = R"(// Kea DHCPv4 with phone provisioning
# a shell-style comment
{
  /* a C comment
     over two lines */
  "Dhcp4": {
    "hooks-libraries": [ # the hooks
      {
        "library": "/usr/lib/kea/hooks/libdhcp_phoneprov.so", // ours
        "parameters": {
          "base-url": "http://10.0.0.5/prov#frag", # '#' inside a string is kept
          "comment": "a // b /* c */ d",
          "escaped": "q\"#r"
        }
      }
    ]
  }
}
# trailing comment)";
    json j = parseKeaConfigText(text, "kea-dhcp4.conf");
    json p = findHookParameters(j);
    ASSERT_TRUE(p.is_object()) << j.dump();
    EXPECT_EQ("http://10.0.0.5/prov#frag", p["base-url"]);
    EXPECT_EQ("a // b /* c */ d", p["comment"]);
    EXPECT_EQ("q\"#r", p["escaped"]);
}

TEST(ParseKeaConfigText, invalidJsonNamesTheFileLineAndColumn) {
    struct Scenario {
        int line_;
        std::string text;
        std::string message;  ///< after "/etc/kea/kea-dhcp4.conf:"
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "", "1:1: not valid JSON: unexpected end of input, expected '[', '{', or a literal"},
        {__LINE__, "{", "1:2: not valid JSON: unexpected end of input, expected string literal"},
        {__LINE__, "{\"a\": }", "1:7: not valid JSON: unexpected '}', expected '[', '{', or a literal"},
        {__LINE__, "{\"a\": 1} }", "1:10: not valid JSON: unexpected '}', expected end of input"},
        {__LINE__, "# only a comment", "1:17: not valid JSON: unexpected end of input, expected '[', '{', or a literal"},
        // Comments are blanked in place: the line and column are the file's.
        {__LINE__, "{\n  // the hook\n  \"a\": 1,\n  /* x */ \"b\" 2\n}",
         "4:15: not valid JSON: unexpected number literal, expected ':'"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        try {
            parseKeaConfigText(s.text, "/etc/kea/kea-dhcp4.conf");
            ADD_FAILURE() << "parsed";
        } catch (const ConfigError& e) {
            EXPECT_EQ("/etc/kea/kea-dhcp4.conf:" + s.message, std::string(e.what()));
        }
    }
}

TEST(ParseKeaConfigText, hashAndQuotesInsideOtherComments) {
    EXPECT_EQ(1, parseKeaConfigText("{\n /* see # below */\n \"a\": 1\n}", "k")["a"]);
    json j = parseKeaConfigText("{\n // the 5\" display\n \"a\": 1, # note\n \"b\": 2\n}", "k");
    EXPECT_EQ(2, j["b"]);
}

}  // namespace

// A reservation's own option counts whether it names the option by code, by Kea's
// standard name, or by a name the configuration defines; other spaces do not count.
TEST(HostIndex, reservationOptionsByCodeOrName) {
    struct Case {
        int line;
        std::string option;
        std::vector<uint8_t> codes;
    };
    const std::vector<Case> cases = {
        {__LINE__, R"({"code": 66, "data": "x"})", {66}},
        {__LINE__, R"({"name": "tftp-server-name", "data": "x"})", {66}},
        {__LINE__, R"({"name": "boot-file-name", "data": "x"})", {67}},
        {__LINE__, R"({"name": "vendor-encapsulated-options"})", {43}},
        {__LINE__, R"({"name": "vivso-suboptions", "data": "00"})", {125}},
        {__LINE__, R"({"name": "v4-captive-portal", "data": "x"})", {114}},
        {__LINE__, R"({"name": "cisco-tftp", "data": "10.0.0.1"})", {150}},
        {__LINE__, R"({"name": "cisco-tftp", "space": "dhcp4", "data": "10.0.0.1"})", {150}},
        {__LINE__, R"({"name": "unknown-name", "data": "x"})", {}},
        {__LINE__, R"({"code": 2, "space": "vendor-encapsulated-options-space"})", {}},
        {__LINE__, R"({"name": 66})", {}},
        {__LINE__, R"({"code": "66"})", {}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("line " + std::to_string(c.line));
        std::string config = R"({"Dhcp4": {"option-def": [{"name": "cisco-tftp", "code": 150,
            "type": "ipv4-address"}], "reservations": [{"hw-address": "00:15:65:aa:bb:01",
            "option-data": [)" + c.option + "]}]}}";
        std::vector<std::string> problems;
        auto index = HostIndex::build(json::parse(config), problems);
        const HostEntry* h = index->find(mac("00:15:65:aa:bb:01"));
        ASSERT_NE(nullptr, h);
        EXPECT_EQ(c.codes, h->optionCodes);
    }
}
