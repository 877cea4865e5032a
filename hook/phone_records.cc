// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phone_records.h"

#include "phoneprov_log.h"

#include <sqlite3.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace core = ::phoneprov;

namespace isc {
namespace phoneprov {

namespace {

int64_t nowMs() {
    return (std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count());
}

std::string ipText(uint32_t ip) {
    return (std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
            std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff));
}

core::Mac macFromValue(uint64_t v) {
    core::Mac m;
    for (int i = 5; i >= 0; --i) {
        m.bytes[i] = static_cast<uint8_t>(v & 0xff);
        v >>= 8;
    }
    return (m);
}

/// @brief How long the writer gathers events before it commits them.
constexpr auto kBatchWindow = std::chrono::milliseconds(200);
/// @brief At most one foreign-address WARN per this many ms (the rest are counted).
constexpr int64_t kWarnEveryMs = 1000;
/// @brief How often phones past their retention are removed.
constexpr int64_t kExpireEveryMs = 3600 * 1000;

const char* kSchema =
    "CREATE TABLE IF NOT EXISTS phones("
    " mac INTEGER PRIMARY KEY, vendor TEXT NOT NULL, model TEXT NOT NULL, how TEXT NOT NULL,"
    " ip INTEGER NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    " last_ack INTEGER NOT NULL, render_time INTEGER NOT NULL, render_ok INTEGER NOT NULL,"
    " reserved INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS files("
    " mac INTEGER NOT NULL, path TEXT NOT NULL, version INTEGER NOT NULL,"
    " fetch_time INTEGER NOT NULL, protocol TEXT NOT NULL, source INTEGER NOT NULL,"
    " status INTEGER NOT NULL, bytes INTEGER NOT NULL, fetched_version INTEGER NOT NULL,"
    " PRIMARY KEY(mac, path)) WITHOUT ROWID;";

/// @brief A prepared statement, finalized when it goes.
class Stmt {
public:
    Stmt(sqlite3* db, const char* sql) {
        if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) {
            s_ = nullptr;
        }
    }
    ~Stmt() { sqlite3_finalize(s_); }
    Stmt(const Stmt&) = delete;
    Stmt& operator=(const Stmt&) = delete;
    sqlite3_stmt* get() const { return (s_); }
    explicit operator bool() const { return (s_ != nullptr); }
    void bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
    void bind(int i, const std::string& v) {
        sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    /// @brief Steps once and resets; true when done.
    bool run() {
        int rc = sqlite3_step(s_);
        sqlite3_reset(s_);
        sqlite3_clear_bindings(s_);
        return (rc == SQLITE_DONE || rc == SQLITE_ROW);
    }

private:
    sqlite3_stmt* s_ = nullptr;
};

std::string column(sqlite3_stmt* s, int i) {
    const unsigned char* t = sqlite3_column_text(s, i);
    return (t ? std::string(reinterpret_cast<const char*>(t)) : std::string());
}

}  // namespace

const char* howText(HowIdentified h) {
    switch (h) {
    case HowIdentified::Registry:
        return ("registry");
    case HowIdentified::VendorClass:
        return ("option-60");
    case HowIdentified::Reservation:
        return ("reservation");
    case HowIdentified::Pnp:
        return ("pnp");
    }
    return ("registry");
}

uint64_t fileVersion(uint64_t dev, uint64_t ino, int64_t size, int64_t mtimeSec,
                     int64_t mtimeNsec) {
    uint64_t h = 1469598103934665603ULL;
    for (uint64_t v : {dev, ino, static_cast<uint64_t>(size), static_cast<uint64_t>(mtimeSec),
                       static_cast<uint64_t>(mtimeNsec)}) {
        for (int i = 0; i < 8; ++i) {
            h ^= (v >> (8 * i)) & 0xff;
            h *= 1099511628211ULL;
        }
    }
    // SQLite stores signed 64-bit integers: keep 63 bits, and never 0 ("none").
    h &= 0x7fffffffffffffffULL;
    return (h ? h : 1);
}

const char* PhoneRecord::state() const {
    if (renderOk < 0) {
        return ("seen");
    }
    if (renderOk == 0) {
        return ("failed");
    }
    bool current = false;
    bool stale = false;
    for (const FileRecord& f : files) {
        if (f.fetchedVersion == 0) {
            continue;
        }
        if (f.fetchedVersion == f.version) {
            current = true;
        } else {
            stale = true;
        }
    }
    if (stale) {
        return ("fetched-stale");
    }
    return (current ? "fetched" : "rendered");
}

nlohmann::json PhoneRecord::toJson(bool withFiles) const {
    auto seconds = [](int64_t ms) -> nlohmann::json {
        return (ms ? nlohmann::json(ms / 1000) : nlohmann::json(nullptr));
    };
    nlohmann::json j = {
        {"mac", mac.colon()},
        {"vendor", vendor},
        {"model", model},
        {"identified-by", how},
        {"address", ip ? nlohmann::json(ipText(ip)) : nlohmann::json(nullptr)},
        {"first-seen", seconds(firstSeen)},
        {"last-seen", seconds(lastSeen)},
        {"last-ack", seconds(lastAck)},
        {"reserved", reserved},
        {"state", state()},
        {"render",
         renderOk < 0 ? nlohmann::json(nullptr)
                      : nlohmann::json({{"time", seconds(renderTime)},
                                        {"outcome", renderOk ? "ok" : "failed"},
                                        {"files", files.size()}})},
    };
    int64_t lastFetch = 0;
    for (const FileRecord& f : files) {
        lastFetch = std::max(lastFetch, f.fetchTime);
    }
    j["last-fetch"] = seconds(lastFetch);
    if (!withFiles) {
        return (j);
    }
    nlohmann::json list = nlohmann::json::array();
    for (const FileRecord& f : files) {
        char version[17];
        snprintf(version, sizeof(version), "%016llx", static_cast<unsigned long long>(f.version));
        nlohmann::json fetch = nullptr;
        if (f.fetchTime) {
            fetch = {{"time", f.fetchTime / 1000},
                     {"protocol", f.protocol},
                     {"address", ipText(f.source)},
                     {"status", f.status},
                     {"bytes", f.bytes >= 0 ? nlohmann::json(f.bytes) : nlohmann::json(nullptr)},
                     {"current", f.fetchedVersion != 0 && f.fetchedVersion == f.version}};
        }
        list.push_back({{"path", f.path}, {"version", version}, {"last-fetch", fetch}});
    }
    j["files"] = list;
    return (j);
}

PhoneRecords::PhoneRecords(std::string dbPath, int64_t retentionSec, std::string basePath)
    : db_path_(std::move(dbPath)), retention_ms_(retentionSec * 1000),
      base_path_(std::move(basePath)) {
    seen_.reserve(1024);
}

PhoneRecords::~PhoneRecords() {
    stop();
}

void PhoneRecords::start() {
    if (!db_path_.empty() && openDb()) {
        loadDb();
    }
    last_expiry_ms_ = nowMs();
    expire(last_expiry_ms_);
    writeDirty();
    writer_ = std::thread([this] { writerLoop(); });
}

void PhoneRecords::stop() {
    if (stop_pipe_[1] >= 0) {
        char c = 1;
        (void)::write(stop_pipe_[1], &c, 1);
    }
    if (listener_.joinable()) {
        listener_.join();
    }
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(listen_path_.c_str());
        listen_fd_ = -1;
    }
    for (int& fd : stop_pipe_) {
        if (fd >= 0) {
            ::close(fd);
            fd = -1;
        }
    }
    {
        std::lock_guard<std::mutex> lock(queue_mutex_);
        stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_.joinable()) {
        writer_.join();
    }
    closeDb();
}

