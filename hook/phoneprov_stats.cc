// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov_stats.h"
#include "phone_records.h"

#include <stats/stats_mgr.h>

#include <array>
#include <iterator>
#include <mutex>
#include <vector>

using isc::data::ConstElementPtr;
using isc::stats::StatsMgr;

namespace isc {
namespace phoneprov {

namespace {

constexpr int kCounters = static_cast<int>(Counter::Count);

/// @brief What was pushed already (main thread only; the mutex is a safety net).
/// Names are built once: a push where nothing moved only compares numbers.
struct Pushed {
    std::mutex mutex;
    struct Stat {
        std::string name;  ///< "" until created
        uint64_t last = 0;
    };
    std::vector<std::array<Stat, kCounters>> slots;  ///< per counter slot
    std::array<Stat, kCounters> totals;
    Stat foreign;  ///< phoneprov.fetch-foreign-address (phone_records.h)
    /// phoneprov.phones.<state>: gauges (set, not added), one per record state.
    std::array<Stat, std::size(kPhoneStates)> states;
    Stat removed;  ///< phoneprov.files-removed (the manifest, issue 21 point 5)
};

Pushed& pushed() {
    static Pushed p;
    return (p);
}

/// @brief Creates a statistic, or adds what its counter gained since the last push
/// (a delta, so that statistic-reset and statistic-remove behave as for Kea's own).
bool push(Pushed::Stat& stat, const std::string& name, uint64_t now) {
    if (stat.name.empty()) {
        stat.name = name;
        stat.last = now;
        StatsMgr::instance().setValue(name, static_cast<int64_t>(now));
        return (true);
    }
    if (now == stat.last) {
        return (false);
    }
    StatsMgr::instance().addValue(stat.name, static_cast<int64_t>(now - stat.last));
    stat.last = now;
    return (true);
}

}  // namespace

bool pushStatistics(PhoneProv& impl) {
    Pushed& p = pushed();
    std::lock_guard<std::mutex> lock(p.mutex);
    VendorCounters& counters = impl.counters();
    size_t slots = counters.slots();
    if (p.slots.size() < slots) {
        p.slots.resize(slots);
    }
    bool changed = false;
    std::array<uint64_t, kCounters> totals{};
    for (size_t slot = 0; slot < slots; ++slot) {
        std::array<uint64_t, kCounters> now;
        bool any = false;
        for (int c = 0; c < kCounters; ++c) {
            now[c] = counters.get(slot, static_cast<Counter>(c));
            totals[c] += now[c];
            any = any || now[c] != 0;
        }
        auto& stats = p.slots[slot];
        if (!any && stats[0].name.empty()) {
            continue;  // a vendor not seen yet has no statistics
        }
        std::string prefix = stats[0].name.empty() ? "phoneprov." + counters.id(slot) + "." : "";
        for (int c = 0; c < kCounters; ++c) {
            changed = push(stats[c], prefix + counterName(static_cast<Counter>(c)), now[c]) ||
                      changed;
        }
    }
    for (int c = 0; c < kCounters; ++c) {
        std::string name = std::string("phoneprov.") + counterName(static_cast<Counter>(c));
        changed = push(p.totals[c], name, totals[c]) || changed;
    }
    if (PhoneRecords* records = impl.records()) {
        changed = push(p.foreign, "phoneprov.fetch-foreign-address", records->foreignFetches()) ||
                  changed;
        // Gauges: the number of phones in each state now (statistic-reset sets one to 0
        // until the next read sets it again).
        auto counts = records->countByState();
        for (size_t i = 0; i < p.states.size(); ++i) {
            Pushed::Stat& stat = p.states[i];
            uint64_t now = counts[kPhoneStates[i]];
            if (stat.name.empty() || now != stat.last) {
                stat.name = std::string("phoneprov.phones.") + kPhoneStates[i];
                stat.last = now;
                StatsMgr::instance().setValue(stat.name, static_cast<int64_t>(now));
                changed = true;
            }
        }
    }
    changed = push(p.removed, "phoneprov.files-removed", impl.filesRemoved()) || changed;
    return (changed);
}

void removeStatistics() {
    Pushed& p = pushed();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (const auto& slot : p.slots) {
        for (const Pushed::Stat& stat : slot) {
            if (!stat.name.empty()) {
                StatsMgr::instance().del(stat.name);
            }
        }
    }
    for (const Pushed::Stat& stat : p.totals) {
        if (!stat.name.empty()) {
            StatsMgr::instance().del(stat.name);
        }
    }
    if (!p.foreign.name.empty()) {
        StatsMgr::instance().del(p.foreign.name);
    }
    for (const Pushed::Stat& stat : p.states) {
        if (!stat.name.empty()) {
            StatsMgr::instance().del(stat.name);
        }
    }
    p.slots.clear();
    p.totals = {};
    if (!p.removed.name.empty()) {
        StatsMgr::instance().del(p.removed.name);
    }
    p.foreign = {};
    p.states = {};
    p.removed = {};
}

void refreshStatisticAnswer(PhoneProv& impl, const std::string& name, const ConstElementPtr& args,
                            ConstElementPtr& response) {
    if (name != "statistic-get" && name != "statistic-get-all") {
        return;
    }
    if (!pushStatistics(impl)) {
        return;  // the answer Kea built is current
    }
    response = name == "statistic-get" ? StatsMgr::statisticGetHandler(name, args)
                                       : StatsMgr::statisticGetAllHandler(name, args);
}

}  // namespace phoneprov
}  // namespace isc
