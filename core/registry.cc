// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "registry.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <climits>
#include <cstdio>
#include <unordered_map>

namespace phoneprov {

namespace {

int slot(uint8_t bits) {
    return (bits == 24 ? 0 : (bits == 28 ? 1 : 2));
}

/// @brief Matches organisation names to vendors, caching per name.
struct OrgMatcher {
    explicit OrgMatcher(const re2::RE2::Options& opts) : set(opts, re2::RE2::UNANCHORED) {}
    re2::RE2::Set set;
    std::vector<int> vendorOf;
    bool empty = true;
};

/// @brief Splits one CSV line (RFC 4180 quoting) into at most 3 fields.
size_t splitCsv(const std::string& line, std::string fields[3]) {
    size_t n = 0;
    std::string cur;
    bool quoted = false;
    for (size_t i = 0; i < line.size() && n < 3; ++i) {
        char c = line[i];
        if (quoted) {
            if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
                cur.push_back('"');
                ++i;
            } else if (c == '"') {
                quoted = false;
            } else {
                cur.push_back(c);
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == ',') {
            fields[n++] = cur;
            cur.clear();
        } else if (c != '\r' && c != '\n') {
            cur.push_back(c);
        }
    }
    if (n < 3) {
        fields[n++] = cur;
    }
    return (n);
}

}  // namespace

void OuiRegistry::add(const Prefix& p, uint32_t org, int vendor, Source source) {
    if (p.bits > 24) {
        parents_[p.value >> (p.bits - 24)] = true;
    }
    auto& map = maps_[slot(p.bits)];
    auto it = map.find(p.value);
    if (it == map.end()) {
        map.emplace(p.value, Entry{org, static_cast<int16_t>(vendor), source});
        ++stats_.prefixes;
        return;
    }
    if (source >= it->second.source) {
        if (org == UINT32_MAX) {
            org = it->second.organization;
        }
        it->second = Entry{org, static_cast<int16_t>(vendor), source};
    }
}

size_t OuiRegistry::loadCsv(const std::string& path, const void* m) {
    const OrgMatcher& matcher = *static_cast<const OrgMatcher*>(m);
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
        stats_.missingFiles.push_back(path);
        return (0);
    }
    std::unordered_map<std::string, std::pair<uint32_t, int>> orgs;  // name -> (index, vendor)
    char* buf = nullptr;
    size_t cap = 0;
    ssize_t len;
    size_t rows = 0;
    std::string fields[3];
    std::vector<int> hits;
    while ((len = getline(&buf, &cap, f)) > 0) {
        std::string line(buf, static_cast<size_t>(len));
        if (splitCsv(line, fields) < 3) {
            continue;
        }
        auto prefix = parseAssignment(fields[1]);
        if (!prefix) {
            continue;  // header or damaged row
        }
        ++rows;
        auto it = orgs.find(fields[2]);
        if (it == orgs.end()) {
            int vendor = -1;
            hits.clear();
            if (!matcher.empty && matcher.set.Match(fields[2], &hits) && !hits.empty()) {
                int first = hits[0];
                for (int h : hits) {
                    first = std::min(first, h);
                }
                vendor = matcher.vendorOf[first];
            }
            organizations_.push_back(fields[2]);
            uint32_t idx = static_cast<uint32_t>(organizations_.size() - 1);
            it = orgs.emplace(fields[2], std::make_pair(idx, vendor)).first;
        }
        add(*prefix, it->second.first, it->second.second, Source::Ieee);
    }
    std::free(buf);
    std::fclose(f);
    return (rows);
}

std::shared_ptr<const OuiRegistry> OuiRegistry::build(
    const std::string& ieeeDir, const Catalogue& catalogue,
    const std::vector<std::pair<Prefix, int>>& adminPrefixes) {
    std::shared_ptr<OuiRegistry> r(new OuiRegistry);
    re2::RE2::Options opts;
    opts.set_case_sensitive(false);
    opts.set_log_errors(false);
    OrgMatcher matcher(opts);
    const auto& vendors = catalogue.vendors();
    for (size_t v = 0; v < vendors.size(); ++v) {
        for (size_t i = 0; i < vendors[v].ouiOrganizations.size(); ++i) {
            std::string err;
            if (matcher.set.Add(vendors[v].ouiOrganizations[i], &err) < 0) {
                throw ConfigError(vendors[v].id + ": 'oui-organizations'[" + std::to_string(i) +
                                  "]: bad pattern: " + err);
            }
            matcher.vendorOf.push_back(static_cast<int>(v));
            matcher.empty = false;
        }
    }
    if (!matcher.empty && !matcher.set.Compile()) {
        throw ConfigError("oui-organizations: patterns too large to compile");
    }
    if (!ieeeDir.empty()) {
        for (const char* name : {"oui.csv", "mam.csv", "oui36.csv"}) {
            r->stats_.ieeeRows += r->loadCsv(ieeeDir + "/" + name, &matcher);
        }
    }
    for (size_t v = 0; v < vendors.size(); ++v) {
        for (const Prefix& p : vendors[v].ouiPrefixes) {
            r->add(p, UINT32_MAX, static_cast<int>(v), Source::Catalogue);
        }
    }
    for (const auto& ap : adminPrefixes) {
        r->add(ap.first, UINT32_MAX, ap.second, Source::Admin);
    }
    for (const auto& map : r->maps_) {
        for (const auto& e : map) {
            r->stats_.vendorPrefixes += (e.second.vendor >= 0) ? 1 : 0;
        }
    }
    return (r);
}

OuiRegistry::Hit OuiRegistry::lookup(const Mac& mac) const {
    Hit hit;
    uint64_t v = mac.value();
    static const uint8_t kBits[3] = {36, 28, 24};
    bool longer = !parents_.empty() && parents_.count(v >> 24) != 0;
    for (uint8_t bits : kBits) {
        if (bits != 24 && !longer) {
            continue;
        }
        const auto& map = maps_[slot(bits)];
        auto it = map.find(v >> (48 - bits));
        if (it == map.end()) {
            continue;
        }
        hit.vendor = it->second.vendor;
        hit.bits = bits;
        hit.source = it->second.source;
        if (it->second.organization != UINT32_MAX) {
            hit.organization = &organizations_[it->second.organization];
        }
        return (hit);
    }
    return (hit);
}

}  // namespace phoneprov
