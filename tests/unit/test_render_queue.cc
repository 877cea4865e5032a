// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The render queue: per-MAC de-duplication, bounds, callbacks, stop.
#include "render_queue.h"
#include "safe_write.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <set>
#include <mutex>
#include <thread>
#include <vector>

using namespace phoneprov;

namespace {

Mac macN(int n) {
    Mac m{{0x00, 0x15, 0x65, 0x00, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)}};
    return (m);
}

RenderJob job(int n, uint64_t generation = 0, uint32_t ip = 0) {
    RenderJob j;
    j.mac = macN(n);
    j.vendor = 0;
    j.ip = ip;
    j.generation = generation;
    return (j);
}

/// @brief Blocks workers until opened; tells when a worker is waiting at it.
class Gate {
public:
    void wait() {
        std::unique_lock<std::mutex> lock(mutex_);
        ++waiting_;
        cv_.notify_all();
        cv_.wait(lock, [this] { return (open_); });
    }
    void open() {
        std::lock_guard<std::mutex> lock(mutex_);
        open_ = true;
        cv_.notify_all();
    }
    /// @brief Waits until n workers are blocked here.
    bool waitFor(int n) {
        std::unique_lock<std::mutex> lock(mutex_);
        return (cv_.wait_for(lock, std::chrono::seconds(10), [&] { return (waiting_ >= n); }));
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
    int waiting_ = 0;
};

/// @brief Records what the worker and the done callback saw.
struct Recorder {
    std::mutex mutex;
    std::vector<RenderJob> jobs;
    std::map<uint64_t, int> done;

    void ran(const RenderJob& j) {
        std::lock_guard<std::mutex> lock(mutex);
        jobs.push_back(j);
    }
    void finished(const Mac& m) {
        std::lock_guard<std::mutex> lock(mutex);
        ++done[m.value()];
    }
    size_t runs() {
        std::lock_guard<std::mutex> lock(mutex);
        return (jobs.size());
    }
};

TEST(RenderQueue, runsEveryJobAndCallsDoneOncePerMac) {
    Recorder rec;
    RenderQueue q(2, 100, [&](const RenderJob& j) { rec.ran(j); },
                  [&](const Mac& m) { rec.finished(m); });
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(i)));
    }
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();  // joins the workers: every done callback has returned
    EXPECT_EQ(10u, rec.jobs.size());
    ASSERT_EQ(10u, rec.done.size());
    for (const auto& d : rec.done) {
        EXPECT_EQ(1, d.second);
    }
    EXPECT_EQ(0u, q.depth());
    EXPECT_EQ(0u, q.inFlight());
}

// The workers run at their own nice value; the thread that made the queue (in the
// hook: Kea's packet thread) keeps its own. Table: nice asked, nice seen.
TEST(RenderQueue, workersRunAtTheirNiceValueAndTheCallerKeepsItsOwn) {
    struct Scenario {
        int line_;
        int asked;
        int seen;  ///< relative to the process's nice value, capped at 19
    };
    const int base = getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)));
    auto capped = [&](int n) { return (std::min(19, base + n)); };
    const std::vector<Scenario> scenarios = {
        {__LINE__, 0, capped(0)},   {__LINE__, 10, capped(10)}, {__LINE__, 19, capped(19)},
        {__LINE__, 25, capped(19)}, {__LINE__, -5, capped(0)},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        std::mutex m;
        std::set<int> seen;
        std::set<pid_t> tids;
        {
            RenderQueue q(2, 100, 1,
                          [&](const std::vector<RenderJob>&) {
                              pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
                              std::lock_guard<std::mutex> lock(m);
                              tids.insert(tid);
                              seen.insert(getpriority(PRIO_PROCESS, static_cast<id_t>(tid)));
                          },
                          nullptr, s.asked);
            for (int i = 0; i < 20; ++i) {
                q.push(job(i));
            }
            ASSERT_TRUE(q.waitIdle(10000));
        }
        // Workers are other threads, the nice value is theirs alone (Linux).
        EXPECT_EQ(0u, tids.count(static_cast<pid_t>(::syscall(SYS_gettid))));
        EXPECT_EQ(std::set<int>{s.seen}, seen);
        EXPECT_EQ(base, getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))));
    }
}

