// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The OUI registry: IEEE CSV files, catalogue and admin prefixes, longest-prefix lookup.
#include "registry.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::test;

namespace {

const char* const kIeeeDir = "/usr/share/ieee-data";

VendorProfile vendor(const std::string& id, std::vector<std::string> orgs,
                     std::vector<std::string> prefixes = {}) {
    VendorProfile v;
    v.id = id;
    v.name = id;
    v.family = id;
    v.format = "kv";
    v.ouiOrganizations = std::move(orgs);
    for (const auto& p : prefixes) {
        v.ouiPrefixes.push_back(*parsePrefix(p));
    }
    return (v);
}

Mac mac(const std::string& text) {
    auto m = parseMac(text);
    if (!m) {
        throw std::runtime_error("bad MAC in test: " + text);
    }
    return (*m);
}

/// @brief A small IEEE registry: AA:BB:CC belongs to A, AA:BB:CC:1 (28 bits) to B and
/// AA:BB:CC:12:3 (36 bits) to C; 00:11:22 to D (no vendor's); quoted names with commas.
class SmallRegistry : public ::testing::Test {
protected:
    void SetUp() override {
        writeFile(dir_ / "oui.csv",
                  "Registry,Assignment,Organization Name,Organization Address\n"
                  "MA-L,AABBCC,\"Org A, Inc.\",\"1 Road, Town\"\n"
                  "MA-L,001122,Org D,Somewhere\r\n"
                  "this line is damaged\n"
                  "MA-L,XYZXYZ,Org Z,Nowhere\n"
                  "MA-L,334455,\"The \"\"Quoted\"\", Company\",\n"
                  "MA-L,112233,Private,\n");
        writeFile(dir_ / "mam.csv",
                  "Registry,Assignment,Organization Name,Organization Address\n"
                  "MA-M,AABBCC1,Org B Ltd,Street 2\n");
        writeFile(dir_ / "oui36.csv",
                  "Registry,Assignment,Organization Name,Organization Address\n"
                  "MA-S,AABBCC123,\"ORG C, LLC\",\"Street, 3\"\n");
        catalogue_ = Catalogue::fromProfiles({vendor("va", {"^org a"}), vendor("vb", {"^Org B"}),
                                              vendor("vc", {"Org C"}),
                                              vendor("vq", {"Quoted\", Company$"}),
                                              vendor("vd", {}, {"00:11:22"}),
                                              vendor("ve", {})});
    }

    OuiRegistryPtr build(const std::vector<std::pair<Prefix, int>>& admin = {}) {
        return (OuiRegistry::build(dir_.path(), *catalogue_, admin));
    }

    std::string vendorOf(const OuiRegistry::Hit& hit) const {
        return (hit.vendor < 0 ? "-" : catalogue_->vendors()[hit.vendor].id);
    }

    TempDir dir_;
    CataloguePtr catalogue_;
};

TEST_F(SmallRegistry, longestPrefixWins) {
    auto r = build();
    struct Scenario {
        int line_;
        std::string mac;
        std::string vendor;
        uint8_t bits;
        std::string organization;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "aa:bb:cc:00:00:01", "va", 24, "Org A, Inc."},
        {__LINE__, "aa:bb:cc:ff:ff:ff", "va", 24, "Org A, Inc."},
        {__LINE__, "aa:bb:cc:10:00:00", "vb", 28, "Org B Ltd"},
        {__LINE__, "aa:bb:cc:1f:ff:ff", "vb", 28, "Org B Ltd"},
        {__LINE__, "aa:bb:cc:12:30:00", "vc", 36, "ORG C, LLC"},
        {__LINE__, "aa:bb:cc:12:3f:ff", "vc", 36, "ORG C, LLC"},
        {__LINE__, "aa:bb:cc:12:40:00", "vb", 28, "Org B Ltd"},
        {__LINE__, "aa:bb:cc:20:00:00", "va", 24, "Org A, Inc."},
        {__LINE__, "33:44:55:00:00:00", "vq", 24, "The \"Quoted\", Company"},
        // The IEEE knows it, no vendor claims it by name, the catalogue lists it.
        {__LINE__, "00:11:22:33:44:55", "vd", 24, "Org D"},
        {__LINE__, "aa:bb:cd:00:00:00", "-", 0, ""},
        {__LINE__, "02:00:00:00:00:01", "-", 0, ""},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.mac);
        OuiRegistry::Hit hit = r->lookup(mac(s.mac));
        EXPECT_EQ(s.vendor, vendorOf(hit));
        EXPECT_EQ(s.bits, hit.bits);
        if (s.organization.empty()) {
            EXPECT_EQ(nullptr, hit.organization);
        } else {
            ASSERT_NE(nullptr, hit.organization);
            EXPECT_EQ(s.organization, *hit.organization);
        }
    }
}