bool PhoneRecords::openDb() {
    int rc = sqlite3_open_v2(db_path_.c_str(), &db_,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    std::string error;
    if (rc != SQLITE_OK) {
        error = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
    } else {
        sqlite3_busy_timeout(db_, 2000);
        char* msg = nullptr;
        // WAL: a commit is durable across a crash of the process (kill -9);
        // synchronous NORMAL syncs at checkpoints, not at every batch.
        if (sqlite3_exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr,
                         nullptr, &msg) != SQLITE_OK ||
            sqlite3_exec(db_, kSchema, nullptr, nullptr, &msg) != SQLITE_OK) {
            error = msg ? msg : "cannot set up the tables";
            sqlite3_free(msg);
        }
    }
    if (!error.empty()) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_RECORDS_OPEN_FAILED).arg(db_path_).arg(error);
        closeDb();
        return (false);
    }
    ::chmod(db_path_.c_str(), 0640);
    return (true);
}

void PhoneRecords::closeDb() {
    if (db_) {
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

void PhoneRecords::loadDb() {
    std::lock_guard<std::mutex> lock(records_mutex_);
    Stmt phones(db_, "SELECT mac, vendor, model, how, ip, first_seen, last_seen, last_ack,"
                     " render_time, render_ok, reserved FROM phones");
    while (phones && sqlite3_step(phones.get()) == SQLITE_ROW) {
        sqlite3_stmt* s = phones.get();
        uint64_t key = static_cast<uint64_t>(sqlite3_column_int64(s, 0)) & 0xffffffffffffULL;
        PhoneRecord& r = phones_[key];
        r.mac = macFromValue(key);
        r.vendor = column(s, 1);
        r.model = column(s, 2);
        r.how = column(s, 3);
        r.ip = static_cast<uint32_t>(sqlite3_column_int64(s, 4));
        r.firstSeen = sqlite3_column_int64(s, 5);
        r.lastSeen = sqlite3_column_int64(s, 6);
        r.lastAck = sqlite3_column_int64(s, 7);
        r.renderTime = sqlite3_column_int64(s, 8);
        r.renderOk = static_cast<int>(sqlite3_column_int64(s, 9));
        r.reserved = sqlite3_column_int64(s, 10) != 0;
        unreserved_ += r.reserved ? 0 : 1;
    }
    Stmt files(db_, "SELECT mac, path, version, fetch_time, protocol, source, status, bytes,"
                    " fetched_version FROM files ORDER BY mac, path");
    while (files && sqlite3_step(files.get()) == SQLITE_ROW) {
        sqlite3_stmt* s = files.get();
        uint64_t key = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
        auto it = phones_.find(key);
        if (it == phones_.end()) {
            continue;
        }
        FileRecord f;
        f.path = column(s, 1);
        f.version = static_cast<uint64_t>(sqlite3_column_int64(s, 2));
        f.fetchTime = sqlite3_column_int64(s, 3);
        f.protocol = column(s, 4);
        f.source = static_cast<uint32_t>(sqlite3_column_int64(s, 5));
        f.status = static_cast<int>(sqlite3_column_int64(s, 6));
        f.bytes = sqlite3_column_int64(s, 7);
        f.fetchedVersion = static_cast<uint64_t>(sqlite3_column_int64(s, 8));
        by_path_[f.path] = key;
        it->second.files.push_back(std::move(f));
    }
    LOG_INFO(phoneprov_logger, PHONEPROV_RECORDS_LOADED).arg(phones_.size()).arg(db_path_);
}

void PhoneRecords::seen(SeenEvent& e) noexcept {
    e.when = nowMs();
    std::unique_lock<std::mutex> lock(queue_mutex_);
    if (stopping_ || seen_.size() >= kMaxQueued) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return;
    }
    if (seen_.size() == seen_.capacity()) {
        // Growing allocates: only up to kMaxQueued, and the writer keeps the capacity
        // it swaps back. Never on the DHCP path otherwise.
        try {
            seen_.reserve(std::min(kMaxQueued, seen_.capacity() * 2 + 64));
        } catch (const std::exception&) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    seen_.push_back(e);
    ++queued_seq_;
}

void PhoneRecords::rendered(const core::Mac& mac, const std::string& vendor,
                            const std::string& model, bool ok, bool reserved,
                            const std::vector<std::pair<std::string, uint64_t>>& files) noexcept {
    try {
        RenderEvent e{mac.value(), vendor, model, ok, reserved, files, nowMs()};
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (stopping_ || renders_.size() >= kMaxQueued) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        renders_.push_back(std::move(e));
        ++queued_seq_;
    } catch (const std::exception&) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    queue_cv_.notify_one();
}

void PhoneRecords::fetched(const core::FetchLine& line) noexcept {
    try {
        FetchEvent e{line, nowMs()};
        std::lock_guard<std::mutex> lock(queue_mutex_);
        if (stopping_ || fetches_.size() >= kMaxQueued) {
            dropped_.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        fetches_.push_back(std::move(e));
        ++queued_seq_;
    } catch (const std::exception&) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    queue_cv_.notify_one();
}

bool PhoneRecords::sync(int timeoutMs) {
    std::unique_lock<std::mutex> lock(queue_mutex_);
    const uint64_t target = queued_seq_;
    if (!writer_.joinable()) {
        return (applied_seq_ >= target);
    }
    queue_cv_.notify_all();
    return (applied_cv_.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                                 [&] { return (applied_seq_ >= target || stopping_); }));
}

void PhoneRecords::writerLoop() {
    std::vector<SeenEvent> seen;
    seen.reserve(1024);
    std::vector<RenderEvent> renders;
    std::vector<FetchEvent> fetches;
    std::unique_lock<std::mutex> lock(queue_mutex_);
    while (true) {
        // Seen events do not wake the writer (the DHCP path does not notify); it
        // looks at least every batch window, and at once for renders, fetches, sync.
        queue_cv_.wait_for(lock, kBatchWindow, [&] {
            return (stopping_ || !renders_.empty() || !fetches_.empty() ||
                    applied_seq_ < queued_seq_);
        });
        const bool stop = stopping_;
        const uint64_t seq = queued_seq_;
        seen.swap(seen_);
        renders.swap(renders_);
        fetches.swap(fetches_);
        lock.unlock();
        try {
            for (const SeenEvent& e : seen) {
                applySeen(e);
            }
            for (RenderEvent& e : renders) {
                applyRender(e);
            }
            for (const FetchEvent& e : fetches) {
                applyFetch(e);
            }
            int64_t now = nowMs();
            if (now - last_expiry_ms_ >= kExpireEveryMs) {
                last_expiry_ms_ = now;
                expire(now);
            }
            writeDirty();
        } catch (const std::exception& ex) {
            LOG_ERROR(phoneprov_logger, PHONEPROV_RECORDS_WRITE_FAILED)
                .arg(db_path_)
                .arg(ex.what());
        }
        seen.clear();
        renders.clear();
        fetches.clear();
        lock.lock();
        applied_seq_ = seq;
        applied_cv_.notify_all();
        if (stop && seen_.empty() && renders_.empty() && fetches_.empty()) {
            return;
        }
    }
}

PhoneRecord* PhoneRecords::create(uint64_t mac) {
    auto it = phones_.find(mac);
    if (it != phones_.end()) {
        return (&it->second);
    }
    if (unreserved_ >= kMaxUnreserved) {
        dropped_.fetch_add(1, std::memory_order_relaxed);
        return (nullptr);
    }
    PhoneRecord& r = phones_[mac];
    r.mac = macFromValue(mac);
    ++unreserved_;  // until a render says it has reservation data
    return (&r);
}

void PhoneRecords::applySeen(const SeenEvent& e) {
    std::lock_guard<std::mutex> lock(records_mutex_);
    PhoneRecord* r = create(e.mac);
    if (!r) {
        return;
    }
    r->vendor.assign(e.vendor, e.vendorLen);
    r->model.assign(e.model, e.modelLen);
    r->how = howText(e.how);
    if (!r->firstSeen) {
        r->firstSeen = e.when;
    }
    r->lastSeen = std::max(r->lastSeen, e.when);
    if (e.ack) {
        r->ip = e.ip;
        r->lastAck = std::max(r->lastAck, e.when);
    }
    dirty_.push_back(e.mac);
}

void PhoneRecords::applyRender(RenderEvent& e) {
    std::lock_guard<std::mutex> lock(records_mutex_);
    PhoneRecord* r = create(e.mac);
    if (!r) {
        return;
    }
    if (e.reserved != r->reserved) {
        unreserved_ += e.reserved ? -1 : 1;
        r->reserved = e.reserved;
    }
    if (!e.model.empty() || r->vendor != e.vendor) {
        r->model = e.model;  // a render from the MAC alone knows no model: keep the last
    }
    r->vendor = e.vendor;
    if (r->how.empty()) {
        r->how = e.reserved ? howText(HowIdentified::Reservation) : howText(HowIdentified::Registry);
    }
    r->renderTime = e.when;
    r->renderOk = e.ok ? 1 : 0;
    dirty_.push_back(e.mac);
    if (!e.ok) {
        return;  // its files stay as they were on disk
    }
    std::vector<FileRecord> files;
    for (auto& f : e.files) {
        FileRecord fr;
        for (FileRecord& old : r->files) {
            if (old.path == f.first) {
                fr = std::move(old);
                break;
            }
        }
        fr.path = std::move(f.first);
        fr.version = f.second;
        files.push_back(std::move(fr));
    }
    for (const FileRecord& old : r->files) {
        if (!old.path.empty()) {
            auto it = by_path_.find(old.path);
            if (it != by_path_.end() && it->second == e.mac) {
                by_path_.erase(it);
            }
        }
    }
    r->files = std::move(files);
    for (const FileRecord& f : r->files) {
        by_path_[f.path] = e.mac;
    }
}

void PhoneRecords::applyFetch(const FetchEvent& e) {
    std::string path = core::relativeFetchPath(e.line, base_path_);
    if (path.empty()) {
        return;
    }
    std::unique_lock<std::mutex> lock(records_mutex_);
    auto owner = by_path_.find(path);
    if (owner == by_path_.end()) {
        return;  // not a per-device file of a phone we know
    }
    auto it = phones_.find(owner->second);
    if (it == phones_.end()) {
        return;
    }
    PhoneRecord& r = it->second;
    FileRecord* file = nullptr;
    for (FileRecord& f : r.files) {
        if (f.path == path) {
            file = &f;
        }
    }
    if (!file) {
        return;
    }
    const bool wasFetched = std::strcmp(r.state(), "fetched") == 0;
    const bool good = e.line.protocol == core::FetchLine::Protocol::Tftp ||
                      (e.line.status >= 200 && e.line.status < 300) || e.line.status == 304;
    file->fetchTime = e.when;
    file->protocol = core::protocolText(e.line.protocol);
    file->source = e.line.address;
    file->status = e.line.status;
    file->bytes = e.line.bytes;
    if (good) {
        file->fetchedVersion = file->version;
    }
    dirty_.push_back(r.mac.value());
    const bool foreign = r.ip != 0 && e.line.address != r.ip;
    const bool provisioned = !wasFetched && std::strcmp(r.state(), "fetched") == 0;
    PhoneRecord copy;
    if (foreign || provisioned) {
        copy.mac = r.mac;
        copy.vendor = r.vendor;
        copy.model = r.model;
        copy.ip = r.ip;
        copy.lastAck = r.lastAck;
    }
    lock.unlock();
    if (foreign) {
        foreign_.fetch_add(1, std::memory_order_relaxed);
        if (e.when - last_warn_ms_ >= kWarnEveryMs) {
            LOG_WARN(phoneprov_logger, PHONEPROV_FETCH_FOREIGN)
                .arg(ipText(e.line.address))
                .arg(path)
                .arg(copy.mac.colon())
                .arg(ipText(copy.ip))
                .arg(warns_suppressed_);
            last_warn_ms_ = e.when;
            warns_suppressed_ = 0;
        } else {
            ++warns_suppressed_;
        }
    }
    if (provisioned) {
        std::string after = "unknown";
        if (copy.lastAck && e.when >= copy.lastAck) {
            char text[32];
            snprintf(text, sizeof(text), "%.3f", (e.when - copy.lastAck) / 1000.0);
            after = text;
        }
        LOG_INFO(phoneprov_logger, PHONEPROV_PROVISIONED)
            .arg(copy.mac.colon())
            .arg(copy.vendor)
            .arg(copy.model.empty() ? "-" : copy.model)
            .arg(ipText(e.line.address))
            .arg(path)
            .arg(after);
    }
}

size_t PhoneRecords::expire(int64_t now) {
    std::vector<uint64_t> gone;
    {
        std::lock_guard<std::mutex> lock(records_mutex_);
        for (auto it = phones_.begin(); it != phones_.end();) {
            const PhoneRecord& r = it->second;
            const int64_t last = std::max(r.lastSeen, r.renderTime);
            if (r.reserved || now - last < retention_ms_) {
                ++it;
                continue;
            }
            for (const FileRecord& f : r.files) {
                auto p = by_path_.find(f.path);
                if (p != by_path_.end() && p->second == it->first) {
                    by_path_.erase(p);
                }
            }
            gone.push_back(it->first);
            --unreserved_;
            it = phones_.erase(it);
        }
        deleted_.insert(deleted_.end(), gone.begin(), gone.end());
    }
    if (!gone.empty()) {
        LOG_INFO(phoneprov_logger, PHONEPROV_RECORDS_EXPIRED)
            .arg(gone.size())
            .arg(retention_ms_ / 1000);
    }
    return (gone.size());
}

void PhoneRecords::writeDirty() {
    std::vector<uint64_t> dirty;
    std::vector<uint64_t> deleted;
    {
        // expire() may run on another thread (tests): both lists under the lock.
        std::lock_guard<std::mutex> lock(records_mutex_);
        dirty.swap(dirty_);
        deleted.swap(deleted_);
    }
    if (dirty.empty() && deleted.empty()) {
        return;
    }
    std::sort(dirty.begin(), dirty.end());
    dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
    if (!db_) {
        return;
    }
    // Copies under the lock, SQLite outside it (commands never wait for the disk).
    std::vector<PhoneRecord> rows;
    {
        std::lock_guard<std::mutex> lock(records_mutex_);
        rows.reserve(dirty.size());
        for (uint64_t mac : dirty) {
            auto it = phones_.find(mac);
            if (it != phones_.end()) {
                rows.push_back(it->second);
            }
        }
    }
    sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr);
    Stmt phone(db_, "INSERT OR REPLACE INTO phones VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    Stmt dropFiles(db_, "DELETE FROM files WHERE mac=?");
    Stmt dropPhone(db_, "DELETE FROM phones WHERE mac=?");
    Stmt file(db_, "INSERT INTO files VALUES(?,?,?,?,?,?,?,?,?)");
    bool ok = phone && dropFiles && dropPhone && file;
    for (uint64_t mac : deleted) {
        dropFiles.bind(1, static_cast<int64_t>(mac));
        dropPhone.bind(1, static_cast<int64_t>(mac));
        ok = ok && dropFiles.run() && dropPhone.run();
    }
    for (const PhoneRecord& r : rows) {
        if (!ok) {
            break;
        }
        const int64_t key = static_cast<int64_t>(r.mac.value());
        phone.bind(1, key);
        phone.bind(2, r.vendor);
        phone.bind(3, r.model);
        phone.bind(4, r.how);
        phone.bind(5, static_cast<int64_t>(r.ip));
        phone.bind(6, r.firstSeen);
        phone.bind(7, r.lastSeen);
        phone.bind(8, r.lastAck);
        phone.bind(9, r.renderTime);
        phone.bind(10, static_cast<int64_t>(r.renderOk));
        phone.bind(11, static_cast<int64_t>(r.reserved));
        dropFiles.bind(1, key);
        ok = phone.run() && dropFiles.run();
        for (const FileRecord& f : r.files) {
            file.bind(1, key);
            file.bind(2, f.path);
            file.bind(3, static_cast<int64_t>(f.version));
            file.bind(4, f.fetchTime);
            file.bind(5, f.protocol);
            file.bind(6, static_cast<int64_t>(f.source));
            file.bind(7, static_cast<int64_t>(f.status));
            file.bind(8, f.bytes);
            file.bind(9, static_cast<int64_t>(f.fetchedVersion));
            ok = ok && file.run();
        }
    }
    if (!ok || sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
        std::string error = sqlite3_errmsg(db_);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        LOG_ERROR(phoneprov_logger, PHONEPROV_RECORDS_WRITE_FAILED).arg(db_path_).arg(error);
        // Kept in memory; written again with the phone's next change.
    }
}

std::vector<PhoneRecord> PhoneRecords::list(const Filter& f, size_t& total) const {
    std::vector<const PhoneRecord*> match;
    std::vector<PhoneRecord> out;
    std::lock_guard<std::mutex> lock(records_mutex_);
    for (const auto& p : phones_) {
        const PhoneRecord& r = p.second;
        if ((!f.vendor.empty() && r.vendor != f.vendor) ||
            (!f.state.empty() && f.state != r.state()) ||
            (f.seenSinceMs && r.lastSeen < f.seenSinceMs)) {
            continue;
        }
        match.push_back(&r);
    }
    total = match.size();
    std::sort(match.begin(), match.end(), [](const PhoneRecord* a, const PhoneRecord* b) {
        return (a->mac.value() < b->mac.value());
    });
    for (size_t i = f.offset; i < match.size() && out.size() < f.limit; ++i) {
        out.push_back(*match[i]);
    }
    return (out);
}

std::optional<PhoneRecord> PhoneRecords::get(const core::Mac& mac) const {
    std::lock_guard<std::mutex> lock(records_mutex_);
    auto it = phones_.find(mac.value());
    if (it == phones_.end()) {
        return (std::nullopt);
    }
    return (it->second);
}

std::unordered_map<std::string, size_t> PhoneRecords::countByState() const {
    std::unordered_map<std::string, size_t> out;
    std::lock_guard<std::mutex> lock(records_mutex_);
    for (const auto& p : phones_) {
        ++out[p.second.state()];
    }
    return (out);
}

size_t PhoneRecords::size() const {
    std::lock_guard<std::mutex> lock(records_mutex_);
    return (phones_.size());
}

bool PhoneRecords::listen(const std::string& path, gid_t gid) {
    sockaddr_un addr{};
    std::string error;
    if (path.size() >= sizeof(addr.sun_path)) {
        error = "the path is too long for a unix socket";
    }
    int fd = -1;
    if (error.empty()) {
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.data(), path.size());
        struct stat st;
        if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
            ::unlink(path.c_str());  // left by a previous run
        }
        int rcvbuf = 4 << 20;  // a boot storm's fetches arrive in bursts
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
            error = std::strerror(errno);
        }
    }
    if (error.empty() && (gid != static_cast<gid_t>(-1)) &&
        ::chown(path.c_str(), static_cast<uid_t>(-1), gid) != 0) {
        error = std::string("cannot give it the group of file-group: ") + std::strerror(errno);
    }
    if (error.empty() && ::chmod(path.c_str(), 0660) != 0) {
        error = std::strerror(errno);
    }
    if (error.empty() && ::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        error = std::strerror(errno);
    }
    if (!error.empty()) {
        if (fd >= 0) {
            ::close(fd);
        }
        LOG_ERROR(phoneprov_logger, PHONEPROV_FETCH_SOCKET_FAILED).arg(path).arg(error);
        return (false);
    }
    listen_fd_ = fd;
    listen_path_ = path;
    listener_ = std::thread([this] { listenLoop(); });
    LOG_INFO(phoneprov_logger, PHONEPROV_FETCH_SOCKET_LISTENING).arg(path);
    return (true);
}

void PhoneRecords::listenLoop() {
    std::vector<char> buf(core::kMaxFetchLine + 1);
    while (true) {
        pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;
        }
        if (fds[1].revents) {
            return;
        }
        if (!(fds[0].revents & POLLIN)) {
            continue;
        }
        ssize_t n = ::recv(listen_fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n <= 0) {
            continue;
        }
        auto line = core::parseFetchLine(std::string_view(buf.data(), static_cast<size_t>(n)));
        if (line) {
            fetched(*line);
        }
    }
}

}  // namespace phoneprov
}  // namespace isc
