// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Template rendering and per-format escaping.
#include "render.h"

#include "catalogue.h"
#include "safe_write.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace phoneprov;
using nlohmann::json;

namespace {

/// @brief The message of the ConfigError the Template constructor throws, or "".
std::string templateError(const std::string& text) {
    try {
        Template t(text, "yealink/templates/mac.cfg.mustache");
    } catch (const ConfigError& e) {
        return (e.what());
    }
    return ("");
}

RenderResult renderOne(const std::string& text, const json& vars, Escaping e) {
    Template t(text, "t");
    return (t.render(vars, e));
}

TEST(XmlEscape, escapesTheFiveCharacters) {
    std::string out;
    ASSERT_TRUE(xmlEscape("a&b<c>d\"e'f", out));
    EXPECT_EQ("a&amp;b&lt;c&gt;d&quot;e&apos;f", out);
    ASSERT_TRUE(xmlEscape("&amp;", out));
    EXPECT_EQ("&amp;amp;", out);  // escaped again: a value is never markup
    ASSERT_TRUE(xmlEscape("plain text\twith tab, \xc3\xa9t\xc3\xa9", out));
    EXPECT_EQ("plain text\twith tab, \xc3\xa9t\xc3\xa9", out);
    ASSERT_TRUE(xmlEscape("", out));
    EXPECT_EQ("", out);
    // Characters XML 1.0 cannot carry.
    EXPECT_FALSE(xmlEscape(std::string("a\0b", 3), out));
    EXPECT_FALSE(xmlEscape("a\x01" "b", out));
    EXPECT_FALSE(xmlEscape("a\x1b[31m", out));
    EXPECT_FALSE(xmlEscape("bad \xff utf-8", out));
}

TEST(XmlEscape, refusesNonCharacters) {
    std::string out;
    EXPECT_FALSE(xmlEscape("a\xef\xbf\xbf", out));
    EXPECT_FALSE(xmlEscape("a\xef\xbf\xbe", out));
}

TEST(Template, xmlEscapingInAFile) {
    RenderResult r = renderOne("<P34>{{password}}</P34>", {{"password", "a&b<c>d\"e'f"}},
                               Escaping::Xml);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ("<P34>a&amp;b&lt;c&gt;d&quot;e&apos;f</P34>", r.text);
    EXPECT_EQ("", r.error);
    // Attribute values too.
    r = renderOne("<a v=\"{{v}}\"/>", {{"v", "\" onload=\"x"}}, Escaping::Xml);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ("<a v=\"&quot; onload=&quot;x\"/>", r.text);
}

TEST(SafeLineValue, refusesLineBreaksControlsAndBadUtf8) {
    struct Scenario {
        int line_;
        std::string value;
        bool ok;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "", true},
        {__LINE__, "secret = with # and ; and \"quotes\"", true},
        {__LINE__, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e", true},
        {__LINE__, "a\rb", false},
        {__LINE__, "a\nb", false},
        {__LINE__, "a\r\nb", false},
        {__LINE__, std::string("a\0b", 3), false},
        {__LINE__, "a\tb", false},
        {__LINE__, "a\x7f" "b", false},
        {__LINE__, "a\xc2\x85" "b", false},        // U+0085 NEL
        {__LINE__, "a\xe2\x80\xa8" "b", false},    // U+2028 LINE SEPARATOR
        {__LINE__, "a\xe2\x80\xa9" "b", false},    // U+2029 PARAGRAPH SEPARATOR
        {__LINE__, "a\xc2\x9b" "b", false},        // C1 CSI
        {__LINE__, "\xef\xbb\xbf" "a", false},     // BOM
        {__LINE__, "a\xff" "b", false},            // invalid byte
        {__LINE__, "a\xc3", false},                // truncated sequence
        {__LINE__, "\xc0\x8a", false},             // overlong LF
        {__LINE__, "\xe0\x80\x8a", false},         // overlong LF, 3 bytes
        {__LINE__, "\xed\xa0\x80", false},         // surrogate
        {__LINE__, "\xf4\x90\x80\x80", false},     // past U+10FFFF
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        EXPECT_EQ(s.ok, safeLineValue(s.value));
    }
}

TEST(Template, lineEscapingRefusesTheWholeFile) {
    const std::vector<std::string> bad = {
        "\r", "\n", std::string(1, '\0'), "\xe2\x80\xa8", "\xc2\x85", "\xff", "\xc0\xaf",
    };
    Template t("account.1.user_name = {{user}}\naccount.1.password = {{password}}\n", "t");
    for (const std::string& b : bad) {
        SCOPED_TRACE("byte " + std::to_string(static_cast<unsigned char>(b[0])));
        const std::string value = "MARKER-7f3a" + b + "static.security.user_password = admin:x";
        RenderResult r = t.render({{"user", "1001"}, {"password", value}}, Escaping::Line);
        EXPECT_FALSE(r.ok);
        EXPECT_EQ("", r.text);
        EXPECT_FALSE(r.error.empty());
        EXPECT_EQ(std::string::npos, r.error.find("MARKER-7f3a"));
        EXPECT_EQ(std::string::npos, r.error.find("1001"));
    }
    RenderResult r = t.render({{"user", "1001"}, {"password", "p=a;ss#word"}}, Escaping::Line);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ("account.1.user_name = 1001\naccount.1.password = p=a;ss#word\n", r.text);
}

TEST(Template, xmlRefusalNamesNoValue) {
    Template t("<a>{{v}}</a>", "t");
    RenderResult r = t.render({{"v", "MARKER-1c2d\x01"}}, Escaping::Xml);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ("", r.text);
    EXPECT_EQ(std::string::npos, r.error.find("MARKER-1c2d"));
}

TEST(Template, forbiddenTagsAndSyntaxErrors) {
    struct Scenario {
        int line_;
        std::string text;
        std::string expected;  ///< exact message, or a prefix when it ends with '*'
    };
    // Every message names the template, then the line and column of the tag at fault.
    const std::string w = "yealink/templates/mac.cfg.mustache:";
    auto nested = [](int n) {
        std::string t;
        for (int i = 0; i < n; ++i) t += "{{#a}}";
        for (int i = 0; i < n; ++i) t += "{{/a}}";
        return (t);
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "a = {{{x}}}", w + "1:5: '{{{' is not allowed: every value must be escaped"},
        {__LINE__, "a = {{&x}}", w + "1:5: '{{&' is not allowed: every value must be escaped"},
        {__LINE__, "{{=<% %>=}}a = <%x%>", w + "1:1: '{{=' is not allowed: every value must be escaped"},
        {__LINE__, "{{#accounts}}x", w + "1:1: Unclosed section \"accounts\""},
        {__LINE__, "{{/accounts}}", w + "1:1: Unopened section \"accounts\""},
        {__LINE__, "a = {{x", w + "1:5: Unclosed tag"},
        {__LINE__, "# one\n\nsip = {{#accounts}}{{user}}\n", w + "3:7: Unclosed section \"accounts\""},
        {__LINE__, "a = 1\nb = {{x", w + "2:5: Unclosed tag"},
        {__LINE__, "{{#a}}{{/b}}", w + "*"},
        // A partial renders a value as a template (unescaped; one naming itself
        // recursed until the stack overflowed: found by fuzz_render's long run).
        {__LINE__, "a = {{>v}}", w + "1:5: '{{>' (a partial) is not allowed: a value would be rendered as a template"},
        {__LINE__, "a = {{ > v}}", w + "1:5: '{{>' (a partial) is not allowed: a value would be rendered as a template"},
        {__LINE__, nested(17), w + "1:97: sections nested deeper than 16"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.text);
        std::string err = templateError(s.text);
        if (!s.expected.empty() && s.expected.back() == '*') {
            EXPECT_EQ(0u, err.find(s.expected.substr(0, s.expected.size() - 1))) << err;
        } else {
            EXPECT_EQ(s.expected, err);
        }
    }
    EXPECT_EQ("", templateError("a = {{x}} {{! comment }} {{#s}}{{y}}{{/s}} {{^s}}z{{/s}}"));
    // 16 levels are fine, and siblings do not add up.
    std::string wide;
    for (int i = 0; i < 40; ++i) wide += "{{#a}}x{{/a}}{{^b}}y{{/b}}";
    EXPECT_EQ("", templateError(nested(16)));
    EXPECT_EQ("", templateError(wide));
}

