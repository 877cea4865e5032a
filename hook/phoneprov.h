// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_HOOK_H
#define PHONEPROV_HOOK_H

#include "host_db.h"

#include <config_check.h>
#include <identify.h>
#include <lease_view.h>
#include <manifest.h>
#include <params.h>
#include <provisioner.h>
#include <recent_phones.h>
#include <render_queue.h>
#include <reservations.h>
#include <safe_write.h>

#include "phone_records.h"
#include "phoneprov_counters.h"

#include <cc/data.h>
#include <dhcp/option.h>
#include <dhcp/pkt4.h>
#include <dhcpsrv/lease.h>
#include <hooks/hooks.h>
#include <hooks/parking_lots.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

namespace isc {
namespace phoneprov {

/// @brief What pkt4_receive learnt about a packet, kept for pkt4_send (in the
/// callout context when another library may park the packet in between).
struct PacketVerdict {
    bool phone = false;
    int vendor = -1;
    std::string model;
    ::phoneprov::Mac mac;
    /// The registry's vendor of the MAC when option 60 named another family and no
    /// reservation pins the vendor (-1: no conflict). See RenderJob::owner.
    int owner = -1;
    HowIdentified how = HowIdentified::Registry;  ///< for the phone's record
};

/// @brief The hook's implementation: owns the immutable configuration and the
/// render machinery. The callouts only delegate here.
class PhoneProv {
public:
    /// @brief Builds everything from the hook parameters, strictly.
    /// @throw ::phoneprov::ConfigError with the first error when nothing would run.
    explicit PhoneProv(const isc::data::ConstElementPtr& params);
    /// @brief Builds everything from parameters already checked (load()).
    /// @param checked not Passthrough.
    /// @param params the parameters it was checked from (phoneprov-reload checks them again).
    PhoneProv(const ::phoneprov::CheckedConfig& checked, const nlohmann::json& params);
    ~PhoneProv();

    /// @brief Starts the workers and the wake-up socket (call after load succeeded).
    void start();
    /// @brief Stops the workers; queued renders are dropped, held ACKs sent.
    void stop();

    /// @brief dhcp4_srv_configured: reads the reservations from the JSON configuration.
    /// @return whether phones must be put into classes (pkt4_receive is needed).
    bool configured(const isc::data::ConstElementPtr& config);

    /// @brief pkt4_receive: identify, classify, remember the verdict.
    void receive(isc::hooks::CalloutHandle& handle, isc::dhcp::Pkt4& query);

    /// @brief Whether pkt4_send identifies the client itself: pkt4_receive is
    /// registered only when phones go into classes (each callout Kea calls costs
    /// it a few thousand instructions per packet, timing included).
    void identifyInSend(bool on) { identify_in_send_ = on; }

    /// @brief pkt4_send: inject options, queue the render, and hold an ACK while
    /// its phone's render is pending (the callout then drops it from Kea's path and
    /// the hook sends it from Kea's main thread when the file is there).
    void send(isc::hooks::CalloutHandle& handle, isc::dhcp::Pkt4& query,
              const isc::dhcp::Pkt4Ptr& response);

    /// @brief leases4_committed (ack-hold parking-lot): park the REQUEST in Kea's
    /// parking lot while its phone's render is pending.
    void committed(isc::hooks::CalloutHandle& handle, const isc::dhcp::Pkt4Ptr& query);

    /// @brief Whether ACKs wait in Kea's parking lot (leases4_committed is needed).
    bool usesParkingLot() const { return (parkingEnabled() && config_.ackHold == "parking-lot"); }

    /// @brief ACKs held now (tests, status).
    size_t heldCount();

    /// @brief Renders one MAC now, synchronously (commands, tests).
    ::phoneprov::RenderOutcome renderNow(const ::phoneprov::Mac& mac, int vendor,
                                         const std::string& model, const std::string& ip);

    /// @brief Waits until no render is queued or running (tests).
    bool waitIdle(int timeoutMs) const;

    const ::phoneprov::Config& config() const { return (config_); }
    const ::phoneprov::Identifier& identifier() const { return (*identifier_); }
    const ::phoneprov::Provisioning& provisioning() const { return (*provisioning_); }
    const std::vector<std::string>& warnings() const { return (warnings_); }
    size_t registryRows() const;
    size_t vendorPrefixes() const;
    /// @brief Holding ACKs is on (render-wait-ms > 0 and rendering on).
    bool parkingEnabled() const { return (config_.render && config_.renderWaitMs > 0); }

