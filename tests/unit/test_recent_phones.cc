// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The phones seen lately (the hook's render-interval table): whole MAC, bounded, LRU.
#include "recent_phones.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <list>
#include <map>
#include <random>

using namespace phoneprov;

namespace {

// The table this one replaces indexed 65,536 slots by (mac ^ mac >> 17) % 65536: a
// MAC of that fold pushed another out (a spoofed DHCP packet reset a victim's
// render-interval). Now only use does: a phone stays while it is among the
// capacity most recently used.
TEST(RecentPhones, aCollidingFoldPushesNothingOut) {
    RecentPhones t(65536);
    const uint64_t victim = 0x001565aabbccULL;
    auto fold = [](uint64_t k) { return ((k ^ (k >> 17)) % 65536); };
    std::vector<uint64_t> colliding;
    for (uint64_t k = 0x001565000000ULL; colliding.size() < 1000; ++k) {
        if (k != victim && fold(k) == fold(victim)) {
            colliding.push_back(k);
        }
    }
    t.insert(victim).ip = 7;
    for (uint64_t k : colliding) {
        t.insert(k);
    }
    RecentPhones::Entry* e = t.find(victim);
    ASSERT_NE(nullptr, e);
    EXPECT_EQ(7u, e->ip);
    EXPECT_EQ(1001u, t.size());
}

TEST(RecentPhones, leastRecentlyUsedOut) {
    struct Step {
        int line_;
        std::vector<uint64_t> touch;  ///< found (made recent) after filling 1..4
        uint64_t added;
        uint64_t gone;
    };
    const std::vector<Step> steps = {
        {__LINE__, {}, 5, 1},
        {__LINE__, {1}, 5, 2},
        {__LINE__, {1, 2}, 5, 3},
        {__LINE__, {4, 3, 2, 1}, 5, 4},
        {__LINE__, {3}, 3, 0},  // already there: nothing goes
    };
    for (const Step& s : steps) {
        SCOPED_TRACE(s.line_);
        RecentPhones t(4, 12345);
        for (uint64_t m = 1; m <= 4; ++m) {
            t.insert(m).when = static_cast<int64_t>(m);
        }
        for (uint64_t m : s.touch) {
            ASSERT_NE(nullptr, t.find(m));
        }
        t.insert(s.added);
        EXPECT_EQ(4u, t.size());
        for (uint64_t m = 1; m <= 5; ++m) {
            EXPECT_EQ(m != s.gone && (m <= 4 || m == s.added), t.find(m) != nullptr) << m;
        }
    }
}

// Against a plain model (list + map), many random operations on a small table:
// every find, insert, erase and clear agrees; the size never passes the capacity.
TEST(RecentPhones, agreesWithAModel) {
    for (uint64_t seed : {1ULL, 2ULL, 0ULL}) {
        SCOPED_TRACE(seed);
        const size_t cap = 37;
        RecentPhones t(cap, seed);
        std::list<uint64_t> order;  // most recent first
        std::map<uint64_t, int64_t> model;
        std::mt19937_64 rng(seed + 99);
        auto touch = [&](uint64_t m) {
            order.remove(m);
            order.push_front(m);
        };
        for (int i = 0; i < 200000; ++i) {
            uint64_t m = rng() % 120;
            int op = static_cast<int>(rng() % 3);
            if (i % 50000 == 49999) {  // a reload now and then
                t.clear();
                model.clear();
                order.clear();
                ASSERT_EQ(nullptr, t.find(m));
            } else if (op == 0) {
                RecentPhones::Entry* e = t.find(m);
                ASSERT_EQ(model.count(m) > 0, e != nullptr) << i;
                if (e) {
                    ASSERT_EQ(model[m], e->when);
                    touch(m);
                }
            } else if (op == 1) {
                bool had = model.count(m) > 0;
                RecentPhones::Entry& e = t.insert(m);
                ASSERT_EQ(m, e.mac);
                if (!had) {
                    if (model.size() == cap) {
                        model.erase(order.back());
                        order.pop_back();
                    }
                    e.when = i;
                    model[m] = i;
                } else {
                    ASSERT_EQ(model[m], e.when);
                }
                touch(m);
            } else {
                t.erase(m);
                model.erase(m);
                order.remove(m);
            }
            ASSERT_EQ(model.size(), t.size());
            ASSERT_LE(t.size(), cap);
        }
    }
}

}  // namespace

