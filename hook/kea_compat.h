// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Everything that differs between Kea 2.2 (Debian 12) and newer Kea lives here,
// so that a port touches one file.
#ifndef PHONEPROV_KEA_COMPAT_H
#define PHONEPROV_KEA_COMPAT_H

#include <dhcp/option.h>
#include <dhcp/pkt4.h>
#include <hooks/hooks.h>
#include <process/daemon.h>

#include <string>
#include <string_view>
#include <vector>

namespace isc {
namespace phoneprov {

/// @brief The bytes of option 60 as the client sent them. With several
/// instances Kea 2.2 hands a generic Option (not OptionString): read its data.
/// Call it in pkt4_receive, where Kea does not copy retrieved options.
inline std::string_view vendorClassBytes(isc::dhcp::Pkt4& pkt) {
    isc::dhcp::OptionPtr opt = pkt.getOption(60);
    if (!opt) {
        return (std::string_view());
    }
    const isc::dhcp::OptionBuffer& data = opt->getData();
    return (std::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
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
