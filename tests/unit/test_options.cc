// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// DHCP option encoding: every type to exact bytes, and the errors.
#include "options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace phoneprov;

namespace {

using Bytes = std::vector<uint8_t>;

const OptionVars kVars = {{"base-url", "http://10.0.0.5/prov"},
                          {"vendor-url", "http://10.0.0.5/prov/mitel/"},
                          {"tftp-server", "10.0.0.6"},
                          {"vendor", "mitel"},
                          {"dir", "mitel"},
                          {"model", ""}};

OptionSpec spec(int code, const std::string& type, const std::string& value) {
    OptionSpec s;
    s.code = code;
    s.type = type;
    s.value = value;
    return (s);
}

Bytes bytesOf(const std::string& s) {
    return (Bytes(s.begin(), s.end()));
}

std::string errorOf(const OptionSpec& s, const OptionVars& vars = kVars) {
    try {
        encodeOption(s, vars, "vendor.options[0]");
    } catch (const ConfigError& e) {
        return (e.what());
    }
    return ("");
}

TEST(EncodeOption, scalarTypes) {
    struct Scenario {
        int line_;
        std::string type;
        std::string value;
        Bytes expected;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "string", "hello", bytesOf("hello")},
        {__LINE__, "string", "{{vendor-url}}", bytesOf("http://10.0.0.5/prov/mitel/")},
        {__LINE__, "string", "HTTPSRVR={{tftp-server}},HTTPDIR={{dir}}",
         bytesOf("HTTPSRVR=10.0.0.6,HTTPDIR=mitel")},
        {__LINE__, "string", "{MODEL}.cfg", bytesOf("{MODEL}.cfg")},
        {__LINE__, "ipv4-list", "10.0.0.1", {10, 0, 0, 1}},
        {__LINE__, "ipv4-list", "10.0.0.1, 10.0.0.2", {10, 0, 0, 1, 10, 0, 0, 2}},
        {__LINE__, "ipv4-list", "10.0.0.1,192.168.255.254", {10, 0, 0, 1, 192, 168, 255, 254}},
        {__LINE__, "ipv4-list", "{{tftp-server}}", {10, 0, 0, 6}},
        {__LINE__, "hex", "0a0b0c", {0x0a, 0x0b, 0x0c}},
        {__LINE__, "hex", "0A:0B:FF", {0x0a, 0x0b, 0xff}},
        {__LINE__, "hex", "de ad be ef", {0xde, 0xad, 0xbe, 0xef}},
        {__LINE__, "uint8", "0", {0}},
        {__LINE__, "uint8", "255", {255}},
        {__LINE__, "uint16", "258", {0x01, 0x02}},
        {__LINE__, "uint16", "65535", {0xff, 0xff}},
        {__LINE__, "uint32", "16909060", {0x01, 0x02, 0x03, 0x04}},
        {__LINE__, "uint32", "4294967295", {0xff, 0xff, 0xff, 0xff}},
        {__LINE__, "uint32", " 7 ", {0, 0, 0, 7}},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.type + " '" + s.value + "'");
        EncodedOption o = encodeOption(spec(66, s.type, s.value), kVars, "x");
        EXPECT_EQ(66, o.code);
        EXPECT_EQ(s.expected, o.data);
    }
}

TEST(EncodeOption, mitelSubOptionsExactBytes) {
    OptionSpec o43 = spec(43, "sub-options", "");
    o43.sub = {spec(2, "string", "{{vendor-url}}"), spec(3, "uint8", "0")};
    EncodedOption o = encodeOption(o43, kVars, "mitel.options[0]");
    const std::string url = "http://10.0.0.5/prov/mitel/";
    Bytes expected = {2, static_cast<uint8_t>(url.size())};
    expected.insert(expected.end(), url.begin(), url.end());
    expected.insert(expected.end(), {3, 1, 0});
    EXPECT_EQ(43, o.code);
    EXPECT_EQ(expected, o.data);
    EXPECT_EQ("021b" + std::string("687474703a2f2f31302e302e302e352f70726f762f6d6974656c2f") + "030100",
              toHex(o.data));
}