namespace {

// `phoneprov pnp`'s render-interval (seenLately). Its map used to be cleared whole
// when it passed 65,536 MACs: one flood of new MACs reset every phone's interval. Now
// a phone is pushed out only by `capacity` MACs seen after its own last sighting, the
// least recently used first. Each case is a script on a fresh table (interval 60).
TEST(RecentPhones, renderIntervalSurvivesFloodsSmallerThanTheCapacity) {
    struct Event {
        char what;        ///< 'p': the phone `mac` at `ip`; 'f': `n` new MACs; 'c': clear (reload)
        uint64_t mac;
        uint32_t ip;
        size_t n;
        int64_t at;
        bool lately;      ///< for 'p': seenLately's answer (true: not rendered again)
    };
    auto phone = [](uint64_t mac, int64_t at, bool lately, uint32_t ip = 1) {
        return (Event{'p', mac, ip, 0, at, lately});
    };
    auto flood = [](size_t n, int64_t at) { return (Event{'f', 0, 0, n, at, false}); };
    const uint64_t A = 0x000b82273b89ULL, B = 0x000b82000001ULL;
    struct Case {
        int line_;
        size_t capacity;
        std::vector<Event> script;
    };
    const std::vector<Case> cases = {
        // The interval itself: not again before it has passed, then once.
        {__LINE__, 8, {phone(A, 0, false), phone(A, 59, true), phone(A, 60, false), phone(A, 61, true)}},
        // Another address renders again (and restarts the interval).
        {__LINE__, 8, {phone(A, 0, false), phone(A, 1, false, 2), phone(A, 2, true, 2), phone(A, 3, false, 1)}},
        // A flood of capacity - 1 new MACs leaves the phone's interval alone...
        {__LINE__, 8, {phone(A, 0, false), flood(7, 1), phone(A, 2, true)}},
        // ...capacity new MACs push it out: it renders once more (as after a reload).
        {__LINE__, 8, {phone(A, 0, false), flood(8, 1), phone(A, 2, false), phone(A, 3, true)}},
        // Least recently used out: A seen again (within its interval) outlives B,
        // remembered after A's render but not seen since.
        {__LINE__, 8, {phone(A, 0, false), phone(B, 0, false), flood(6, 1), phone(A, 2, true),
                       flood(1, 3), phone(A, 4, true), phone(B, 4, false)}},
        // A sighting counts from itself: capacity - 1 more new MACs after each one
        // never push the phone out (its interval still runs from its render at 0).
        {__LINE__, 8, {phone(A, 0, false), flood(7, 1), phone(A, 10, true), flood(7, 11),
                       phone(A, 20, true), flood(7, 21), phone(A, 59, true), phone(A, 60, false)}},
        // A full table: what came before the phone's render does not count. (The old
        // map, full, was cleared by the next new MAC: every phone rendered again.)
        {__LINE__, 8, {flood(8, 0), phone(A, 1, false), flood(7, 2), phone(A, 3, true)}},
        // The tool's table, 65,536 phones: full of a flood, the phone rendered, then
        // 65,535 new MACs: its interval holds; one more pushes it out.
        {__LINE__, 65536, {flood(65536, 0), phone(A, 1, false), flood(65535, 2), phone(A, 3, true)}},
        {__LINE__, 65536, {flood(65536, 0), phone(A, 1, false), flood(65536, 2), phone(A, 3, false)}},
        // A reload forgets every phone.
        {__LINE__, 8, {phone(A, 0, false), Event{'c', 0, 0, 0, 1, false}, phone(A, 2, false),
                       phone(A, 3, true)}},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line_);
        RecentPhones t(c.capacity, 777);
        uint64_t next = 0x001565000000ULL;  // the flood's MACs, each new
        for (size_t i = 0; i < c.script.size(); ++i) {
            const Event& e = c.script[i];
            if (e.what == 'p') {
                EXPECT_EQ(e.lately, seenLately(t, e.mac, e.ip, e.at, 60)) << "event " << i;
            } else if (e.what == 'f') {
                for (size_t k = 0; k < e.n; ++k) {
                    ASSERT_FALSE(seenLately(t, next++, 9, e.at, 60));
                }
            } else {
                t.clear();
                EXPECT_EQ(0u, t.size());
            }
            ASSERT_LE(t.size(), c.capacity);
        }
    }
}

}  // namespace