TEST(RenderQueue, pushDedupesWaitingJobsPerMac) {
    Gate gate;
    Recorder rec;
    RenderQueue q(1, 100,
                  [&](const RenderJob& j) {
                      if (j.mac == macN(1)) {
                          gate.wait();
                      }
                      rec.ran(j);
                  },
                  [&](const Mac& m) { rec.finished(m); });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(1)));
    ASSERT_TRUE(gate.waitFor(1));  // MAC 1 runs, the only worker is busy
    EXPECT_TRUE(q.pending(macN(1)));
    EXPECT_EQ(0u, q.depth());
    EXPECT_EQ(1u, q.inFlight());
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(2, 1, 0x0a000001)));
    EXPECT_EQ(RenderQueue::Push::Merged, q.push(job(2, 2, 0x0a000002)));
    EXPECT_EQ(RenderQueue::Push::Merged, q.push(job(2, 3, 0x0a000003)));
    EXPECT_EQ(1u, q.depth());
    EXPECT_EQ(2u, q.inFlight());
    EXPECT_TRUE(q.pending(macN(2)));
    EXPECT_FALSE(q.pending(macN(3)));
    EXPECT_FALSE(q.waitIdle(20));  // still busy
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    EXPECT_FALSE(q.pending(macN(1)));
    EXPECT_FALSE(q.pending(macN(2)));
    q.stop();
    ASSERT_EQ(2u, rec.jobs.size());
    // The merged job ran once, with the newest facts.
    EXPECT_EQ(macN(2), rec.jobs[1].mac);
    EXPECT_EQ(3u, rec.jobs[1].generation);
    EXPECT_EQ(0x0a000003u, rec.jobs[1].ip);
    EXPECT_EQ(1, rec.done[macN(1).value()]);
    EXPECT_EQ(1, rec.done[macN(2).value()]);
}

TEST(RenderQueue, fullAtCapacity) {
    Gate gate;
    std::atomic<int> runs{0};
    RenderQueue q(1, 2, [&](const RenderJob& j) {
        if (j.mac == macN(1)) {
            gate.wait();
        }
        ++runs;
    });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(1)));
    ASSERT_TRUE(gate.waitFor(1));
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(2)));
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(3)));
    EXPECT_EQ(RenderQueue::Push::Full, q.push(job(4)));
    EXPECT_EQ(RenderQueue::Push::Full, q.push(job(5)));
    // A MAC already waiting still merges when full.
    EXPECT_EQ(RenderQueue::Push::Merged, q.push(job(3)));
    EXPECT_EQ(2u, q.depth());
    EXPECT_FALSE(q.pending(macN(4)));
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    EXPECT_EQ(3, runs.load());
    // Room again.
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(4)));
    ASSERT_TRUE(q.waitIdle(10000));
    EXPECT_EQ(4, runs.load());
}

TEST(RenderQueue, pushWhileRunningRunsAgainAndDoneComesOnce) {
    Gate gate;
    Recorder rec;
    std::atomic<int> calls{0};
    RenderQueue q(2, 100,
                  [&](const RenderJob& j) {
                      if (calls++ == 0) {
                          gate.wait();
                      }
                      rec.ran(j);
                  },
                  [&](const Mac& m) { rec.finished(m); });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(7, 1)));
    ASSERT_TRUE(gate.waitFor(1));
    // The first job runs: a new one for the same MAC is queued, not merged into it.
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(7, 2)));
    EXPECT_TRUE(q.pending(macN(7)));
    // The second worker must not start MAC 7 while the first still renders it.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(0u, rec.runs());
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    ASSERT_EQ(2u, rec.jobs.size());
    EXPECT_EQ(1u, rec.jobs[0].generation);
    EXPECT_EQ(2u, rec.jobs[1].generation);
    EXPECT_EQ(1, rec.done[macN(7).value()]);
}

