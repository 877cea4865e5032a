// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Provisioning with the shipped profiles: files, secrets, escaping, precedence, option bytes.
#include "provisioner.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>

#include <sys/stat.h>
#include <unistd.h>
#include <string>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::test;
using nlohmann::json;

namespace {

const Mac kMac{{0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}};

Config baseConfig(const std::string& outputDir) {
    return (parseConfig(json{{"output-dir", outputDir},
                             {"base-url", "http://127.0.0.1:8080/prov"},
                             {"tftp-server", "10.0.0.6"}}));
}

std::vector<std::string> lines(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream ss(text);
    std::string l;
    while (std::getline(ss, l)) {
        out.push_back(l);
    }
    return (out);
}

bool hasLine(const std::string& text, const std::string& line) {
    for (const auto& l : lines(text)) {
        if (l == line) {
            return (true);
        }
    }
    return (false);
}

class Provisioner : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalogue_ = Catalogue::load(profilesDir()); }
    static void TearDownTestSuite() { catalogue_.reset(); }

    void SetUp() override {
        config_ = baseConfig(out_.path());
        // Files at their MAC-derived names: what these tests read (per-device
        // folders are DeviceFolders' subject, below).
        config_.deviceTokens = false;
    }

    ProvisioningPtr build() {
        warnings_.clear();
        return (Provisioning::build(catalogue_, config_, warnings_));
    }

    static int id(const std::string& vendor) {
        int i = catalogue_->find(vendor);
        if (i < 0) {
            throw std::runtime_error("no vendor " + vendor);
        }
        return (i);
    }

    static json device() {
        return (json{{"sip-server", "pbx.example.com"},
                     {"accounts", json::array({{{"user", "1001"}, {"password", "s3cret-1001"}}})}});
    }

    static CataloguePtr catalogue_;
    TempDir out_;
    Config config_;
    std::vector<std::string> warnings_;
};

CataloguePtr Provisioner::catalogue_;

TEST_F(Provisioner, yealinkWithReservationData) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", &dev);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(0, r.failed) << (r.errors.empty() ? "" : r.errors[0]);
    EXPECT_EQ(0, r.skipped);
    EXPECT_EQ(4, r.written);
    EXPECT_EQ((std::vector<std::string>{"yealink/001565aabbcc.boot", "yealink/001565aabbcc.cfg",
                                        "yealink/y000000000000.boot", "yealink/y000000000000.cfg"}),
              [&] { auto f = r.files; std::sort(f.begin(), f.end()); return (f); }());
    // The boot file (firmware 81+ asks for it first) names the common file, then the phone's.
    std::string boot = readFile(out_ / "yealink/001565aabbcc.boot");
    EXPECT_EQ((std::vector<std::string>{"#!version:1.0.0.1", "include:config \"y000000000000.cfg\"",
                                        "include:config \"001565aabbcc.cfg\""}),
              [&] {
                  std::vector<std::string> kept;
                  for (const auto& l : lines(boot)) {
                      if (l.rfind("##", 0) != 0) {
                          kept.push_back(l);
                      }
                  }
                  return (kept);
              }());
    std::string cfg = readFile(out_ / "yealink/001565aabbcc.cfg");
    ASSERT_FALSE(cfg.empty());
    EXPECT_EQ("#!version:1.0.0.1", lines(cfg)[0]);
    EXPECT_TRUE(hasLine(cfg, "account.1.user_name = 1001")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.1.auth_name = 1001")) << cfg;    // defaults to user
    EXPECT_TRUE(hasLine(cfg, "account.1.label = 1001")) << cfg;        // defaults to display-name
    EXPECT_TRUE(hasLine(cfg, "account.1.password = s3cret-1001")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.1.sip_server.1.address = pbx.example.com")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.1.sip_server.1.port = 5060")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.1.sip_server.1.transport_type = 0")) << cfg;
    std::string common = readFile(out_ / "yealink/y000000000000.cfg");
    EXPECT_EQ("#!version:1.0.0.1", lines(common)[0]);
    EXPECT_TRUE(hasLine(common, "static.auto_provision.server.url = http://127.0.0.1:8080/prov/yealink/"))
        << common;
    EXPECT_EQ(std::string::npos, common.find("s3cret"));
    // A second render with the same facts changes nothing.
    r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", &dev);
    EXPECT_EQ(0, r.written);
    EXPECT_EQ(4, r.unchanged);
}

TEST_F(Provisioner, yealinkAccountsAndValueMaps) {
    auto p = build();
    json dev = {{"sip-server", "pbx"},
                {"sip-transport", "tcp"},
                {"admin-password", "adm1n"},
                {"accounts", json::array({{{"user", "1001"}, {"password", "a"}, {"display-name", "Ann"}},
                                          {{"user", 1002}, {"password", "b"}, {"auth-user", "x1002"},
                                           {"label", "Line 2"}}})}};
    std::vector<std::string> errors;
    int skipped = 0;
    auto files = p->renderFiles(id("yealink"), "T46S", kMac, "", &dev, errors, skipped);
    ASSERT_TRUE(errors.empty()) << errors[0];
    std::string cfg;
    bool modelFile = false;
    for (const auto& f : files) {
        if (f.name == "001565aabbcc.cfg") {
            cfg = f.content;
        }
        modelFile = modelFile || (f.name == "y000000000066.cfg" && !f.perDevice);
    }
    EXPECT_TRUE(modelFile) << "the T46S model file is rendered";
    EXPECT_TRUE(hasLine(cfg, "account.1.label = Ann")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.1.display_name = Ann")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.2.user_name = 1002")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.2.auth_name = x1002")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.2.label = Line 2")) << cfg;
    EXPECT_TRUE(hasLine(cfg, "account.2.sip_server.1.transport_type = 1")) << cfg;  // tcp
    EXPECT_TRUE(hasLine(cfg, "static.security.user_password = admin:adm1n")) << cfg;
}

TEST_F(Provisioner, withoutDataOnlyCommonFiles) {
    auto p = build();
    OutputDir out(out_.path());
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", nullptr);
    EXPECT_TRUE(r.ok());
    EXPECT_GT(r.skipped, 0);
    EXPECT_EQ(2, r.written);  // y000000000000.boot and .cfg
    EXPECT_FALSE(std::filesystem::exists(out_ / "yealink/001565aabbcc.boot"));
    EXPECT_FALSE(std::filesystem::exists(out_ / "yealink/001565aabbcc.cfg"));
    EXPECT_TRUE(std::filesystem::exists(out_ / "yealink/y000000000000.cfg"));
}

TEST_F(Provisioner, provisionUnknownRendersWithoutAccounts) {
    config_.provisionUnknown = true;
    config_.defaults = {{"sip-server", "pbx.example.com"}, {"admin-password", "hookadmin"}};
    auto p = build();
    OutputDir out(out_.path());
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", nullptr);
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(0, r.skipped);
    std::string cfg = readFile(out_ / "yealink/001565aabbcc.cfg");
    ASSERT_FALSE(cfg.empty());
    EXPECT_EQ("#!version:1.0.0.1", lines(cfg)[0]);
    EXPECT_EQ(std::string::npos, cfg.find("account.")) << cfg;
    // A phone without reservation data is anyone who sends its MAC: no secret of
    // any kind, not even the hook-wide admin password (issue 21, point 3).
    EXPECT_EQ(std::string::npos, cfg.find("hookadmin")) << cfg;
    EXPECT_EQ(std::string::npos, readFile(out_ / "yealink/y000000000000.cfg").find("hookadmin"));
}

