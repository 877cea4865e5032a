// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "render.h"

#include "catalogue.h"
#include "json_check.h"

#include <kainjow/mustache.hpp>

#include <set>

namespace phoneprov {

namespace mstch = kainjow::mustache;

struct Template::Impl {
    explicit Impl(const std::string& text) : tmpl(text) {}
    mutable std::mutex mutex;
    mutable mstch::mustache tmpl;
    /// Every name a tag of the template looks up (the first part of a dotted name):
    /// only these top-level variables are converted for a render, so a file that
    /// names no `accounts` does not copy a phone's accounts.
    std::set<std::string> names;
};

Escaping escapingFor(const std::string& format) {
    return (format == "xml" ? Escaping::Xml : Escaping::Line);
}

namespace {

/// @brief Length of the UTF-8 sequence at s[i], or 0 when invalid.
size_t utf8Length(const std::string& s, size_t i, uint32_t& cp) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n;
    if (c < 0x80) {
        cp = c;
        return (1);
    } else if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return (0);
    }
    if (i + n > s.size()) {
        return (0);
    }
    for (size_t k = 1; k < n; ++k) {
        unsigned char d = static_cast<unsigned char>(s[i + k]);
        if ((d & 0xc0) != 0x80) {
            return (0);
        }
        cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid.
    static const uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return (0);
    }
    return (n);
}

bool forbiddenCodePoint(uint32_t cp, bool allowTab) {
    if (cp == '\t') {
        return (!allowTab);
    }
    return (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) || cp == 0x2028 ||
            cp == 0x2029 || cp == 0xfeff || cp == 0xfffe || cp == 0xffff);
}

bool checkText(const std::string& v, bool allowTab) {
    for (size_t i = 0; i < v.size();) {
        uint32_t cp = 0;
        size_t n = utf8Length(v, i, cp);
        if (n == 0 || forbiddenCodePoint(cp, allowTab)) {
            return (false);
        }
        i += n;
    }
    return (true);
}

/// @param only when given, the top-level keys kept (the template's names).
mstch::data toData(const nlohmann::json& j, const std::set<std::string>* only = nullptr) {
    switch (j.type()) {
    case nlohmann::json::value_t::object: {
        mstch::data d{mstch::data::type::object};
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (only && only->count(it.key()) == 0) {
                continue;
            }
            if (!it.value().is_null()) {
                d.set(it.key(), toData(it.value()));
            }
        }
        return (d);
    }
    case nlohmann::json::value_t::array: {
        mstch::data d{mstch::data::type::list};
        for (const auto& e : j) {
            d.push_back(toData(e));
        }
        return (d);
    }
    case nlohmann::json::value_t::string:
        return (mstch::data(j.get<std::string>()));
    case nlohmann::json::value_t::boolean:
        return (mstch::data(j.get<bool>()));
    case nlohmann::json::value_t::null:
        return (mstch::data(false));
    default:
        return (mstch::data(j.dump()));
    }
}

}  // namespace

/// Deepest nesting of sections a template may have.
constexpr int kMaxSectionDepth = 16;

bool safeLineValue(const std::string& v) {
    return (checkText(v, false));
}

bool xmlEscape(const std::string& v, std::string& out) {
    if (!checkText(v, true)) {
        return (false);
    }
    out.clear();
    out.reserve(v.size());
    for (char c : v) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            out.push_back(c);
        }
    }
    return (true);
}

