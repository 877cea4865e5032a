// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "options.h"

#include <arpa/inet.h>

#include <algorithm>

namespace phoneprov {

namespace {

std::string trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) {
        return ("");
    }
    size_t e = s.find_last_not_of(" \t");
    return (s.substr(b, e - b + 1));
}

void putUint(std::vector<uint8_t>& out, unsigned long long v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        out.push_back(static_cast<uint8_t>((v >> (8 * i)) & 0xff));
    }
}

unsigned long long parseUint(const std::string& text, unsigned long long max,
                             const std::string& where) {
    std::string t = trim(text);
    if (t.empty() || t.size() > 10 || !std::all_of(t.begin(), t.end(), ::isdigit)) {
        throw ConfigError(where + ": '" + text + "' is not an unsigned integer");
    }
    unsigned long long v = std::stoull(t);
    if (v > max) {
        throw ConfigError(where + ": " + t + " is larger than " + std::to_string(max));
    }
    return (v);
}

std::vector<uint8_t> encodePayload(const OptionSpec& spec, const OptionVars& vars,
                                   const std::string& where);

std::vector<uint8_t> encodeTlvs(const std::vector<OptionSpec>& subs, const OptionVars& vars,
                                const std::string& where) {
    std::vector<uint8_t> out;
    for (size_t i = 0; i < subs.size(); ++i) {
        std::string w = where + ".sub-options[" + std::to_string(i) + "]";
        std::vector<uint8_t> data = encodePayload(subs[i], vars, w);
        if (data.size() > 255) {
            throw ConfigError(w + ": sub-option " + std::to_string(subs[i].code) +
                              " is longer than 255 bytes");
        }
        out.push_back(static_cast<uint8_t>(subs[i].code));
        out.push_back(static_cast<uint8_t>(data.size()));
        out.insert(out.end(), data.begin(), data.end());
    }
    return (out);
}

std::vector<uint8_t> encodePayload(const OptionSpec& spec, const OptionVars& vars,
                                   const std::string& where) {
    std::vector<uint8_t> out;
    if (spec.type == "sub-options") {
        return (encodeTlvs(spec.sub, vars, where));
    }
    if (spec.type == "vivso") {
        std::vector<uint8_t> data = encodeTlvs(spec.sub, vars, where);
        if (data.size() > 255) {
            throw ConfigError(where + ": vivso data is longer than 255 bytes");
        }
        putUint(out, spec.enterprise, 4);
        out.push_back(static_cast<uint8_t>(data.size()));
        out.insert(out.end(), data.begin(), data.end());
        return (out);
    }
    std::string value = expandVars(spec.value, vars, where);
    if (spec.type == "string") {
        if (value.empty()) {
            throw ConfigError(where + ": option " + std::to_string(spec.code) +
                              " would be empty");
        }
        out.assign(value.begin(), value.end());
    } else if (spec.type == "ipv4-list") {
        size_t start = 0;
        while (start <= value.size()) {
            size_t comma = value.find(',', start);
            std::string item = trim(value.substr(start, comma == std::string::npos
                                                            ? std::string::npos
                                                            : comma - start));
            in_addr a;
            if (inet_pton(AF_INET, item.c_str(), &a) != 1) {
                throw ConfigError(where + ": '" + item + "' is not an IPv4 address");
            }
            const uint8_t* b = reinterpret_cast<const uint8_t*>(&a.s_addr);
            out.insert(out.end(), b, b + 4);
            if (comma == std::string::npos) {
                break;
            }
            start = comma + 1;
        }
    } else if (spec.type == "hex") {
        std::string t;
        for (char c : value) {
            if (c != ':' && c != ' ') {
                t.push_back(c);
            }
        }
        if (t.empty() || t.size() % 2 || !std::all_of(t.begin(), t.end(), ::isxdigit)) {
            throw ConfigError(where + ": '" + value + "' is not hex");
        }
        for (size_t i = 0; i < t.size(); i += 2) {
            out.push_back(static_cast<uint8_t>(std::stoul(t.substr(i, 2), nullptr, 16)));
        }
    } else if (spec.type == "uint8") {
        putUint(out, parseUint(value, 0xff, where), 1);
    } else if (spec.type == "uint16") {
        putUint(out, parseUint(value, 0xffff, where), 2);
    } else if (spec.type == "uint32") {
        putUint(out, parseUint(value, 0xffffffffULL, where), 4);
    } else {
        throw ConfigError(where + ": unknown option type '" + spec.type + "'");
    }
    return (out);
}

}  // namespace

std::string expandVars(const std::string& text, const OptionVars& vars, const std::string& where) {
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t open = text.find("{{", pos);
        if (open == std::string::npos) {
            out.append(text, pos, std::string::npos);
            break;
        }
        size_t close = text.find("}}", open + 2);
        if (close == std::string::npos) {
            throw ConfigError(where + ": unclosed '{{' in '" + text + "'");
        }
        out.append(text, pos, open - pos);
        std::string name = trim(text.substr(open + 2, close - open - 2));
        auto it = vars.find(name);
        if (it == vars.end()) {
            throw ConfigError(where + ": unknown variable '" + name + "'");
        }
        if (it->second.empty()) {
            throw ConfigError(where + ": variable '" + name + "' is not set");
        }
        out += it->second;
        pos = close + 2;
    }
    return (out);
}

EncodedOption encodeOption(const OptionSpec& spec, const OptionVars& vars,
                           const std::string& where) {
    EncodedOption o;
    o.code = static_cast<uint8_t>(spec.code);
    o.data = encodePayload(spec, vars, where);
    if (o.data.empty() || o.data.size() > 255) {
        throw ConfigError(where + ": option " + std::to_string(spec.code) + " has " +
                          std::to_string(o.data.size()) + " bytes, must be 1 to 255");
    }
    return (o);
}

std::vector<EncodedOption> encodeOptions(const std::vector<OptionSpec>& specs,
                                         const OptionVars& vars, const std::string& where) {
    std::vector<EncodedOption> out;
    for (size_t i = 0; i < specs.size(); ++i) {
        EncodedOption o = encodeOption(specs[i], vars, where + "[" + std::to_string(i) + "]");
        auto same = std::find_if(out.begin(), out.end(),
                                 [&](const EncodedOption& e) { return (e.code == o.code); });
        if (same != out.end()) {
            *same = std::move(o);
        } else {
            out.push_back(std::move(o));
        }
    }
    return (out);
}

std::string toHex(const std::vector<uint8_t>& bytes) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (uint8_t b : bytes) {
        out.push_back(kHex[b >> 4]);
        out.push_back(kHex[b & 0xf]);
    }
    return (out);
}

}  // namespace phoneprov
