// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Identification verdicts from MAC prefix and option 60, with the shipped profiles.
#include "identify.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::test;

namespace {

const char* const kIeeeDir = "/usr/share/ieee-data";

Mac mac(const std::string& text) {
    auto m = parseMac(text);
    if (!m) {
        throw std::runtime_error("bad MAC in test: " + text);
    }
    return (*m);
}

class Identify : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto catalogue = Catalogue::load(profilesDir());
        bool ieee = std::filesystem::exists(std::string(kIeeeDir) + "/oui.csv");
        auto registry = OuiRegistry::build(ieee ? kIeeeDir : "", *catalogue);
        identifier_ = new Identifier(catalogue, registry);
        haveIeee_ = ieee;
    }
    static void TearDownTestSuite() {
        delete identifier_;
        identifier_ = nullptr;
    }

    static int id(const std::string& vendor) {
        int i = identifier_->catalogue().find(vendor);
        if (i < 0) {
            throw std::runtime_error("no vendor " + vendor);
        }
        return (i);
    }

    static std::string name(int vendor) {
        return (vendor < 0 ? "-" : identifier_->catalogue().vendors()[vendor].id);
    }

    static Identifier* identifier_;
    static bool haveIeee_;
};

Identifier* Identify::identifier_ = nullptr;
bool Identify::haveIeee_ = false;

TEST_F(Identify, verdictRules) {
    if (!haveIeee_) {
        GTEST_SKIP() << kIeeeDir << " is not installed: Cisco and Apple prefixes unknown";
    }
    struct Scenario {
        int line_;
        std::string mac;
        std::string vendorClass;
        bool phone;
        std::string vendor;  ///< "-" for none
        std::string model;
        Confidence confidence;
        std::string prefixVendor;
        std::string classVendor;
    };
    const std::string apple = "60:8b:0e:12:34:56";
    const std::string cisco = "f4:bd:9e:12:34:56";
    const std::string yealink = "00:15:65:aa:bb:cc";
    const std::string polycom = "00:04:f2:84:38:9c";
    const std::string local = "02:00:00:00:00:01";  // no prefix anyone owns
    const std::vector<Scenario> scenarios = {
        // Vendor class and a matching prefix: sure.
        {__LINE__, yealink, "yealink", true, "yealink", "", Confidence::Sure, "yealink", "yealink"},
        {__LINE__, polycom, "Polycom-VVX310", true, "polycom", "VVX310", Confidence::Sure,
         "polycom", "polycom"},
        {__LINE__, cisco, "Cisco Systems, Inc. IP Phone CP-8861", true, "cisco", "CP-8861",
         Confidence::Sure, "cisco", "cisco"},
        {__LINE__, cisco, std::string("Cisco Systems, Inc. IP Phone CP-7961G") + '\0', true,
         "cisco", "CP-7961G", Confidence::Sure, "cisco", "cisco"},
        // Vendor class alone: class.
        {__LINE__, local, "Polycom-VVX310", true, "polycom", "VVX310", Confidence::Class, "-",
         "polycom"},
        {__LINE__, apple, "snomD785", true, "snom", "D785", Confidence::Class, "-", "snom"},
        // Vendor class of one vendor, prefix of another: the class decides.
        {__LINE__, polycom, "yealink", true, "yealink", "", Confidence::Class, "polycom",
         "yealink"},
        // Prefix alone, of a vendor that makes only phones.
        {__LINE__, yealink, "", true, "yealink", "", Confidence::Prefix, "yealink", "-"},
        {__LINE__, polycom, std::string("\0\0", 2), true, "polycom", "", Confidence::Prefix,
         "polycom", "-"},
        // Prefix alone, of a vendor that also makes switches and access points.
        {__LINE__, cisco, "", false, "-", "", Confidence::None, "cisco", "-"},
        {__LINE__, "00:80:f0:c8:c3:81", "", false, "-", "", Confidence::None, "panasonic", "-"},
        // Vendor classes of devices that are not phones.
        {__LINE__, apple, "MSFT 5.0", false, "-", "", Confidence::None, "-", "-"},
        {__LINE__, apple, "android-dhcp-13", false, "-", "", Confidence::None, "-", "-"},
        {__LINE__, cisco, "Cisco AP c2700", false, "-", "", Confidence::None, "cisco", "-"},
        {__LINE__, cisco, "ciscopnp", false, "-", "", Confidence::None, "cisco", "-"},
        {__LINE__, local, "dslforum.org", false, "-", "", Confidence::None, "-", "-"},
        {__LINE__, local, "", false, "-", "", Confidence::None, "-", "-"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.mac + " '" + s.vendorClass + "'");
        Mac m = mac(s.mac);
        // The packet form and the MAC form agree.
        for (const Verdict& v : {identifier_->identify(1, m.bytes.data(), 6, s.vendorClass),
                                 identifier_->identify(m, s.vendorClass)}) {
            EXPECT_EQ(s.phone, v.phone);
            EXPECT_EQ(s.vendor, name(v.vendor));
            EXPECT_EQ(s.model, v.model);
            EXPECT_EQ(confidenceText(s.confidence), std::string(confidenceText(v.confidence)));
            EXPECT_EQ(s.prefixVendor, name(v.prefixVendor));
            EXPECT_EQ(s.classVendor, name(v.classVendor));
            EXPECT_EQ(MacProblem::None, v.macProblem);
            EXPECT_EQ(m, v.mac);
            EXPECT_STRNE("", v.reason);
        }
    }
}

