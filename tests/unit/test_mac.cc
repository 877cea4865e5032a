// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// MAC and MAC prefix parsing and formatting.
#include "mac.h"
#include "prefix.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace phoneprov;

namespace {

const Mac kYealink{{0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}};

TEST(ParseMac, acceptsEveryWrittenForm) {
    struct Scenario {
        int line_;
        std::string text;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "00:15:65:aa:bb:cc"},
        {__LINE__, "00:15:65:AA:BB:CC"},
        {__LINE__, "00-15-65-AA-BB-CC"},
        {__LINE__, "00-15-65-aa-bb-cc"},
        {__LINE__, "001565aabbcc"},
        {__LINE__, "001565AABBCC"},
        {__LINE__, "0015.65aa.bbcc"},
        {__LINE__, "0015.65AA.BBCC"},
        {__LINE__, "00:15:65:Aa:bB:cC"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.text);
        auto mac = parseMac(s.text);
        ASSERT_TRUE(mac.has_value());
        EXPECT_EQ(kYealink, *mac);
    }
}

TEST(ParseMac, rejectsAnythingButExactlyOneMac) {
    struct Scenario {
        int line_;
        std::string text;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, ""},
        {__LINE__, "00:15:65-aa:bb:cc"},     // mixed separators
        {__LINE__, "00-15-65:aa-bb-cc"},
        {__LINE__, "0015.65aa:bbcc"},
        {__LINE__, "001565aabbc"},           // 11 digits
        {__LINE__, "001565aabbccd"},         // 13 digits
        {__LINE__, "00:15:65:aa:bb:c"},
        {__LINE__, "00:15:65:aa:bb:cc:dd"},
        {__LINE__, "00:15:65:aa:bb:cc:"},    // trailing separator
        {__LINE__, ":00:15:65:aa:bb:cc"},    // leading separator
        {__LINE__, "0015.65aa.bbcc."},
        {__LINE__, "00::15:65:aa:bb:cc"},
        {__LINE__, "0:15:65:aa:bb:ccc"},     // separator in the wrong place
        {__LINE__, "001:565:aab:bcc"},
        {__LINE__, "00:15:65:aa:bbcc"},      // incomplete separators
        {__LINE__, "001565.aabbcc"},
        {__LINE__, "00:15:65:aa:bb:gg"},     // not hex
        {__LINE__, "hello world!"},
        {__LINE__, "00 15 65 aa bb cc"},
        {__LINE__, " 00:15:65:aa:bb:cc"},
        {__LINE__, "00:15:65:aa:bb:cc "},
        {__LINE__, std::string("001565aabbcc\0", 13)},
        {__LINE__, ":::::"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": '" + s.text + "'");
        EXPECT_FALSE(parseMac(s.text).has_value());
    }
}

TEST(Mac, formats) {
    EXPECT_EQ("001565aabbcc", kYealink.lower());
    EXPECT_EQ("001565AABBCC", kYealink.upper());
    EXPECT_EQ("00:15:65:aa:bb:cc", kYealink.colon());
    EXPECT_EQ(0x001565aabbccULL, kYealink.value());
    char buf[12];
    formatMacLower(kYealink, buf);
    EXPECT_EQ("001565aabbcc", std::string(buf, 12));
    Mac high{{0xff, 0xee, 0x0d, 0x90, 0x0a, 0x01}};
    EXPECT_EQ("ffee0d900a01", high.lower());
    EXPECT_EQ("FFEE0D900A01", high.upper());
    EXPECT_EQ("ff:ee:0d:90:0a:01", high.colon());
    // Formatting and parsing round-trip.
    EXPECT_EQ(high, *parseMac(high.colon()));
    EXPECT_EQ(high, *parseMac(high.upper()));
    EXPECT_NE(high, kYealink);
}

