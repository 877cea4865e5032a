// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_COMMAND_CALLOUTS_H
#define PHONEPROV_COMMAND_CALLOUTS_H

#include "phoneprov.h"

#include <hooks/hooks.h>

namespace isc {
namespace phoneprov {

/// @brief load(): registers the phoneprov-* commands and the command_processed
/// callout that keeps statistic-get(-all) current; creates the total statistics.
/// @param impl null in passthrough (phoneprov-status answers with the errors).
void registerCommands(isc::hooks::LibraryHandle& handle, const PhoneProvPtr& impl);

/// @brief unload() (and a failed load()): removes the statistics.
void stopCommands();

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_COMMAND_CALLOUTS_H
