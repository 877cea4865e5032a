// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_REGISTRY_H
#define PHONEPROV_REGISTRY_H

#include "catalogue.h"
#include "mac.h"
#include "prefix.h"

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace phoneprov {

/// @brief MAC prefixes and the vendor each belongs to.
///
/// Filled from the IEEE registry (Debian's ieee-data: oui.csv, mam.csv, oui36.csv),
/// matched to vendors by organisation name, then from the catalogue's own prefixes,
/// then from prefixes an admin adds. Immutable once built; the longest prefix wins.
class OuiRegistry {
public:
    /// @brief Where a prefix came from; a later source beats an earlier one at equal length.
    enum class Source : uint8_t { Ieee = 0, Catalogue = 1, Admin = 2 };

    /// @brief What a lookup found.
    struct Hit {
        int vendor = -1;            ///< catalogue index, -1 when the prefix is not a vendor's
        uint8_t bits = 0;           ///< 0 when no prefix matched
        Source source = Source::Ieee;
        const std::string* organization = nullptr;  ///< IEEE organisation, when known
    };

    /// @brief Counts, for status and logs.
    struct Stats {
        size_t ieeeRows = 0;
        size_t prefixes = 0;
        size_t vendorPrefixes = 0;
        std::vector<std::string> missingFiles;
    };

    /// @brief Builds the registry.
    /// @param ieeeDir folder with oui.csv, mam.csv, oui36.csv ("" to skip); a missing
    /// file is recorded in Stats, not an error (the catalogue's prefixes still work).
    /// @param adminPrefixes (prefix, vendor index) pairs from the hook parameters.
    /// @throw ConfigError on a bad organisation pattern.
    static std::shared_ptr<const OuiRegistry> build(
        const std::string& ieeeDir, const Catalogue& catalogue,
        const std::vector<std::pair<Prefix, int>>& adminPrefixes = {});

    /// @brief Longest-prefix lookup (36 bits, then 28, then 24). No allocation.
    Hit lookup(const Mac& mac) const;

    const Stats& stats() const { return (stats_); }

private:
    struct Entry {
        uint32_t organization;  ///< index into organizations_, or UINT32_MAX
        int16_t vendor;
        Source source;
    };
    void add(const Prefix& p, uint32_t org, int vendor, Source source);
    size_t loadCsv(const std::string& path, const void* matcher);

    std::unordered_map<uint64_t, Entry> maps_[3];  ///< 24, 28, 36 bits
    /// 24-bit blocks under which longer (28 or 36-bit) prefixes exist: MACs of any
    /// other block need one look-up instead of three.
    std::unordered_map<uint64_t, bool> parents_;
    std::vector<std::string> organizations_;
    Stats stats_;
};

using OuiRegistryPtr = std::shared_ptr<const OuiRegistry>;

}  // namespace phoneprov

#endif  // PHONEPROV_REGISTRY_H
