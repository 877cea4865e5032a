// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_RECENT_PHONES_H
#define PHONEPROV_RECENT_PHONES_H

#include <cstddef>
#include <cstdint>
#include <vector>

namespace phoneprov {

/// @brief The phones seen lately, by whole MAC: a table of fixed capacity, least
/// recently used out. Everything is allocated at construction (no allocation on
/// the DHCP path); a MAC is found by its whole value, so no other MAC can push it
/// out but by being used more recently than it (no eviction by a colliding hash).
/// The hash is keyed with a per-table random seed, so that chains of colliding MACs
/// cannot be prepared in advance. Not thread-safe: the caller locks.
class RecentPhones {
public:
    struct Entry {
        uint64_t mac = 0;
        uint32_t ip = 0;
        int64_t when = 0;  ///< the caller's clock
    };

    /// @param capacity most phones remembered (at least 1).
    /// @param seed hash key; 0: a random one.
    explicit RecentPhones(size_t capacity, uint64_t seed = 0);

    /// @brief The phone's entry, made the most recently used; nullptr when absent.
    Entry* find(uint64_t mac);
    /// @brief The phone's entry, made the most recently used: found, or new (with
    /// only `mac` set), pushing out the least recently used phone when full.
    Entry& insert(uint64_t mac);
    /// @brief Forgets a phone (nothing when absent).
    void erase(uint64_t mac);
    /// @brief Forgets every phone (the capacity stays allocated).
    void clear();

    size_t size() const { return (size_); }
    size_t capacity() const { return (nodes_.size()); }

private:
    static constexpr uint32_t kNone = 0xffffffffu;
    struct Node {
        Entry entry;
        uint32_t prev = kNone;  ///< towards the most recently used
        uint32_t next = kNone;  ///< towards the least recently used
    };
    size_t bucketOf(uint64_t mac) const;
    /// The bucket holding node `n`'s index, or kNone.
    size_t slotOf(uint64_t mac) const;
    void unlink(uint32_t n);
    void pushFront(uint32_t n);
    void removeSlot(size_t slot);

    std::vector<Node> nodes_;
    std::vector<uint32_t> buckets_;  ///< node index, or kNone; linear probing
    size_t mask_ = 0;
    uint64_t seed_ = 0;
    size_t size_ = 0;
    uint32_t head_ = kNone;  ///< most recently used
    uint32_t tail_ = kNone;  ///< least recently used
    uint32_t free_ = 0;      ///< nodes below this were used at least once
    std::vector<uint32_t> freeList_;
};

/// @brief The render-interval rule of `phoneprov pnp`: true when `mac` was remembered
/// at `ip` less than `interval` before `now` (the phone is made the most recently
/// used; its time is kept, so the interval runs from its last render); otherwise the
/// phone is remembered at `ip` and `now` and false (render it). `now` and `interval`
/// in one unit of the caller's clock.
///
/// What the bound guarantees: a phone stays remembered until `capacity()` other MACs
/// have been remembered or seen after its own last sighting; fewer new MACs, however
/// crafted, cannot make it render again before its interval has passed. A flood of at
/// least `capacity()` new MACs since the phone was last seen can (one render more for
/// it, as after a reload).
bool seenLately(RecentPhones& table, uint64_t mac, uint32_t ip, int64_t now, int64_t interval);

}  // namespace phoneprov

#endif  // PHONEPROV_RECENT_PHONES_H