TEST(RenderQueue, sameMacNeverRunsTwiceAtOnce) {
    constexpr int kMacs = 4;
    std::atomic<int> running[kMacs] = {};
    std::atomic<int> overlaps{0};
    std::atomic<int> runs{0};
    std::mutex mutex;
    std::map<uint64_t, uint64_t> lastGeneration;
    RenderQueue q(4, 1000, [&](const RenderJob& j) {
        int n = j.mac.bytes[5];
        if (running[n].fetch_add(1) != 0) {
            ++overlaps;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(300));
        {
            std::lock_guard<std::mutex> lock(mutex);
            lastGeneration[j.mac.value()] = j.generation;
        }
        ++runs;
        running[n].fetch_sub(1);
    });
    uint64_t generation = 0;
    for (int round = 0; round < 150; ++round) {
        for (int n = 0; n < kMacs; ++n) {
            RenderQueue::Push r = q.push(job(n, ++generation));
            EXPECT_NE(RenderQueue::Push::Full, r);
        }
        if (round % 10 == 0) {
            std::this_thread::sleep_for(std::chrono::microseconds(500));
        }
    }
    ASSERT_TRUE(q.waitIdle(20000));
    q.stop();
    EXPECT_EQ(0, overlaps.load());
    EXPECT_GE(runs.load(), kMacs);
    // The last push of each MAC was rendered: no update is lost.
    for (int n = 0; n < kMacs; ++n) {
        EXPECT_EQ(generation - static_cast<uint64_t>(kMacs - 1 - n), lastGeneration[macN(n).value()]);
    }
}

TEST(RenderQueue, stopDropsWaitingJobs) {
    Gate gate;
    Recorder rec;
    auto q = std::make_unique<RenderQueue>(1, 100, [&](const RenderJob& j) {
        if (j.mac == macN(1)) {
            gate.wait();
        }
        rec.ran(j);
    });
    ASSERT_EQ(RenderQueue::Push::Queued, q->push(job(1)));
    ASSERT_TRUE(gate.waitFor(1));
    ASSERT_EQ(RenderQueue::Push::Queued, q->push(job(2)));
    ASSERT_EQ(RenderQueue::Push::Queued, q->push(job(3)));
    // stop() waits for the running job: call it from another thread.
    std::thread stopper([&] { q->stop(); });
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (q->push(job(9)) != RenderQueue::Push::Stopped &&
           std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(RenderQueue::Push::Stopped, q->push(job(4)));
    EXPECT_EQ(0u, q->depth());
    gate.open();
    stopper.join();
    ASSERT_EQ(1u, rec.jobs.size());  // only the running job finished
    EXPECT_EQ(macN(1), rec.jobs[0].mac);
    EXPECT_TRUE(q->waitIdle(100));
    EXPECT_FALSE(q->pending(macN(2)));
    q->stop();  // twice is harmless
    q.reset();  // and so is the destructor after stop
}

TEST(RenderQueue, workerExceptionsAreSwallowed) {
    Recorder rec;
    std::atomic<int> runs{0};
    RenderQueue q(1, 10,
                  [&](const RenderJob&) {
                      ++runs;
                      throw std::runtime_error("render failed");
                  },
                  [&](const Mac& m) {
                      rec.finished(m);
                      throw std::runtime_error("done failed");
                  });
    q.push(job(1));
    q.push(job(2));
    ASSERT_TRUE(q.waitIdle(10000));
    EXPECT_EQ(RenderQueue::Push::Queued, q.push(job(3)));
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    EXPECT_EQ(3, runs.load());
    EXPECT_EQ(3u, rec.done.size());
}

TEST(RenderQueue, destructorWithWaitingJobs) {
    std::atomic<int> runs{0};
    {
        RenderQueue q(2, 1000, [&](const RenderJob&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            ++runs;
        });
        for (int i = 0; i < 500; ++i) {
            q.push(job(i));
        }
    }
    EXPECT_LT(runs.load(), 500);  // waiting jobs were dropped, not rendered
}

}  // namespace

// ---- Batches (group commit) ----