TEST_F(Provisioner, provisionUnknownFilesHoldNoSecretOfAnyVendor) {
    config_.provisionUnknown = true;
    config_.defaults = {{"sip-server", "pbx.example.com"},     {"admin-password", "SECRETMARK1"},
                        {"ldap-passwd", "SECRETMARK2"},        {"aes-key", "SECRETMARK3"},
                        {"admin-pin", "SECRETMARK4"},          {"sip-secret", "SECRETMARK5"},
                        {"user-credential", "SECRETMARK6"},
                        {"accounts", json::array({{{"user", "1001"}, {"password", "SECRETMARK7"}}})}};
    auto p = build();
    for (const auto& v : catalogue_->vendors()) {
        std::vector<std::string> models = {""};
        for (const auto& m : v.models) {
            models.push_back(m.first);
        }
        for (const std::string& model : models) {
            SCOPED_TRACE(v.id + " model '" + model + "'");
            std::vector<std::string> errors;
            int skipped = 0;
            auto files = p->renderFiles(catalogue_->find(v.id), model, kMac, "10.0.0.50", nullptr,
                                        errors, skipped);
            EXPECT_TRUE(errors.empty()) << errors[0];
            for (const auto& f : files) {
                SCOPED_TRACE(f.name);
                EXPECT_EQ(std::string::npos, f.content.find("SECRETMARK")) << f.content;
            }
        }
    }
}

TEST(SecretVariable, namesMarkedSecret) {
    struct Scenario {
        int line_;
        const char* name;
        bool secret;
    };
    const Scenario scenarios[] = {
        {__LINE__, "accounts", true},       {__LINE__, "password", true},
        {__LINE__, "admin-password", true}, {__LINE__, "ldap-passwd", true},
        {__LINE__, "sip-secret", true},     {__LINE__, "user-credentials", true},
        {__LINE__, "aes-key", true},        {__LINE__, "key", true},
        {__LINE__, "config_key", true},     {__LINE__, "admin-pin", true},
        {__LINE__, "device-token", true},   {__LINE__, "keyboard", false},
        {__LINE__, "monkey", false},        {__LINE__, "ping-interval", false},
        {__LINE__, "ntp-server", false},    {__LINE__, "sip-server", false},
        {__LINE__, "timezone", false},      {__LINE__, "vendor-url", false},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.name);
        EXPECT_EQ(s.secret, secretVariable(s.name));
    }
}

TEST_F(Provisioner, commonFilesNeverHoldSecrets) {
    config_.provisionUnknown = false;
    config_.defaults = {{"admin-password", "HOOKADMIN-MARK"}, {"sip-server", "pbx.example.com"},
                        {"ntp-server", "pool.ntp.org"}, {"timezone", "Europe/Paris"}};
    auto p = build();
    for (const auto& v : catalogue_->vendors()) {
        std::vector<std::string> models = {""};
        if (!v.models.empty()) {
            models.push_back(v.models.begin()->first);
        }
        for (const std::string& model : models) {
            SCOPED_TRACE(v.id + " model '" + model + "'");
            const std::string mark = "PWMARK-" + v.id;
            json dev = {{"sip-server", "pbx.example.com"},
                        {"admin-password", "ADMIN-" + mark},
                        {"sip-secret", "SECRET-" + mark},
                        {"accounts", json::array({{{"user", "USERMARK1"}, {"password", mark + "-1"}},
                                                  {{"user", "USERMARK2"}, {"password", mark + "-2"}}})}};
            std::vector<std::string> errors;
            int skipped = 0;
            auto files = p->renderFiles(catalogue_->find(v.id), model, kMac, "10.0.0.50", &dev,
                                        errors, skipped);
            EXPECT_TRUE(errors.empty()) << errors[0];
            size_t perDevice = 0;
            size_t marked = 0;
            for (const auto& f : files) {
                SCOPED_TRACE(f.name);
                if (f.perDevice) {
                    ++perDevice;
                    marked += f.content.find(mark) != std::string::npos ? 1 : 0;
                    continue;
                }
                EXPECT_EQ(std::string::npos, f.content.find(mark));
                EXPECT_EQ(std::string::npos, f.content.find("HOOKADMIN-MARK"));
                EXPECT_EQ(std::string::npos, f.content.find("USERMARK"));
            }
            EXPECT_GT(perDevice, 0u);
            EXPECT_GT(marked, 0u) << "no per-device file carries the account password";
        }
    }
}

TEST_F(Provisioner, lineBreakRefusedInKvEscapedInXml) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    dev["accounts"][0]["password"] = "VALMARK\nstatic.security.user_password = admin:pwned";
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "", &dev);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(1, r.failed);
    ASSERT_EQ(1u, r.errors.size());
    EXPECT_NE(std::string::npos, r.errors[0].find("001565aabbcc.cfg")) << r.errors[0];
    EXPECT_EQ(std::string::npos, r.errors[0].find("VALMARK")) << r.errors[0];
    EXPECT_EQ(std::string::npos, r.errors[0].find("pwned")) << r.errors[0];
    EXPECT_FALSE(std::filesystem::exists(out_ / "yealink/001565aabbcc.cfg"));
    EXPECT_TRUE(std::filesystem::exists(out_ / "yealink/y000000000000.cfg"));

    // XML: the markup characters are escaped, the file is written.
    dev["accounts"][0]["password"] = "p<&>\"'w";
    r = p->render(out, id("grandstream"), "", kMac, "", &dev);
    EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
    std::string xml = readFile(out_ / "grandstream/cfg001565aabbcc.xml");
    EXPECT_NE(std::string::npos, xml.find("<P34>p&lt;&amp;&gt;&quot;&apos;w</P34>")) << xml;
    // XML cannot carry control characters (render.h): a line break refuses the file too.
    dev["accounts"][0]["password"] = "VALMARK\nx";
    r = p->render(out, id("grandstream"), "", kMac, "", &dev);
    EXPECT_EQ(1, r.failed);
    ASSERT_EQ(1u, r.errors.size());
    EXPECT_EQ(std::string::npos, r.errors[0].find("VALMARK"));
    EXPECT_EQ(std::string::npos, readFile(out_ / "grandstream/cfg001565aabbcc.xml").find("VALMARK"));
}

TEST_F(Provisioner, refusedReservationDataKeepsPerDeviceFiles) {
    auto p = build();
    OutputDir out(out_.path());
    json bad = {{"accounts", "1001:secret"}};
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "", &bad);
    EXPECT_EQ(1, r.failed);
    ASSERT_EQ(1u, r.errors.size());
    EXPECT_EQ("yealink 001565aabbcc: reservation data refused: 'accounts' must be a list",
              r.errors[0]);
    EXPECT_EQ(2, r.skipped);  // <mac>.boot and <mac>.cfg
    EXPECT_FALSE(std::filesystem::exists(out_ / "yealink/001565aabbcc.cfg"));
    EXPECT_TRUE(std::filesystem::exists(out_ / "yealink/y000000000000.cfg"));
}

TEST(CheckDeviceData, table) {
    struct Scenario {
        int line_;
        json data;
        std::string expected;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, json::object(), ""},
        {__LINE__, {{"sip-server", "pbx"}, {"sip-port", 5060}, {"vlan", true}}, ""},
        {__LINE__, {{"vendor", "yealink"}, {"model", "T46S"}, {"options", {{"x", 1}}}}, ""},
        {__LINE__, {{"accounts", json::array({{{"user", 1001}, {"password", "x"}}})}}, ""},
        {__LINE__, json::array(), "'phoneprov' must be a map"},
        {__LINE__, "x", "'phoneprov' must be a map"},
        {__LINE__, {{"accounts", json::object()}}, "'accounts' must be a list"},
        {__LINE__, {{"accounts", json::array({"1001"})}}, "'accounts'[0] must be a map"},
        {__LINE__, {{"accounts", json::array({json::object(), {{"user", json::array()}}})}},
         "'accounts'[1].user must be a string or a number"},
        {__LINE__, {{"accounts", json::array({{{"password", true}}})}},
         "'accounts'[0].password must be a string or a number"},
        {__LINE__, {{"sip-server", json::array({"a"})}}, "'sip-server' must be a string, a number or a boolean"},
        {__LINE__, {{"timezone", nullptr}}, "'timezone' must be a string, a number or a boolean"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        EXPECT_EQ(s.expected, checkDeviceData(s.data));
    }
}

