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

/// @brief Debug levels of per-packet traces (Kea's range 40-55).
const int DBG_PHONEPROV_IDENTIFY = 40;
const int DBG_PHONEPROV_OPTIONS = 45;
const int DBG_PHONEPROV_DETAIL = 50;

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_LOG_H
