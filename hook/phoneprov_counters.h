// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Per-vendor counters of the hook: relaxed atomics bumped on the DHCP path and by
// the render workers, read by the status command and pushed to Kea's StatsMgr from
// the main thread (phoneprov_stats.h). No Kea headers: StatsMgr is never touched
// on the packet path.
#ifndef PHONEPROV_COUNTERS_H
#define PHONEPROV_COUNTERS_H

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace isc {
namespace phoneprov {

/// @brief What is counted per vendor (the suffix of the statistic's name).
enum class Counter : int { Identified = 0, Injected, Renders, RenderFailures, NotRegular, VendorConflicts,
                           Count };

/// @brief The statistic suffix of a counter ("phones-identified", ...).
const char* counterName(Counter c);

/// @brief Counters per vendor id. A vendor keeps its slot for the life of the hook,
/// across catalogue reloads (slots are never freed, at most kMaxSlots vendor ids).
///
/// Thread-safety: bump() and get() are lock-free and safe from any thread. The
/// vendor-index-to-slot table used by bump(int) is replaced only by bind(), which
/// the caller runs where no packet callout runs (load, or reload inside Kea's
/// multi-threading critical section); other threads use bumpId().
class VendorCounters {
public:
    static constexpr size_t kMaxSlots = 1024;
    static constexpr uint16_t kNoSlot = 0xffff;  ///< a vendor beyond kMaxSlots: not counted

    VendorCounters();

    /// @brief Maps catalogue indices to slots, creating slots for new vendor ids.
    /// @param ids the catalogue's vendor ids, in catalogue order.
    void bind(const std::vector<std::string>& ids);

    /// @brief Counts one event for the vendor at this catalogue index (DHCP path).
    void bump(int vendor, Counter c) {
        if (vendor < 0 || static_cast<size_t>(vendor) >= slotOf_.size()) {
            return;
        }
        uint16_t slot = slotOf_[vendor];
        if (slot == kNoSlot) {
            return;
        }
        slots_[slot].value[static_cast<int>(c)].fetch_add(1, std::memory_order_relaxed);
    }

    /// @brief Counts one event for a vendor id (render workers, commands).
    void bumpId(const std::string& id, Counter c);

    /// @brief The slot count, then each slot's id and values (any thread).
    size_t slots() const;
    std::string id(size_t slot) const;
    uint64_t get(size_t slot, Counter c) const {
        return (slots_[slot].value[static_cast<int>(c)].load(std::memory_order_relaxed));
    }
    /// @brief Sum over every vendor.
    uint64_t total(Counter c) const;

private:
    int slotFor(const std::string& id);  ///< with mutex_ held

    struct alignas(64) Slot {
        std::atomic<uint64_t> value[static_cast<int>(Counter::Count)] = {};
    };
    std::unique_ptr<Slot[]> slots_;
    mutable std::mutex mutex_;  ///< guards ids_
    std::vector<std::string> ids_;
    std::vector<uint16_t> slotOf_;  ///< catalogue index -> slot (see class comment)
};

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_COUNTERS_H