TEST_F(Provisioner, unsafeFileNamesAreRefused) {
    for (const std::string bad : {"../../etc/cron.d/x", "..", ".hidden", "a b.cfg"}) {
        SCOPED_TRACE(bad);
        config_.vendors.clear();
        config_.vendors["yealink"].models["T46S"].variables = {{"model-file", bad}};
        auto p = build();
        OutputDir out(out_.path());
        RenderOutcome r = p->render(out, id("yealink"), "T46S", kMac, "", nullptr);
        EXPECT_EQ(1, r.failed);
        ASSERT_EQ(1u, r.errors.size());
        EXPECT_EQ("yealink 001565aabbcc: file name '{{model-file}}' did not give a safe name",
                  r.errors[0]);
    }
    EXPECT_EQ((std::vector<std::string>{".phoneprov-tmp", "yealink"}), listDir(out_.path()));
}

TEST_F(Provisioner, builtInsCannotBeOverridden) {
    auto p = build();
    json dev = {{"mac", "ffffffffffff"}, {"base-url", "http://evil/"}, {"vendor", "cisco"},
                {"model", "X"}, {"vendor-url", "http://evil/"}};
    json v = p->variables(id("yealink"), "T46S", kMac, "10.0.0.50", &dev, false);
    EXPECT_EQ("001565aabbcc", v["mac"]);
    EXPECT_EQ("001565AABBCC", v["MAC"]);
    EXPECT_EQ("00:15:65:aa:bb:cc", v["mac-colon"]);
    EXPECT_EQ("yealink", v["vendor"]);
    EXPECT_EQ("T46S", v["model"]);
    EXPECT_EQ("10.0.0.50", v["ip"]);
    EXPECT_EQ("http://127.0.0.1:8080/prov", v["base-url"]);
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", v["vendor-url"]);
    EXPECT_EQ("10.0.0.6", v["tftp-server"]);
    EXPECT_EQ("y000000000066.cfg", v["model-file"]);
}

TEST_F(Provisioner, commonVariablesDropSecrets) {
    config_.defaults = {{"admin-password", "a"}, {"ldap-password", "b"}, {"sip-secret", "c"},
                        {"accounts", json::array({{{"user", "1"}}})}, {"ntp-server", "ntp"}};
    auto p = build();
    json dev = {{"accounts", json::array({{{"user", "1001"}, {"password", "x"}}})}};
    json common = p->variables(id("yealink"), "", kMac, "", &dev, true);
    for (const char* k : {"admin-password", "ldap-password", "sip-secret", "accounts", "password"}) {
        EXPECT_FALSE(common.contains(k)) << k;
    }
    EXPECT_EQ("ntp", common["ntp-server"]);
    json perDevice = p->variables(id("yealink"), "", kMac, "", &dev, false);
    EXPECT_EQ("a", perDevice["admin-password"]);
    ASSERT_TRUE(perDevice["accounts"].is_array());
    EXPECT_EQ("1001", perDevice["accounts"][0]["user"]);
    EXPECT_EQ("1", perDevice["accounts"][0]["index"]);
}

TEST_F(Provisioner, renderingIsDeterministic) {
    config_.defaults = {{"ntp-server", "pool.ntp.org"}, {"timezone", "Europe/Paris"}};
    auto p1 = build();
    auto p2 = build();
    json dev = device();
    for (const auto& v : catalogue_->vendors()) {
        std::vector<std::string> models = {""};
        for (const auto& m : v.models) {
            models.push_back(m.first);
        }
        for (const std::string& model : models) {
            SCOPED_TRACE(v.id + " model '" + model + "'");
            std::vector<std::string> e1, e2;
            int s1 = 0, s2 = 0;
            auto a = p1->renderFiles(catalogue_->find(v.id), model, kMac, "10.0.0.50", &dev, e1, s1);
            auto b = p1->renderFiles(catalogue_->find(v.id), model, kMac, "10.0.0.50", &dev, e2, s2);
            auto c = p2->renderFiles(catalogue_->find(v.id), model, kMac, "10.0.0.50", &dev, e2, s2);
            EXPECT_TRUE(e1.empty()) << e1[0];
            ASSERT_EQ(a.size(), b.size());
            ASSERT_EQ(a.size(), c.size());
            if (model.empty()) {
                EXPECT_FALSE(a.empty());
            }
            for (size_t i = 0; i < a.size(); ++i) {
                EXPECT_EQ(a[i].name, b[i].name);
                EXPECT_EQ(a[i].content, b[i].content);
                EXPECT_EQ(a[i].content, c[i].content);
            }
        }
    }
}

TEST_F(Provisioner, optionBytesPerVendor) {
    auto p = build();
    auto find = [&](const std::string& vendor, uint8_t code) -> std::vector<uint8_t> {
        for (const auto& o : p->options(id(vendor), "")) {
            if (o.code == code) {
                return (o.data);
            }
        }
        return (std::vector<uint8_t>());
    };
    const std::string yurl = "http://127.0.0.1:8080/prov/yealink/";
    EXPECT_EQ(yurl, p->vendorUrl(id("yealink")));
    EXPECT_EQ(std::vector<uint8_t>(yurl.begin(), yurl.end()), find("yealink", 66));
    EXPECT_EQ((std::vector<uint8_t>{10, 0, 0, 6}), find("cisco", 150));
    EXPECT_EQ("http://127.0.0.1:8080/prov/", p->vendorUrl(id("cisco")));  // dir ""
    const std::string murl = "http://127.0.0.1:8080/prov/mitel/";
    std::vector<uint8_t> o43 = find("mitel", 43);
    ASSERT_GE(o43.size(), 2 + murl.size());
    EXPECT_EQ(2, o43[0]);
    EXPECT_EQ(murl.size(), o43[1]);
    EXPECT_EQ(murl, std::string(o43.begin() + 2, o43.begin() + 2 + static_cast<long>(murl.size())));
    EXPECT_EQ((std::vector<uint8_t>{3, 1, 0}),
              std::vector<uint8_t>(o43.begin() + 2 + static_cast<long>(murl.size()), o43.end()));
    EXPECT_TRUE(warnings_.empty()) << warnings_[0];
    for (const auto& v : catalogue_->vendors()) {
        EXPECT_TRUE(p->enabled(catalogue_->find(v.id)));
        EXPECT_EQ(v.overrideSubnetOptions, p->overrideSubnet(catalogue_->find(v.id)));
    }
}

TEST_F(Provisioner, optionsNeedingAnUnsetTftpServerAreLeftOut) {
    config_.tftpServer = "";
    auto p = build();
    for (const auto& o : p->options(id("cisco"), "")) {
        EXPECT_NE(150, o.code);
    }
    bool warned = false;
    for (const auto& w : warnings_) {
        warned = warned || (w.find("cisco.options[0]") == 0 && w.find("is not set") != std::string::npos);
    }
    EXPECT_TRUE(warned);
    // Other vendors keep theirs.
    EXPECT_FALSE(p->options(id("yealink"), "").empty());
}

