// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The vendor catalogue: profile parsing, loading the shipped profiles, option 60 matching.
#include "catalogue.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <string>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::test;
using nlohmann::json;

namespace {

/// @brief The smallest valid profile.
json minimalProfile() {
    return (json{{"id", "acme"},
                 {"name", "Acme"},
                 {"phones-only", true},
                 {"dir", "acme"},
                 {"format", "kv"}});
}

/// @brief The message of the ConfigError that parseProfile throws, or "" when none.
std::string parseError(const json& j, const std::string& folder = "") {
    try {
        Catalogue::parseProfile(j, "acme.json", folder);
    } catch (const ConfigError& e) {
        return (e.what());
    }
    return ("");
}

VendorProfile profile(const std::string& id, std::vector<std::string> classes) {
    VendorProfile v;
    v.id = id;
    v.name = id;
    v.family = id;
    v.format = "kv";
    v.vendorClass = std::move(classes);
    return (v);
}

class ShippedCatalogue : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalogue_ = Catalogue::load(profilesDir()); }
    static void TearDownTestSuite() { catalogue_.reset(); }
    static CataloguePtr catalogue_;
};

CataloguePtr ShippedCatalogue::catalogue_;

TEST_F(ShippedCatalogue, loadsEveryVendorFolder) {
    ASSERT_TRUE(catalogue_);
    std::set<std::string> folders;
    for (const std::string& n : listDir(profilesDir())) {
        if (std::filesystem::exists(profilesDir() + "/" + n + "/profile.json")) {
            folders.insert(n);
        }
    }
    std::set<std::string> loaded;
    for (const auto& v : catalogue_->vendors()) {
        loaded.insert(v.id);
        EXPECT_EQ(static_cast<int>(loaded.size()) - 1, catalogue_->find(v.id)) << v.id;
        EXPECT_FALSE(v.name.empty()) << v.id;
        EXPECT_EQ(profilesDir() + "/" + v.id, v.folder);
        EXPECT_FALSE(v.vendorClass.empty() && v.ouiPrefixes.empty() && v.ouiOrganizations.empty())
            << v.id << " can never be identified";
        // Every template was read.
        for (const auto& f : v.files) {
            EXPECT_FALSE(f.text.empty()) << v.id << ": " << f.tmpl;
        }
    }
    EXPECT_EQ(folders, loaded);
    EXPECT_GE(loaded.size(), 13u);
    for (const char* id : {"yealink", "grandstream", "polycom", "cisco", "cisco-mpp", "snom",
                           "mitel"}) {
        EXPECT_GE(catalogue_->find(id), 0) << id;
    }
    EXPECT_EQ(-1, catalogue_->find("nosuchvendor"));
    EXPECT_EQ(-1, catalogue_->find(""));
}

TEST_F(ShippedCatalogue, classNames) {
    const auto& v = catalogue_->vendors();
    EXPECT_EQ("PHONEPROV_YEALINK", v[catalogue_->find("yealink")].className);
    EXPECT_EQ("PHONEPROV_CISCO_MPP", v[catalogue_->find("cisco-mpp")].className);
}

TEST_F(ShippedCatalogue, vendorClassTable) {
    const std::string path = sourceDir() + "/tests/data/vendor_classes.tsv";
    auto rows = readTsv(path);
    ASSERT_FALSE(rows.empty()) << path;
    const auto& vendors = catalogue_->vendors();
    for (const auto& row : rows) {
        SCOPED_TRACE("vendor_classes.tsv:" + std::to_string(row.line_) + ": " + row.fields[0]);
        ASSERT_EQ(3u, row.fields.size());
        std::string vc = cUnescape(row.fields[0]);
        const std::string& vendor = row.fields[1];
        const std::string& model = row.fields[2];
        VendorClassMatch m = catalogue_->matchVendorClass(vc);
        if (vendor == "-") {
            EXPECT_EQ(-1, m.vendor) << "matched " << vendors[m.vendor].id;
            EXPECT_EQ("", m.model);
            continue;
        }
        ASSERT_GE(catalogue_->find(vendor), 0) << "unknown vendor in the table: " << vendor;
        ASSERT_GE(m.vendor, 0) << "no match, expected " << vendor;
        EXPECT_EQ(vendor, vendors[m.vendor].id);
        EXPECT_EQ(model == "-" ? "" : model, m.model);
    }
}