TEST(CheckPacketMac, classifiesHardwareAddresses) {
    struct Scenario {
        int line_;
        uint8_t htype;
        std::vector<uint8_t> bytes;
        MacProblem expected;
    };
    const std::vector<uint8_t> good = {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc};
    const std::vector<Scenario> scenarios = {
        {__LINE__, 1, good, MacProblem::None},
        {__LINE__, 6, good, MacProblem::NotEthernet},       // IEEE 802
        {__LINE__, 0, good, MacProblem::NotEthernet},
        {__LINE__, 32, good, MacProblem::NotEthernet},      // InfiniBand
        {__LINE__, 1, {}, MacProblem::BadLength},
        {__LINE__, 1, {0x00, 0x15, 0x65, 0xaa, 0xbb}, MacProblem::BadLength},
        {__LINE__, 1, {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc, 0xdd}, MacProblem::BadLength},
        {__LINE__, 1, std::vector<uint8_t>(16, 0x11), MacProblem::BadLength},
        {__LINE__, 1, {0, 0, 0, 0, 0, 0}, MacProblem::AllZero},
        {__LINE__, 1, {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, MacProblem::Multicast},
        {__LINE__, 1, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, MacProblem::Multicast},
        {__LINE__, 1, {0x03, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, MacProblem::Multicast},
        // Locally administered but unicast: usable.
        {__LINE__, 1, {0x02, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, MacProblem::None},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        Mac out;
        MacProblem p = checkPacketMac(s.htype, s.bytes.data(), s.bytes.size(), out);
        EXPECT_EQ(s.expected, p);
        if (s.expected == MacProblem::None) {
            EXPECT_EQ(s.bytes, std::vector<uint8_t>(out.bytes.begin(), out.bytes.end()));
        }
    }
    Mac out;
    EXPECT_EQ(MacProblem::BadLength, checkPacketMac(1, nullptr, 6, out));
}

TEST(CheckPacketMac, problemTextsAreDistinct) {
    const MacProblem all[] = {MacProblem::None, MacProblem::NotEthernet, MacProblem::BadLength,
                              MacProblem::AllZero, MacProblem::Multicast};
    std::vector<std::string> texts;
    for (MacProblem p : all) {
        std::string t = macProblemText(p);
        EXPECT_FALSE(t.empty());
        for (const auto& other : texts) {
            EXPECT_NE(other, t);
        }
        texts.push_back(t);
    }
    EXPECT_EQ("ok", std::string(macProblemText(MacProblem::None)));
}

TEST(ParsePrefix, acceptsTheThreeLengths) {
    struct Scenario {
        int line_;
        std::string text;
        uint64_t value;
        uint8_t bits;
        std::string canonical;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "00:15:65", 0x001565, 24, "00:15:65"},
        {__LINE__, "001565", 0x001565, 24, "00:15:65"},
        {__LINE__, "00-15-65", 0x001565, 24, "00:15:65"},
        {__LINE__, "80:5e:c0", 0x805ec0, 24, "80:5E:C0"},
        {__LINE__, "00:15:65/24", 0x001565, 24, "00:15:65"},
        {__LINE__, "70:B3:D5:1/28", 0x70b3d51, 28, "70:B3:D5:1/28"},
        {__LINE__, "70B3D51/28", 0x70b3d51, 28, "70:B3:D5:1/28"},
        {__LINE__, "70b3d51", 0x70b3d51, 28, "70:B3:D5:1/28"},
        {__LINE__, "70:B3:D5:12:3/36", 0x70b3d5123, 36, "70:B3:D5:12:3/36"},
        {__LINE__, "70B3D5123", 0x70b3d5123, 36, "70:B3:D5:12:3/36"},
        {__LINE__, "70b3d5123/36", 0x70b3d5123, 36, "70:B3:D5:12:3/36"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.text);
        auto p = parsePrefix(s.text);
        ASSERT_TRUE(p.has_value());
        EXPECT_EQ(s.value, p->value);
        EXPECT_EQ(s.bits, p->bits);
        EXPECT_EQ(s.canonical, p->text());
        // The text form parses back to the same prefix.
        auto again = parsePrefix(p->text());
        ASSERT_TRUE(again.has_value());
        EXPECT_EQ(p->value, again->value);
        EXPECT_EQ(p->bits, again->bits);
    }
}

TEST(ParsePrefix, rejectsBadPrefixes) {
    struct Scenario {
        int line_;
        std::string text;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, ""},
        {__LINE__, "00:15"},
        {__LINE__, "00:15:6"},            // 5 digits
        {__LINE__, "00:15:65:aa"},        // 8 digits: no such length
        {__LINE__, "00:15:65:aa:bb:cc"},  // a MAC, not a prefix
        {__LINE__, "00:15:65/28"},        // length disagrees with the digits
        {__LINE__, "70:B3:D5:1/24"},
        {__LINE__, "70:B3:D5:1/36"},
        {__LINE__, "00:15:65/"},
        {__LINE__, "00:15:65/32"},
        {__LINE__, "00:15:65/abc"},
        {__LINE__, "00:15:6g"},
        {__LINE__, "yealink"},
        {__LINE__, "/24"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": '" + s.text + "'");
        EXPECT_FALSE(parsePrefix(s.text).has_value());
    }
}

TEST(ParseAssignment, readsIeeeAssignments) {
    auto l = parseAssignment("001565");
    ASSERT_TRUE(l);
    EXPECT_EQ(24, l->bits);
    EXPECT_EQ(0x001565u, l->value);
    auto m = parseAssignment("741AE09");
    ASSERT_TRUE(m);
    EXPECT_EQ(28, m->bits);
    EXPECT_EQ(0x741ae09u, m->value);
    auto s = parseAssignment("70B3D5F2F");
    ASSERT_TRUE(s);
    EXPECT_EQ(36, s->bits);
    EXPECT_EQ(0x70b3d5f2fULL, s->value);
    EXPECT_FALSE(parseAssignment("Assignment"));
    EXPECT_FALSE(parseAssignment("00:15:65"));
    EXPECT_FALSE(parseAssignment("00156"));
    EXPECT_FALSE(parseAssignment("00156500"));
}

TEST(Prefix, ofTakesTheLeadingBits) {
    Mac mac = *parseMac("70:b3:d5:12:34:56");
    Prefix p24 = Prefix::of(mac, 24);
    EXPECT_EQ(24, p24.bits);
    EXPECT_EQ(0x70b3d5u, p24.value);
    EXPECT_EQ("70:B3:D5", p24.text());
    Prefix p28 = Prefix::of(mac, 28);
    EXPECT_EQ(0x70b3d51u, p28.value);
    EXPECT_EQ("70:B3:D5:1/28", p28.text());
    Prefix p36 = Prefix::of(mac, 36);
    EXPECT_EQ(0x70b3d5123ULL, p36.value);
    EXPECT_EQ("70:B3:D5:12:3/36", p36.text());
    // A parsed prefix equals the prefix of a MAC inside it.
    auto parsed = parsePrefix("70:B3:D5:12:3/36");
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->value, p36.value);
}

}  // namespace
