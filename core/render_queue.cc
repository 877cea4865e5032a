// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "render_queue.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include <chrono>

namespace phoneprov {

RenderQueue::RenderQueue(int threads, size_t capacity, Worker worker, Done done)
    : RenderQueue(threads, capacity, 1,
                  [w = std::move(worker)](const std::vector<RenderJob>& jobs) {
                      for (const RenderJob& j : jobs) {
                          try {
                              w(j);
                          } catch (...) {
                          }
                      }
                  },
                  std::move(done)) {}

RenderQueue::RenderQueue(int threads, size_t capacity, size_t maxBatch, BatchWorker worker,
                         Done done, int nice)
    : worker_(std::move(worker)), done_(std::move(done)), maxBatch_(maxBatch ? maxBatch : 1),
      capacity_(capacity), nice_(nice < 0 ? 0 : (nice > 19 ? 19 : nice)) {
    for (int i = 0; i < threads; ++i) {
        threads_.emplace_back([this] { run(); });
    }
}

RenderQueue::~RenderQueue() {
    stop();
}

RenderQueue::Push RenderQueue::push(const RenderJob& job) {
    uint64_t key = job.mac.value();
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) {
        return (Push::Stopped);
    }
    auto it = jobs_.find(key);
    if (it != jobs_.end()) {
        // The newest facts (address, model) win, but a check never replaces a
        // render: the render does what the check would, and more.
        if (!job.check || it->second.check) {
            if (it->second.check && !job.check) {
                ++waitingRenders_;
                cv_.notify_one();
            }
            it->second = job;
        }
        return (Push::Merged);
    }
    if (jobs_.size() >= capacity_) {
        return (Push::Full);
    }
    jobs_.emplace(key, job);
    order_.push_back(key);
    if (!job.check) {
        ++waitingRenders_;
        cv_.notify_one();
    } else if (jobs_.size() == 1 || jobs_.size() - waitingRenders_ >= maxBatch_) {
        // The first check starts a worker's gathering wait; a whole batch ends it.
        cv_.notify_one();
    }
    return (Push::Queued);
}

void RenderQueue::setCheckGatherMs(int ms) {
    checkGatherMs_.store(ms);
}

void RenderQueue::setPaused(bool paused) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        paused_ = paused;
    }
    cv_.notify_all();
}

void RenderQueue::expedite(const Mac& mac) {
    uint64_t key = mac.value();
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_ || jobs_.count(key) == 0) {
        return;
    }
    // Bounded like the jobs: beyond that many entries, an expedite is a no-op.
    if (urgent_.size() < capacity_) {
        urgent_.push_back(key);
    }
}

bool RenderQueue::pending(const Mac& mac) const {
    uint64_t key = mac.value();
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = jobs_.find(key);
    if (it != jobs_.end() && !it->second.check) {
        return (true);
    }
    auto r = running_.find(key);
    return (r != running_.end() && r->second.renders > 0);
}

void RenderQueue::setBackground(std::vector<RenderJob> jobs, std::function<void()> finished) {
    std::function<void()> now;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_) {
            return;
        }
        for (RenderJob& j : jobs) {
            j.background = true;
        }
        background_ = std::move(jobs);
        backgroundNext_ = 0;
        backgroundRunning_ = 0;  // the old list's running jobs no longer count
        ++backgroundList_;
        backgroundFinished_ = std::move(finished);
        if (background_.empty()) {
            now.swap(backgroundFinished_);
        } else {
            cv_.notify_all();
        }
    }
    if (now) {
        now();
    }
}

size_t RenderQueue::backgroundLeft() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (background_.size() - backgroundNext_);
}

size_t RenderQueue::depth() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (jobs_.size());
}

size_t RenderQueue::inFlight() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return (jobs_.size() + runningTotal_ + (background_.size() - backgroundNext_));
}

bool RenderQueue::idleLocked() const {
    return (jobs_.empty() && runningTotal_ == 0 && backgroundNext_ >= background_.size());
}

bool RenderQueue::waitIdle(int timeoutMs) const {
    std::unique_lock<std::mutex> lock(mutex_);
    return (idle_.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                           [this] { return (idleLocked()); }));
}

std::function<void()> RenderQueue::backgroundDoneLocked() {
    std::function<void()> out;
    if (backgroundNext_ >= background_.size() && backgroundRunning_ == 0) {
        out.swap(backgroundFinished_);
        if (!background_.empty()) {
            std::vector<RenderJob>().swap(background_);  // hand the memory back
            backgroundNext_ = 0;
        }
    }
    return (out);
}

void RenderQueue::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopping_ && threads_.empty()) {
            return;
        }
        stopping_ = true;
        jobs_.clear();
        waitingRenders_ = 0;
        order_.clear();
        urgent_.clear();
        background_.clear();
        backgroundNext_ = 0;
        backgroundFinished_ = nullptr;
    }
    cv_.notify_all();
    for (auto& t : threads_) {
        if (t.joinable()) {
            t.join();
        }
    }
    threads_.clear();
    idle_.notify_all();
}