TEST_F(ShippedCatalogue, trailingNulsAndSpacesAreIgnored) {
    const std::string base = "Polycom-VVX310";
    VendorClassMatch plain = catalogue_->matchVendorClass(base);
    ASSERT_GE(plain.vendor, 0);
    ASSERT_EQ("VVX310", plain.model);
    for (const std::string& tail :
         {std::string(1, '\0'), std::string("   "), std::string("\0 \0\0  ", 6)}) {
        VendorClassMatch m = catalogue_->matchVendorClass(base + tail);
        EXPECT_EQ(plain.vendor, m.vendor);
        EXPECT_EQ(plain.model, m.model);
    }
    // Only trailing: leading spaces, or anything else after, are not ignored.
    EXPECT_EQ(-1, catalogue_->matchVendorClass(" " + base + " x").vendor);
    EXPECT_EQ(-1, catalogue_->matchVendorClass(std::string("\0\0 ", 3)).vendor);
    EXPECT_EQ(-1, catalogue_->matchVendorClass("").vendor);
}

TEST(TrimVendorClass, stripsOnlyTrailingNulsAndSpaces) {
    EXPECT_EQ("abc", trimVendorClass(std::string("abc\0 \0", 6)));
    EXPECT_EQ(" a b", trimVendorClass(" a b  "));
    EXPECT_EQ("a\tb\t", trimVendorClass("a\tb\t"));
    EXPECT_EQ("", trimVendorClass(std::string("\0\0", 2)));
}

TEST(NormaliseModel, upperCasesAndRefusesOddCharacters) {
    struct Scenario {
        int line_;
        std::string raw;
        std::string expected;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "t46s", "T46S"},
        {__LINE__, "CP-8851-3PCC", "CP-8851-3PCC"},
        {__LINE__, "SPIP_550", "SPIP_550"},
        {__LINE__, "v1.2", "V1.2"},
        {__LINE__, std::string(32, 'a'), std::string(32, 'A')},
        {__LINE__, std::string(33, 'a'), ""},
        {__LINE__, "T46S ", ""},
        {__LINE__, "T46/S", ""},
        {__LINE__, "../x", ""},
        {__LINE__, "T46S\n", ""},
        {__LINE__, "\xc3\xa9", ""},
        {__LINE__, "", ""},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        EXPECT_EQ(s.expected, normaliseModel(s.raw));
    }
}

TEST(ParseProfile, minimalProfileAndDefaults) {
    VendorProfile v = Catalogue::parseProfile(minimalProfile(), "acme.json", "");
    EXPECT_EQ("acme", v.id);
    EXPECT_EQ("Acme", v.name);
    EXPECT_EQ("acme", v.family);
    EXPECT_EQ("PHONEPROV_ACME", v.className);
    EXPECT_TRUE(v.phonesOnly);
    EXPECT_TRUE(v.overrideSubnetOptions);
    EXPECT_FALSE(v.sipPnp);
    EXPECT_TRUE(v.options.empty());
    EXPECT_TRUE(v.files.empty());
}

