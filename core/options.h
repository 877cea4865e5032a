// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_OPTIONS_H
#define PHONEPROV_OPTIONS_H

#include "catalogue.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace phoneprov {

/// @brief A DHCPv4 option as code and payload bytes (without code and length).
struct EncodedOption {
    uint8_t code = 0;
    std::vector<uint8_t> data;
    /// Where a phone's token (kTokenChars bytes) goes in `data`: an option whose
    /// value names `device-url` or `device-dir` is encoded once with a placeholder
    /// of the token's length (lengths of sub-options stay right), and each phone's
    /// token is copied over it on the DHCP path.
    std::vector<uint16_t> tokenAt;
    bool operator==(const EncodedOption& o) const { return (code == o.code && data == o.data); }
};

/// @brief Variables that option values may use: base-url, vendor-url, tftp-server, ...
using OptionVars = std::map<std::string, std::string>;

/// @brief Replaces {{name}} by its value.
/// @throw ConfigError naming the unknown variable.
std::string expandVars(const std::string& text, const OptionVars& vars, const std::string& where);

/// @brief Encodes one option spec to bytes (RFC 2132 payload, RFC 3925 for vivso).
/// @throw ConfigError naming the option when a value does not fit its type or
/// the payload exceeds 255 bytes.
EncodedOption encodeOption(const OptionSpec& spec, const OptionVars& vars,
                           const std::string& where);

/// @brief Encodes a list; a later spec with the same code replaces an earlier one.
std::vector<EncodedOption> encodeOptions(const std::vector<OptionSpec>& specs,
                                         const OptionVars& vars, const std::string& where);

/// @brief Hex text of bytes ("0a0b").
std::string toHex(const std::vector<uint8_t>& bytes);

}  // namespace phoneprov

#endif  // PHONEPROV_OPTIONS_H