    // Control commands (phoneprov_commands.h). They run on Kea's main thread.

    /// @brief Reads the profiles (catalogue and templates) and the IEEE registry
    /// again and swaps them in. The new set is built aside (checkHookParameters);
    /// on any error it throws and the running set stays. The swap happens inside Kea's multi-threading
    /// critical section (no packet callout runs then); render workers keep the plan
    /// their job was queued with. Main thread only.
    /// @return the warnings of the new set.
    /// @throw std::exception (ConfigError naming the file and key).
    std::vector<std::string> reload();
    /// @brief Identifies a MAC as a DHCP query would be (reservation pins applied).
    ::phoneprov::Verdict identifyMac(const ::phoneprov::Mac& mac,
                                     std::string_view vendorClass) const;
    /// @brief Queues a render of a phone now (vendor: index in the current catalogue).
    ::phoneprov::RenderQueue::Push queueRender(const ::phoneprov::Mac& mac, int vendor,
                                               const std::string& model, uint32_t ip);
    /// @brief A phone the render workers handled (since load).
    struct KnownPhone {
        ::phoneprov::Mac mac;
        std::string vendor;  ///< vendor id
        std::string model;
        uint32_t ip = 0;
        bool device = true;  ///< got its per-device files (not only common ones)
        // What the last render was made from, to tell whether its files are still
        // current (files_current()): the plan and reservations it read, the vendor
        // (catalogue index), and its per-device files' stamps.
        int vendorIndex = -1;
        uint64_t planGeneration = 0;
        uint64_t hostsGeneration = 0;
        /// The render succeeded from the configuration's reservations (not from a
        /// host database, whose rows can change without Kea knowing).
        bool current = false;
        std::vector<std::pair<std::string, ::phoneprov::FileStamp>> files;
        /// Hash of the reservation data it was rendered from (0: none).
        size_t dataHash = 0;
        /// When it was last sent a re-sync NOTIFY (steady clock, seconds), if ever.
        int64_t lastResync = 0;
        bool resynced = false;
    };
    /// @brief Every phone rendered since load, by MAC value (a copy): those with
    /// per-device files up to kMaxKnown, those without (unknown MACs: anyone can
    /// send them) up to kMaxKnownWithoutDevice.
    std::unordered_map<uint64_t, KnownPhone> knownPhones() const;
    /// @brief The host reservations of the committed configuration.
    ::phoneprov::HostIndexPtr reservations() const { return (hosts()); }
    /// @brief Renders waiting, and waiting or running (0 when rendering is off).
    size_t queueDepth() const { return (queue_ ? queue_->depth() : 0); }
    size_t rendersPending() const { return (queue_ ? queue_->inFlight() : 0); }
    /// @brief Reserved phones still to render in the background (render-reserved).
    size_t reservedLeft() const { return (queue_ ? queue_->backgroundLeft() : 0); }