TEST(ParseProfile, fullProfile) {
    json j = minimalProfile();
    j["family"] = "acme-family";
    j["oui-prefixes"] = {"00:11:22", "70:B3:D5:1/28"};
    j["oui-organizations"] = {"^Acme"};
    j["vendor-class"] = {"acme-(?P<model>.*)"};
    j["options"] = json::parse(R"([
        {"code": 66, "type": "string", "value": "{{vendor-url}}"},
        {"code": 43, "type": "sub-options", "sub-options": [{"code": 2, "type": "string", "value": "x"}]},
        {"code": 125, "type": "vivso", "enterprise": 1234, "sub-options": [{"code": 1, "type": "uint8", "value": "1"}]}
    ])");
    j["files"] = json::parse(R"([{"name": "{{mac}}.cfg", "template": "t/mac", "per-device": true},
                                 {"name": "c.cfg", "template": "t/c", "requires": "model-file"}])");
    j["models"] = json::parse(R"({"t46s": {"variables": {"model-file": "y.cfg"},
                                           "options": [{"code": 66, "type": "string", "value": "m"}]}})");
    j["value-maps"] = json::parse(R"({"code": {"from": "sip-transport", "map": {"udp": "0"}, "default": "9"}})");
    j["override-subnet-options"] = false;
    j["sip-pnp"] = true;
    j["resync-event"] = "check-sync";
    VendorProfile v = Catalogue::parseProfile(j, "acme.json", "");
    EXPECT_EQ("acme-family", v.family);
    ASSERT_EQ(2u, v.ouiPrefixes.size());
    EXPECT_EQ(28, v.ouiPrefixes[1].bits);
    ASSERT_EQ(3u, v.options.size());
    EXPECT_EQ(43, v.options[1].code);
    ASSERT_EQ(1u, v.options[1].sub.size());
    EXPECT_EQ(1234u, v.options[2].enterprise);
    ASSERT_EQ(2u, v.files.size());
    EXPECT_TRUE(v.files[0].perDevice);
    EXPECT_FALSE(v.files[1].perDevice);
    EXPECT_EQ("model-file", v.files[1].requiresVar);
    ASSERT_EQ(1u, v.models.count("T46S"));  // keyed upper case
    EXPECT_TRUE(v.models["T46S"].hasOptions);
    EXPECT_FALSE(v.models["T46S"].hasFiles);
    EXPECT_EQ("y.cfg", v.models["T46S"].variables["model-file"]);
    EXPECT_EQ("9", v.valueMaps["code"].fallback);
    EXPECT_FALSE(v.overrideSubnetOptions);
    EXPECT_TRUE(v.sipPnp);
    EXPECT_EQ("check-sync", v.resyncEvent);
}

