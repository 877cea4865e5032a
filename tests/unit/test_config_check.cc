// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// checkConfig (core/config_check.h): what the hook's load() and `phoneprov validate`
// both run. Every error is listed, each broken profile leaves only its vendor out,
// unusable parameters give passthrough, and nothing throws.
#include "config_check.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace phoneprov;
using namespace phoneprov::test;

namespace {

/// @brief Parameters that check: a temp output folder, the given profiles.
nlohmann::json goodParams(const TempDir& dir, const std::string& profiles) {
    std::filesystem::create_directories(dir / "out");
    nlohmann::json p = {{"output-dir", dir / "out"},
                        {"base-url", "http://192.0.2.1/prov"},
                        {"tftp-server", "192.0.2.1"},
                        {"profiles-dir", profiles},
                        {"registry-dir", ""}};
    return (p);
}

TEST(CheckConfig, shippedProfilesAreOk) {
    TempDir dir;
    CheckedConfig c = checkConfig(goodParams(dir, profilesDir()), CheckOptions());
    EXPECT_EQ(LoadState::Ok, c.state);
    EXPECT_TRUE(c.errors.empty());
    ASSERT_TRUE(c.catalogue);
    EXPECT_EQ(Catalogue::load(profilesDir())->vendors().size(), c.catalogue->vendors().size());
    ASSERT_TRUE(c.provisioning);
}

// Every broken profile is listed, in vendor order, each leaving its vendor out.
TEST(CheckConfig, everyBrokenProfileListed) {
    TempDir dir;
    std::filesystem::copy(profilesDir(), dir / "profiles", std::filesystem::copy_options::recursive);
    writeFile(dir / "profiles/snom/profile.json", "{\n  \"id\": \"snom\",\n  x\n}");
    writeFile(dir / "profiles/yealink/templates/mac.cfg.mustache", "a\n{{#accounts}}\n");
    // A profile option that cannot be encoded (found only when the plan is built).
    nlohmann::json fanvil = nlohmann::json::parse(
        std::ifstream(profilesDir() + "/fanvil/profile.json"));
    fanvil["options"] = {{{"code", 66}, {"type", "uint8"}, {"value", "many"}}};
    writeFile(dir / "profiles/fanvil/profile.json", fanvil.dump());
    nlohmann::json params = goodParams(dir, dir / "profiles");
    params["vendors"] = {{"yealink", {{"enabled", true}}}};  // a vendor left out may be named
    CheckedConfig c = checkConfig(params, CheckOptions());
    EXPECT_EQ(LoadState::Degraded, c.state);
    ASSERT_EQ(3u, c.errors.size());
    EXPECT_EQ("fanvil", c.errors[0].vendor);
    EXPECT_EQ(0u, c.errors[0].message.find("fanvil.options[0]")) << c.errors[0].message;
    EXPECT_EQ("snom", c.errors[1].vendor);
    EXPECT_EQ(dir / "profiles/snom/profile.json:3:3: not valid JSON: invalid literal, expected "
                    "string literal",
              c.errors[1].message);
    EXPECT_EQ("yealink", c.errors[2].vendor);
    EXPECT_EQ(dir / "profiles/yealink/templates/mac.cfg.mustache:2:1: Unclosed section "
                    "\"accounts\"",
              c.errors[2].message);
    EXPECT_EQ((std::vector<std::string>{"fanvil", "snom", "yealink"}), c.brokenProfiles);
    ASSERT_TRUE(c.catalogue);
    EXPECT_EQ(Catalogue::load(profilesDir())->vendors().size() - 3, c.catalogue->vendors().size());
    EXPECT_LT(c.catalogue->find("yealink"), 0);
    EXPECT_GE(c.catalogue->find("cisco"), 0);
}

// Unusable parameters: passthrough, with the error (and where the key is).
TEST(CheckConfig, badParametersPassThrough) {
    TempDir dir;
    struct Scenario {
        int line_;
        std::string key;
        nlohmann::json value;  ///< null: remove the key
        std::string message;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "base_url", "http://x/", "phoneprov: unknown parameter 'base_url' (kea.json:7:9)"},
        {__LINE__, "render-threads", 0,
         "phoneprov: 'render-threads' is 0, must be between 1 and 64 (kea.json:7:9)"},
        {__LINE__, "output-dir", dir / "missing",
         "phoneprov: 'output-dir': output-dir '" + dir / "missing" +
             "': No such file or directory (kea.json:7:9)"},
        {__LINE__, "base-url", nullptr, "phoneprov: missing parameter 'base-url'"},
        {__LINE__, "vendors", {{"nokia", nlohmann::json::object()}},
         "phoneprov.vendors: unknown vendor 'nokia' (kea.json:7:9)"},
        {__LINE__, "profiles-dir", dir / "none", "profiles-dir: cannot open '" + dir / "none" + "'"},
    };
    CheckOptions options;
    options.locate = [](const std::string&) { return (std::string("kea.json:7:9")); };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        nlohmann::json p = goodParams(dir, profilesDir());
        if (s.value.is_null()) {
            p.erase(s.key);
        } else {
            p[s.key] = s.value;
        }
        CheckedConfig c = checkConfig(p, options);
        EXPECT_EQ(LoadState::Passthrough, c.state);
        ASSERT_EQ(1u, c.errors.size());
        EXPECT_EQ(s.message, c.errors[0].message);
        EXPECT_EQ("", c.errors[0].vendor);
        EXPECT_FALSE(c.provisioning);
    }
    EXPECT_EQ(LoadState::Passthrough, checkConfig(nlohmann::json::array(), options).state);
}

TEST(CheckConfig, parameterOfNamesTheTopLevelKey) {
    EXPECT_EQ("base_url", parameterOf("phoneprov: unknown parameter 'base_url'"));
    EXPECT_EQ("render-threads", parameterOf("phoneprov: 'render-threads' must be an integer"));
    EXPECT_EQ("vendors", parameterOf("phoneprov.vendors.yealink: unknown parameter 'x'"));
    EXPECT_EQ("oui-prefixes", parameterOf("phoneprov.oui-prefixes: 'zz' is not a MAC prefix"));
    EXPECT_EQ("", parameterOf("phoneprov: missing parameter 'base-url'"));
    EXPECT_EQ("", parameterOf("profiles-dir: cannot open '/x'"));
}

}  // namespace