TEST_F(SmallRegistry, statsCountRowsAndPrefixes) {
    auto r = build();
    const auto& st = r->stats();
    EXPECT_TRUE(st.missingFiles.empty());
    EXPECT_EQ(6u, st.ieeeRows);        // header, damaged and bad-assignment rows skipped
    EXPECT_EQ(6u, st.prefixes);
    EXPECT_EQ(5u, st.vendorPrefixes);  // all but 11:22:33 (00:11:22 is vd's by the catalogue)
}

TEST_F(SmallRegistry, sourcesRankAtEqualLength) {
    int va = catalogue_->find("va");
    int vd = catalogue_->find("vd");
    int ve = catalogue_->find("ve");
    // Without admin prefixes: the catalogue beats the IEEE.
    auto r = build();
    OuiRegistry::Hit hit = r->lookup(mac("00:11:22:00:00:01"));
    EXPECT_EQ(vd, hit.vendor);
    EXPECT_EQ(OuiRegistry::Source::Catalogue, hit.source);
    ASSERT_NE(nullptr, hit.organization);
    EXPECT_EQ("Org D", *hit.organization);  // the IEEE name is kept
    hit = r->lookup(mac("aa:bb:cc:00:00:01"));
    EXPECT_EQ(va, hit.vendor);
    EXPECT_EQ(OuiRegistry::Source::Ieee, hit.source);
    // Admin prefixes beat both.
    r = build({{*parsePrefix("00:11:22"), ve}, {*parsePrefix("aa:bb:cc"), ve}});
    hit = r->lookup(mac("00:11:22:00:00:01"));
    EXPECT_EQ(ve, hit.vendor);
    EXPECT_EQ(OuiRegistry::Source::Admin, hit.source);
    hit = r->lookup(mac("aa:bb:cc:00:00:01"));
    EXPECT_EQ(ve, hit.vendor);
    EXPECT_EQ(OuiRegistry::Source::Admin, hit.source);
    // ...but a longer prefix still wins over a shorter admin prefix.
    hit = r->lookup(mac("aa:bb:cc:12:34:56"));
    EXPECT_EQ(catalogue_->find("vc"), hit.vendor);
    EXPECT_EQ(36, hit.bits);
    // An admin prefix no IEEE file knows.
    r = build({{*parsePrefix("70:B3:D5:1/28"), va}});
    hit = r->lookup(mac("70:b3:d5:1a:bc:de"));
    EXPECT_EQ(va, hit.vendor);
    EXPECT_EQ(28, hit.bits);
    EXPECT_EQ(nullptr, hit.organization);
}

TEST_F(SmallRegistry, catalogueBeatsIeeeVendorAtEqualLength) {
    // vb's catalogue lists AA:BB:CC, which the IEEE gives to va.
    auto c = Catalogue::fromProfiles({vendor("va", {"^Org A"}), vendor("vb", {}, {"AA:BB:CC"})});
    auto r = OuiRegistry::build(dir_.path(), *c);
    OuiRegistry::Hit hit = r->lookup(mac("aa:bb:cc:00:00:01"));
    EXPECT_EQ(1, hit.vendor);
    EXPECT_EQ(OuiRegistry::Source::Catalogue, hit.source);
}

