// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_JSON_CHECK_H
#define PHONEPROV_JSON_CHECK_H

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace phoneprov {

/// @brief The JSON types a keyword may take.
enum class JType { String, Bool, Int, Map, List, Any };

/// @brief One entry of a keyword table.
struct Keyword {
    const char* name;
    JType type;
    bool required;
};

/// @brief The name of a type, as used in error messages.
const char* jtypeName(JType t);

/// @brief Checks an object against a keyword table, in the manner of Kea's
/// SimpleParser::checkKeywords.
/// @throw ConfigError "<where>: unknown parameter 'x'", "<where>: 'x' must be a
/// string", "<where>: missing parameter 'x'".
void checkKeywords(const nlohmann::json& obj, const std::vector<Keyword>& table,
                   const std::string& where);

/// @brief A string member, or a default.
std::string getString(const nlohmann::json& obj, const char* key, const std::string& def = "");
/// @brief A bool member, or a default.
bool getBool(const nlohmann::json& obj, const char* key, bool def);
/// @brief An integer member in [lo, hi], or a default.
/// @throw ConfigError naming the key when out of range.
long long getInt(const nlohmann::json& obj, const char* key, long long def, long long lo,
                 long long hi, const std::string& where);

/// @brief "L:C" (1-based line and column) of a byte offset in a text.
std::string lineColumn(const std::string& text, size_t offset);

/// @brief Parses JSON text.
/// @throw ConfigError "<where>:<line>:<column>: not valid JSON: <what the parser
/// expected>" (never the text itself: it may hold secrets).
nlohmann::json parseJsonText(const std::string& text, const std::string& where);

}  // namespace phoneprov

#endif  // PHONEPROV_JSON_CHECK_H