TEST(ParseProfile, errorsNameTheKey) {
    struct Scenario {
        int line_;
        const char* key;  ///< top-level key to set (or "-" to erase "erase")
        json value;
        std::string expected;
        const char* erase = nullptr;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "colour", "red", "acme.json: unknown parameter 'colour'"},
        {__LINE__, "phones-only", "yes", "acme.json: 'phones-only' must be a boolean"},
        {__LINE__, "name", 3, "acme.json: 'name' must be a string"},
        {__LINE__, "options", json::object(), "acme.json: 'options' must be a list"},
        {__LINE__, "variables", json::array(), "acme.json: 'variables' must be a map"},
        {__LINE__, "id", "Acme", "acme.json: 'id' 'Acme' must be 1-32 of [a-z0-9-]"},
        {__LINE__, "id", "ac me", "acme.json: 'id' 'ac me' must be 1-32 of [a-z0-9-]"},
        {__LINE__, "id", "", "acme.json: 'id' '' must be 1-32 of [a-z0-9-]"},
        {__LINE__, "id", std::string(33, 'a'),
         "acme.json: 'id' '" + std::string(33, 'a') + "' must be 1-32 of [a-z0-9-]"},
        {__LINE__, "dir", "../etc", "acme.json: 'dir' '../etc' must be a plain folder name"},
        {__LINE__, "dir", "..", "acme.json: 'dir' '..' must be a plain folder name"},
        {__LINE__, "dir", "a/b", "acme.json: 'dir' 'a/b' must be a plain folder name"},
        {__LINE__, "dir", "/srv", "acme.json: 'dir' '/srv' must be a plain folder name"},
        {__LINE__, "dir", ".hidden", "acme.json: 'dir' '.hidden' must be a plain folder name"},
        {__LINE__, "format", "json", "acme.json: 'format' 'json' must be kv, xml or text"},
        {__LINE__, "oui-prefixes", json::array({"00:11"}),
         "acme.json: 'oui-prefixes' has a bad prefix '00:11'"},
        {__LINE__, "vendor-class", json::array({"ok", 7}),
         "acme.json: 'vendor-class'[1] must be a string"},
        {__LINE__, "options", json::parse(R"([{"code": 66, "type": "blob", "value": "x"}])"),
         "acme.json.options[0]: 'type' 'blob' is not one of string, ipv4-list, hex, uint8, "
         "uint16, uint32, sub-options, vivso"},
        {__LINE__, "options", json::parse(R"([{"code": 0, "type": "string", "value": "x"}])"),
         "acme.json.options[0]: 'code' is 0, must be between 1 and 254"},
        {__LINE__, "options", json::parse(R"([{"code": 66, "type": "string", "value": "x"},
                                              {"code": 255, "type": "string", "value": "x"}])"),
         "acme.json.options[1]: 'code' is 255, must be between 1 and 254"},
        {__LINE__, "options", json::parse(R"([{"code": 66, "type": "string"}])"),
         "acme.json.options[0]: missing parameter 'value'"},
        {__LINE__, "options", json::parse(R"([{"code": 66, "type": "string", "value": "x", "x": 1}])"),
         "acme.json.options[0]: unknown parameter 'x'"},
        {__LINE__, "options", json::parse(R"([{"code": "66", "type": "string", "value": "x"}])"),
         "acme.json.options[0]: 'code' must be an integer"},
        {__LINE__, "options", json::parse(R"([{"code": 43, "type": "sub-options"}])"),
         "acme.json.options[0]: missing parameter 'sub-options'"},
        {__LINE__, "options",
         json::parse(R"([{"code": 125, "type": "vivso", "sub-options": []}])"),
         "acme.json.options[0]: missing parameter 'enterprise'"},
        {__LINE__, "options",
         json::parse(R"([{"code": 43, "type": "sub-options", "sub-options":
                          [{"code": 1, "type": "vivso", "enterprise": 1, "sub-options": []}]}])"),
         "acme.json.options[0].sub-options[0]: 'type' vivso cannot be a sub-option"},
        {__LINE__, "options",
         json::parse(R"([{"code": 43, "type": "sub-options", "sub-options":
                          [{"code": 256, "type": "string", "value": "x"}]}])"),
         "acme.json.options[0].sub-options[0]: 'code' is 256, must be between 1 and 254"},
        {__LINE__, "files", json::parse(R"([{"name": "a", "template": "../../etc/passwd"}])"),
         "acme.json.files[0]: 'template' must be a path inside the profile folder"},
        {__LINE__, "files", json::parse(R"([{"name": "a", "template": "/etc/passwd"}])"),
         "acme.json.files[0]: 'template' must be a path inside the profile folder"},
        {__LINE__, "files", json::parse(R"([{"name": "a", "template": "t/../../x"}])"),
         "acme.json.files[0]: 'template' must be a path inside the profile folder"},
        {__LINE__, "files", json::parse(R"([{"name": "a", "template": ""}])"),
         "acme.json.files[0]: 'template' must be a path inside the profile folder"},
        {__LINE__, "files", json::parse(R"([{"name": "a"}])"),
         "acme.json.files[0]: missing parameter 'template'"},
        {__LINE__, "files", json::parse(R"([{"name": "a", "template": "t", "per-device": 1}])"),
         "acme.json.files[0]: 'per-device' must be a boolean"},
        {__LINE__, "models", json::parse(R"({"T4 6": {}})"),
         "acme.json.models.T4 6: model name must be 1-32 of [A-Za-z0-9._-]"},
        {__LINE__, "models", json::parse(R"({"T46": {"files": [{"name": "a", "template": "/x"}]}})"),
         "acme.json.models.T46.files[0]: 'template' must be a path inside the profile folder"},
        {__LINE__, "models", json::parse(R"({"T46": {"colour": 1}})"),
         "acme.json.models.T46: unknown parameter 'colour'"},
        {__LINE__, "value-maps", json::parse(R"({"code": {"from": "x", "map": {"a": 1}}})"),
         "acme.json.value-maps.code: 'map' values must be strings"},
        {__LINE__, "value-maps", json::parse(R"({"code": {"map": {}}})"),
         "acme.json.value-maps.code: missing parameter 'from'"},
        {__LINE__, "-", nullptr, "acme.json: missing parameter 'format'", "format"},
        {__LINE__, "-", nullptr, "acme.json: missing parameter 'id'", "id"},
        {__LINE__, "-", nullptr, "acme.json: missing parameter 'phones-only'", "phones-only"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        json j = minimalProfile();
        if (s.erase) {
            j.erase(s.erase);
        } else {
            j[s.key] = s.value;
        }
        EXPECT_EQ(s.expected, parseError(j));
    }
    EXPECT_EQ("acme.json: must be a map", parseError(json::array()));
}