TEST_F(SmallRegistry, missingFilesAreRecorded) {
    std::filesystem::remove(dir_ / "mam.csv");
    std::filesystem::remove(dir_ / "oui36.csv");
    auto r = build();
    const auto& st = r->stats();
    ASSERT_EQ(2u, st.missingFiles.size());
    EXPECT_EQ(dir_ / "mam.csv", st.missingFiles[0]);
    EXPECT_EQ(dir_ / "oui36.csv", st.missingFiles[1]);
    EXPECT_EQ(4u, st.ieeeRows);
    // What is there still works; the 28-bit prefix is gone.
    EXPECT_EQ(24, r->lookup(mac("aa:bb:cc:12:34:56")).bits);
    // A folder with no files at all: every file recorded, catalogue prefixes still work.
    TempDir empty;
    r = OuiRegistry::build(empty.path(), *catalogue_);
    EXPECT_EQ(3u, r->stats().missingFiles.size());
    EXPECT_EQ(0u, r->stats().ieeeRows);
    EXPECT_EQ(catalogue_->find("vd"), r->lookup(mac("00:11:22:00:00:01")).vendor);
    // No folder: nothing is missing.
    r = OuiRegistry::build("", *catalogue_);
    EXPECT_TRUE(r->stats().missingFiles.empty());
    EXPECT_EQ(1u, r->stats().prefixes);
}

TEST_F(SmallRegistry, badOrganisationPatternNamesItsKey) {
    auto c = Catalogue::fromProfiles({vendor("good", {"fine"}), vendor("bad", {"ok", "(unclosed"})});
    try {
        OuiRegistry::build(dir_.path(), *c);
        ADD_FAILURE() << "a bad pattern compiled";
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        EXPECT_EQ(0u, msg.find("bad: 'oui-organizations'[1]: bad pattern: ")) << msg;
    }
}

TEST_F(SmallRegistry, firstVendorInCatalogueOrderClaimsASharedOrganisation) {
    auto c = Catalogue::fromProfiles({vendor("first", {"Org B"}), vendor("second", {"^Org"})});
    auto r = OuiRegistry::build(dir_.path(), *c);
    EXPECT_EQ(0, r->lookup(mac("aa:bb:cc:1a:00:00")).vendor);
    EXPECT_EQ(1, r->lookup(mac("aa:bb:cc:2a:00:00")).vendor);
}

/// @brief The shipped profiles against Debian's ieee-data.
class IeeeRegistry : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        catalogue_ = Catalogue::load(profilesDir());
        if (std::filesystem::exists(std::string(kIeeeDir) + "/oui.csv")) {
            registry_ = OuiRegistry::build(kIeeeDir, *catalogue_);
        }
    }
    static void TearDownTestSuite() {
        registry_.reset();
        catalogue_.reset();
    }
    void SetUp() override {
        if (!registry_) {
            GTEST_SKIP() << kIeeeDir << " is not installed (Debian package ieee-data)";
        }
    }
    static CataloguePtr catalogue_;
    static OuiRegistryPtr registry_;
};

CataloguePtr IeeeRegistry::catalogue_;
OuiRegistryPtr IeeeRegistry::registry_;

TEST_F(IeeeRegistry, loadsEveryFile) {
    const auto& st = registry_->stats();
    EXPECT_TRUE(st.missingFiles.empty());
    EXPECT_GT(st.ieeeRows, 30000u);
    EXPECT_GT(st.vendorPrefixes, 100u);
    EXPECT_LT(st.vendorPrefixes, st.prefixes);
}

TEST_F(IeeeRegistry, ouiCasesTable) {
    const std::string path = sourceDir() + "/tests/data/oui_cases.tsv";
    auto rows = readTsv(path);
    ASSERT_FALSE(rows.empty()) << path;
    const auto& vendors = catalogue_->vendors();
    for (const auto& row : rows) {
        SCOPED_TRACE("oui_cases.tsv:" + std::to_string(row.line_) + ": " + row.fields[0] + " " +
                     row.comment);
        ASSERT_EQ(2u, row.fields.size());
        auto m = parseMac(row.fields[0]);
        ASSERT_TRUE(m.has_value());
        OuiRegistry::Hit hit = registry_->lookup(*m);
        if (row.fields[1] == "-") {
            EXPECT_EQ(-1, hit.vendor) << "claimed by " << vendors[hit.vendor].id
                                      << (hit.organization ? " as " + *hit.organization : "");
            continue;
        }
        ASSERT_GE(catalogue_->find(row.fields[1]), 0) << "unknown vendor in the table";
        ASSERT_GE(hit.vendor, 0) << "no vendor"
                                 << (hit.organization ? " for " + *hit.organization : "");
        EXPECT_EQ(row.fields[1], vendors[hit.vendor].id)
            << (hit.organization ? *hit.organization : "");
    }
}

}  // namespace