TEST_F(Provisioner, vendorOverridesOfOptions) {
    json params = {{"output-dir", out_.path()},
                   {"base-url", "http://127.0.0.1:8080/prov"},
                   {"vendors", json::parse(R"({
                       "yealink": {"add-options": [{"code": 160, "type": "string", "value": "{{base-url}}/y"}],
                                   "override-subnet-options": false,
                                   "models": {"T46S": {"options": [{"code": 66, "type": "string", "value": "t46s"}]}}},
                       "polycom": {"options": [{"code": 66, "type": "string", "value": "other"}],
                                   "enabled": false}})")}};
    config_ = parseConfig(params);
    auto p = build();
    const auto& y = p->options(id("yealink"), "");
    ASSERT_EQ(2u, y.size());
    EXPECT_EQ(66, y[0].code);
    EXPECT_EQ(160, y[1].code);
    EXPECT_EQ("http://127.0.0.1:8080/prov/y", std::string(y[1].data.begin(), y[1].data.end()));
    const auto& t46s = p->options(id("yealink"), "T46S");
    ASSERT_EQ(1u, t46s.size());
    EXPECT_EQ("t46s", std::string(t46s[0].data.begin(), t46s[0].data.end()));
    EXPECT_EQ(2u, p->options(id("yealink"), "T48S").size());  // no options of its own
    EXPECT_FALSE(p->overrideSubnet(id("yealink")));
    const auto& poly = p->options(id("polycom"), "");
    ASSERT_EQ(1u, poly.size());
    EXPECT_EQ("other", std::string(poly[0].data.begin(), poly[0].data.end()));
    EXPECT_FALSE(p->enabled(id("polycom")));
    EXPECT_TRUE(p->enabled(id("yealink")));
}

TEST_F(Provisioner, unknownVendorInParameters) {
    config_.vendors["nosuchvendor"] = VendorOverride{};
    try {
        build();
        ADD_FAILURE() << "an unknown vendor was accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ("phoneprov.vendors: unknown vendor 'nosuchvendor'", std::string(e.what()));
    }
}

TEST_F(Provisioner, deviceFiles) {
    auto p = build();
    EXPECT_EQ((std::vector<std::string>{"yealink/001565aabbcc.boot", "yealink/001565aabbcc.cfg"}),
              p->deviceFiles(id("yealink"), "", kMac));
    EXPECT_EQ((std::vector<std::string>{"SEP001565AABBCC.cnf.xml"}),
              p->deviceFiles(id("cisco"), "", kMac));
}

/// @brief A vendor built in code, whose template prints one variable per precedence level.
class Precedence : public ::testing::Test {
protected:
    void SetUp() override {
        VendorProfile v;
        v.id = "acme";
        v.name = "Acme";
        v.family = "acme";
        v.format = "kv";
        v.dir = "acme";
        v.folder = "/nonexistent/acme";
        v.variables = {{"b", "profile"}, {"c", "profile"}, {"d", "profile"}, {"e", "profile"},
                       {"f", "profile"}};
        v.models["M1"].variables = {{"c", "profile-model"}, {"d", "profile-model"},
                                    {"e", "profile-model"}, {"f", "profile-model"}};
        FileSpec f;
        f.name = "{{mac}}.cfg";
        f.tmpl = "t.mustache";
        f.text = "a={{a}}\nb={{b}}\nc={{c}}\nd={{d}}\ne={{e}}\nf={{f}}\n";
        f.perDevice = true;
        v.files.push_back(f);
        catalogue_ = Catalogue::fromProfiles({v});
        config_ = baseConfig(out_.path());
        config_.defaults = {{"a", "defaults"}, {"b", "defaults"}, {"c", "defaults"},
                            {"d", "defaults"}, {"e", "defaults"}, {"f", "defaults"}};
    }

    std::string render(const std::string& model, const json& dev) {
        std::vector<std::string> warnings;
        auto p = Provisioning::build(catalogue_, config_, warnings);
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = p->renderFiles(0, model, kMac, "", &dev, errors, skipped);
        return (files.size() == 1 ? files[0].content : "");
    }

    CataloguePtr catalogue_;
    TempDir out_;
    Config config_;
};

TEST_F(Precedence, withoutModelVariables) {
    config_.vendors["acme"].variables = {{"d", "hook-vendor"}, {"e", "hook-vendor"},
                                         {"f", "hook-vendor"}};
    std::string text = render("", {{"f", "reservation"}});
    EXPECT_EQ("a=defaults\nb=profile\nc=profile\nd=hook-vendor\ne=hook-vendor\nf=reservation\n",
              text);
}

TEST_F(Precedence, everyLevel) {
    config_.vendors["acme"].variables = {{"d", "hook-vendor"}, {"e", "hook-vendor"},
                                         {"f", "hook-vendor"}};
    config_.vendors["acme"].models["M1"].variables = {{"e", "hook-model"}, {"f", "hook-model"}};
    std::string text = render("M1", {{"f", "reservation"}});
    EXPECT_EQ("a=defaults\nb=profile\nc=profile-model\nd=hook-vendor\ne=hook-model\nf=reservation\n",
              text);
}

TEST_F(Precedence, hookModelBeatsProfileModel) {
    config_.vendors["acme"].models["M1"].variables = {{"e", "hook-model"}, {"f", "hook-model"}};
    std::string text = render("M1", {{"f", "reservation"}});
    EXPECT_EQ("a=defaults\nb=profile\nc=profile-model\nd=profile-model\ne=hook-model\nf=reservation\n",
              text);
}

}  // namespace

namespace {

// Formats whose values sit between quotes (Panasonic KEY="value", Avaya SET X "value")
// refuse a value holding '"' rather than emit a line an attacker could extend.
TEST(RefuseChars, quotedFormatsRefuseQuotes) {
    phoneprov::test::TempDir dir;
    phoneprov::Config c;
    c.outputDir = dir.path();
    c.baseUrl = "http://127.0.0.1:8080/prov";
    c.tftpServer = "127.0.0.1";
    c.profilesDir = PHONEPROV_SOURCE_DIR "/profiles";
    c.deviceTokens = false;  // no site key: credentials would be withheld anyway
    auto catalogue = phoneprov::Catalogue::load(c.profilesDir);
    std::vector<std::string> warnings;
    auto prov = phoneprov::Provisioning::build(catalogue, c, warnings);
    nlohmann::json data = {{"sip-server", "pbx"},
                           {"accounts", {{{"user", "100\" ADMIN_PASS=\"x"}, {"password", "p"}}}}};
    for (const char* vendor : {"panasonic", "avaya"}) {
        SCOPED_TRACE(vendor);
        int v = catalogue->find(vendor);
        ASSERT_GE(v, 0);
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = prov->renderFiles(v, "", *phoneprov::parseMac("00:80:f0:00:00:01"), "", &data,
                                       errors, skipped);
        for (const auto& f : files) {
            EXPECT_FALSE(f.perDevice) << f.name << " rendered with a quote in a value";
        }
        ASSERT_FALSE(errors.empty());
        EXPECT_EQ(std::string::npos, errors[0].find("ADMIN_PASS"));
    }
}

// Found by fuzz_params: a bad value in an option of the hook parameters was reported
// as the profile's ("yealink.options[0]"), not as the parameter the admin wrote.
TEST_F(Provisioner, badParameterOptionNamesTheParameter) {
    config_ = parseConfig(json{{"output-dir", out_.path()},
                               {"base-url", "http://127.0.0.1:8080/prov"},
                               {"vendors", {{"yealink", {{"options", json::array({{{"code", 150},
                                   {"type", "ipv4-list"}, {"value", "892.0.2.5"}}})}}}}}});
    try {
        build();
        FAIL() << "a bad IPv4 address was accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(0u, std::string(e.what()).find("phoneprov.vendors.yealink.options[0]: ")) << e.what();
    }
}

}  // namespace

