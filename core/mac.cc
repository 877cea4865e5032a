// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "mac.h"

namespace phoneprov {

int hexDigitValue(char c) {
    if (c >= '0' && c <= '9') {
        return (c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return (c - 'A' + 10);
    }
    return (-1);
}

namespace {

std::string format(const Mac& mac, const char* digits, char sep) {
    std::string out;
    out.reserve(17);
    for (size_t i = 0; i < mac.bytes.size(); ++i) {
        if (sep && i) {
            out.push_back(sep);
        }
        out.push_back(digits[mac.bytes[i] >> 4]);
        out.push_back(digits[mac.bytes[i] & 0xf]);
    }
    return (out);
}

const char kLower[] = "0123456789abcdef";
const char kUpper[] = "0123456789ABCDEF";

}  // namespace

std::string Mac::lower() const { return (format(*this, kLower, 0)); }
std::string Mac::upper() const { return (format(*this, kUpper, 0)); }
std::string Mac::colon() const { return (format(*this, kLower, ':')); }

void formatMacLower(const Mac& mac, char out[12]) {
    for (size_t i = 0; i < 6; ++i) {
        out[2 * i] = kLower[mac.bytes[i] >> 4];
        out[2 * i + 1] = kLower[mac.bytes[i] & 0xf];
    }
}

std::optional<Mac> parseMac(std::string_view text) {
    // Accepts exactly 12 hex digits, separated consistently by ':', '-', '.' or
    // nothing. Separators may only fall between digit pairs (or, for '.', quads).
    Mac mac;
    size_t digits = 0;
    char sep = 0;
    for (char c : text) {
        int v = hexDigitValue(c);
        if (v >= 0) {
            if (digits >= 12) {
                return (std::nullopt);
            }
            mac.bytes[digits / 2] = static_cast<uint8_t>((mac.bytes[digits / 2] << 4) | v);
            ++digits;
            continue;
        }
        if (c != ':' && c != '-' && c != '.') {
            return (std::nullopt);
        }
        if (sep == 0) {
            sep = c;
        } else if (sep != c) {
            return (std::nullopt);
        }
        size_t group = (c == '.') ? 4 : 2;
        if (digits == 0 || digits % group != 0) {
            return (std::nullopt);
        }
    }
    if (digits != 12) {
        return (std::nullopt);
    }
    // Separators must not trail and must be complete (5 for ':'/'-', 2 for '.').
    size_t seps = text.size() - 12;
    if (sep && seps != (sep == '.' ? 2u : 5u)) {
        return (std::nullopt);
    }
    return (mac);
}

MacProblem checkPacketMac(uint8_t htype, const uint8_t* data, size_t len, Mac& out) {
    if (htype != 1) {
        return (MacProblem::NotEthernet);
    }
    if (len != 6 || data == nullptr) {
        return (MacProblem::BadLength);
    }
    bool zero = true;
    for (size_t i = 0; i < 6; ++i) {
        out.bytes[i] = data[i];
        zero = zero && data[i] == 0;
    }
    if (zero) {
        return (MacProblem::AllZero);
    }
    if (data[0] & 0x01) {
        return (MacProblem::Multicast);
    }
    return (MacProblem::None);
}

const char* macProblemText(MacProblem p) {
    switch (p) {
    case MacProblem::None:
        return ("ok");
    case MacProblem::NotEthernet:
        return ("hardware type is not Ethernet");
    case MacProblem::BadLength:
        return ("hardware address length is not 6");
    case MacProblem::AllZero:
        return ("hardware address is all zero");
    case MacProblem::Multicast:
        return ("hardware address is multicast");
    }
    return ("unknown");
}

}  // namespace phoneprov