TEST(Template, unescapedTagsWithWhitespaceAreRefused) {
    EXPECT_NE("", templateError("a = {{ &x}}"));
    EXPECT_NE("", templateError("a = {{\t&x}}"));
    EXPECT_NE("", templateError("{{ =<% %>= }}a = <%&x%>"));
    // And if ever accepted, no value may reach a kv file unchecked.
    try {
        Template t("a = {{ &x}}\n", "t");
        RenderResult r = t.render({{"x", "1\nb = pwned"}}, Escaping::Line);
        EXPECT_FALSE(r.ok);
    } catch (const ConfigError&) {
    }
}

TEST(Template, sectionsOverAccounts) {
    Template t("{{#accounts}}account.{{index}}.user = {{user}}@{{sip-server}}\n{{/accounts}}"
               "{{^accounts}}no accounts\n{{/accounts}}"
               "{{#ntp-server}}ntp = {{ntp-server}}\n{{/ntp-server}}",
               "t");
    json vars = {{"sip-server", "pbx.example.com"},
                 {"accounts", json::array({{{"index", "1"}, {"user", "1001"}},
                                           {{"index", "2"}, {"user", "1002"}}})}};
    RenderResult r = t.render(vars, Escaping::Line);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ("account.1.user = 1001@pbx.example.com\naccount.2.user = 1002@pbx.example.com\n",
              r.text);
    vars["accounts"] = json::array();
    vars["ntp-server"] = "pool.ntp.org";
    r = t.render(vars, Escaping::Line);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ("no accounts\nntp = pool.ntp.org\n", r.text);
    // A value refused inside a section refuses the file.
    vars["accounts"] = json::array({{{"index", "1"}, {"user", "10\n01"}}});
    r = t.render(vars, Escaping::Line);
    EXPECT_FALSE(r.ok);
    EXPECT_EQ("", r.text);
}