// Common files never depend on the phone that triggered the render: same bytes for
// any MAC, address, model and reservation (HA peers and re-renders agree), even when
// a model has variables of its own; a per-model file carries its model's variables.
TEST_F(Provisioner, commonFilesDependOnTheirNameOnly) {
    config_ = parseConfig(json{{"output-dir", out_.path()},
                               {"base-url", "http://127.0.0.1:8080/prov"},
                               {"tftp-server", "10.0.0.6"},
                               {"vendors", json::parse(R"({
                                   "yealink": {"models": {"T46S": {"variables":
                                       {"firmware-url": "http://fw/t46s.rom"}}}},
                                   "polycom": {"models": {"VVX310": {"variables":
                                       {"firmware-url": "http://fw/vvx310.sip.ld"}}}}})")}});
    auto p = build();
    struct Trigger {
        std::string model;
        Mac mac;
        std::string ip;
        bool withDevice;
    };
    const std::vector<Trigger> triggers = {
        {"T46S", kMac, "10.0.0.50", true},
        {"T54W", Mac{{0x00, 0x15, 0x65, 0x01, 0x02, 0x03}}, "10.0.0.51", false},
        {"", Mac{{0x80, 0x5e, 0xc0, 0x0a, 0x0b, 0x0c}}, "", true},
    };
    for (const std::string vendor : {"yealink", "polycom", "grandstream", "snom"}) {
        SCOPED_TRACE(vendor);
        std::map<std::string, std::string> seen;  // fixed-name common file -> bytes
        for (const Trigger& t : triggers) {
            json dev = device();
            std::vector<std::string> errors;
            int skipped = 0;
            auto files = p->renderFiles(id(vendor), t.model, t.mac, t.ip,
                                        t.withDevice ? &dev : nullptr, errors, skipped);
            EXPECT_TRUE(errors.empty());
            for (const RenderedFile& f : files) {
                if (f.perDevice) {
                    continue;
                }
                EXPECT_EQ(std::string::npos, f.content.find(t.mac.lower())) << f.name;
                auto it = seen.find(f.name);
                if (it == seen.end()) {
                    seen[f.name] = f.content;
                } else {
                    EXPECT_EQ(it->second, f.content) << f.name << " changed with the trigger";
                }
            }
        }
        EXPECT_FALSE(seen.empty());
    }
}

TEST_F(Provisioner, stagedPhonesShareOneCommit) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    const Mac other{{0x00, 0x15, 0x65, 0x11, 0x22, 0x33}};
    OutputDir::Batch batch = out.begin();
    StagedRender a = p->stage(batch, id("yealink"), "", kMac, "10.0.0.50", &dev);
    StagedRender b = p->stage(batch, id("yealink"), "", other, "10.0.0.51", &dev);
    // Staged: nothing visible yet.
    EXPECT_TRUE(listDir(out_.path()).empty() ||
                listDir(out_.path()) == std::vector<std::string>({".phoneprov-tmp", "yealink"}));
    EXPECT_FALSE(std::ifstream(out_ / "yealink/001565aabbcc.cfg").good());
    EXPECT_FALSE(std::ifstream(out_ / "yealink/y000000000000.cfg").good());
    batch.commit();
    RenderOutcome ra = a.finish(batch);
    RenderOutcome rb = b.finish(batch);
    EXPECT_TRUE(ra.ok() && rb.ok());
    // The common files are written once: the second phone finds them as wanted.
    EXPECT_EQ(4, ra.written);
    EXPECT_EQ(2, rb.written);
    EXPECT_EQ(2, rb.unchanged);
    EXPECT_TRUE(hasLine(readFile(out_ / "yealink/001565aabbcc.cfg"), "account.1.user_name = 1001"));
    EXPECT_TRUE(hasLine(readFile(out_ / "yealink/001565112233.cfg"), "account.1.user_name = 1001"));
    EXPECT_TRUE(listDir(out_ / ".phoneprov-tmp").empty());
}

// A model's common files are rendered once per plan and, once on disk, checked by
// their stamp rather than read again: what a phone finds must still be exactly
// what the plan renders, whatever happened to the file in between.
TEST_F(Provisioner, commonFilesStayCurrentAcrossPhones) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    const std::string common = out_ / "yealink/y000000000066.cfg";
    int n = 0;
    auto phone = [&] {
        Mac mac = kMac;
        mac.bytes[5] = static_cast<uint8_t>(n++);
        return (p->render(out, id("yealink"), "T46S", mac, "10.0.0.50", &dev));
    };
    RenderOutcome first = phone();
    ASSERT_TRUE(first.ok()) << first.errors[0];
    // Its own two files (<mac>.boot, <mac>.cfg), y000000000000.boot and .cfg, the model's.
    ASSERT_EQ(5, first.written);
    const std::string want = readFile(common);
    ASSERT_FALSE(want.empty());
    struct Step {
        const char* what;
        std::function<void()> before;
        int written;  ///< the new phone's own two files plus the common file when rewritten
    };
    const std::vector<Step> steps = {
        {"untouched", [] {}, 2},
        {"deleted", [&] { ASSERT_EQ(0, ::unlink(common.c_str())); }, 3},
        {"untouched after restore", [] {}, 2},
        {"edited", [&] { writeFile(common, "tampered\n"); }, 3},
        {"replaced, same bytes", [&] {
             writeFile(common + ".x", want);
             ASSERT_EQ(0, ::chmod((common + ".x").c_str(), 0640));
             ASSERT_EQ(0, ::rename((common + ".x").c_str(), common.c_str()));
         }, 2},  // read and found equal: unchanged, not rewritten
        {"untouched again", [] {}, 2},
    };
    for (const Step& s : steps) {
        SCOPED_TRACE(s.what);
        s.before();
        RenderOutcome r = phone();
        EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors[0]);
        EXPECT_EQ(s.written, r.written);
        EXPECT_EQ(5, r.written + r.unchanged);
        EXPECT_NE(r.files.end(), std::find(r.files.begin(), r.files.end(),
                                           "yealink/y000000000066.cfg"));
        EXPECT_EQ(want, readFile(common));
    }
}

// Models come from option 60: past the bound of cached models, phones of new
// models still get correct common files.
TEST_F(Provisioner, manyModelsBeyondTheCommonCache) {
    auto p = build();
    OutputDir out(out_.path());
    RenderOutcome ref = p->render(out, id("yealink"), "", kMac, "", nullptr);
    ASSERT_TRUE(ref.ok());
    const std::string want = readFile(out_ / "yealink/y000000000000.cfg");
    ASSERT_FALSE(want.empty());
    for (size_t i = 0; i < Provisioning::kMaxCommonKeys + 50; ++i) {
        RenderOutcome r = p->render(out, id("yealink"), "X" + std::to_string(i), kMac, "", nullptr);
        ASSERT_TRUE(r.ok()) << i;
        ASSERT_EQ(2, r.written + r.unchanged) << i;  // y000000000000.boot and .cfg
    }
    writeFile(out_ / "yealink/y000000000000.cfg", "tampered");
    RenderOutcome r = p->render(out, id("yealink"), "Xnew", kMac, "", nullptr);
    EXPECT_EQ(1, r.written);
    EXPECT_EQ(want, readFile(out_ / "yealink/y000000000000.cfg"));
}

// Whether a template names a variable: every tag form, and nothing else.
TEST(TemplateNames, table) {
    struct Case {
        const char* text;
        bool names;
    };
    const Case cases[] = {
        {"ip = {{ip}}", true},
        {"{{ ip }}", true},
        {"{{#ip}}x{{/ip}}", true},
        {"{{^ip}}none{{/ip}}", true},
        {"{{/ ip}}", true},
        {"{{\tip\n}}", true},
        {"{{ip-address}}", false},
        {"{{sip}}", false},
        {"{{zip}}", false},
        {"{{! ip }}", false},  // a comment
        {"ip", false},
        {"{ip}", false},
        {"{{", false},
        {"{{ ", false},
        {"", false},
        {"{{mac}} {{ip}}", true},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(c.names, templateNames(c.text, "ip")) << c.text;
    }
}

