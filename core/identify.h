// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_IDENTIFY_H
#define PHONEPROV_IDENTIFY_H

#include "catalogue.h"
#include "mac.h"
#include "registry.h"

#include <string>
#include <string_view>

namespace phoneprov {

/// @brief How sure a verdict is.
enum class Confidence : uint8_t {
    None,      ///< not a phone
    Prefix,    ///< the MAC prefix of a vendor that makes only phones
    Class,     ///< the vendor class names a phone (MAC prefix of another or no vendor)
    Sure,      ///< vendor class and MAC prefix agree
    Pinned,    ///< an admin pinned the MAC to a vendor in its reservation
};

/// @brief Text for a confidence ("sure", ...).
const char* confidenceText(Confidence c);

/// @brief What identification concluded about one device.
struct Verdict {
    bool phone = false;
    int vendor = -1;          ///< catalogue index when phone
    std::string model;        ///< upper case, may be empty
    Confidence confidence = Confidence::None;
    Mac mac;                  ///< valid unless macProblem is set
    MacProblem macProblem = MacProblem::None;
    int prefixVendor = -1;    ///< vendor of the MAC prefix, for diagnostics
    int classVendor = -1;     ///< vendor named by option 60, for diagnostics
    const char* reason = "";  ///< why (static text)
};

/// @brief A verdict as JSON: {"phone": bool, and for a phone "vendor", "model",
/// "confidence", "class"}. One shape for `phoneprov identify --json` and the
/// `phoneprov-identify` command.
nlohmann::json verdictJson(const Verdict& v, const Catalogue& catalogue);

/// @brief Identifies phones from what a DHCP request carries. Pure, thread-safe.
class Identifier {
public:
    Identifier(CataloguePtr catalogue, OuiRegistryPtr registry)
        : catalogue_(std::move(catalogue)), registry_(std::move(registry)) {}

    /// @brief Identifies from packet fields (all attacker-controlled).
    Verdict identify(uint8_t htype, const uint8_t* hw, size_t hlen,
                     std::string_view vendorClass) const;

    /// @brief Identifies a known-good MAC.
    Verdict identify(const Mac& mac, std::string_view vendorClass) const;

    /// @brief Pins a verdict to a vendor and model (from a host reservation).
    /// @return false when the vendor id is unknown (the verdict is unchanged).
    bool pin(Verdict& v, std::string_view vendorId, std::string_view model) const;

    const Catalogue& catalogue() const { return (*catalogue_); }
    const OuiRegistry& registry() const { return (*registry_); }
    const CataloguePtr& cataloguePtr() const { return (catalogue_); }

private:
    CataloguePtr catalogue_;
    OuiRegistryPtr registry_;
};

}  // namespace phoneprov

#endif  // PHONEPROV_IDENTIFY_H
