// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The control commands of libdhcp_phoneprov.so (docs/commands.md). The command
// callouts (phoneprov_command_callouts.cc) only fetch the command's arguments and
// hand them here; every answer is a Kea control answer, errors included.
#ifndef PHONEPROV_COMMANDS_H
#define PHONEPROV_COMMANDS_H

#include "phoneprov.h"

#include <cc/data.h>

#include <string>
#include <vector>

namespace isc {
namespace phoneprov {

/// @brief What load() made of its configuration, for phoneprov-status.
/// Written by load() only, read by commands: both on Kea's main thread.
struct LoadHealth {
    ::phoneprov::LoadState state = ::phoneprov::LoadState::Passthrough;
    /// Every PHONEPROV_CONFIG_ERROR logged by the last load().
    std::vector<std::string> errors;
    /// Vendors left out for a broken profile.
    std::vector<std::string> leftOut;
    /// Which parameters are in force: "current", "previous" (the ones given were
    /// refused; the last good ones loaded in this process run), or "none".
    std::string parameters = "none";
};

/// @brief The hook's one LoadHealth (phoneprov_command_callouts.cc).
extern LoadHealth loadHealth;

/// @brief Builds the answers of the phoneprov-* commands. Runs on Kea's main
/// thread; never throws (an error is an answer with result 1).
class Commands {
public:
    /// @brief phoneprov-status: state and configuration errors, version, catalogue,
    /// registry, counters, queue.
    static isc::data::ConstElementPtr status(PhoneProv& impl);

    /// @brief phoneprov-status in passthrough (no implementation): state and errors.
    static isc::data::ConstElementPtr passthroughStatus();

    /// @brief phoneprov-identify {"mac": M, "vendor-class": VC}: the verdict,
    /// as `phoneprov identify --json` prints it.
    static isc::data::ConstElementPtr identify(PhoneProv& impl,
                                               const isc::data::ConstElementPtr& args);

    /// @brief phoneprov-render {"mac": M} or {"all": true}: queues renders now.
    static isc::data::ConstElementPtr render(PhoneProv& impl,
                                             const isc::data::ConstElementPtr& args);

    /// @brief phoneprov-reload: reads the profiles and templates again.
    static isc::data::ConstElementPtr reload(PhoneProv& impl);

    /// @brief phoneprov-list {"vendor", "state", "seen-since", "limit", "offset"}:
    /// the phone records, sorted by MAC, a page at a time.
    static isc::data::ConstElementPtr list(PhoneProv& impl,
                                           const isc::data::ConstElementPtr& args);

    /// @brief phoneprov-get {"mac": M}: one phone's record with its files and fetches.
    static isc::data::ConstElementPtr get(PhoneProv& impl, const isc::data::ConstElementPtr& args);

    /// @brief The answer when the hook is not configured (passthrough).
    static isc::data::ConstElementPtr notLoaded(const std::string& command);
};

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_COMMANDS_H