TEST(ParseProfile, dirTheWriterWouldRefuseIsRefused) {
    for (const char* dir : {"-x", "_x"}) {
        json j = minimalProfile();
        j["dir"] = dir;
        EXPECT_EQ(std::string("acme.json: 'dir' '") + dir + "' must be a plain folder name",
                  parseError(j));
    }
}

TEST(ParseProfile, readsTemplatesFromTheFolder) {
    TempDir dir;
    writeFile(dir / "templates/mac.cfg.mustache", "user = {{user}}\n");
    json j = minimalProfile();
    j["files"] = json::parse(R"([{"name": "{{mac}}.cfg", "template": "templates/mac.cfg.mustache"}])");
    VendorProfile v = Catalogue::parseProfile(j, "acme.json", dir.path());
    ASSERT_EQ(1u, v.files.size());
    EXPECT_EQ("user = {{user}}\n", v.files[0].text);
    EXPECT_EQ(dir.path(), v.folder);
    // A missing template is an error naming the file spec.
    j["files"][0]["template"] = "templates/missing.mustache";
    std::string err = parseError(j, dir.path());
    EXPECT_EQ(0u, err.find("acme.json.files[0].template: cannot read '")) << err;
    EXPECT_NE(std::string::npos, err.find("templates/missing.mustache")) << err;
}

TEST(CatalogueLoad, folderErrors) {
    TempDir dir;
    try {
        Catalogue::load(dir.path());
        ADD_FAILURE() << "an empty folder loaded";
    } catch (const ConfigError& e) {
        EXPECT_EQ("profiles-dir: no vendor profile in '" + dir.path() + "'", std::string(e.what()));
    }
    try {
        Catalogue::load(dir / "absent");
        ADD_FAILURE() << "a missing folder loaded";
    } catch (const ConfigError& e) {
        EXPECT_EQ("profiles-dir: cannot open '" + dir.path() + "/absent'", std::string(e.what()));
    }
    // The id must be the folder's name.
    writeFile(dir / "other/profile.json", minimalProfile().dump());
    try {
        Catalogue::load(dir.path());
        ADD_FAILURE() << "a misnamed profile loaded";
    } catch (const ConfigError& e) {
        EXPECT_EQ(dir.path() + "/other/profile.json: 'id' 'acme' differs from its folder name 'other'",
                  std::string(e.what()));
    }
    std::filesystem::remove_all(dir / "other");
    writeFile(dir / "acme/profile.json", "{ not json");
    try {
        Catalogue::load(dir.path());
        ADD_FAILURE() << "bad JSON loaded";
    } catch (const ConfigError& e) {
        // Line and column of the error, what the parser expected; never the text.
        EXPECT_EQ(dir.path() + "/acme/profile.json:1:4: not valid JSON: invalid literal, "
                               "expected string literal",
                  std::string(e.what()));
    }
    writeFile(dir / "acme/profile.json", minimalProfile().dump());
    auto c = Catalogue::load(dir.path());
    ASSERT_EQ(1u, c->vendors().size());
    EXPECT_EQ("acme", c->vendors()[0].id);
}

