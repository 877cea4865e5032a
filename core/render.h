// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_RENDER_H
#define PHONEPROV_RENDER_H

#include <nlohmann/json.hpp>

#include <memory>
#include <mutex>
#include <string>

namespace phoneprov {

/// @brief How values are escaped in a rendered file.
enum class Escaping {
    Xml,       ///< & < > " ' escaped; control characters refused
    Line,      ///< `key = value` formats: any control or line-breaking character refused
    FileName,  ///< only [A-Za-z0-9._-] allowed
};

/// @brief Escaping for a profile format ("xml" -> Xml, "kv"/"text" -> Line).
Escaping escapingFor(const std::string& format);

/// @brief The outcome of a render.
struct RenderResult {
    bool ok = false;
    std::string text;
    std::string error;  ///< names the variable that was refused; never its value
};

/// @brief A compiled Mustache template (kainjow::mustache). Thread-safe.
///
/// Templates may not use unescaped output (`{{{x}}}`, `{{&x}}`) nor change the
/// delimiters, so every value goes through the escaping of the file's format.
class Template {
public:
    /// @throw ConfigError naming `where` on a syntax error or a forbidden tag.
    Template(const std::string& text, const std::string& where);
    ~Template();

    /// @brief Renders with variables (a JSON object).
    /// @param refuse characters a value may not hold beyond the format's rule (a
    /// profile's `refuse-chars`, such as `"` where values are quoted).
    RenderResult render(const nlohmann::json& vars, Escaping escaping,
                        const std::string& refuse = "") const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// @brief Checks a value for a line-based format: no control characters, no
/// Unicode line breaks, valid UTF-8.
bool safeLineValue(const std::string& v);

/// @brief Escapes for XML; returns false when the value holds characters XML cannot carry.
bool xmlEscape(const std::string& v, std::string& out);

}  // namespace phoneprov

#endif  // PHONEPROV_RENDER_H
