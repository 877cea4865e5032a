// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: the template renderer (core/render) with hostile values, and the
// real profiles' templates with hostile reservation data (core/provisioner).
//
// Input: byte 0 = mode, byte 1 = vendor (mode 4), then parts separated by 0xff
// (0xff never occurs in valid UTF-8, so no value loses anything by it):
//   mode 0: `key = value` template, Line escaping; parts: refuse, v, w, x
//   mode 1: XML template, Xml escaping; parts: refuse, v, w, x
//   mode 2: a file name template, FileName escaping; parts: v
//   mode 3: a fuzzed template text (part 0) with fuzzed JSON variables (part 1)
//   mode 4: every file of a real vendor profile, part 0 as JSON reservation data
// Invariants: values never add lines to a `key = value` file nor markup to an XML
// file; refused characters are refused; file names are one safe component; a
// password from the reservation never lands in a common file or an error text;
// with provision-unknown, a phone without reservation data gets no secret of any
// kind (every variable secretVariable() marks) in any file.
#include "fuzz_check.h"

#include <catalogue.h>
#include <mac.h>
#include <params.h>
#include <provisioner.h>
#include <render.h>
#include <safe_write.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace phoneprov;

namespace {

using phoneprov_fuzz::check;

std::vector<std::string> split(const uint8_t* data, size_t size) {
    std::vector<std::string> parts(1);
    for (size_t i = 0; i < size; ++i) {
        if (data[i] == 0xff) {
            parts.emplace_back();
        } else {
            parts.back().push_back(static_cast<char>(data[i]));
        }
    }
    while (parts.size() < 4) {
        parts.emplace_back();
    }
    return (parts);
}

const Template& lineTemplate() {
    static const Template t("a = {{v}}\nb = {{w}}\n{{#list}}c = {{x}}\n{{/list}}", "fuzz-line");
    return (t);
}

const Template& xmlTemplate() {
    static const Template t("<a x=\"{{v}}\">{{w}}</a><b>{{#list}}{{x}}{{/list}}</b>", "fuzz-xml");
    return (t);
}

const Template& nameTemplate() {
    static const Template t("{{v}}.cfg", "fuzz-name");
    return (t);
}

const Provisioning& provisioning() {
    static const ProvisioningPtr p = [] {
        const char* profiles = std::getenv("PHONEPROV_PROFILES");
        CataloguePtr c = Catalogue::load(profiles ? profiles : PHONEPROV_SOURCE_DIR "/profiles");
        Config config;
        config.outputDir = "/nonexistent";
        config.baseUrl = "http://192.0.2.1/prov";
        config.tftpServer = "192.0.2.69";
        std::vector<std::string> warnings;
        return (Provisioning::build(c, config, warnings));
    }();
    return (*p);
}

/// @brief A plan with provision-unknown on and a secret under every kind of name
/// secretVariable() marks, in the hook-wide defaults.
const Provisioning& unknownProvisioning() {
    static const ProvisioningPtr p = [] {
        Config config = provisioning().config();
        config.provisionUnknown = true;
        config.defaults = {{"sip-server", "pbx.example.com"},
                           {"admin-password", "FUZZDEFAULTSECRET1"},
                           {"ldap-passwd", "FUZZDEFAULTSECRET2"},
                           {"aes-key", "FUZZDEFAULTSECRET3"},
                           {"admin-pin", "FUZZDEFAULTSECRET4"},
                           {"sip-secret", "FUZZDEFAULTSECRET5"},
                           {"accounts", {{{"user", "1001"}, {"password", "FUZZDEFAULTSECRET6"}}}}};
        std::vector<std::string> warnings;
        return (Provisioning::build(provisioning().cataloguePtr(), config, warnings));
    }();
    return (*p);
}

size_t count(const std::string& s, char c) {
    return (static_cast<size_t>(std::count(s.begin(), s.end(), c)));
}

bool hasAny(const std::string& s, const std::string& chars) {
    return (!chars.empty() && s.find_first_of(chars) != std::string::npos);
}

/// @brief Every string in a JSON value, and the values of "password" keys.
void strings(const nlohmann::json& j, std::vector<std::string>& all,
             std::vector<std::string>& secrets) {
    if (j.is_string()) {
        all.push_back(j.get<std::string>());
    } else if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            // Marked passwords only: an unmarked one may be a word of an error text
            // (the fuzzer made "sw' must", found in "'sip-sw' must be a string").
            if (it.key() == "password" && it.value().is_string() &&
                it.value().get<std::string>().find("s3cr") != std::string::npos) {
                secrets.push_back(it.value().get<std::string>());
            }
            strings(it.value(), all, secrets);
        }
    } else if (j.is_array()) {
        for (const auto& e : j) {
            strings(e, all, secrets);
        }
    }
}

