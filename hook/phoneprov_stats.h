// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The hook's statistics in Kea's StatsMgr (statistic-get-all shows them; names in
// docs/commands.md). The DHCP path only bumps relaxed atomics (phoneprov_counters.h);
// the values reach StatsMgr on Kea's main thread when someone reads them: at
// statistic-get and statistic-get-all (the command_processed hook point) and at
// phoneprov-status. Nothing runs per packet or on a timer, and StatsMgr (not
// thread-safe when Kea runs single-threaded) is never touched from another thread.
#ifndef PHONEPROV_STATS_H
#define PHONEPROV_STATS_H

#include "phoneprov.h"

#include <cc/data.h>

#include <string>

namespace isc {
namespace phoneprov {

/// @brief Pushes what the counters gained since the last push (main thread only).
/// The totals exist from the first push (load); a vendor's four statistics appear
/// once one of its counters is above 0 (each statistic makes every lookup in
/// StatsMgr's map, Kea's own per-packet ones included, a little deeper).
/// @return whether a statistic was created or changed.
bool pushStatistics(PhoneProv& impl);

/// @brief Removes every statistic pushed (unload; main thread only).
void removeStatistics();

/// @brief command_processed: for statistic-get and statistic-get-all, pushes the
/// counters and, when that changed something, answers again from StatsMgr.
/// @param name the command; @param args its arguments; @param response in/out.
void refreshStatisticAnswer(PhoneProv& impl, const std::string& name,
                            const isc::data::ConstElementPtr& args,
                            isc::data::ConstElementPtr& response);

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_STATS_H