// A vendor whose files name `ip` (template, file name, requires or a value map) changes
// them with the phone's address; the shipped profiles do not.
TEST(UsesAddress, onlyWhenAFileCanChangeWithTheAddress) {
    TempDir out;
    Config config = baseConfig(out.path());
    std::vector<std::string> warnings;
    auto shipped = Provisioning::build(Catalogue::load(profilesDir()), config, warnings);
    for (size_t v = 0; v < shipped->catalogue().vendors().size(); ++v) {
        EXPECT_FALSE(shipped->usesAddress(static_cast<int>(v)))
            << shipped->catalogue().vendors()[v].id;
    }
    struct Case {
        const char* what;
        const char* fileName;
        const char* body;
        const char* requiresVar;
        const char* valueFrom;
        bool uses;
    };
    const Case cases[] = {
        {"none", "{{mac}}.cfg", "user = {{mac}}\n", "", "sip-transport", false},
        {"body", "{{mac}}.cfg", "ip = {{ ip }}\n", "", "sip-transport", true},
        {"section", "{{mac}}.cfg", "{{#ip}}x{{/ip}}\n", "", "sip-transport", true},
        {"file name", "{{mac}}-{{ip}}.cfg", "x\n", "", "sip-transport", true},
        {"requires", "{{mac}}.cfg", "x\n", "ip", "sip-transport", true},
        {"value map", "{{mac}}.cfg", "x\n", "", "ip", true},
    };
    for (const Case& c : cases) {
        TempDir dir;
        ::mkdir((dir / "acme").c_str(), 0755);
        ::mkdir((dir / "acme/templates").c_str(), 0755);
        writeFile(dir / "acme/templates/mac.mustache", c.body);
        json file = {{"name", c.fileName}, {"template", "templates/mac.mustache"},
                     {"per-device", true}};
        if (*c.requiresVar) {
            file["requires"] = c.requiresVar;
        }
        json profile = {{"id", "acme"},
                        {"name", "Acme"},
                        {"phones-only", true},
                        {"oui-prefixes", {"00:11:22"}},
                        {"dir", "acme"},
                        {"format", "kv"},
                        {"value-maps",
                         {{"derived", {{"from", c.valueFrom}, {"map", json::object()},
                                       {"default", "x"}}}}},
                        {"files", json::array({file})}};
        writeFile(dir / "acme/profile.json", profile.dump());
        auto p = Provisioning::build(Catalogue::load(dir.path()), config, warnings);
        EXPECT_EQ(c.uses, p->usesAddress(0)) << c.what;
    }
}

// A render reports its per-device files with their stamps (what a later check compares
// with the disk), whether written or found unchanged, and never a common file.
TEST_F(Provisioner, deviceStampsNameThePerDeviceFiles) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    for (int round = 0; round < 2; ++round) {
        RenderOutcome r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", &dev);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(round == 0 ? 4 : 0, r.written);
        ASSERT_EQ(2u, r.deviceStamps.size()) << round;
        EXPECT_EQ("yealink/001565aabbcc.boot", r.deviceStamps[0].first);
        EXPECT_EQ("yealink/001565aabbcc.cfg", r.deviceStamps[1].first);
        struct stat st;
        ASSERT_EQ(0, ::stat((out_ / "yealink/001565aabbcc.cfg").c_str(), &st));
        EXPECT_EQ(st.st_ino, r.deviceStamps[1].second.ino);
        EXPECT_EQ(st.st_size, r.deviceStamps[1].second.size);
        OutputDir::Batch b = out.begin();
        EXPECT_TRUE(b.unchangedSince("yealink", "001565aabbcc.cfg", r.deviceStamps[1].second));
    }
    // Without reservation data: no per-device file, so nothing to stamp.
    RenderOutcome none = p->render(out, id("yealink"), "", kMac, "10.0.0.50", nullptr);
    EXPECT_TRUE(none.deviceStamps.empty());
}

// Models come from option 60 or a SUBSCRIBE, unauthenticated: file names are built
// only from the profile's known models, else the generic names. A flood of random
// models (Snom names a common and a per-device file after the model) creates no file.
TEST_F(Provisioner, unknownModelsNameNoFiles) {
    auto p = build();
    OutputDir out(out_.path());
    json dev = device();
    const std::vector<std::string> generic = {"001565AABBCC.xml", "snom-general.xml"};
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 300; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        char model[32];
        std::snprintf(model, sizeof(model), "D%llX", static_cast<unsigned long long>(x % 100000));
        RenderOutcome r = p->render(out, id("snom"), model, kMac, "10.0.0.50", &dev);
        ASSERT_TRUE(r.ok()) << model << ": " << r.errors[0];
    }
    std::vector<std::string> files = listDir(out_ / "snom");
    std::sort(files.begin(), files.end());
    EXPECT_EQ(generic, files);
    // A known model still gets its own files; its text still names the model sent.
    EXPECT_TRUE(p->knownModel(id("snom"), "D785"));
    EXPECT_FALSE(p->knownModel(id("snom"), "D999"));
    RenderOutcome r = p->render(out, id("snom"), "D785", kMac, "10.0.0.50", &dev);
    ASSERT_TRUE(r.ok());
    files = listDir(out_ / "snom");
    std::sort(files.begin(), files.end());
    const std::vector<std::string> known = {"001565AABBCC.xml", "snom-general.xml", "snomD785-001565AABBCC.htm",
                                            "snomD785.htm"};
    EXPECT_EQ(known, files);
    EXPECT_EQ(std::vector<std::string>({"snom/001565AABBCC.xml"}),
              p->deviceFiles(id("snom"), "D999", kMac));
}

// Every account the reservation lists, each in its own keys, up to the model's line
// count: Grandstream's P-values per account (account-keys), AudioCodes' lines from 0,
// Gigaset's five-digit handsets, Avaya's one identity.
TEST_F(Provisioner, everyAccountInItsOwnKeys) {
    auto p = build();
    json dev = {{"sip-server", "pbx"}, {"accounts", json::array()}};
    for (int i = 1; i <= 10; ++i) {
        dev["accounts"].push_back({{"user", "u" + std::to_string(i)}, {"password", "p" + std::to_string(i)}});
    }
    struct Case {
        int line_;
        const char* vendor;
        const char* model;
        const char* file;
        std::vector<std::string> present;
        std::vector<std::string> absent;
    };
    const Case cases[] = {
        {__LINE__, "grandstream", "GXP1630", "cfg001565aabbcc.xml",
         {"    <P35>u1</P35>", "    <P404>u2</P404>", "    <P406>p2</P406>", "    <P504>u3</P504>",
          "    <P130>0</P130>"},
         {"u4", "<P448>"}},  // GXP1630: 3 lines
        {__LINE__, "grandstream", "GXP1610", "cfg001565aabbcc.xml", {"    <P35>u1</P35>"}, {"u2"}},
        {__LINE__, "grandstream", "HT8XX", "cfg001565aabbcc.xml",
         {"    <P35>u1</P35>", "    <P404>u2</P404>", "    <P504>u3</P504>"}, {"u4"}},
        {__LINE__, "audiocodes", "", "001565aabbcc.cfg",
         {"voip/line/0/id=u1", "voip/line/1/id=u2", "voip/line/9/auth_password=p10"}, {}},
        {__LINE__, "gigaset", "N870_IP_PRO", "001565aabbcc.xml",
         {"    <param name=\"SipAccount.00001.UserName\" value=\"u1\"/>",
          "    <param name=\"SipAccount.00010.UserName\" value=\"u10\"/>"},
         {"000010"}},
        {__LINE__, "avaya", "", "001565aabbcc.cfg", {"SET SIP_USER_ID \"u1\""}, {"u2"}},
        {__LINE__, "htek", "UC926", "cfg001565aabbcc.xml",
         {"    <P35 para=\"Account1_SipUserId\">u1</P35>",
          "    <P735 para=\"Account2_SipUserId\">u2</P735>"},
         {"u3"}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line_);
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = p->renderFiles(id(c.vendor), c.model, kMac, "", &dev, errors, skipped);
        ASSERT_TRUE(errors.empty()) << errors[0];
        std::string text;
        for (const auto& f : files) {
            if (f.name == c.file) {
                text = f.content;
            }
        }
        ASSERT_FALSE(text.empty()) << c.file;
        for (const auto& l : c.present) {
            EXPECT_TRUE(hasLine(text, l)) << l << "\n" << text;
        }
        for (const auto& a : c.absent) {
            EXPECT_EQ(std::string::npos, text.find(a)) << a << "\n" << text;
        }
        EXPECT_EQ(std::string::npos, text.find("<>")) << "an account without keys rendered";
    }
}