TEST(RenderQueue, batchDoneComesAfterItsFilesAreCommitted) {
    phoneprov::test::TempDir root;
    OutputDir out(root.path());
    Gate gate;
    std::mutex mutex;
    std::vector<size_t> sizes;
    std::map<uint64_t, bool> fileAtDone;
    std::atomic<int> pendingAfterCommit{0};
    RenderQueue* qp = nullptr;
    RenderQueue q(
        1, 100, 64,
        [&](const std::vector<RenderJob>& jobs) {
            if (jobs.front().mac == macN(0)) {
                gate.wait();  // the first batch holds the worker while the rest queues
            }
            OutputDir::Batch b = out.begin();
            for (const RenderJob& j : jobs) {
                b.stage("", j.mac.lower() + ".cfg", "x");
            }
            b.commit();
            // Committed, not yet reported: every MAC of the batch is still pending.
            for (const RenderJob& j : jobs) {
                pendingAfterCommit += qp->pending(j.mac) ? 1 : 0;
            }
            std::lock_guard<std::mutex> lock(mutex);
            sizes.push_back(jobs.size());
        },
        [&](const Mac& m) {
            std::string content;
            bool there = out.read("", m.lower() + ".cfg", content) && content == "x";
            std::lock_guard<std::mutex> lock(mutex);
            fileAtDone[m.value()] = there;
        });
    qp = &q;
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(0)));
    ASSERT_TRUE(gate.waitFor(1));
    for (int i = 1; i <= 40; ++i) {
        ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(i)));
        EXPECT_TRUE(q.pending(macN(i)));
    }
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    // The 40 waiting jobs went in one batch: one worker, up to 64 at once.
    EXPECT_EQ((std::vector<size_t>{1, 40}), sizes);
    EXPECT_EQ(41, pendingAfterCommit.load());
    ASSERT_EQ(41u, fileAtDone.size());
    for (const auto& d : fileAtDone) {
        EXPECT_TRUE(d.second) << d.first;
    }
}

TEST(RenderQueue, batchesAreBoundedAndNeverHoldOneMacTwice) {
    Gate gate;
    std::mutex mutex;
    std::vector<std::vector<uint64_t>> batches;
    RenderQueue q(
        2, 1000, 8,
        [&](const std::vector<RenderJob>& jobs) {
            if (jobs.front().mac == macN(0)) {
                gate.wait();
            }
            std::vector<uint64_t> keys;
            for (const RenderJob& j : jobs) {
                keys.push_back(j.mac.value());
            }
            std::lock_guard<std::mutex> lock(mutex);
            batches.push_back(keys);
        });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(0)));
    ASSERT_TRUE(gate.waitFor(1));
    // MAC 0 runs (held); a new job for it waits while others flow past it.
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(0, 2)));
    for (int i = 1; i <= 20; ++i) {
        q.push(job(i));
    }
    // The second worker drains the others, in batches of at most 8.
    for (int t = 0; t < 1000 && q.depth() > 1; ++t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(1u, q.depth());  // only MAC 0's second job: it waits for the first
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    size_t total = 0;
    for (const auto& b : batches) {
        EXPECT_LE(b.size(), 8u);
        std::set<uint64_t> unique(b.begin(), b.end());
        EXPECT_EQ(b.size(), unique.size());
        total += b.size();
    }
    EXPECT_EQ(22u, total);
}

// A phone whose ACK waits for its file goes before the phones queued ahead of it;
// the others keep their arrival order; an expedite of a MAC not waiting does nothing.
TEST(RenderQueue, expeditedJobsGoFirst) {
    Gate gate;
    std::mutex mutex;
    std::vector<int> order;
    RenderQueue q(1, 100, 1, [&](const std::vector<RenderJob>& jobs) {
        if (jobs.front().mac == macN(0)) {
            gate.wait();  // holds the only worker while the rest queues
        }
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(jobs.front().mac.value() & 0xffff);
    });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(0)));
    ASSERT_TRUE(gate.waitFor(1));
    for (int i = 1; i <= 6; ++i) {
        ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(i)));
    }
    q.expedite(macN(5));
    q.expedite(macN(3));
    q.expedite(macN(0));   // running, not waiting: nothing to move
    q.expedite(macN(42));  // never queued
    q.expedite(macN(5));   // twice: still rendered once
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    EXPECT_EQ((std::vector<int>{0, 5, 3, 1, 2, 4, 6}), order);
}

