// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov_stats.h"

#include "phoneprov_log.h"

#include <dhcp/iface_mgr.h>
#include <stats/stats_mgr.h>

#include <array>
#include <chrono>
#include <fcntl.h>
#include <unistd.h>
#include <vector>

using isc::stats::StatsMgr;

namespace isc {
namespace phoneprov {

namespace {

constexpr int kCounters = static_cast<int>(Counter::Count);

/// @brief What was pushed already (main thread only; the mutex is a safety net).
/// Names are built once per vendor: a push where nothing moved only compares numbers.
struct Pushed {
    std::mutex mutex;
    struct Stat {
        std::string name;
        uint64_t last = 0;
    };
    std::vector<std::array<Stat, kCounters>> slots;  ///< per counter slot
    std::array<Stat, kCounters> totals;
};

Pushed& pushed() {
    static Pushed p;
    return (p);
}

/// @brief Adds what a counter gained since the last push; creates it the first time.
void push(Pushed::Stat& stat, const std::string& name, uint64_t now) {
    if (stat.name.empty()) {
        stat.name = name;
        stat.last = now;
        StatsMgr::instance().setValue(name, static_cast<int64_t>(now));
    } else if (now != stat.last) {
        // A delta, so that statistic-reset and statistic-remove behave as for Kea's own.
        StatsMgr::instance().addValue(stat.name, static_cast<int64_t>(now - stat.last));
        stat.last = now;
    }
}

}  // namespace

void pushStatistics(PhoneProv& impl) {
    Pushed& p = pushed();
    std::lock_guard<std::mutex> lock(p.mutex);
    VendorCounters& counters = impl.counters();
    size_t slots = counters.slots();
    std::array<uint64_t, kCounters> totals{};
    for (size_t slot = 0; slot < slots; ++slot) {
        std::string prefix;
        if (slot >= p.slots.size()) {
            p.slots.resize(slot + 1);
            prefix = "phoneprov." + counters.id(slot) + ".";
        }
        for (int c = 0; c < kCounters; ++c) {
            uint64_t now = counters.get(slot, static_cast<Counter>(c));
            totals[c] += now;
            Pushed::Stat& stat = p.slots[slot][c];
            if (stat.name.empty() || now != stat.last) {
                push(stat, prefix + counterName(static_cast<Counter>(c)), now);
            }
        }
    }
    for (int c = 0; c < kCounters; ++c) {
        if (p.totals[c].name.empty() || totals[c] != p.totals[c].last) {
            push(p.totals[c], std::string("phoneprov.") + counterName(static_cast<Counter>(c)),
                 totals[c]);
        }
    }
}

void removeStatistics() {
    Pushed& p = pushed();
    std::lock_guard<std::mutex> lock(p.mutex);
    for (const auto& slot : p.slots) {
        for (const Pushed::Stat& stat : slot) {
            StatsMgr::instance().del(stat.name);
        }
    }
    for (const Pushed::Stat& stat : p.totals) {
        if (!stat.name.empty()) {
            StatsMgr::instance().del(stat.name);
        }
    }
    p.slots.clear();
    p.totals = {};
}

StatsPusher::StatsPusher(const PhoneProvPtr& impl) : impl_(impl) {
    if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw std::runtime_error("phoneprov: cannot create the statistics pipe");
    }
    isc::dhcp::IfaceMgr::instance().addExternalSocket(pipe_[0], [this](int) { onWake(); });
    thread_ = std::thread([this] { tick(); });
}

StatsPusher::~StatsPusher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    isc::dhcp::IfaceMgr::instance().deleteExternalSocket(pipe_[0]);
    ::close(pipe_[0]);
    ::close(pipe_[1]);
}

void StatsPusher::tick() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!cv_.wait_for(lock, std::chrono::seconds(1), [this] { return (stopping_); })) {
        char c = 1;
        (void)::write(pipe_[1], &c, 1);
    }
}

void StatsPusher::onWake() {
    // Kea's main thread (an IfaceMgr external socket), where StatsMgr is safe.
    char buf[64];
    while (::read(pipe_[0], buf, sizeof(buf)) > 0) {
    }
    try {
        pushStatistics(*impl_);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_COMMAND_ERROR).arg("statistics").arg(ex.what());
    }
}

}  // namespace phoneprov
}  // namespace isc