// Avaya's option 242 from base-url: host, port and path (HTTPDIR is relative to the root).
TEST_F(Provisioner, avayaOption242FromBaseUrl) {
    struct Case {
        int line_;
        const char* baseUrl;
        const char* want;
    };
    const Case cases[] = {
        {__LINE__, "http://127.0.0.1:8080/prov", "HTTPSRVR=127.0.0.1,HTTPPORT=8080,HTTPDIR=prov/avaya"},
        {__LINE__, "http://prov.example.com", "HTTPSRVR=prov.example.com,HTTPPORT=80,HTTPDIR=avaya"},
        {__LINE__, "http://10.0.0.1/a/b/", "HTTPSRVR=10.0.0.1,HTTPPORT=80,HTTPDIR=a/b/avaya"},
        {__LINE__, "https://10.0.0.1/p", "HTTPSRVR=10.0.0.1,HTTPPORT=443,HTTPDIR=p/avaya"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line_);
        config_ = parseConfig(json{{"output-dir", out_.path()}, {"base-url", c.baseUrl}});
        auto p = build();
        const auto& opts = p->options(id("avaya"), "");
        ASSERT_EQ(1u, opts.size());
        EXPECT_EQ(242, opts[0].code);
        EXPECT_EQ(c.want, std::string(opts[0].data.begin(), opts[0].data.end()));
    }
}

// Time zones: the values each vendor reads come from the system tzdata; a zone a
// vendor cannot express is a load-time warning naming the vendor and the zone.
TEST_F(Provisioner, timeZonesFromTzdata) {
    config_.defaults = {{"timezone", "Europe/Berlin"}};
    auto p = build();
    EXPECT_TRUE(warnings_.empty()) << warnings_[0];
    json v = p->variables(id("yealink"), "", kMac, "", nullptr, true);
    EXPECT_EQ("+1", v["timezone-offset"]);
    EXPECT_EQ("CET-1CEST,M3.5.0,M10.5.0/3", v["timezone-posix"]);
    std::vector<std::string> errors;
    int skipped = 0;
    auto files = p->renderFiles(id("grandstream"), "GXP1628", kMac, "", nullptr, errors, skipped);
    bool found = false;
    for (const auto& f : files) {
        if (f.name == "cfg.xml") {
            found = true;
            EXPECT_TRUE(hasLine(f.content, "    <P246>CET-1CEST,M3.5.0,M10.5.0/3</P246>")) << f.content;
            EXPECT_TRUE(hasLine(f.content, "    <P64>customize</P64>")) << f.content;
        }
    }
    EXPECT_TRUE(found);
    // The reservation's own zone, and an explicit value that wins.
    json dev = {{"timezone", "Asia/Kolkata"}};
    v = p->variables(id("yealink"), "", kMac, "", &dev, false);
    EXPECT_EQ("+5:30", v["timezone-offset"]);
    EXPECT_FALSE(v.contains("timezone-dst"));
    dev["timezone-offset"] = "+6";
    EXPECT_EQ("+6", p->variables(id("yealink"), "", kMac, "", &dev, false)["timezone-offset"]);

    // Greenland changes at -1:00 local time: Yealink's start hour is 0-23.
    config_.defaults = {{"timezone", "America/Nuuk"}};
    p = build();
    auto named = [&](const std::string& what) {
        return (std::count_if(warnings_.begin(), warnings_.end(), [&](const std::string& w) {
            return (w.find(what) != std::string::npos);
        }));
    };
    EXPECT_EQ(1, named("vendor 'yealink' cannot express timezone 'America/Nuuk'")) << warnings_.size();
    EXPECT_EQ(0, named("'grandstream'"));  // a POSIX string expresses any zone
    config_.defaults = {{"timezone", "Mars/Olympus_Mons"}};
    p = build();
    EXPECT_EQ(1, named("vendor 'yealink': timezone 'Mars/Olympus_Mons' is not in the system tzdata"));
    EXPECT_EQ(1, named("vendor 'grandstream': timezone 'Mars/Olympus_Mons'"));
    EXPECT_EQ(0, named("'snom'"));  // reads no derived variable
}

// A vendor's longest value for a derived variable (max-length): a zone whose value is
// longer is a load-time warning naming the vendor, the zone and the value.
TEST(MaxLength, longerTimeZoneValueWarns) {
    TempDir out;
    Config config = baseConfig(out.path());
    TempDir dir;
    ::mkdir((dir / "acme").c_str(), 0755);
    ::mkdir((dir / "acme/templates").c_str(), 0755);
    writeFile(dir / "acme/templates/common.mustache", "tz = {{timezone-posix}}\n");
    json profile = {{"id", "acme"},
                    {"name", "Acme"},
                    {"phones-only", true},
                    {"oui-prefixes", {"00:11:22"}},
                    {"dir", "acme"},
                    {"format", "kv"},
                    {"max-length", {{"timezone-posix", 10}}},
                    {"files", json::array({{{"name", "common.cfg"}, {"template", "templates/common.mustache"}}})}};
    writeFile(dir / "acme/profile.json", profile.dump());
    struct Case {
        int line_;
        const char* zone;
        bool warns;
    };
    const Case cases[] = {
        {__LINE__, "Europe/Berlin", true},  // CET-1CEST,M3.5.0,M10.5.0/3
        {__LINE__, "Asia/Kolkata", false},  // IST-5:30
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line_);
        config.defaults = {{"timezone", c.zone}};
        std::vector<std::string> warnings;
        Provisioning::build(Catalogue::load(dir.path()), config, warnings);
        if (c.warns) {
            ASSERT_EQ(1u, warnings.size());
            EXPECT_EQ(std::string("vendor 'acme' cannot express timezone '") + c.zone +
                          "': timezone-posix 'CET-1CEST,M3.5.0,M10.5.0/3' is longer than 10 characters",
                      warnings[0]);
        } else {
            EXPECT_TRUE(warnings.empty()) << warnings[0];
        }
    }
}

namespace {

/// Issue 21, point 1: per-device folders named by the phone's token.
class DeviceFolders : public ::testing::Test {
protected:
    static void SetUpTestSuite() { catalogue_ = Catalogue::load(profilesDir()); }
    static void TearDownTestSuite() { catalogue_.reset(); }