// A check (a phone whose inputs did not change) is never pending: no ACK waits for it.
// A render that meets a waiting check replaces it; a check never replaces a render.
TEST(RenderQueue, checksAreNotPendingAndNeverReplaceARender) {
    Gate gate;
    std::mutex mutex;
    std::vector<RenderJob> ran;
    RenderQueue q(1, 100, 1, [&](const std::vector<RenderJob>& jobs) {
        if (jobs.front().mac == macN(0)) {
            gate.wait();  // holds the only worker while the rest queues
        }
        std::lock_guard<std::mutex> lock(mutex);
        ran.push_back(jobs.front());
    });
    RenderJob check0 = job(0);
    check0.check = true;
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(check0));
    ASSERT_TRUE(gate.waitFor(1));
    EXPECT_FALSE(q.pending(macN(0)));  // a check running

    RenderJob check1 = job(1, 7);
    check1.check = true;
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(check1));
    EXPECT_FALSE(q.pending(macN(1)));  // a check waiting
    ASSERT_EQ(RenderQueue::Push::Merged, q.push(job(1, 8)));
    EXPECT_TRUE(q.pending(macN(1)));   // now a render

    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(2, 9)));
    RenderJob check2 = job(2, 10);
    check2.check = true;
    ASSERT_EQ(RenderQueue::Push::Merged, q.push(check2));
    EXPECT_TRUE(q.pending(macN(2)));   // still the render

    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    ASSERT_EQ(3u, ran.size());
    EXPECT_TRUE(ran[0].check);
    EXPECT_FALSE(ran[1].check);
    EXPECT_EQ(8u, ran[1].generation);
    EXPECT_FALSE(ran[2].check);
    EXPECT_EQ(9u, ran[2].generation);
}

// The background list (reserved phones rendered ahead of their boot) runs only when no
// other job waits; a phone with a job of its own waiting or running is not rendered
// again from the list (the hook skips one whose files are current);
// `finished` comes once, after the last one; waitIdle() and inFlight() count the list.
TEST(RenderQueue, backgroundRunsWhenNothingElseWaits) {
    Gate gate;
    std::mutex mutex;
    std::vector<std::pair<int, bool>> order;  // MAC number, background
    std::atomic<int> finished{0};
    RenderQueue q(1, 100, 4, [&](const std::vector<RenderJob>& jobs) {
        if (jobs.front().mac == macN(0)) {
            gate.wait();
        }
        std::lock_guard<std::mutex> lock(mutex);
        for (const RenderJob& j : jobs) {
            order.emplace_back(static_cast<int>(j.mac.value() & 0xffff), j.background);
        }
    });
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(0)));
    ASSERT_TRUE(gate.waitFor(1));
    std::vector<RenderJob> list = {job(1), job(2)};  // also queued by packets, below
    for (int i = 10; i < 20; ++i) {
        list.push_back(job(i));
    }
    q.setBackground(list, [&] { ++finished; });
    EXPECT_EQ(12u, q.backgroundLeft());
    EXPECT_EQ(0u, q.depth());
    EXPECT_EQ(13u, q.inFlight());  // 12 listed, 1 running
    EXPECT_FALSE(q.pending(macN(10)));  // listed, not taken yet
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(1)));
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(2)));
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    EXPECT_EQ(0u, q.backgroundLeft());
    q.stop();
    std::vector<std::pair<int, bool>> want = {{0, false}, {1, false}, {2, false}};
    for (int i = 10; i < 20; ++i) {
        want.emplace_back(i, true);
    }
    EXPECT_EQ(want, order);  // 1 and 2 not again from the list
    EXPECT_EQ(1, finished.load());
}

// A new list replaces the old one: the old list's `finished` never comes, the new one's
// does; an empty list is finished at once.
TEST(RenderQueue, aNewBackgroundListReplacesTheOld) {
    Gate gate;
    std::atomic<int> ran{0};
    RenderQueue q(1, 100, 1, [&](const std::vector<RenderJob>& jobs) {
        if (jobs.front().mac == macN(0)) {
            gate.wait();
        }
        ++ran;
    });
    std::atomic<int> first{0};
    std::atomic<int> second{0};
    q.setBackground({job(0), job(1), job(2)}, [&] { ++first; });
    ASSERT_TRUE(gate.waitFor(1));  // job 0 of the first list runs
    EXPECT_TRUE(q.pending(macN(0)));  // a background render, once taken, is pending
    q.setBackground({job(3), job(4)}, [&] { ++second; });
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    EXPECT_EQ(3, ran.load());  // 0, then 3 and 4
    EXPECT_EQ(0, first.load());
    EXPECT_EQ(1, second.load());

    RenderQueue idle(1, 10, [](const RenderJob&) {});
    std::atomic<int> empty{0};
    idle.setBackground({}, [&] { ++empty; });
    EXPECT_EQ(1, empty.load());
}