TEST(CatalogueFromProfiles, duplicateIdsAreRejected) {
    std::vector<VendorProfile> list = {profile("a", {}), profile("b", {}), profile("a", {})};
    try {
        Catalogue::fromProfiles(list);
        ADD_FAILURE() << "duplicate ids accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ("vendor 'a' is defined twice", std::string(e.what()));
    }
}

TEST(CatalogueFromProfiles, badPatternNamesItsKey) {
    std::vector<VendorProfile> list = {profile("a", {"ok"}), profile("b", {"fine", "broken(", "x"})};
    try {
        Catalogue::fromProfiles(list);
        ADD_FAILURE() << "a bad pattern compiled";
    } catch (const ConfigError& e) {
        std::string msg = e.what();
        EXPECT_EQ(0u, msg.find("b: 'vendor-class'[1]: bad pattern: ")) << msg;
    }
    // RE2 refuses back-references: no catastrophic backtracking on attacker bytes.
    list = {profile("c", {"(a)\\1"})};
    EXPECT_THROW(Catalogue::fromProfiles(list), ConfigError);
}

TEST(CatalogueMatch, firstVendorInOrderWinsAndModelIsExtracted) {
    std::vector<VendorProfile> list = {
        profile("one", {"Phone (?P<model>[A-Za-z0-9]+)"}),
        profile("two", {"Phone.*", "Other (?P<model>.+)"}),
    };
    auto c = Catalogue::fromProfiles(list);
    VendorClassMatch m = c->matchVendorClass("Phone t46s");
    EXPECT_EQ(0, m.vendor);
    EXPECT_EQ("T46S", m.model);
    // Patterns match the whole text.
    m = c->matchVendorClass("A Phone t46s");
    EXPECT_EQ(-1, m.vendor);
    m = c->matchVendorClass("Phone t4 6s");
    EXPECT_EQ(1, m.vendor);
    EXPECT_EQ("", m.model);
    // A model that does not normalise is dropped, the vendor kept.
    m = c->matchVendorClass("Other bad/model");
    EXPECT_EQ(1, m.vendor);
    EXPECT_EQ("", m.model);
    m = c->matchVendorClass("Other " + std::string(40, 'x'));
    EXPECT_EQ(1, m.vendor);
    EXPECT_EQ("", m.model);
    // A catalogue without patterns matches nothing.
    auto empty = Catalogue::fromProfiles({profile("z", {})});
    EXPECT_EQ(-1, empty->matchVendorClass("Phone x").vendor);
}

TEST(CatalogueMatch, attackerBytesAreSafe) {
    auto c = Catalogue::fromProfiles({profile("a", {"(?:a|aa)+b", "x(?P<model>.*)y"})});
    // Exponential for a backtracking engine; linear for RE2.
    std::string evil(200, 'a');
    EXPECT_EQ(-1, c->matchVendorClass(evil).vendor);
    EXPECT_EQ(0, c->matchVendorClass(evil + "b").vendor);
    // Embedded NULs and non-ASCII bytes do not leak into the model.
    VendorClassMatch m = c->matchVendorClass(std::string("x\0\xc3\xa9y", 5));
    EXPECT_EQ(0, m.vendor);
    EXPECT_EQ("", m.model);
    // Invalid UTF-8 does not crash and never yields a model.
    m = c->matchVendorClass(std::string("x\xff\xfey", 4));
    EXPECT_EQ("", m.model);
}

