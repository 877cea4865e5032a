// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// A record per phone (issue 24): what DHCP, the render workers and the file
// servers' fetch lines said about it, kept in memory and in SQLite (WAL). The DHCP
// path only hands over a small fixed-size struct (no allocation, no I/O, no
// throw); a writer thread applies everything and commits in batches.
#ifndef PHONEPROV_PHONE_RECORDS_H
#define PHONEPROV_PHONE_RECORDS_H

#include <fetch_log.h>
#include <mac.h>

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

struct sqlite3;

namespace isc {
namespace phoneprov {

/// @brief How a phone was identified.
enum class HowIdentified : uint8_t { Registry, VendorClass, Reservation, Pnp };

/// @brief "registry", "option-60", "reservation", "pnp".
const char* howText(HowIdentified h);

/// @brief A DHCP response to a phone (OFFER or ACK), as the DHCP path hands it over.
struct SeenEvent {
    uint64_t mac = 0;
    uint32_t ip = 0;
    bool ack = false;
    HowIdentified how = HowIdentified::Registry;
    uint8_t vendorLen = 0;
    uint8_t modelLen = 0;
    char vendor[24] = {};
    char model[33] = {};
    int64_t when = 0;  ///< ms since the epoch (set by seen())
};

/// @brief A per-device file of a phone and its last fetch.
struct FileRecord {
    std::string path;            ///< relative to output-dir
    uint64_t version = 0;        ///< of the rendered file (its stamp: inode, size, mtime)
    int64_t fetchTime = 0;       ///< ms since the epoch; 0: never fetched
    std::string protocol;        ///< "http" or "tftp"
    uint32_t source = 0;         ///< the fetching address
    int status = 0;              ///< HTTP status; 0 for TFTP
    int64_t bytes = -1;
    uint64_t fetchedVersion = 0; ///< the version served by the last good fetch (0: none)
};

/// @brief Everything known of one phone. Never holds a secret: file versions
/// come from file stamps, not from their content (a hash of a file with a SIP
/// password in it could be tested against guesses).
/// @brief Every state PhoneRecord::state() gives (phoneprov-list's filter, the
/// statistics phoneprov.phones.<state>).
constexpr const char* kPhoneStates[] = {"seen", "rendered", "fetched", "fetched-stale", "failed"};

struct PhoneRecord {
    ::phoneprov::Mac mac;
    std::string vendor;
    std::string model;
    std::string how;             ///< howText()
    uint32_t ip = 0;             ///< the leased address (last ACK)
    int64_t firstSeen = 0;       ///< ms since the epoch; 0: not seen by DHCP yet
    int64_t lastSeen = 0;
    int64_t lastAck = 0;
    int64_t renderTime = 0;      ///< 0: never rendered
    int renderOk = -1;           ///< -1 none, 0 failed, 1 ok
    bool reserved = false;       ///< has reservation data (never expires)
    std::vector<FileRecord> files;
    /// @brief seen, rendered, fetched, fetched-stale or failed.
    const char* state() const;
    /// @brief As the commands show it (`withFiles`: phoneprov-get).
    nlohmann::json toJson(bool withFiles) const;
};

/// @brief The records. Thread-safe.
class PhoneRecords {
public:
    /// @param dbPath the SQLite file ("" keeps records in memory only).
    /// @param retentionSec how long a phone without reservation data is kept.
    /// @param basePath the path of base-url ("/prov/"): fetched URLs below it.
    PhoneRecords(std::string dbPath, int64_t retentionSec, std::string basePath);
    ~PhoneRecords();

    /// @brief Opens the database and loads it, starts the writer. Never throws: a
    /// database that cannot be opened is logged (ERROR, naming the file) and the
    /// records are kept in memory only.
    void start();
    /// @brief Writes what is queued, stops the writer and the listener.
    void stop();

    /// @brief Listens for fetch lines on a unix datagram socket (mode 0660, group
    /// `gid` unless -1). Logs an ERROR and returns false when it cannot.
    bool listen(const std::string& path, gid_t gid);

