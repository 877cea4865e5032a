// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_HOST_INDEX_H
#define PHONEPROV_HOST_INDEX_H

#include <cc/data.h>

#include <mac.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace isc {
namespace phoneprov {

/// @brief What a phone's host reservation tells the hook.
struct HostEntry {
    bool hasData = false;               ///< user-context.phoneprov present
    nlohmann::json data;                ///< user-context.phoneprov
    std::string pinVendor;              ///< user-context.phoneprov.vendor
    std::string pinModel;               ///< user-context.phoneprov.model
    std::vector<uint8_t> optionCodes;   ///< codes set by the reservation's option-data
};

/// @brief Reservations by MAC, read once from Kea's configuration (config file
/// reservations) when the server is configured. Immutable: read by packet and
/// render threads without locks.
class HostIndex {
public:
    /// @brief Builds the index from the server's JSON configuration (the Dhcp4 map,
    /// as dhcp4_srv_configured passes it): global, subnet and shared-network reservations.
    /// @param problems receives one line per unusable entry (MAC and key, no values).
    static std::shared_ptr<const HostIndex> build(const isc::data::ConstElementPtr& config,
                                                  std::vector<std::string>& problems);

    /// @brief The entry of a MAC, or nullptr.
    const HostEntry* find(const ::phoneprov::Mac& mac) const {
        auto it = byMac_.find(mac.value());
        return (it == byMac_.end() ? nullptr : &it->second);
    }

    size_t size() const { return (byMac_.size()); }
    size_t withData() const { return (withData_); }

private:
    std::unordered_map<uint64_t, HostEntry> byMac_;
    size_t withData_ = 0;
};

using HostIndexPtr = std::shared_ptr<const HostIndex>;

/// @brief Converts a Kea Element to JSON (for user-context and parameters).
nlohmann::json toJson(const isc::data::ConstElementPtr& e);

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_HOST_INDEX_H