void RenderQueue::run() {
    if (nice_ > 0) {
        // Linux keeps a nice value per thread (PRIO_PROCESS with a thread id), and
        // a new thread starts with its creator's: this lowers only this worker,
        // nice_ steps below the thread that made the queue. Lowering needs no
        // privilege; a failure leaves the worker at its creator's priority.
        id_t tid = static_cast<id_t>(::syscall(SYS_gettid));
        errno = 0;
        int now = ::getpriority(PRIO_PROCESS, tid);
        if (errno == 0) {
            (void)::setpriority(PRIO_PROCESS, tid, now + nice_ > 19 ? 19 : now + nice_);
        }
    }
    std::vector<RenderJob> batch;
    for (;;) {
        batch.clear();
        uint64_t list = 0;
        std::function<void()> finished;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            // Renders (and the background list) wake a worker at once; checks alone
            // are gathered for up to kCheckGatherMs, or until a batch of them waits.
            auto work = [this] {
                return (stopping_ ||
                        (!paused_ && (waitingRenders_ > 0 || !urgent_.empty() ||
                                      backgroundNext_ < background_.size() ||
                                      jobs_.size() >= maxBatch_)));
            };
            while (!work()) {
                if (jobs_.empty() || paused_) {
                    cv_.wait(lock);
                } else if (cv_.wait_for(lock, std::chrono::milliseconds(checkGatherMs_.load())) ==
                               std::cv_status::timeout &&
                           !jobs_.empty()) {
                    break;
                }
            }
            if (stopping_) {
                return;
            }
            // Take up to maxBatch_ waiting jobs, expedited ones first, then in
            // arrival order. A MAC already being rendered by another worker waits
            // for its turn (stays queued), so that one MAC never renders twice at once.
            std::deque<uint64_t> busy;
            while ((!urgent_.empty() || !order_.empty()) && batch.size() < maxBatch_) {
                std::deque<uint64_t>& from = urgent_.empty() ? order_ : urgent_;
                uint64_t key = from.front();
                from.pop_front();
                auto it = jobs_.find(key);
                if (it == jobs_.end()) {
                    continue;
                }
                if (running_.count(key)) {
                    busy.push_back(key);
                    continue;
                }
                batch.push_back(std::move(it->second));
                jobs_.erase(it);
                Running& r = running_[key];
                r.list = backgroundList_;
                ++r.jobs;
                ++runningTotal_;
                if (!batch.back().check) {
                    ++r.renders;
                    --waitingRenders_;
                }
            }
            // Then the background list, when nothing else waits. A phone with a
            // job of its own waiting gets that one instead (it reads the newest facts
            // when it runs), and so does one taken since this list was set. A phone
            // whose render began before this list was set may be rendered from older
            // facts (a configuration committed during its render): its list job
            // waits, as a job of its own, for that render to end.
            list = backgroundList_;
            while (busy.empty() && order_.empty() && urgent_.empty() &&
                   backgroundNext_ < background_.size() && batch.size() < maxBatch_) {
                RenderJob& j = background_[backgroundNext_++];
                uint64_t key = j.mac.value();
                if (jobs_.count(key) != 0) {
                    continue;
                }
                auto run = running_.find(key);
                if (run != running_.end() && run->second.list == backgroundList_) {
                    continue;  // taken since this list was set: from its facts
                }
                if (run != running_.end()) {
                    j.background = false;
                    jobs_.emplace(key, std::move(j));
                    order_.push_back(key);
                    ++waitingRenders_;
                    continue;
                }
                batch.push_back(std::move(j));
                Running& r = running_[key];
                r.list = backgroundList_;
                ++r.jobs;
                ++r.renders;
                ++runningTotal_;
                ++backgroundRunning_;
            }
            order_.insert(order_.end(), busy.begin(), busy.end());
            finished = backgroundDoneLocked();
            if (batch.empty()) {
                const bool busyOnly = !order_.empty();
                if (idleLocked()) {
                    idle_.notify_all();
                }
                lock.unlock();
                if (finished) {
                    try {
                        finished();
                    } catch (...) {
                    }
                }
                if (busyOnly) {
                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                }
                continue;
            }
            if (!jobs_.empty() || !urgent_.empty() || backgroundNext_ < background_.size()) {
                cv_.notify_one();  // more waits: another worker may take it (or gather it)
            }
        }
        try {
            worker_(batch);
        } catch (...) {
            // The worker reports its own failures; nothing may escape a thread.
        }
        std::vector<const Mac*> last;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (const RenderJob& job : batch) {
                uint64_t key = job.mac.value();
                auto r = running_.find(key);
                r->second.renders -= job.check ? 0 : 1;
                if (--r->second.jobs == 0) {
                    running_.erase(r);
                }
                --runningTotal_;
                if (job.background && list == backgroundList_ && backgroundRunning_ > 0) {
                    --backgroundRunning_;
                }
                if (jobs_.count(key) == 0 && running_.count(key) == 0) {
                    last.push_back(&job.mac);
                }
            }
            if (!finished) {
                finished = backgroundDoneLocked();
            }
            if (idleLocked()) {
                idle_.notify_all();
            }
        }
        if (done_) {
            for (const Mac* mac : last) {
                try {
                    done_(*mac);
                } catch (...) {
                }
            }
        }
        if (finished) {
            try {
                finished();
            } catch (...) {
            }
        }
    }
}

}  // namespace phoneprov