// A configuration committed while one of its phones renders from the last one: the new
// list's job for that phone is not dropped (the running render may hold the old facts),
// it runs once that render ends.
TEST(RenderQueue, aListedPhoneBeingRenderedIsRenderedAgainAfterIt) {
    Gate gate;
    std::mutex mutex;
    std::vector<std::pair<int, uint64_t>> order;  // MAC number, generation
    RenderQueue q(2, 100, 4, [&](const std::vector<RenderJob>& jobs) {
        if (jobs.front().mac == macN(0) && jobs.front().generation == 1) {
            gate.wait();
        }
        std::lock_guard<std::mutex> lock(mutex);
        for (const RenderJob& j : jobs) {
            order.emplace_back(static_cast<int>(j.mac.value() & 0xffff), j.generation);
        }
    });
    std::atomic<int> finished{0};
    q.setBackground({job(0, 1)});
    ASSERT_TRUE(gate.waitFor(1));  // one worker renders phone 0 from the first list
    q.setBackground({job(0, 2), job(5, 2)}, [&] { ++finished; });
    // The other worker looks at the new list while phone 0 still renders: phone 0's
    // job is taken off the list (to wait for that render), phone 5's stays listed
    // behind it. (Dropping phone 0's job would render phone 5 at once: 0 left.)
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (q.backgroundLeft() > 1 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    gate.open();
    ASSERT_TRUE(q.waitIdle(10000));
    q.stop();
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::pair<int, uint64_t>> want = {{0, 1}, {0, 2}, {5, 2}};
    EXPECT_EQ(want, order) << "the new list's job for the phone being rendered was dropped";
    EXPECT_EQ(1, finished.load());
}

// Checks wake no worker one by one: those pushed together are taken together, once a
// whole batch waits or with the next render; a lone check still runs once it has
// waited kCheckGatherMs. The batching cases gather for a minute, so no scheduling delay
// on a loaded machine can end a gathering early and split a batch.
TEST(RenderQueue, checksAreGatheredIntoBatches) {
    std::mutex mutex;
    std::vector<size_t> batches;  // size of each batch
    std::vector<bool> withRender;
    auto record = [&](const std::vector<RenderJob>& jobs) {
        std::lock_guard<std::mutex> lock(mutex);
        batches.push_back(jobs.size());
        withRender.push_back(std::any_of(jobs.begin(), jobs.end(),
                                         [](const RenderJob& j) { return (!j.check); }));
    };
    auto check = [](int n) {
        RenderJob j = job(n);
        j.check = true;
        return (j);
    };
    // 1. A lone check, with the default gathering time: it runs.
    {
        RenderQueue lone(1, 1000, 64, record);
        ASSERT_EQ(RenderQueue::Push::Queued, lone.push(check(1)));
        ASSERT_TRUE(lone.waitIdle(10000));
        lone.stop();
    }
    ASSERT_EQ(1u, batches.size());
    EXPECT_EQ(1u, batches[0]);
    EXPECT_FALSE(withRender[0]);

    RenderQueue q(1, 1000, 64, record);
    q.setCheckGatherMs(60000);
    // 2. A whole batch of checks (64) ends the gathering: one batch, not 64.
    for (int i = 100; i < 164; ++i) {
        ASSERT_EQ(RenderQueue::Push::Queued, q.push(check(i)));
    }
    ASSERT_TRUE(q.waitIdle(10000)) << "a whole batch of checks did not end the gathering";
    // 3. Checks waiting when a render comes: taken with it, at once.
    for (int i = 30; i < 35; ++i) {
        ASSERT_EQ(RenderQueue::Push::Queued, q.push(check(i)));
    }
    ASSERT_EQ(RenderQueue::Push::Queued, q.push(job(99)));
    ASSERT_TRUE(q.waitIdle(10000)) << "the render did not take the waiting checks";
    q.stop();
    std::lock_guard<std::mutex> lock(mutex);
    ASSERT_EQ(3u, batches.size()) << "checks were taken one by one";
    EXPECT_EQ(64u, batches[1]);
    EXPECT_FALSE(withRender[1]);
    EXPECT_EQ(6u, batches[2]) << "the render came alone: the waiting checks were not taken with it";
    EXPECT_TRUE(withRender[2]);
}
