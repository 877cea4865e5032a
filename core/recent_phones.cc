// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "recent_phones.h"

#include <random>

namespace phoneprov {

namespace {

uint64_t mix(uint64_t x) {
    // splitmix64's finaliser.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (x);
}

}  // namespace

RecentPhones::RecentPhones(size_t capacity, uint64_t seed)
    : nodes_(capacity ? capacity : 1), seed_(seed) {
    size_t buckets = 1;
    while (buckets < nodes_.size() * 2) {
        buckets <<= 1;
    }
    buckets_.assign(buckets, kNone);
    mask_ = buckets - 1;
    freeList_.reserve(nodes_.size());
    if (seed_ == 0) {
        std::random_device rd;
        seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ 1;
    }
}

size_t RecentPhones::bucketOf(uint64_t mac) const {
    return (static_cast<size_t>(mix(mac ^ seed_)) & mask_);
}

size_t RecentPhones::slotOf(uint64_t mac) const {
    for (size_t b = bucketOf(mac);; b = (b + 1) & mask_) {
        uint32_t n = buckets_[b];
        if (n == kNone) {
            return (kNone);
        }
        if (nodes_[n].entry.mac == mac) {
            return (b);
        }
    }
}

void RecentPhones::unlink(uint32_t n) {
    Node& node = nodes_[n];
    if (node.prev != kNone) {
        nodes_[node.prev].next = node.next;
    } else {
        head_ = node.next;
    }
    if (node.next != kNone) {
        nodes_[node.next].prev = node.prev;
    } else {
        tail_ = node.prev;
    }
    node.prev = node.next = kNone;
}

void RecentPhones::pushFront(uint32_t n) {
    Node& node = nodes_[n];
    node.prev = kNone;
    node.next = head_;
    if (head_ != kNone) {
        nodes_[head_].prev = n;
    }
    head_ = n;
    if (tail_ == kNone) {
        tail_ = n;
    }
}

void RecentPhones::removeSlot(size_t slot) {
    // Backward-shift deletion: later entries of the probe run move up, so that
    // every entry stays reachable from its home bucket without tombstones.
    size_t hole = slot;
    for (size_t b = (slot + 1) & mask_;; b = (b + 1) & mask_) {
        uint32_t n = buckets_[b];
        if (n == kNone) {
            break;
        }
        size_t home = bucketOf(nodes_[n].entry.mac);
        // Moves when its home is not within (hole, b] (cyclically).
        bool between = hole <= b ? (home > hole && home <= b) : (home > hole || home <= b);
        if (!between) {
            buckets_[hole] = n;
            hole = b;
        }
    }
    buckets_[hole] = kNone;
}

RecentPhones::Entry* RecentPhones::find(uint64_t mac) {
    size_t b = slotOf(mac);
    if (b == kNone) {
        return (nullptr);
    }
    uint32_t n = buckets_[b];
    if (head_ != n) {
        unlink(n);
        pushFront(n);
    }
    return (&nodes_[n].entry);
}

RecentPhones::Entry& RecentPhones::insert(uint64_t mac) {
    if (Entry* e = find(mac)) {
        return (*e);
    }
    uint32_t n;
    if (!freeList_.empty()) {
        n = freeList_.back();
        freeList_.pop_back();
    } else if (free_ < nodes_.size()) {
        n = free_++;
    } else {
        n = tail_;  // full: the least recently used goes
        removeSlot(slotOf(nodes_[n].entry.mac));
        unlink(n);
        --size_;
    }
    nodes_[n].entry = Entry{mac, 0, 0};
    size_t b = bucketOf(mac);
    while (buckets_[b] != kNone) {
        b = (b + 1) & mask_;
    }
    buckets_[b] = n;
    pushFront(n);
    ++size_;
    return (nodes_[n].entry);
}

void RecentPhones::erase(uint64_t mac) {
    size_t b = slotOf(mac);
    if (b == kNone) {
        return;
    }
    uint32_t n = buckets_[b];
    removeSlot(b);
    unlink(n);
    freeList_.push_back(n);
    --size_;
}

void RecentPhones::clear() {
    buckets_.assign(buckets_.size(), kNone);
    freeList_.clear();
    free_ = 0;
    size_ = 0;
    head_ = tail_ = kNone;
}

bool seenLately(RecentPhones& table, uint64_t mac, uint32_t ip, int64_t now, int64_t interval) {
    RecentPhones::Entry* seen = table.find(mac);
    if (seen && seen->ip == ip && now - seen->when < interval) {
        return (true);
    }
    RecentPhones::Entry& e = seen ? *seen : table.insert(mac);
    e.ip = ip;
    e.when = now;
    return (false);
}

}  // namespace phoneprov
