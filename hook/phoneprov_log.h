// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_LOG_H
#define PHONEPROV_LOG_H

#include <log/logger_support.h>
#include <log/macros.h>
#include <phoneprov_messages.h>

namespace isc {
namespace phoneprov {

/// @brief The hook's one logger.
extern isc::log::Logger phoneprov_logger;

/// @brief Whether per-packet traces may be on: a cached answer of
/// phoneprov_logger.isDebugEnabled(40), asked again every 1024 packets, so that the
/// DHCP path does not pay a logger look-up (about 280 instructions) per trace when
/// debug logging is off. A change of log level reaches the hook within 1024 packets.
bool packetTraces();

/// @brief Makes the next packetTraces() ask the logger again: called by load() and
/// dhcp4_srv_configured, so that debug logging turned on by a reconfiguration shows
/// from the next packet (the cache lives on across unload() and load()).
void refreshPacketTraces();

/// @brief Per-packet debug trace: LOG_DEBUG behind the cached check.
#define PHONEPROV_TRACE(LEVEL, MSG) \
    if (!isc::phoneprov::packetTraces()) { \
    } else \
        LOG_DEBUG(isc::phoneprov::phoneprov_logger, LEVEL, MSG)

/// @brief Debug levels of per-packet traces (Kea's range 40-55).
const int DBG_PHONEPROV_IDENTIFY = 40;
const int DBG_PHONEPROV_OPTIONS = 45;
const int DBG_PHONEPROV_DETAIL = 50;

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_LOG_H