    /// @brief Test seam: holds the render workers still (RenderQueue::setPaused).
    void pauseRenders(bool paused) {
        if (queue_) {
            queue_->setPaused(paused);
        }
    }
    /// @brief The per-vendor counters (phoneprov_stats.h pushes them to StatsMgr).
    VendorCounters& counters() { return (counters_); }
    /// @brief How many times a phone seen again was found with its files current
    /// (inputs unchanged, files as written): no render was needed.
    uint64_t checksCurrent() const { return (checks_current_.load(std::memory_order_relaxed)); }
    /// @brief The phone records (nullptr before start()).
    PhoneRecords* records() const { return (records_.get()); }
    /// @brief Files the hook wrote and deleted since load because the current plan
    /// no longer produces them (issue 21, point 5).
    uint64_t filesRemoved() const { return (files_removed_.load(std::memory_order_relaxed)); }
    /// @brief Whether per-device files are served only to their phone's leased
    /// address (lease-binding, with rendering on).
    bool leaseBinding() const { return (config_.render && config_.leaseBinding); }
    /// @brief lease4_release, lease4_decline, lease4_expire: the lease's per-address
    /// view is removed (queued for the binder thread; no I/O, no allocation).
    void leaseGone(const isc::dhcp::Lease4& lease);
    /// @brief Waits until the binder has handled every lease event queued (tests).
    bool waitBound(int timeoutMs);
    /// @brief Files in the manifest now (tests, status).
    size_t manifestSize();
    /// @brief How many reloads succeeded since load.
    uint64_t generation() const { return (generation_.load(std::memory_order_relaxed)); }

private:
    /// @brief What reload() replaces, built aside from the configuration.
    struct Plan {
        std::unique_ptr<::phoneprov::Identifier> identifier;
        ::phoneprov::ProvisioningPtr provisioning;
        std::unordered_map<const void*, std::vector<isc::dhcp::OptionPtr>> keaOptions;
        std::vector<std::string> warnings;
    };
    /// @brief The plan from a checked configuration (Kea options prepared).
    Plan planFrom(const ::phoneprov::CheckedConfig& checked) const;
    /// @brief Both constructors: configuration, plan, output folder, counters.
    void init(const ::phoneprov::CheckedConfig& checked);
    ::phoneprov::RenderOutcome renderWith(const ::phoneprov::Provisioning& plan,
                                          const ::phoneprov::Mac& mac, int vendor,
                                          const std::string& model, const std::string& ip);
    /// Group commit: renders and stages every job's files, commits once, then
    /// finishes each job (counters, logs, known phones, resync).
    void renderJobs(const std::vector<::phoneprov::RenderJob>& jobs);
    /// renderWith in two halves around a batch commit; stageWith returns false
    /// (and `early` holds the outcome) when nothing could be staged.
    /// `hostsGeneration` receives the reservations' generation it read, `fromDb`
    /// whether the data came from a host database.
    /// `owner`: the vendor owning the MAC when option 60 contradicted it (-1: none).
    bool stageWith(const ::phoneprov::Provisioning& plan, const ::phoneprov::Mac& mac,
                   int vendor, const std::string& model, const std::string& ip,
                   ::phoneprov::OutputDir::Batch& batch, ::phoneprov::StagedRender& staged,
                   ::phoneprov::RenderOutcome& early, uint64_t* hostsGeneration = nullptr,
                   bool* fromDb = nullptr, size_t* dataHash = nullptr, int owner = -1);
    /// Whether a render that changed a phone's files (`now`: what it was made from)
    /// earns it a re-sync NOTIFY: only when its reservation data or the plan changed,
    /// while what packets say (vendor, model, address) did not, and not within
    /// resync-min-interval of the last one.
    bool resyncDue(const KnownPhone& before, const KnownPhone& now, int64_t seconds) const;
    /// The tokens of the phones with reservation data in the configuration, for
    /// the DHCP path (built on the main thread at configuration and reload).
    using TokenMap = std::unordered_map<uint64_t, std::string>;
    void buildTokens();
    /// The token a phone's options carry ("" for none: no per-device folder).
    std::string tokenFor(const PacketVerdict& v);
    ::phoneprov::RenderOutcome finishWith(const ::phoneprov::Provisioning& plan,
                                          const ::phoneprov::Mac& mac, int vendor,
                                          const ::phoneprov::StagedRender& staged,
                                          const ::phoneprov::OutputDir::Batch& batch);
    void sendResync(const ::phoneprov::RenderJob& job);
    /// Adds a render's files to the manifest and persists the new lines (before the
    /// batch commits: a file is in the manifest before it is in the tree).
    void noteStaged(const std::vector<std::pair<uint64_t, const ::phoneprov::StagedRender*>>& staged);
    /// Deletes a phone's files that its render just made without (a vendor, model,
    /// token or reservation change), unless the render was refused or failed.
    void pruneRendered(const ::phoneprov::Mac& mac, const std::vector<std::string>& produced);
    /// Deletes every file in the manifest that the current plan no longer produces
    /// (configuration, reload). Main thread.
    void pruneManifest(const char* why);
    /// Deletes files of the manifest (manifest_mutex_ held): regular files only,
    /// beneath output-dir, then their token folders when empty. @return how many.
    size_t removeListed(const std::vector<std::pair<uint64_t, std::string>>& stale);
    /// Hands a phone's DHCP response to its record (DHCP path: no I/O, no throw).
    void recordSeen(const PacketVerdict& v, uint32_t ip, bool ack);
    /// Hands a finished render to the phone's record (render workers).
    void recordRender(const ::phoneprov::RenderJob& job, const ::phoneprov::Provisioning& plan,
                      const ::phoneprov::RenderOutcome& r, bool ok);
    void renderDone(const ::phoneprov::Mac& mac);
    void forgetRecent(const ::phoneprov::Mac& mac);
    /// Queues a render (or a check) of a phone seen in a response; `ack`: the
    /// response is an ACK (its address is the one the phone holds).
    void maybeQueue(const PacketVerdict& v, const isc::dhcp::Pkt4& query, uint32_t ip, bool ack);
    /// Whether a phone's last render was made from what it would be made from now
    /// (plan, reservations, vendor, model, and the address when the vendor's files use it).
    bool sameInputs(const KnownPhone& k, uint64_t plan, int vendor, const std::string& model,
                    uint32_t ip, bool usesAddress) const;
    /// For a check job: whether the phone's files are those of its last render,
    /// unchanged on disk (one fstatat each).
    bool stillCurrent(const ::phoneprov::RenderJob& job, ::phoneprov::OutputDir::Batch& batch);
    /// Queues every phone with reservation data (render-reserved) in the background.
    void renderReserved(const char* why);
    bool hold(const PacketVerdict& v, const isc::dhcp::Pkt4Ptr& response);
    /// Holds an ACK (response) or a parked REQUEST (query, lot) for render-wait-ms;
    /// false when the hold is full or stopping.
    bool park(uint64_t mac, const isc::dhcp::Pkt4Ptr& response, const isc::dhcp::Pkt4Ptr& query,
              const isc::hooks::ParkingLotHandlePtr& lot);
    bool identify(isc::dhcp::Pkt4& query, PacketVerdict& pv);
    void onWake();
    void timerLoop();
    void sendHeld(const isc::dhcp::Pkt4Ptr& response);
    ::phoneprov::HostIndexPtr hosts() const;

