// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "prefix.h"

namespace phoneprov {


std::optional<Prefix> parseAssignment(std::string_view hex) {
    if (hex.size() != 6 && hex.size() != 7 && hex.size() != 9) {
        return (std::nullopt);
    }
    Prefix p;
    for (char c : hex) {
        int v = hexDigitValue(c);
        if (v < 0) {
            return (std::nullopt);
        }
        p.value = (p.value << 4) | static_cast<uint64_t>(v);
    }
    p.bits = static_cast<uint8_t>(hex.size() * 4);
    return (p);
}

std::optional<Prefix> parsePrefix(std::string_view text) {
    std::string_view body = text;
    int bits = 0;
    size_t slash = text.find('/');
    if (slash != std::string_view::npos) {
        std::string_view len = text.substr(slash + 1);
        if (len == "24") {
            bits = 24;
        } else if (len == "28") {
            bits = 28;
        } else if (len == "36") {
            bits = 36;
        } else {
            return (std::nullopt);
        }
        body = text.substr(0, slash);
    }
    std::string digits;
    for (char c : body) {
        if (c == ':' || c == '-' || c == '.') {
            continue;
        }
        if (hexDigitValue(c) < 0) {
            return (std::nullopt);
        }
        digits.push_back(c);
    }
    if (bits && digits.size() != static_cast<size_t>(bits / 4)) {
        return (std::nullopt);
    }
    return (parseAssignment(digits));
}

std::string Prefix::text() const {
    static const char kHex[] = "0123456789ABCDEF";
    std::string out;
    int digits = bits / 4;
    for (int i = 0; i < digits; ++i) {
        if (i && i % 2 == 0) {
            out.push_back(':');
        }
        out.push_back(kHex[(value >> (4 * (digits - 1 - i))) & 0xf]);
    }
    if (bits != 24) {
        out += "/" + std::to_string(bits);
    }
    return (out);
}

}  // namespace phoneprov