TEST_F(Identify, prefixOfPhonesOnlyVendorWithoutIeee) {
    // The catalogue's own prefixes suffice for a phones-only vendor.
    auto catalogue = identifier_->cataloguePtr();
    Identifier local(catalogue, OuiRegistry::build("", *catalogue));
    Verdict v = local.identify(mac("00:15:65:01:02:03"), "");
    EXPECT_TRUE(v.phone);
    EXPECT_EQ(id("yealink"), v.vendor);
    EXPECT_EQ(Confidence::Prefix, v.confidence);
}

TEST_F(Identify, ciscoFamilySharesPrefixes) {
    if (!haveIeee_) {
        GTEST_SKIP() << kIeeeDir << " is not installed";
    }
    const auto& vendors = identifier_->catalogue().vendors();
    if (vendors[id("cisco")].family != vendors[id("cisco-mpp")].family) {
        GTEST_SKIP() << "BUG (profiles): cisco and cisco-mpp have different families ('"
                     << vendors[id("cisco")].family << "', '" << vendors[id("cisco-mpp")].family
                     << "'; catalogue.h says they share IEEE prefixes): an MPP phone on a Cisco "
                        "enterprise prefix is only 'vendor-class', never 'sure'";
    }
    // An MPP phone on a prefix the IEEE gives to Cisco, and an enterprise phone on a prefix
    // cisco-mpp lists itself: the families agree, so both are sure.
    Verdict mpp = identifier_->identify(mac("f4:bd:9e:12:34:56"),
                                        "Cisco Systems, Inc. IP Phone CP-8851-3PCC");
    EXPECT_EQ(id("cisco-mpp"), mpp.vendor);
    EXPECT_EQ(Confidence::Sure, mpp.confidence);
    Verdict ent = identifier_->identify(mac("00:26:99:12:34:56"),
                                        "Cisco Systems, Inc. IP Phone CP-8861");
    EXPECT_EQ(id("cisco"), ent.vendor);
    EXPECT_EQ(Confidence::Sure, ent.confidence);
}

