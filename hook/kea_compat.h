// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Everything that differs between Kea 2.2 (Debian 12), Kea 2.6 (Debian 13) and newer
// Kea lives here, so that a port touches one file: select with
// `#if PHONEPROV_KEA_HOOKS_VERSION >= 20600` (KEA_HOOKS_VERSION, which is a constant
// and not a macro, read from hooks/hooks.h by CMake). Kea 2.6.3 needs nothing of its
// own yet: every call below is the same in 2.2.0 and 2.6.3.
#ifndef PHONEPROV_KEA_COMPAT_H
#define PHONEPROV_KEA_COMPAT_H

#include <dhcp/option.h>
#include <dhcp/pkt4.h>
#include <hooks/hooks.h>
#include <hooks/hooks_manager.h>
#include <process/daemon.h>

#include <string>
#include <string_view>
#include <vector>

#ifndef PHONEPROV_KEA_HOOKS_VERSION
#error "PHONEPROV_KEA_HOOKS_VERSION is set by CMakeLists.txt from Kea's hooks/hooks.h"
#endif
static_assert(PHONEPROV_KEA_HOOKS_VERSION == ::KEA_HOOKS_VERSION,  // hooks.h: anonymous namespace
              "PHONEPROV_KEA_HOOKS_VERSION does not match the Kea headers in use");

namespace isc {
namespace phoneprov {

/// @brief The bytes of option 60 as the client sent them. With several
/// instances Kea 2.2 hands a generic Option (not OptionString): read its data.
/// Read from the packet's option map (public in 2.2 and 2.6): inside callouts
/// Kea 2.2 and 2.6 make getOption()
/// clone the option it returns (ScopedEnableOptionsCopy), which we never modify.
inline std::string_view vendorClassBytes(const isc::dhcp::Pkt4& pkt) {
    auto it = pkt.options_.find(60);
    if (it == pkt.options_.end() || !it->second) {
        return (std::string_view());
    }
    const isc::dhcp::OptionBuffer& data = it->second->getData();
    return (std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
}

/// @brief Whether a packet carries an option, without the clone that getOption()
/// makes inside callouts.
inline bool hasOption(const isc::dhcp::Pkt4& pkt, uint16_t code) {
    return (pkt.options_.count(code) != 0);
}

/// @brief Registers a callout of ours after load(): Kea 2.2 and 2.6 give a library no
/// handle to its own callouts outside load(), so it goes in as a "post" callout
/// (run after every library's callouts on that hook point). Kea drops these with
/// the callout manager when it unloads the libraries.
inline void registerLateCallout(const std::string& hook, isc::hooks::CalloutPtr callout) {
    isc::hooks::HooksManager::postCalloutsLibraryHandle().registerCallout(hook, callout);
}

/// @brief Undoes registerLateCallout().
inline void deregisterLateCallout(const std::string& hook, isc::hooks::CalloutPtr callout) {
    isc::hooks::HooksManager::postCalloutsLibraryHandle().deregisterCallout(hook, callout);
}

/// @brief The name of the process that loaded us.
inline std::string processName() {
    return (isc::process::Daemon::getProcName());
}

/// @brief Kea 2.2's kea-dev lacks dhcpsrv/cfg_globals.h, so srv_config.h and
/// cfgmgr.h cannot be included: reservations are read from the JSON configuration
/// that dhcp4_srv_configured passes ("json_config"), not from SrvConfig.
inline const char* configuredArgument() {
    return ("json_config");
}

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_KEA_COMPAT_H