/// @brief The same JSON with every string emptied (keys, lists and flags kept).
nlohmann::json blanked(const nlohmann::json& j) {
    if (j.is_string()) {
        return ("");
    }
    nlohmann::json out = j;
    if (j.is_object()) {
        for (auto it = out.begin(); it != out.end(); ++it) {
            it.value() = blanked(it.value());
        }
    } else if (j.is_array()) {
        for (auto& e : out) {
            e = blanked(e);
        }
    }
    return (out);
}

/// @brief How many bytes are ASCII control characters (line breaks included).
size_t controlBytes(const std::string& s) {
    return (static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) {
        return (static_cast<unsigned char>(c) < 0x20 || c == 0x7f);
    })));
}

/// @brief Every line (split at '\n') passes safeLineValue.
bool safeLines(const std::string& s) {
    size_t start = 0;
    for (;;) {
        size_t end = s.find('\n', start);
        if (!safeLineValue(s.substr(start, end == std::string::npos ? std::string::npos : end - start))) {
            return (false);
        }
        if (end == std::string::npos) {
            return (true);
        }
        start = end + 1;
    }
}

void fixedTemplate(int mode, const std::vector<std::string>& p) {
    const std::string& refuse = p[0];
    nlohmann::json vars = {{"v", p[1]}, {"w", p[2]}, {"list", {{{"x", p[3]}}}}};
    if (mode == 0) {
        RenderResult r = lineTemplate().render(vars, Escaping::Line, refuse);
        bool valuesOk = safeLineValue(p[1]) && safeLineValue(p[2]) && safeLineValue(p[3]);
        bool refused = hasAny(p[1], refuse) || hasAny(p[2], refuse) || hasAny(p[3], refuse);
        check(r.ok == (valuesOk && !refused), "line escaping accepted a bad value or refused a good one");
        if (r.ok) {
            check(count(r.text, '\n') == 3 && count(r.text, '\r') == 0, "a value added a line");
            check(r.text == "a = " + p[1] + "\nb = " + p[2] + "\nc = " + p[3] + "\n",
                  "line output differs from the values");
        } else {
            check(r.text.empty() && !r.error.empty(), "a refused render left text or no error");
        }
    } else {
        RenderResult r = xmlTemplate().render(vars, Escaping::Xml, refuse);
        bool refused = hasAny(p[1], refuse) || hasAny(p[2], refuse) || hasAny(p[3], refuse);
        std::string e1, e2, e3;
        bool valuesOk = xmlEscape(p[1], e1) && xmlEscape(p[2], e2) && xmlEscape(p[3], e3);
        check(r.ok == (valuesOk && !refused), "xml escaping accepted a bad value or refused a good one");
        if (r.ok) {
            check(count(r.text, '<') == 4 && count(r.text, '>') == 4 && count(r.text, '"') == 2 &&
                      count(r.text, '\'') == 0,
                  "a value added XML markup");
            for (unsigned char c : r.text) {
                check(c >= 0x20 || c == '\t', "a control character in XML");
            }
            for (size_t i = r.text.find('&'); i != std::string::npos; i = r.text.find('&', i + 1)) {
                std::string rest = r.text.substr(i, 6);
                check(rest.rfind("&amp;", 0) == 0 || rest.rfind("&lt;", 0) == 0 ||
                          rest.rfind("&gt;", 0) == 0 || rest.rfind("&quot;", 0) == 0 ||
                          rest.rfind("&apos;", 0) == 0,
                      "a bare '&' in XML");
            }
        }
    }
}

