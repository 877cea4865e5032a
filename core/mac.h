// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_MAC_H
#define PHONEPROV_MAC_H

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phoneprov {

/// @brief A 48-bit Ethernet MAC address.
struct Mac {
    std::array<uint8_t, 6> bytes{};

    /// @brief The MAC as an integer, for hashing and prefix lookups.
    uint64_t value() const {
        uint64_t v = 0;
        for (uint8_t b : bytes) {
            v = (v << 8) | b;
        }
        return (v);
    }
    bool operator==(const Mac& o) const { return (bytes == o.bytes); }
    bool operator!=(const Mac& o) const { return (!(*this == o)); }

    /// @brief Lower-case hex without separators: 001565aabbcc.
    std::string lower() const;
    /// @brief Upper-case hex without separators: 001565AABBCC.
    std::string upper() const;
    /// @brief Colon-separated lower case: 00:15:65:aa:bb:cc.
    std::string colon() const;
};

/// @brief Parses a MAC written as 00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC,
/// 001565aabbcc or 0015.65aa.bbcc (any case).
/// @return the MAC, or nothing when the text is not exactly one MAC.
std::optional<Mac> parseMac(std::string_view text);

/// @brief Why a hardware address from a packet is not usable as a phone MAC.
enum class MacProblem { None, NotEthernet, BadLength, AllZero, Multicast };

/// @brief Checks a hardware address taken from a packet (attacker-controlled).
/// @param htype the packet's htype (1 is Ethernet).
/// @param data the address bytes; @param len their count (hlen, may be 0 or > 6).
/// @param out receives the MAC when the address is usable.
MacProblem checkPacketMac(uint8_t htype, const uint8_t* data, size_t len, Mac& out);

/// @brief A short text for a MacProblem (for logs).
const char* macProblemText(MacProblem p);

/// @brief The value of one hex digit, or -1.
int hexDigitValue(char c);

/// @brief Writes 12 lower-case hex digits into out (no allocation).
void formatMacLower(const Mac& mac, char out[12]);

}  // namespace phoneprov

#endif  // PHONEPROV_MAC_H
