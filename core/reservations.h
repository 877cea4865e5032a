// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_RESERVATIONS_H
#define PHONEPROV_RESERVATIONS_H

#include "mac.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace phoneprov {

/// @brief What a phone's host reservation tells us.
struct HostEntry {
    Mac mac;
    bool hasData = false;              ///< user-context.phoneprov present
    /// user-context.phoneprov as compact JSON text: a parsed tree costs about ten
    /// times its text in memory (100,000 reservations: ~100 MB against ~12 MB),
    /// and it is read only to render, where parsing it is a small part of the work.
    std::string dataText;
    /// @brief user-context.phoneprov (null when absent).
    nlohmann::json data() const {
        return (hasData ? nlohmann::json::parse(dataText, nullptr, false) : nlohmann::json());
    }
    std::string pinVendor;             ///< user-context.phoneprov.vendor
    std::string pinModel;              ///< user-context.phoneprov.model
    std::string ip;                    ///< the reservation's ip-address, if any
    std::vector<uint8_t> optionCodes;  ///< codes set by the reservation's option-data
};

/// @brief Reservations by MAC, read from a Kea DHCPv4 configuration (the Dhcp4
/// map or the whole file): global, subnet and shared-network reservations.
/// Immutable once built: read by packet and render threads without locks.
class HostIndex {
public:
    /// @param config the Dhcp4 map, or a map holding "Dhcp4".
    /// @param problems receives one line per unusable entry (MAC and key, never values).
    static std::shared_ptr<const HostIndex> build(const nlohmann::json& config,
                                                  std::vector<std::string>& problems);

    /// @brief The entry of a MAC, or nullptr.
    const HostEntry* find(const Mac& mac) const {
        auto it = byMac_.find(mac.value());
        return (it == byMac_.end() ? nullptr : &it->second);
    }

    /// @brief Every entry (for `phoneprov render` of a whole inventory).
    const std::unordered_map<uint64_t, HostEntry>& all() const { return (byMac_); }

    size_t size() const { return (byMac_.size()); }
    size_t withData() const { return (withData_); }

private:
    void add(const nlohmann::json& host, std::vector<std::string>& problems);
    int optionCode(const nlohmann::json& option) const;

    std::unordered_map<uint64_t, HostEntry> byMac_;
    /// Option names the configuration defines (option-def, space dhcp4) -> code.
    std::unordered_map<std::string, int> definedNames_;
    size_t withData_ = 0;
};

using HostIndexPtr = std::shared_ptr<const HostIndex>;

/// @brief Finds the parameters of libdhcp_phoneprov.so in a Kea configuration.
/// @return the "parameters" map, or null when the hook is not configured.
nlohmann::json findHookParameters(const nlohmann::json& config);

/// @brief Parses a Kea configuration file's text: JSON with //, /* */ and # comments.
/// @throw ConfigError naming the file.
nlohmann::json parseKeaConfigText(const std::string& text, const std::string& where);

}  // namespace phoneprov

#endif  // PHONEPROV_RESERVATIONS_H
