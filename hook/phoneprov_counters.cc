// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "phoneprov_counters.h"

namespace isc {
namespace phoneprov {

const char* counterName(Counter c) {
    switch (c) {
    case Counter::Identified:
        return ("phones-identified");
    case Counter::Injected:
        return ("options-injected");
    case Counter::Renders:
        return ("renders");
    case Counter::RenderFailures:
        return ("render-failures");
    case Counter::NotRegular:
        return ("files-not-regular");
    case Counter::VendorConflicts:
        return ("vendor-conflicts");
    case Counter::Count:
        break;
    }
    return ("unknown");
}

VendorCounters::VendorCounters() : slots_(new Slot[kMaxSlots]) {
}

int VendorCounters::slotFor(const std::string& id) {
    for (size_t i = 0; i < ids_.size(); ++i) {
        if (ids_[i] == id) {
            return (static_cast<int>(i));
        }
    }
    if (ids_.size() >= kMaxSlots) {
        return (-1);
    }
    ids_.push_back(id);
    return (static_cast<int>(ids_.size() - 1));
}

void VendorCounters::bind(const std::vector<std::string>& ids) {
    std::vector<uint16_t> table;
    std::lock_guard<std::mutex> lock(mutex_);
    for (const std::string& id : ids) {
        int slot = slotFor(id);
        table.push_back(slot < 0 ? kNoSlot : static_cast<uint16_t>(slot));
    }
    slotOf_.swap(table);
}

void VendorCounters::bumpId(const std::string& id, Counter c) {
    int slot;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        slot = slotFor(id);
    }
    if (slot >= 0) {
        slots_[slot].value[static_cast<int>(c)].fetch_add(1, std::memory_order_relaxed);
    }
}

size_t VendorCounters::slots() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (ids_.size());
}

std::string VendorCounters::id(size_t slot) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (slot < ids_.size() ? ids_[slot] : std::string());
}

uint64_t VendorCounters::total(Counter c) const {
    size_t n = slots();
    uint64_t sum = 0;
    for (size_t i = 0; i < n; ++i) {
        sum += get(i, c);
    }
    return (sum);
}

}  // namespace phoneprov
}  // namespace isc