TEST_F(Identify, badMacsAreNeverPhones) {
    struct Scenario {
        int line_;
        uint8_t htype;
        std::vector<uint8_t> hw;
        MacProblem problem;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, 6, {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, MacProblem::NotEthernet},
        {__LINE__, 1, {}, MacProblem::BadLength},
        {__LINE__, 1, {0x00, 0x15, 0x65, 0xaa, 0xbb}, MacProblem::BadLength},
        {__LINE__, 1, {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc, 0x00}, MacProblem::BadLength},
        {__LINE__, 1, std::vector<uint8_t>(16, 0), MacProblem::BadLength},
        {__LINE__, 1, {0, 0, 0, 0, 0, 0}, MacProblem::AllZero},
        {__LINE__, 1, {0x01, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, MacProblem::Multicast},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        // Even with a vendor class that names a phone.
        Verdict v = identifier_->identify(s.htype, s.hw.data(), s.hw.size(), "yealink");
        EXPECT_FALSE(v.phone);
        EXPECT_EQ(-1, v.vendor);
        EXPECT_EQ(Confidence::None, v.confidence);
        EXPECT_EQ(s.problem, v.macProblem);
        EXPECT_STREQ(macProblemText(s.problem), v.reason);
    }
    // The MAC form checks too.
    Verdict v = identifier_->identify(mac("01:00:5e:00:00:01"), "Polycom-VVX310");
    EXPECT_FALSE(v.phone);
    EXPECT_EQ(MacProblem::Multicast, v.macProblem);
    v = identifier_->identify(Mac{}, "Polycom-VVX310");
    EXPECT_FALSE(v.phone);
    EXPECT_EQ(MacProblem::AllZero, v.macProblem);
}

TEST_F(Identify, pin) {
    Verdict v = identifier_->identify(mac("02:00:00:00:00:02"), "MSFT 5.0");
    ASSERT_FALSE(v.phone);
    EXPECT_TRUE(identifier_->pin(v, "snom", "d785"));
    EXPECT_TRUE(v.phone);
    EXPECT_EQ(id("snom"), v.vendor);
    EXPECT_EQ("D785", v.model);
    EXPECT_EQ(Confidence::Pinned, v.confidence);
    EXPECT_STREQ("pinned", confidenceText(v.confidence));
    // An empty model keeps the one identified.
    Verdict w = identifier_->identify(mac("00:04:f2:84:38:9c"), "Polycom-VVX310");
    ASSERT_EQ("VVX310", w.model);
    EXPECT_TRUE(identifier_->pin(w, "polycom", ""));
    EXPECT_EQ("VVX310", w.model);
    EXPECT_EQ(Confidence::Pinned, w.confidence);
    // Pinning overrides the vendor class.
    EXPECT_TRUE(identifier_->pin(w, "yealink", "T46S"));
    EXPECT_EQ(id("yealink"), w.vendor);
    EXPECT_EQ("T46S", w.model);
    // An unknown vendor changes nothing.
    Verdict before = identifier_->identify(mac("02:00:00:00:00:03"), "");
    Verdict u = before;
    EXPECT_FALSE(identifier_->pin(u, "nosuchvendor", "X1"));
    EXPECT_FALSE(identifier_->pin(u, "", ""));
    EXPECT_FALSE(identifier_->pin(u, "YEALINK", ""));
    EXPECT_EQ(before.phone, u.phone);
    EXPECT_EQ(before.vendor, u.vendor);
    EXPECT_EQ(before.model, u.model);
    EXPECT_EQ(before.confidence, u.confidence);
    // A bad MAC cannot be pinned.
    uint8_t zero[6] = {0, 0, 0, 0, 0, 0};
    Verdict bad = identifier_->identify(1, zero, 6, "");
    EXPECT_FALSE(identifier_->pin(bad, "yealink", ""));
    EXPECT_FALSE(bad.phone);
}

TEST(ConfidenceText, namesEveryLevel) {
    EXPECT_STREQ("none", confidenceText(Confidence::None));
    EXPECT_STREQ("prefix", confidenceText(Confidence::Prefix));
    EXPECT_STREQ("vendor-class", confidenceText(Confidence::Class));
    EXPECT_STREQ("sure", confidenceText(Confidence::Sure));
    EXPECT_STREQ("pinned", confidenceText(Confidence::Pinned));
}

bool validModel(const std::string& m) {
    if (m.size() > 32) {
        return (false);
    }
    for (char c : m) {
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) {
            return (false);
        }
    }
    return (true);
}

TEST_F(Identify, randomOption60NeverCrashes) {
    std::mt19937 rng(20260101);
    std::uniform_int_distribution<int> len(1, 255);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> pick(0, 9);
    const std::vector<std::string> stems = {"Cisco Systems, Inc. IP Phone ", "yealink",
                                            "Polycom-", "snom", "AastraIPPhone", "Grandstream ",
                                            "AUDC-IPPhone-", "Gigaset_"};
    const std::vector<Mac> macs = {mac("00:15:65:aa:bb:cc"), mac("f4:bd:9e:12:34:56"),
                                   mac("02:00:00:00:00:01"), mac("00:04:f2:84:38:9c")};
    size_t phones = 0;
    for (int i = 0; i < 10000; ++i) {
        std::string vc;
        int kind = pick(rng);
        if (kind < 3) {
            vc = stems[static_cast<size_t>(byte(rng)) % stems.size()];
        }
        size_t n = static_cast<size_t>(len(rng));
        while (vc.size() < n) {
            int b = byte(rng);
            switch (kind) {
            case 3:
                b = (b % 4 == 0) ? 0 : b;  // many NULs
                break;
            case 4:
                b %= 0x20;  // control characters
                break;
            case 5:
                b |= 0x80;  // invalid UTF-8
                break;
            default:
                break;
            }
            vc.push_back(static_cast<char>(b));
        }
        vc.resize(n);
        const Mac& m = macs[static_cast<size_t>(i) % macs.size()];
        Verdict v = identifier_->identify(1, m.bytes.data(), 6, vc);
        ASSERT_EQ(MacProblem::None, v.macProblem);
        ASSERT_STRNE("", v.reason);
        ASSERT_TRUE(validModel(v.model)) << v.model;
        if (v.phone) {
            ++phones;
            ASSERT_GE(v.vendor, 0);
            ASSERT_LT(v.vendor, static_cast<int>(identifier_->catalogue().vendors().size()));
            ASSERT_NE(Confidence::None, v.confidence);
        } else {
            ASSERT_EQ(-1, v.vendor);
            ASSERT_EQ(Confidence::None, v.confidence);
            ASSERT_EQ("", v.model);
        }
    }
    // Half of the MACs are phones-only vendors' prefixes: some verdicts are phones.
    EXPECT_GT(phones, 1000u);
}

}  // namespace
