// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_RENDER_QUEUE_H
#define PHONEPROV_RENDER_QUEUE_H

#include "mac.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace phoneprov {

class Provisioning;

/// @brief One render request: a phone, identified, with what its files need.
struct RenderJob {
    Mac mac;
    int vendor = -1;
    std::string model;
    uint32_t ip = 0;  ///< IPv4 address in host byte order (0: unknown)
    uint64_t generation = 0;
    /// The vendor owning the phone's MAC in the registry when option 60 named another
    /// family (-1: no conflict): the phone gets no per-device file of `vendor`.
    int owner = -1;
    /// The plan `vendor` indexes (kept alive across a reload of the catalogue);
    /// null: the worker's current one.
    std::shared_ptr<const Provisioning> plan;
    /// Only confirm that the files of this phone's last render are still on disk
    /// (the worker renders when they are not): its inputs did not change. A check
    /// is not pending(): no ACK waits for it. A render never turns into a check.
    bool check = false;
    /// Queued by setBackground() (a reserved phone rendered ahead of its boot).
    bool background = false;
};

/// @brief A bounded queue of render jobs, de-duplicated per MAC, served by
/// worker threads. The DHCP path only calls push() (a short critical section).
class RenderQueue {
public:
    /// @brief What push() did.
    enum class Push { Queued, Merged, Full, Stopped };

    using Worker = std::function<void(const RenderJob&)>;
    using Done = std::function<void(const Mac&)>;
    /// Renders several jobs (distinct MACs) together, e.g. with one group commit.
    using BatchWorker = std::function<void(const std::vector<RenderJob>&)>;

    /// @param threads worker count; @param capacity most jobs waiting.
    /// @param worker renders one job (must not throw; exceptions are swallowed).
    /// @param done called after a job for a MAC finished and no newer job for it waits.
    RenderQueue(int threads, size_t capacity, Worker worker, Done done = nullptr);

    /// @brief A queue whose workers take up to `maxBatch` waiting jobs at once
    /// (whatever waits, never two for one MAC) and hand them to `worker`
    /// together. `done` is called for each MAC of a batch only after the worker
    /// returned for the whole batch; each MAC stays pending() until then.
    ///
    /// @param nice how many nice steps (0-19, capped at nice 19) the workers run
    /// below the thread that makes the queue (Linux keeps nice per thread).
    /// Above 0, when the CPUs are busy the scheduler favours that thread (in
    /// the hook, Kea's packet thread) and rendering takes what is left.
    RenderQueue(int threads, size_t capacity, size_t maxBatch, BatchWorker worker,
                Done done = nullptr, int nice = 0);
    ~RenderQueue();

    RenderQueue(const RenderQueue&) = delete;
    RenderQueue& operator=(const RenderQueue&) = delete;

    /// @brief Queues a job; a job for a MAC already waiting is merged into it.
    Push push(const RenderJob& job);

    /// @brief How long checks may wait to be gathered: a check wakes no worker
    /// (no ACK waits for it); a worker takes the waiting checks with the next
    /// render, or once the oldest has waited this long (in a boot storm of
    /// phones rendered before, one wake-up per batch instead of one per phone).
    static constexpr int kCheckGatherMs = 50;

    /// @brief Sets how long checks are gathered (kCheckGatherMs by default). A test
    /// seam: with a gathering time far beyond any scheduling delay, a test of the
    /// batching sees the same batches on a slow machine as on a fast one.
    void setCheckGatherMs(int ms);

    /// @brief While paused, workers take no job (a running one finishes); jobs
    /// queue as usual. A test seam: a test holds the queue still, deterministically,
    /// instead of keeping a worker busy with a render it hopes is slow enough.
    void setPaused(bool paused);

    /// @brief Moves this MAC's waiting job ahead of every job not expedited
    /// (a phone whose ACK waits for its file goes first). No-op when none waits.
    void expedite(const Mac& mac);

    /// @brief True while a render (not a check) for this MAC waits or runs;
    /// a background job counts from when a worker takes it.
    bool pending(const Mac& mac) const;

    /// @brief Replaces the background list: jobs taken only when no other job
    /// waits, in order, outside the capacity (the list is the admin's own, not
    /// the network's). One whose MAC has a job waiting is dropped: that job reads
    /// the newer facts when it runs. One whose MAC is being rendered (perhaps from
    /// facts older than this list) waits for that render and runs after it. `finished` is called (by a worker) once every job
    /// of this list was rendered or dropped; not when a later list replaces it.
    void setBackground(std::vector<RenderJob> jobs, std::function<void()> finished = nullptr);
    /// @brief Background jobs not taken yet.
    size_t backgroundLeft() const;

    /// @brief Jobs waiting (not running; background jobs not counted).
    size_t depth() const;
    /// @brief Jobs waiting or running, background jobs included.
    size_t inFlight() const;

    /// @brief Blocks until no job waits or runs (background jobs included), or
    /// the timeout (ms) passes.
    bool waitIdle(int timeoutMs) const;

    /// @brief Stops the workers. Waiting jobs are dropped (Kea's unload semantics);
    /// running ones finish.
    void stop();

private:
    void run();
    bool idleLocked() const;
    /// The background list's `finished`, moved out, once it is done (else empty).
    std::function<void()> backgroundDoneLocked();

    BatchWorker worker_;
    Done done_;
    size_t maxBatch_ = 1;
    std::atomic<int> checkGatherMs_{kCheckGatherMs};
    size_t capacity_;
    int nice_ = 0;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    mutable std::condition_variable idle_;
    // A MAC taken from one of these two deques leaves a stale entry in the other,
    // skipped when reached (its job is gone, or it is a newer job, taken then).
    std::deque<uint64_t> order_;                   ///< MACs in arrival order
    std::deque<uint64_t> urgent_;                  ///< expedited MACs, served first
    std::unordered_map<uint64_t, RenderJob> jobs_; ///< waiting job per MAC
    size_t waitingRenders_ = 0;                    ///< of jobs_, those not checks
    /// Jobs running per MAC, and how many of them are renders (not checks).
    struct Running {
        int jobs = 0;
        int renders = 0;
        uint64_t list = 0;  ///< backgroundList_ when its latest job was taken
    };
    std::unordered_map<uint64_t, Running> running_;
    size_t runningTotal_ = 0;
    // The background list, consumed from backgroundNext_; its jobs running now.
    std::vector<RenderJob> background_;
    size_t backgroundNext_ = 0;
    size_t backgroundRunning_ = 0;
    uint64_t backgroundList_ = 0;  ///< which list runs (setBackground() count)
    std::function<void()> backgroundFinished_;
    bool stopping_ = false;
    bool paused_ = false;
    std::vector<std::thread> threads_;
};

}  // namespace phoneprov

#endif  // PHONEPROV_RENDER_QUEUE_H