TEST(EncodeOption, vivsoExactBytes) {
    OptionSpec o125 = spec(125, "vivso", "");
    o125.enterprise = 3561;  // 0x00000de9, the Broadband Forum
    o125.sub = {spec(1, "string", "abc"), spec(2, "uint16", "5")};
    EncodedOption o = encodeOption(o125, kVars, "x");
    EXPECT_EQ(125, o.code);
    const Bytes expected = {0x00, 0x00, 0x0d, 0xe9,     // enterprise number
                            9,                          // data-len
                            1,    3,    'a',  'b', 'c', // sub-option 1
                            2,    2,    0x00, 0x05};    // sub-option 2
    EXPECT_EQ(expected, o.data);
    o125.enterprise = 0xfffffffe;
    o125.sub = {spec(6, "hex", "01")};
    EXPECT_EQ((Bytes{0xff, 0xff, 0xff, 0xfe, 3, 6, 1, 0x01}), encodeOption(o125, kVars, "x").data);
}

TEST(EncodeOption, errors) {
    struct Scenario {
        int line_;
        OptionSpec spec;
        std::string expected;
    };
    OptionSpec longSub = spec(43, "sub-options", "");
    longSub.sub = {spec(1, "string", std::string(256, 'x'))};
    OptionSpec longTlvs = spec(43, "sub-options", "");
    longTlvs.sub = {spec(1, "string", std::string(200, 'x')), spec(2, "string", std::string(60, 'y'))};
    OptionSpec longVivso = spec(125, "vivso", "");
    longVivso.enterprise = 1;
    longVivso.sub = {spec(1, "string", std::string(250, 'x'))};
    OptionSpec emptySub = spec(43, "sub-options", "");
    OptionSpec badInner = spec(43, "sub-options", "");
    badInner.sub = {spec(1, "string", "ok"), spec(2, "uint8", "300")};
    const std::vector<Scenario> scenarios = {
        {__LINE__, spec(66, "string", "{{nope}}"), "vendor.options[0]: unknown variable 'nope'"},
        {__LINE__, spec(66, "string", "{{tftp-server}}"), ""},
        {__LINE__, spec(66, "string", "{{model}}"), "vendor.options[0]: variable 'model' is not set"},
        {__LINE__, spec(66, "string", "{{vendor-url"),
         "vendor.options[0]: unclosed '{{' in '{{vendor-url'"},
        {__LINE__, spec(66, "string", ""), "vendor.options[0]: option 66 would be empty"},
        {__LINE__, spec(66, "string", std::string(256, 'x')),
         "vendor.options[0]: option 66 has 256 bytes, must be 1 to 255"},
        {__LINE__, spec(150, "ipv4-list", "10.0.0.256"),
         "vendor.options[0]: '10.0.0.256' is not an IPv4 address"},
        {__LINE__, spec(150, "ipv4-list", "10.0.0.1,"), "vendor.options[0]: '' is not an IPv4 address"},
        {__LINE__, spec(150, "ipv4-list", "tftp.example.com"),
         "vendor.options[0]: 'tftp.example.com' is not an IPv4 address"},
        {__LINE__, spec(150, "ipv4-list", "::1"), "vendor.options[0]: '::1' is not an IPv4 address"},
        {__LINE__, spec(150, "ipv4-list", std::string(64 * 9, ' ')),
         "vendor.options[0]: '' is not an IPv4 address"},
        {__LINE__, spec(1, "hex", "abc"), "vendor.options[0]: 'abc' is not hex"},
        {__LINE__, spec(1, "hex", "zz"), "vendor.options[0]: 'zz' is not hex"},
        {__LINE__, spec(1, "uint8", "256"), "vendor.options[0]: 256 is larger than 255"},
        {__LINE__, spec(1, "uint16", "65536"), "vendor.options[0]: 65536 is larger than 65535"},
        {__LINE__, spec(1, "uint32", "4294967296"),
         "vendor.options[0]: 4294967296 is larger than 4294967295"},
        {__LINE__, spec(1, "uint8", "-1"), "vendor.options[0]: '-1' is not an unsigned integer"},
        {__LINE__, spec(1, "uint8", "0x10"), "vendor.options[0]: '0x10' is not an unsigned integer"},
        {__LINE__, spec(1, "uint32", "99999999999"),
         "vendor.options[0]: '99999999999' is not an unsigned integer"},
        {__LINE__, spec(1, "blob", "x"), "vendor.options[0]: unknown option type 'blob'"},
        {__LINE__, longSub,
         "vendor.options[0].sub-options[0]: sub-option 1 is longer than 255 bytes"},
        {__LINE__, longTlvs, "vendor.options[0]: option 43 has 264 bytes, must be 1 to 255"},
        {__LINE__, longVivso, "vendor.options[0]: option 125 has 257 bytes, must be 1 to 255"},
        {__LINE__, emptySub, "vendor.options[0]: option 43 has 0 bytes, must be 1 to 255"},
        {__LINE__, badInner, "vendor.options[0].sub-options[1]: 300 is larger than 255"},
    };
    OptionVars unset = kVars;
    unset["tftp-server"] = "";
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        if (s.expected.empty()) {
            // An empty variable is "not set": the provisioner leaves such options out.
            std::string err = errorOf(s.spec, unset);
            EXPECT_EQ("vendor.options[0]: variable 'tftp-server' is not set", err);
            EXPECT_NE(std::string::npos, err.find("is not set"));
            continue;
        }
        EXPECT_EQ(s.expected, errorOf(s.spec));
    }
}

