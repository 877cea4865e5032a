// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The hook's statistics in Kea's StatsMgr (statistic-get-all shows them; names in
// docs/commands.md). The DHCP path only bumps relaxed atomics (phoneprov_counters.h);
// the values reach StatsMgr from Kea's main thread, once a second and on every
// phoneprov-status, so that StatsMgr (not thread-safe when Kea runs single-threaded)
// is never touched from another thread.
#ifndef PHONEPROV_STATS_H
#define PHONEPROV_STATS_H

#include "phoneprov.h"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace isc {
namespace phoneprov {

/// @brief Pushes the counters that moved since the last push (main thread only).
/// Creates every vendor's statistics at 0 on the first push.
void pushStatistics(PhoneProv& impl);

/// @brief Removes every statistic pushed (unload; main thread only).
void removeStatistics();

/// @brief Wakes Kea's main thread once a second to push the statistics: a timer
/// thread writes to a pipe that IfaceMgr watches as an external socket, whose
/// callback runs on the main thread.
class StatsPusher {
public:
    explicit StatsPusher(const PhoneProvPtr& impl);
    ~StatsPusher();

    StatsPusher(const StatsPusher&) = delete;
    StatsPusher& operator=(const StatsPusher&) = delete;

private:
    void tick();
    void onWake();

    PhoneProvPtr impl_;
    int pipe_[2] = {-1, -1};
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_STATS_H