    ::phoneprov::Config config_;
    /// The hook parameters as given (phoneprov-reload checks them again).
    nlohmann::json params_;
    // identifier_, provisioning_ and kea_options_ are read by packet callouts without
    // locks and replaced only by reload(), inside Kea's critical section. Other
    // threads (render workers) must not read them: a job carries its plan.
    std::unique_ptr<::phoneprov::Identifier> identifier_;
    ::phoneprov::ProvisioningPtr provisioning_;
    std::unique_ptr<::phoneprov::OutputDir> output_;
    std::vector<std::string> warnings_;
    /// Vendor profiles left out at this load (broken): no plan-wide prune then.
    size_t profiles_left_out_ = 0;
    /// Options ready to add, per option list of the plan (vendor or model).
    std::unordered_map<const void*, std::vector<isc::dhcp::OptionPtr>> kea_options_;

    mutable std::mutex hosts_mutex_;
    ::phoneprov::HostIndexPtr hosts_;
    /// Bumped with every new hosts_ (each committed configuration).
    std::atomic<uint64_t> hosts_generation_{0};
    /// Kea's host databases, when the configuration has some (render workers only).
    HostDbPtr host_db_;
    /// The tokens of reserved phones (see buildTokens), guarded by hosts_mutex_.
    std::shared_ptr<const TokenMap> tokens_;
    /// Whether any vendor has per-device folders (skip token look-ups if not).
    std::atomic<bool> tokens_on_{false};
    /// Whether any reservation pins a vendor / sets an option (skip look-ups if not).
    std::atomic<bool> hosts_pin_{false};
    std::atomic<bool> hosts_options_{false};
    /// Whether identified phones get the classes (decided at configure time).
    std::atomic<bool> add_classes_{true};
    /// Whether pkt4_send identifies the client (pkt4_receive not registered).
    std::atomic<bool> identify_in_send_{false};

    std::unique_ptr<::phoneprov::RenderQueue> queue_;
    /// Phones queued lately (render-interval), by whole MAC, least recently used
    /// out: allocated once (no allocation on the DHCP path); a spoofed MAC cannot
    /// push a phone out by colliding with it, only 65,536 more recent ones can.
    static constexpr size_t kRecentPhones = 65536;
    std::mutex recent_mutex_;
    ::phoneprov::RecentPhones recent_{kRecentPhones};  ///< when: steady clock, seconds