TEST(EncodeOption, exactly255BytesFit) {
    EncodedOption o = encodeOption(spec(66, "string", std::string(255, 'x')), kVars, "x");
    EXPECT_EQ(255u, o.data.size());
    OptionSpec sub = spec(43, "sub-options", "");
    sub.sub = {spec(1, "string", std::string(253, 'x'))};
    EXPECT_EQ(255u, encodeOption(sub, kVars, "x").data.size());
}

TEST(ExpandVars, replacesVariables) {
    struct Scenario {
        int line_;
        std::string text;
        std::string expected;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "", ""},
        {__LINE__, "plain", "plain"},
        {__LINE__, "{{base-url}}", "http://10.0.0.5/prov"},
        {__LINE__, "{{ base-url }}/x", "http://10.0.0.5/prov/x"},
        {__LINE__, "{{vendor}}:{{dir}}", "mitel:mitel"},
        {__LINE__, "a{{vendor}}b{{vendor}}c", "amitelbmitelc"},
        {__LINE__, "{single}", "{single}"},
        {__LINE__, "$PSN.xml", "$PSN.xml"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.text);
        EXPECT_EQ(s.expected, expandVars(s.text, kVars, "w"));
    }
    try {
        expandVars("{{a}}", kVars, "here");
        ADD_FAILURE() << "unknown variable expanded";
    } catch (const ConfigError& e) {
        EXPECT_EQ("here: unknown variable 'a'", std::string(e.what()));
    }
    // Expanded values are not expanded again.
    OptionVars tricky = {{"a", "{{b}}"}, {"b", "x"}};
    EXPECT_EQ("{{b}}", expandVars("{{a}}", tricky, "w"));
}

TEST(EncodeOptions, laterSpecWithSameCodeReplacesEarlier) {
    std::vector<OptionSpec> specs = {spec(66, "string", "first"), spec(67, "string", "boot"),
                                     spec(66, "string", "second")};
    std::vector<EncodedOption> out = encodeOptions(specs, kVars, "v.options");
    ASSERT_EQ(2u, out.size());
    EXPECT_EQ(66, out[0].code);
    EXPECT_EQ(bytesOf("second"), out[0].data);
    EXPECT_EQ(67, out[1].code);
    EXPECT_EQ(bytesOf("boot"), out[1].data);
    // Errors name the index of the spec.
    specs.push_back(spec(1, "uint8", "x"));
    try {
        encodeOptions(specs, kVars, "v.options");
        ADD_FAILURE() << "bad spec encoded";
    } catch (const ConfigError& e) {
        EXPECT_EQ("v.options[3]: 'x' is not an unsigned integer", std::string(e.what()));
    }
}

TEST(ToHex, lowerCaseTwoDigitsPerByte) {
    EXPECT_EQ("", toHex({}));
    EXPECT_EQ("000aff10", toHex({0x00, 0x0a, 0xff, 0x10}));
    EncodedOption a{66, {1}, {}};
    EncodedOption b{66, {1}, {}};
    EncodedOption c{67, {1}, {}};
    EXPECT_EQ(a, b);
    EXPECT_FALSE(a == c);
}

}  // namespace