Template::Template(const std::string& text, const std::string& where) {
    // Mustache trims blanks inside a tag: "{{ &x}}" is "{{&x}}". Look past them.
    int depth = 0;
    std::set<std::string> names;
    for (size_t pos = text.find("{{"); pos != std::string::npos; pos = text.find("{{", pos + 2)) {
        size_t i = pos + 2;
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
                                   text[i] == '\n')) {
            ++i;
        }
        if (i >= text.size()) {
            break;
        }
        if (text[i] == '{' || text[i] == '&' || text[i] == '=') {
            throw ConfigError(where + ":" + lineColumn(text, pos) + ": '{{" + std::string(1, text[i]) +
                              "' is not allowed: every value must be escaped");
        }
        // A partial renders a variable's value as a template: unescaped, and a value
        // naming itself recursed until the stack overflowed (found by fuzz_render).
        if (text[i] == '>') {
            throw ConfigError(where + ":" + lineColumn(text, pos) +
                              ": '{{>' (a partial) is not allowed: a value would "
                              "be rendered as a template");
        }
        // Sections nest by recursion in the renderer: bounded, far above any profile.
        if (text[i] == '#' || text[i] == '^') {
            if (++depth > kMaxSectionDepth) {
                throw ConfigError(where + ":" + lineColumn(text, pos) +
                                  ": sections nested deeper than " +
                                  std::to_string(kMaxSectionDepth));
            }
        } else if (text[i] == '/') {
            --depth;
        }
        if (text[i] == '!') {
            continue;  // a comment
        }
        if (text[i] == '#' || text[i] == '^' || text[i] == '/') {
            ++i;
        }
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\r' ||
                                   text[i] == '\n')) {
            ++i;
        }
        size_t end = i;
        while (end < text.size() && text[end] != '}' && text[end] != ' ' && text[end] != '\t' &&
               text[end] != '\r' && text[end] != '\n') {
            ++end;
        }
        std::string name = text.substr(i, end - i);
        names.insert(name.substr(0, name.find('.')));
    }
    impl_.reset(new Impl(text));
    impl_->names = std::move(names);
    if (!impl_->tmpl.is_valid()) {
        // kainjow's messages end in " at <offset>": give the line and column instead.
        std::string msg = impl_->tmpl.error_message();
        size_t at = msg.rfind(" at ");
        if (at != std::string::npos && at + 4 < msg.size() &&
            msg.find_first_not_of("0123456789", at + 4) == std::string::npos) {
            size_t offset = std::stoul(msg.substr(at + 4));
            throw ConfigError(where + ":" + lineColumn(text, offset) + ": " + msg.substr(0, at));
        }
        throw ConfigError(where + ": " + msg);
    }
}

Template::~Template() = default;

RenderResult Template::render(const nlohmann::json& vars, Escaping escaping,
                              const std::string& refuse) const {
    RenderResult r;
    std::string refused;
    auto escape = [&refused, escaping, &refuse](const std::string& v) -> std::string {
        if (!refused.empty()) {
            return ("");
        }
        if (!refuse.empty() && v.find_first_of(refuse) != std::string::npos) {
            refused = "a value holds a character this format cannot carry";
            return ("");
        }
        switch (escaping) {
        case Escaping::Xml: {
            std::string out;
            if (!xmlEscape(v, out)) {
                refused = "a value holds a character that XML cannot carry";
                return ("");
            }
            return (out);
        }
        case Escaping::Line:
            if (!safeLineValue(v)) {
                refused = "a value holds a line break or control character";
                return ("");
            }
            return (v);
        case Escaping::FileName:
            for (char c : v) {
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
                if (!ok) {
                    refused = "a file name value holds a character outside [A-Za-z0-9._-]";
                    return ("");
                }
            }
            return (v);
        }
        return ("");
    };
    mstch::data data = toData(vars, &impl_->names);
    {
        std::lock_guard<std::mutex> lock(impl_->mutex);
        impl_->tmpl.set_custom_escape(escape);
        r.text = impl_->tmpl.render(data);
        impl_->tmpl.set_custom_escape(nullptr);
        if (!impl_->tmpl.is_valid()) {
            r.error = impl_->tmpl.error_message();
            return (r);
        }
    }
    if (!refused.empty()) {
        r.text.clear();
        r.error = refused;
        return (r);
    }
    r.ok = true;
    return (r);
}

}  // namespace phoneprov