    // ACKs held until their phone's render is done (or render-wait-ms passed).
    std::mutex park_mutex_;
    std::condition_variable park_cv_;
    struct Parked {
        isc::dhcp::Pkt4Ptr response;  ///< held by us (ack-hold pkt4-send)
        std::chrono::steady_clock::time_point deadline;
        isc::dhcp::Pkt4Ptr query;     ///< parked by Kea (ack-hold parking-lot)
        isc::hooks::ParkingLotHandlePtr lot;
    };
    std::unordered_multimap<uint64_t, Parked> parked_;
    /// Deadlines in parking order, so in time order (every hold lasts render-wait-ms):
    /// the timer looks at the first only, not at every held ACK on every hold.
    std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> deadlines_;
    std::vector<uint64_t> ready_;  ///< MACs whose renders finished (or timed out)
    std::vector<uint64_t> timed_out_;
    int wake_pipe_[2] = {-1, -1};
    bool stopping_ = false;
    std::thread timer_;
    /// Issue 21, point 5: what the hook wrote beneath output-dir (nullptr store:
    /// not loaded, nothing is ever deleted).
    std::mutex manifest_mutex_;
    ::phoneprov::Manifest manifest_;
    std::unique_ptr<::phoneprov::ManifestStore> manifest_store_;
    std::atomic<uint64_t> files_removed_{0};
    /// Issue 21, point 2: per-address views (core/lease_view.h), kept by one binder
    /// thread from events the DHCP path queues (bounded, allocated once).
    struct LeaseEvent {
        enum class Kind : uint8_t { Bind, Unbind, Refresh } kind;
        uint64_t mac;
        uint32_t ip;
    };
    static constexpr size_t kMaxLeaseEvents = 65536;
    /// How long a render worker waits for the views of its batch before it reports
    /// the batch's phones done (their held ACKs then go).
    static constexpr int kBindWaitMs = 500;
    void leaseEvent(LeaseEvent::Kind kind, uint64_t mac, uint32_t ip);
    void binderLoop();
    std::unique_ptr<::phoneprov::LeaseViews> views_;
    std::mutex bind_mutex_;
    std::condition_variable bind_cv_;
    std::vector<LeaseEvent> bind_events_;
    std::vector<LeaseEvent> bind_work_;  ///< binder thread only
    size_t bind_busy_ = 0;  ///< events taken and not yet done (bind_mutex_)
    bool bind_stop_ = false;
    std::thread binder_;
    std::unordered_map<uint64_t, uint32_t> bound_;  ///< binder thread only: mac -> ip
    /// Issue 24: a record per phone (SQLite, fed off the DHCP path).
    std::unique_ptr<PhoneRecords> records_;

    // Commands and statistics.
    VendorCounters counters_;
    std::atomic<uint64_t> generation_{0};
    mutable std::mutex known_mutex_;
    std::unordered_map<uint64_t, KnownPhone> known_;
    size_t known_without_device_ = 0;
    /// Checks that found a phone's files current (no render needed).
    std::atomic<uint64_t> checks_current_{0};
    static constexpr size_t kMaxKnown = 262144;
    /// Found by the 10-minute hostile soak: DISCOVERs from random MACs of a phone
    /// vendor grew kea-dhcp4 by 10.7 MB, most of it here.
    static constexpr size_t kMaxKnownWithoutDevice = 4096;
};

using PhoneProvPtr = std::shared_ptr<PhoneProv>;

/// @brief Converts a Kea Element to JSON (parameters and configuration).
nlohmann::json toJson(const isc::data::ConstElementPtr& e);

/// @brief checkConfig (core/config_check.h) as load() runs it: the profiles
/// installed next to this library by default, and a parameter's position in
/// Kea's configuration (`file:line:column`) named in its error.
/// @param elements the same parameters as Kea's Elements (positions), may be null.
::phoneprov::CheckedConfig checkHookParameters(const nlohmann::json& params,
                                               const isc::data::ConstElementPtr& elements);

}  // namespace phoneprov
}  // namespace isc

#endif  // PHONEPROV_HOOK_H
