// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_PREFIX_H
#define PHONEPROV_PREFIX_H

#include "mac.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phoneprov {

/// @brief A MAC prefix of 24 (MA-L), 28 (MA-M) or 36 (MA-S) bits.
struct Prefix {
    uint64_t value = 0;  ///< the prefix bits, right-aligned
    uint8_t bits = 0;    ///< 24, 28 or 36

    /// @brief The prefix of a MAC at a given length.
    static Prefix of(const Mac& mac, uint8_t bits) {
        return (Prefix{mac.value() >> (48 - bits), bits});
    }
    /// @brief Text form: 00:15:65, 70:B3:D5:1/28, 70:B3:D5:12:3/36.
    std::string text() const;
};

/// @brief Parses "00:15:65", "001565", "70:B3:D5:1/28", "70B3D51/28", "70:B3:D5:12:3/36".
/// Without a length, 6 hex digits mean 24 bits, 7 mean 28 and 9 mean 36.
std::optional<Prefix> parsePrefix(std::string_view text);

/// @brief Parses an IEEE registry "Assignment" (6, 7 or 9 hex digits).
std::optional<Prefix> parseAssignment(std::string_view hex);

}  // namespace phoneprov

#endif  // PHONEPROV_PREFIX_H
