// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov_log.h"

#include <atomic>

namespace isc {
namespace phoneprov {

isc::log::Logger phoneprov_logger("phoneprov-hooks");

namespace {
std::atomic<uint32_t> traceCountdown{0};
std::atomic<bool> tracesOn{true};
}  // namespace

bool packetTraces() {
    if (traceCountdown.fetch_sub(1, std::memory_order_relaxed) == 0) {
        traceCountdown.store(1023, std::memory_order_relaxed);
        tracesOn.store(phoneprov_logger.isDebugEnabled(DBG_PHONEPROV_IDENTIFY),
                       std::memory_order_relaxed);
    }
    return (tracesOn.load(std::memory_order_relaxed));
}

void refreshPacketTraces() {
    traceCountdown.store(0, std::memory_order_relaxed);
}

}  // namespace phoneprov
}  // namespace isc
