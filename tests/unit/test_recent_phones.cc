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
// every find, insert and erase agrees; the size never passes the capacity.
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
            if (op == 0) {
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
