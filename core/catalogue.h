// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_CATALOGUE_H
#define PHONEPROV_CATALOGUE_H

#include "prefix.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace re2 {
class RE2;
}

namespace phoneprov {

/// @brief A catalogue or configuration error; the message names the file and key.
class ConfigError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief How a DHCP option is built (see docs/profiles.md).
struct OptionSpec {
    int code = 0;
    std::string type;            ///< string, ipv4-list, hex, uint8, uint16, uint32, sub-options, vivso
    std::string value;           ///< template over the option variables
    uint32_t enterprise = 0;     ///< vivso only
    std::vector<OptionSpec> sub; ///< sub-options and vivso
};

/// @brief A file rendered for a phone.
struct FileSpec {
    std::string name;      ///< template of the file name
    std::string tmpl;      ///< template path, relative to the profile folder
    std::string text;      ///< the template's text
    bool perDevice = false;
    std::string requiresVar;  ///< "requires": variable that must be set for the file to be rendered
};

/// @brief A derived variable: from another variable through a table.
struct ValueMap {
    std::string from;
    std::map<std::string, std::string> map;
    std::string fallback;
};

/// @brief Per-model additions to a vendor profile.
struct ModelProfile {
    nlohmann::json variables = nlohmann::json::object();
    bool hasOptions = false;
    std::vector<OptionSpec> options;
    bool hasFiles = false;
    std::vector<FileSpec> files;
};

/// @brief One vendor, as loaded from profiles/<id>/profile.json.
struct VendorProfile {
    std::string id;
    std::string name;
    std::string family;       ///< vendors of one family share IEEE prefixes (cisco, cisco-mpp)
    std::string className;    ///< PHONEPROV_<ID>
    std::string dir;
    std::string format;       ///< kv, xml, text
    std::string refuseChars;  ///< characters no value may hold (`"` where values are quoted)
    std::string folder;       ///< where the profile was read from
    bool phonesOnly = false;
    bool sipPnp = false;
    bool overrideSubnetOptions = true;
    std::string resyncEvent;
    std::vector<std::string> ouiOrganizations;
    std::vector<Prefix> ouiPrefixes;
    std::vector<std::string> vendorClass;
    std::vector<OptionSpec> options;
    nlohmann::json variables = nlohmann::json::object();
    std::map<std::string, ValueMap> valueMaps;
    /// Per account (the first entry is account 1): variables added to that account,
    /// for vendors whose keys differ per account (Grandstream P-values); accounts
    /// beyond the list get none (templates guard them with a section).
    std::vector<std::map<std::string, std::string>> accountKeys;
    /// Digits of an account's `index-padded` (zero-padded index: Gigaset handset
    /// ids `00001`); 0: none.
    int accountIndexWidth = 0;
    /// The longest value the vendor reads for a derived time zone variable
    /// (Grandstream's P246: 64); a longer one is a load-time warning.
    std::map<std::string, int> maxLength;
    std::vector<FileSpec> files;
    std::map<std::string, ModelProfile> models;  ///< keyed by upper-case model
};

/// @brief The result of matching option 60 against the catalogue.
struct VendorClassMatch {
    int vendor = -1;
    std::string model;  ///< upper case, [A-Z0-9._-], at most 32 characters; may be empty
};

/// @brief The vendor catalogue: every profile, and the compiled option 60 patterns.
///
/// Immutable once loaded: shared read-only by the packet threads.
class Catalogue {
public:
    /// @brief A profile left out: its folder name (the vendor id) and what is wrong.
    struct Broken {
        std::string id;
        std::string error;
    };

    /// @brief Loads every profiles/<id>/profile.json under a folder.
    /// @param broken when given, a profile that cannot be read or parsed (corrupt JSON,
    /// a template missing...) is left out and its error appended here, instead of
    /// failing the whole load (the hook: Kea 2.2 exits when a hook library fails to
    /// load at a config-reload, so one broken vendor would stop DHCP for everyone).
    /// @throw ConfigError naming the file and key on any error (any error left when
    /// `broken` is given: no folder, no usable profile).
    static std::shared_ptr<const Catalogue> load(const std::string& folder,
                                                 std::vector<Broken>* broken = nullptr);

    /// @brief Builds a catalogue from profiles already parsed (tests, fuzzing).
    static std::shared_ptr<const Catalogue> fromProfiles(std::vector<VendorProfile> profiles);

    /// @brief Parses one profile (folder for template files).
    /// @throw ConfigError.
    static VendorProfile parseProfile(const nlohmann::json& j, const std::string& where,
                                      const std::string& folder);

    ~Catalogue();

    const std::vector<VendorProfile>& vendors() const { return (vendors_); }
    /// @brief Index of a vendor id, or -1.
    int find(std::string_view id) const;

    /// @brief Matches a vendor class (option 60 bytes, attacker-controlled).
    /// Linear time in the input (RE2). Trailing NULs and spaces are ignored.
    VendorClassMatch matchVendorClass(std::string_view vendorClass) const;

private:
    Catalogue();
    void compile();
    VendorClassMatch matchUncached(std::string_view trimmed) const;

    std::vector<VendorProfile> vendors_;
    struct Compiled;
    std::unique_ptr<Compiled> compiled_;
    struct ClassCache;
    std::unique_ptr<ClassCache> cache_;
};

using CataloguePtr = std::shared_ptr<const Catalogue>;

/// @brief Normalises a model extracted from a vendor class: upper case,
/// only [A-Z0-9._-], at most 32 characters; anything else gives "".
std::string normaliseModel(std::string_view raw);

/// @brief Strips trailing NULs and spaces from option 60.
std::string_view trimVendorClass(std::string_view vc);

}  // namespace phoneprov

#endif  // PHONEPROV_CATALOGUE_H
