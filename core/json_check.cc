// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "json_check.h"

#include "catalogue.h"

#include <algorithm>

namespace phoneprov {

const char* jtypeName(JType t) {
    switch (t) {
    case JType::String:
        return ("a string");
    case JType::Bool:
        return ("a boolean");
    case JType::Int:
        return ("an integer");
    case JType::Map:
        return ("a map");
    case JType::List:
        return ("a list");
    case JType::Any:
        return ("a value");
    }
    return ("a value");
}

namespace {

bool hasType(const nlohmann::json& v, JType t) {
    switch (t) {
    case JType::String:
        return (v.is_string());
    case JType::Bool:
        return (v.is_boolean());
    case JType::Int:
        return (v.is_number_integer());
    case JType::Map:
        return (v.is_object());
    case JType::List:
        return (v.is_array());
    case JType::Any:
        return (true);
    }
    return (false);
}

}  // namespace

void checkKeywords(const nlohmann::json& obj, const std::vector<Keyword>& table,
                   const std::string& where) {
    if (!obj.is_object()) {
        throw ConfigError(where + ": must be a map");
    }
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        const Keyword* kw = nullptr;
        for (const Keyword& k : table) {
            if (it.key() == k.name) {
                kw = &k;
                break;
            }
        }
        if (!kw) {
            throw ConfigError(where + ": unknown parameter '" + it.key() + "'");
        }
        if (!hasType(it.value(), kw->type)) {
            throw ConfigError(where + ": '" + it.key() + "' must be " + jtypeName(kw->type));
        }
    }
    for (const Keyword& k : table) {
        if (k.required && !obj.contains(k.name)) {
            throw ConfigError(where + ": missing parameter '" + std::string(k.name) + "'");
        }
    }
}

std::string getString(const nlohmann::json& obj, const char* key, const std::string& def) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) {
        return (def);
    }
    return (it->get<std::string>());
}

bool getBool(const nlohmann::json& obj, const char* key, bool def) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_boolean()) {
        return (def);
    }
    return (it->get<bool>());
}

long long getInt(const nlohmann::json& obj, const char* key, long long def, long long lo,
                 long long hi, const std::string& where) {
    auto it = obj.find(key);
    if (it == obj.end()) {
        return (def);
    }
    long long v = it->get<long long>();
    if (v < lo || v > hi) {
        throw ConfigError(where + ": '" + key + "' is " + std::to_string(v) +
                          ", must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
    }
    return (v);
}

std::string lineColumn(const std::string& text, size_t offset) {
    offset = std::min(offset, text.size());
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return (std::to_string(line) + ":" + std::to_string(column));
}

nlohmann::json parseJsonText(const std::string& text, const std::string& where) {
    if (text.empty()) {
        // Said here, not by the parser: nlohmann 3.11.3 (Debian 13) words an empty input
        // apart from every other end of input, 3.11.2 (Debian 12) does not.
        throw ConfigError(where + ":1:1: not valid JSON: unexpected end of input, expected '[', "
                                  "'{', or a literal");
    }
    try {
        return (nlohmann::json::parse(text));
    } catch (const nlohmann::json::parse_error& e) {
        // e.byte: 1-based index of the last byte read. The parser's own message
        // quotes the text read ("last read: ..."): keep only what it expected.
        std::string what = e.what();
        std::string reason;
        size_t dash = what.find(" - ");
        if (dash != std::string::npos) {
            std::string rest = what.substr(dash + 3);
            reason = rest.substr(0, rest.find(';'));
            size_t expected = rest.find("; expected ");
            if (expected != std::string::npos) {
                reason += ", " + rest.substr(expected + 2);
            }
        }
        size_t at = e.byte > 0 ? e.byte - 1 : 0;
        throw ConfigError(where + ":" + lineColumn(text, at) + ": not valid JSON" +
                          (reason.empty() ? "" : ": " + reason));
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(where + ": not valid JSON");
    }
}

}  // namespace phoneprov