    void SetUp() override {
        config_ = baseConfig(out_.path());
        config_.defaults = {{"sip-server", "pbx.example.com"}, {"admin-password", "ADMINMARK"}};
        std::string k;
        for (int i = 0; i < 32; ++i) {
            k.push_back(static_cast<char>(i));
        }
        key_.set(k);
    }

    ProvisioningPtr build(const SiteKey* key) {
        std::vector<std::string> warnings;
        return (Provisioning::build(catalogue_, config_, warnings, key));
    }

    int id(const std::string& v) const { return (catalogue_->find(v)); }

    static CataloguePtr catalogue_;
    TempDir out_;
    Config config_;
    SiteKey key_;
    const json device_ = {{"accounts", json::array({{{"user", "1001"}, {"password", "SIPMARK"}}})}};
    /// HMAC-SHA-256(bytes 0..31, 00:15:65:aa:bb:cc), 128 bits (test_token.cc).
    const std::string token_ = "b9770a16098a580d8772954adeacf7cf";
};

CataloguePtr DeviceFolders::catalogue_;

TEST_F(DeviceFolders, reservedPhoneFilesLiveInItsTokenFolderOnly) {
    auto p = build(&key_);
    ASSERT_TRUE(p->deviceFolder(id("yealink")));
    EXPECT_FALSE(p->tokensDegraded());
    OutputDir out(out_.path());
    RenderOutcome r = p->render(out, id("yealink"), "T46S", kMac, "10.0.0.50", &device_);
    ASSERT_TRUE(r.ok()) << r.errors[0];
    const std::string folder = out_.path() + "/yealink/" + token_;
    std::string cfg = readFile(folder + "/001565aabbcc.cfg");
    EXPECT_NE(std::string::npos, cfg.find("SIPMARK")) << cfg;
    EXPECT_NE(std::string::npos, cfg.find("ADMINMARK")) << cfg;
    // Nothing with a credential at a name computable from the MAC.
    EXPECT_FALSE(std::filesystem::exists(out_.path() + "/yealink/001565aabbcc.cfg"));
    // The common files are in the folder too, naming it as the provisioning URL.
    for (const char* name : {"y000000000000.cfg", "y000000000066.cfg"}) {
        SCOPED_TRACE(name);
        std::string copy = readFile(folder + "/" + name);
        EXPECT_TRUE(hasLine(copy, "static.auto_provision.server.url = http://127.0.0.1:8080/prov/yealink/" +
                                      token_ + "/"))
            << copy;
        EXPECT_EQ(std::string::npos, copy.find("ADMINMARK"));
        // The shared one stays for phones without reservation data.
        std::string shared = readFile(out_.path() + "/yealink/" + name);
        EXPECT_TRUE(hasLine(shared, "static.auto_provision.server.url = http://127.0.0.1:8080/prov/yealink/"))
            << shared;
    }
}

TEST_F(DeviceFolders, optionsCarryThePlaceholderWhereTheTokenGoes) {
    auto p = build(&key_);
    const std::string plain = "http://127.0.0.1:8080/prov/yealink/";
    const auto& without = p->options(id("yealink"), "", false);
    ASSERT_EQ(1u, without.size());
    EXPECT_EQ(plain, std::string(without[0].data.begin(), without[0].data.end()));
    EXPECT_TRUE(without[0].tokenAt.empty());
    const auto& with = p->options(id("yealink"), "", true);
    ASSERT_EQ(1u, with.size());
    ASSERT_EQ(std::vector<uint16_t>{static_cast<uint16_t>(plain.size())}, with[0].tokenAt);
    std::string bytes(with[0].data.begin(), with[0].data.end());
    bytes.replace(with[0].tokenAt[0], kTokenChars, p->token(kMac));
    EXPECT_EQ(plain + token_ + "/", bytes);
    // Mitel: inside option 43's sub-option 2, whose length stays right.
    const auto& mitel = p->options(id("mitel"), "", true);
    auto o43 = std::find_if(mitel.begin(), mitel.end(), [](const EncodedOption& e) { return (e.code == 43); });
    ASSERT_NE(mitel.end(), o43);
    ASSERT_EQ(1u, o43->tokenAt.size());
    EXPECT_EQ(2, o43->data[0]);
    EXPECT_EQ(std::string("http://127.0.0.1:8080/prov/mitel/").size() + kTokenChars + 1, o43->data[1]);
}

TEST_F(DeviceFolders, tftpRootVendorsKeepTheirFixedNames) {
    auto p = build(&key_);
    // Cisco reads fixed names from the TFTP root (option 150): no folder to name.
    EXPECT_FALSE(p->deviceFolder(id("cisco")));
    EXPECT_FALSE(p->deviceFolder(id("cisco-mpp")));
    for (const char* v : {"yealink", "polycom", "grandstream", "snom", "fanvil", "htek", "gigaset",
                          "panasonic", "mitel", "audiocodes", "avaya"}) {
        EXPECT_TRUE(p->deviceFolder(id(v))) << v;
    }
}

TEST_F(DeviceFolders, withoutKeyNoCredentialIsRendered) {
    auto p = build(nullptr);
    EXPECT_TRUE(p->tokensDegraded());
    EXPECT_FALSE(p->deviceFolder(id("yealink")));
    EXPECT_EQ("", p->token(kMac));
    OutputDir out(out_.path());
    RenderOutcome r = p->render(out, id("yealink"), "", kMac, "10.0.0.50", &device_);
    ASSERT_TRUE(r.ok());
    std::string cfg = readFile(out_.path() + "/yealink/001565aabbcc.cfg");
    EXPECT_FALSE(cfg.empty());
    EXPECT_EQ(std::string::npos, cfg.find("SIPMARK")) << cfg;
    EXPECT_EQ(std::string::npos, cfg.find("ADMINMARK")) << cfg;
    // Options name the vendor's folder.
    const auto& opts = p->options(id("yealink"), "", true);
    EXPECT_TRUE(opts[0].tokenAt.empty());
    // Cisco (no folder possible) keeps its credentials at its fixed names: lease
    // binding (issue 21, point 2) is what protects it.
    EXPECT_FALSE(p->deviceFolder(id("cisco")));
}

TEST_F(DeviceFolders, deviceTokensOffKeepsTheOldNames) {
    config_.deviceTokens = false;
    auto p = build(&key_);
    EXPECT_FALSE(p->tokensDegraded());
    EXPECT_FALSE(p->deviceFolder(id("yealink")));
    OutputDir out(out_.path());
    ASSERT_TRUE(p->render(out, id("yealink"), "", kMac, "10.0.0.50", &device_).ok());
    EXPECT_NE(std::string::npos, readFile(out_.path() + "/yealink/001565aabbcc.cfg").find("SIPMARK"));
}

TEST_F(DeviceFolders, aForeignVendorGetsNoPerDeviceFile) {
    // Issue 21, point 4: the phone's MAC is Yealink's, option 60 said Snom.
    auto p = build(&key_);
    for (const auto& v : catalogue_->vendors()) {
        SCOPED_TRACE(v.id);
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = p->renderFiles(id(v.id), "", kMac, "10.0.0.50", &device_, errors, skipped, true);
        for (const auto& f : files) {
            EXPECT_FALSE(f.perDevice) << f.dir << "/" << f.name;
            EXPECT_EQ(std::string::npos, f.content.find("SIPMARK"));
            EXPECT_EQ(std::string::npos, f.content.find("ADMINMARK"));
        }
    }
    // provision-unknown does not bring them back.
    config_.provisionUnknown = true;
    auto q = build(&key_);
    std::vector<std::string> errors;
    int skipped = 0;
    auto files = q->renderFiles(id("snom"), "", kMac, "", nullptr, errors, skipped, true);
    for (const auto& f : files) {
        EXPECT_FALSE(f.perDevice) << f.name;
    }
}

}  // namespace