void fileName(const std::vector<std::string>& p) {
    RenderResult r = nameTemplate().render(nlohmann::json{{"v", p[0]}}, Escaping::FileName);
    if (r.ok) {
        check(r.text == p[0] + ".cfg", "file name output differs from the value");
        check(r.text.find('/') == std::string::npos, "a '/' in a file name");
        for (char c : p[0]) {
            check((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '.' || c == '_' || c == '-',
                  "a file name value with a character outside [A-Za-z0-9._-]");
        }
    }
}

void fuzzedTemplate(uint8_t sel, const std::vector<std::string>& p) {
    std::unique_ptr<Template> t;
    try {
        t.reset(new Template(p[0], "fuzz"));
    } catch (const ConfigError&) {
        return;
    }
    nlohmann::json vars = nlohmann::json::parse(p[1], nullptr, false);
    if (!vars.is_object()) {
        vars = {{"v", p[1]}, {"w", p[2]}, {"list", {{{"x", p[3]}}}}};
    }
    static const Escaping kEsc[] = {Escaping::Line, Escaping::Xml, Escaping::FileName};
    Escaping esc = kEsc[sel % 3];
    RenderResult r = t->render(vars, esc, p[2]);
    if (r.ok && esc == Escaping::Line) {
        // Values never add a line nor a control byte: the same template rendered with
        // every string emptied (the same sections, lists and flags, so the same
        // literal text) has as many. And where that skeleton's lines are all safe,
        // so are the output's where the template text is valid UTF-8 (a tag then never
        // splits a character): a safe value inside a safe line keeps it safe. (The old
        // check, "an unsafe value is not found verbatim", was wrong where the literal
        // text around an emptied tag spells the value: found by CI's fuzz run.)
        RenderResult skeleton = t->render(blanked(vars), esc, p[2]);
        check(skeleton.ok, "a render failed with every value empty");
        check(controlBytes(r.text) == controlBytes(skeleton.text),
              "a value added a line or a control character to a line file");
        check(!safeLines(p[0]) || !safeLines(skeleton.text) || safeLines(r.text),
              "a value made a line of a line file unsafe");
    }
}

void realProfiles(uint8_t vendorSel, const std::vector<std::string>& p) {
    const Provisioning& prov = provisioning();
    const auto& vendors = prov.catalogue().vendors();
    int vendor = vendorSel % vendors.size();
    nlohmann::json device = nlohmann::json::parse(p[0], nullptr, false);
    if (device.is_discarded()) {
        return;
    }
    std::string model = p[1].size() <= 32 ? p[1] : "";
    const VendorProfile& v = vendors[vendor];
    if (!model.empty() && !v.models.count(model)) {
        model.clear();
    }
    Mac mac;
    mac.bytes = {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc};
    std::vector<std::string> errors;
    int skipped = 0;
    auto files = prov.renderFiles(vendor, model, mac, p[2].size() < 40 ? p[2] : "", &device, errors,
                                  skipped);
    std::vector<std::string> all, secrets;
    strings(device, all, secrets);
    Escaping esc = escapingFor(v.format);
    for (const auto& f : files) {
        check(safeFileName(f.name), "unsafe file name");
        check(f.dir.empty() || safeFileName(f.dir), "unsafe folder name");
        for (const std::string& s : secrets) {
            check(f.perDevice || f.content.find(s) == std::string::npos, "a password in a common file");
        }
        for (const std::string& s : all) {
            // A hostile value (marked EVIL so that it cannot be template text) is
            // refused or escaped, never copied as is.
            if (s.find("EVIL") == std::string::npos) {
                continue;
            }
            // ('&' alone proves nothing: "a&amp;" holds "a&" once escaped.)
            bool hostile = esc == Escaping::Xml ? s.find_first_of("<>\"'") != std::string::npos
                                                : !safeLineValue(s);
            check(!hostile || f.content.find(s) == std::string::npos, "a hostile value copied as is");
        }
    }
    for (const std::string& e : errors) {
        for (const std::string& s : secrets) {
            check(e.find(s) == std::string::npos, "a password in an error text");
        }
    }
    // The same phone without reservation data, provision-unknown on: nothing secret.
    errors.clear();
    auto unknown = unknownProvisioning().renderFiles(vendor, model, mac, p[2].size() < 40 ? p[2] : "",
                                                     nullptr, errors, skipped);
    for (const auto& f : unknown) {
        check(f.content.find("FUZZDEFAULTSECRET") == std::string::npos,
              "a secret in a provision-unknown file");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return (0);
    }
    uint8_t mode = data[0];
    std::vector<std::string> parts = split(data + 2, size - 2);
    switch (mode % 5) {
    case 0:
    case 1:
        fixedTemplate(mode % 5, parts);
        break;
    case 2:
        fileName(parts);
        break;
    case 3:
        fuzzedTemplate(data[1], parts);
        break;
    default:
        realProfiles(data[1], parts);
        break;
    }
    return (0);
}