TEST(CatalogueMatch, repeatedQueriesGiveTheSameVerdict) {
    // Verdicts may be cached per thread: a second pass in another order, and many
    // strings sharing few cache slots, must give the first pass's verdicts.
    auto c = Catalogue::fromProfiles({profile("one", {"one-(?P<model>[a-z0-9]+)"}),
                                      profile("two", {"two-(?P<model>[a-z0-9]+)", "two"})});
    std::vector<std::string> inputs;
    for (int i = 0; i < 2000; ++i) {
        inputs.push_back((i % 3 == 0 ? "one-m" : i % 3 == 1 ? "two-m" : "other-") + std::to_string(i));
    }
    inputs.push_back("two");
    inputs.push_back("two-" + std::string(80, 'x'));  // longer than any cache key
    std::vector<VendorClassMatch> first;
    for (const auto& in : inputs) {
        first.push_back(c->matchVendorClass(in));
    }
    for (size_t k = inputs.size(); k-- > 0;) {
        SCOPED_TRACE(inputs[k]);
        VendorClassMatch again = c->matchVendorClass(inputs[k]);
        EXPECT_EQ(first[k].vendor, again.vendor);
        EXPECT_EQ(first[k].model, again.model);
        int expected = inputs[k].rfind("one-", 0) == 0 ? 0 : inputs[k].rfind("two", 0) == 0 ? 1 : -1;
        EXPECT_EQ(expected, again.vendor);
    }
    EXPECT_EQ("M3", c->matchVendorClass("one-m3").model);
}

TEST(CatalogueMatch, aNewCatalogueNeverSeesTheOldVerdicts) {
    // A reconfigure replaces the catalogue, often at the same address.
    for (int round = 0; round < 50; ++round) {
        SCOPED_TRACE(round);
        bool even = round % 2 == 0;
        auto c = Catalogue::fromProfiles(
            {profile("a", {even ? "phone-(?P<model>x1)" : "nomatch"}), profile("b", {"phone-.*"})});
        VendorClassMatch m = c->matchVendorClass("phone-x1");
        EXPECT_EQ(even ? 0 : 1, m.vendor);
        EXPECT_EQ(even ? "X1" : "", m.model);
    }
}

TEST(CatalogueMatch, threadsAgree) {
    auto c = Catalogue::fromProfiles({profile("one", {"one-(?P<model>[a-z0-9]+)"}),
                                      profile("two", {"two-(?P<model>[a-z0-9]+)"})});
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 3000; ++i) {
                int n = (i * 7 + t) % 500;
                std::string in = (n % 2 ? "one-" : "two-") + std::to_string(n);
                VendorClassMatch m = c->matchVendorClass(in);
                if (m.vendor != (n % 2 ? 0 : 1) || m.model != std::to_string(n)) {
                    ++wrong;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(0, wrong.load());
}

// The hook loads with a broken vendor left out (Kea 2.2 exits when a hook fails to
// load at a config-reload); without the list, any broken profile fails the load.
TEST(CatalogueLoad, brokenProfileLeftOutOnlyWhenAsked) {
    TempDir dir;
    std::filesystem::copy(profilesDir() + "/snom", dir / "snom", std::filesystem::copy_options::recursive);
    std::filesystem::copy(profilesDir() + "/yealink", dir / "yealink", std::filesystem::copy_options::recursive);
    std::filesystem::remove(dir / "yealink/templates/mac.cfg.mustache");
    EXPECT_THROW(Catalogue::load(dir.path()), ConfigError);
    std::vector<Catalogue::Broken> broken;
    CataloguePtr c = Catalogue::load(dir.path(), &broken);
    ASSERT_EQ(1u, c->vendors().size());
    EXPECT_EQ("snom", c->vendors()[0].id);
    ASSERT_EQ(1u, broken.size());
    EXPECT_EQ("yealink", broken[0].id);
    EXPECT_NE(std::string::npos, broken[0].error.find("yealink/profile.json")) << broken[0].error;
    // Nothing usable at all is still an error.
    std::ofstream(dir / "snom/profile.json") << "{";
    broken.clear();
    EXPECT_THROW(Catalogue::load(dir.path(), &broken), ConfigError);
}

}  // namespace