    /// @brief DHCP path: never blocks on I/O, never allocates, never throws.
    /// Dropped (and counted) when the queue is full.
    void seen(SeenEvent& e) noexcept;
    /// @brief A render finished (render workers).
    void rendered(const ::phoneprov::Mac& mac, const std::string& vendor, const std::string& model,
                  bool ok, bool reserved,
                  const std::vector<std::pair<std::string, uint64_t>>& files) noexcept;
    /// @brief A fetch line (the listener; tests).
    void fetched(const ::phoneprov::FetchLine& line) noexcept;

    /// @brief Waits until everything handed over before the call is applied (and
    /// written); false on timeout.
    bool sync(int timeoutMs);

    /// @brief Phones, sorted by MAC, with their total before paging.
    struct Filter {
        std::string vendor;
        std::string state;
        int64_t seenSinceMs = 0;
        size_t limit = 100;
        size_t offset = 0;
    };
    std::vector<PhoneRecord> list(const Filter& f, size_t& total) const;
    std::optional<PhoneRecord> get(const ::phoneprov::Mac& mac) const;
    /// @brief Phones per state.
    std::unordered_map<std::string, size_t> countByState() const;

    /// @brief Removes phones without reservation data unseen for the retention period.
    size_t expire(int64_t nowMs);

    uint64_t foreignFetches() const { return (foreign_.load(std::memory_order_relaxed)); }
    uint64_t dropped() const { return (dropped_.load(std::memory_order_relaxed)); }
    bool persistent() const { return (db_ != nullptr); }
    size_t size() const;

    /// @brief Most events waiting for the writer.
    static constexpr size_t kMaxQueued = 65536;
    /// @brief Most phones kept without reservation data (anyone can send MACs).
    static constexpr size_t kMaxUnreserved = 65536;

private:
    struct RenderEvent {
        uint64_t mac;
        std::string vendor;
        std::string model;
        bool ok;
        bool reserved;
        std::vector<std::pair<std::string, uint64_t>> files;
        int64_t when;
    };
    struct FetchEvent {
        ::phoneprov::FetchLine line;
        int64_t when;
    };
    void writerLoop();
    void listenLoop();
    void applySeen(const SeenEvent& e);
    void applyRender(RenderEvent& e);
    void applyFetch(const FetchEvent& e);
    PhoneRecord* create(uint64_t mac);
    bool openDb();
    void loadDb();
    void writeDirty();
    void closeDb();

    const std::string db_path_;
    const int64_t retention_ms_;
    const std::string base_path_;

    // Handed over, waiting for the writer (queue_mutex_ is held for a push or a swap).
    std::mutex queue_mutex_;
    std::condition_variable queue_cv_;
    std::vector<SeenEvent> seen_;
    std::vector<RenderEvent> renders_;
    std::vector<FetchEvent> fetches_;
    uint64_t queued_seq_ = 0;   ///< events handed over
    uint64_t applied_seq_ = 0;  ///< events applied and written
    std::condition_variable applied_cv_;
    bool stopping_ = false;
    std::thread writer_;

    // The records (writer thread writes, commands read).
    mutable std::mutex records_mutex_;
    std::unordered_map<uint64_t, PhoneRecord> phones_;
    std::unordered_map<std::string, uint64_t> by_path_;  ///< per-device file -> MAC
    size_t unreserved_ = 0;

    // Changed since the last commit (under records_mutex_).
    std::vector<uint64_t> dirty_;
    std::vector<uint64_t> deleted_;
    // Writer thread only.
    sqlite3* db_ = nullptr;
    int64_t last_warn_ms_ = 0;
    uint64_t warns_suppressed_ = 0;
    int64_t last_expiry_ms_ = 0;

    std::atomic<uint64_t> foreign_{0};
    std::atomic<uint64_t> dropped_{0};

    int listen_fd_ = -1;
    int stop_pipe_[2] = {-1, -1};
    std::string listen_path_;
    std::thread listener_;
};

/// @brief A file version from its stamp fields (FNV-1a; never 0).
uint64_t fileVersion(uint64_t dev, uint64_t ino, int64_t size, int64_t mtimeSec, int64_t mtimeNsec);

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_PHONE_RECORDS_H