TEST(Template, valueTypes) {
    Template t("[{{s}}][{{n}}][{{missing}}][{{#flag}}on{{/flag}}][{{^off}}off{{/off}}]"
               "[{{#nul}}x{{/nul}}]",
               "t");
    RenderResult r = t.render({{"s", "text"}, {"n", 5060}, {"flag", true}, {"off", false},
                               {"nul", nullptr}},
                              Escaping::Line);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ("[text][5060][][on][off][]", r.text);
}

TEST(Template, fileNameEscaping) {
    Template t("{{name}}.cfg", "file name");
    struct Scenario {
        int line_;
        std::string value;
        bool ok;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "001565aabbcc", true},
        {__LINE__, "y000000000028", true},
        {__LINE__, "CP-8851-3PCC_x", true},
        {__LINE__, "../etc/passwd", false},
        {__LINE__, "a/b", false},
        {__LINE__, "/abs", false},
        {__LINE__, "a\\b", false},
        {__LINE__, "a b", false},
        {__LINE__, "a\nb", false},
        {__LINE__, "caf\xc3\xa9", false},
        {__LINE__, "a&b", false},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        RenderResult r = t.render({{"name", s.value}}, Escaping::FileName);
        EXPECT_EQ(s.ok, r.ok);
        if (s.ok) {
            EXPECT_EQ(s.value + ".cfg", r.text);
        } else {
            EXPECT_EQ("", r.text);
            EXPECT_FALSE(r.error.empty());
        }
    }
    // Dots alone pass the escaping but never make a safe name: the writer refuses them.
    Template bare("{{name}}", "file name");
    for (const std::string v : {"..", ".", ".hidden"}) {
        RenderResult r = bare.render({{"name", v}}, Escaping::FileName);
        EXPECT_FALSE(r.ok && safeFileName(r.text)) << v;
    }
}

TEST(EscapingFor, formats) {
    EXPECT_EQ(Escaping::Xml, escapingFor("xml"));
    EXPECT_EQ(Escaping::Line, escapingFor("kv"));
    EXPECT_EQ(Escaping::Line, escapingFor("text"));
    EXPECT_EQ(Escaping::Line, escapingFor("anything else"));
}

TEST(Template, concurrentRendersDoNotMixEscapings) {
    Template t("v={{v}}", "t");
    const json vars = {{"v", "<&>"}};
    std::atomic<int> wrong{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
        threads.emplace_back([&, k] {
            for (int i = 0; i < 500; ++i) {
                Escaping e = (k % 2) ? Escaping::Xml : Escaping::Line;
                RenderResult r = t.render(vars, e);
                std::string want = (k % 2) ? "v=&lt;&amp;&gt;" : "v=<&>";
                if (!r.ok || r.text != want) {
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

}  // namespace
