// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov.h"

#include "kea_compat.h"
#include "phoneprov_log.h"

#include <fetch_log.h>
#include <sip.h>

#include <dhcp/dhcp4.h>
#include <dhcp/iface_mgr.h>
#include <hooks/hooks_manager.h>
#include <hooks/parking_lots.h>
#include <stats/stats_mgr.h>
#include <util/multi_threading_mgr.h>

#include <dlfcn.h>
#include <set>
#include <malloc.h>
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <grp.h>
#include <unistd.h>

using namespace isc::data;
using namespace isc::dhcp;
using namespace isc::hooks;
namespace core = ::phoneprov;

namespace isc {
namespace phoneprov {

namespace {

/// @brief The verdict of the packet this thread received last. Kea handles a packet
/// on one thread from pkt4_receive to pkt4_send, so pkt4_send finds it here without
/// the cost of the callout context (a map of boost::any); a packet parked by another
/// library (libdhcp_ha.so in leases4_committed) and sent later is identified again.
struct LastVerdict {
    const Pkt4* query = nullptr;
    uint32_t xid = 0;
    bool phone = false;
    int vendor = -1;
    uint8_t modelLen = 0;
    char model[33] = {};
    core::Mac mac;
    int owner = -1;
    HowIdentified how = HowIdentified::Registry;
    uint64_t generation = 0;
};
// initial-exec: a plain %fs-relative access. The default model for a dlopen'ed
// library goes through __tls_get_addr, about 1,000 instructions per access on
// glibc 2.36 (Debian 12). The struct is small enough for the static TLS surplus.
thread_local LastVerdict lastVerdict __attribute__((tls_model("initial-exec")));

void remember(const Pkt4& query, const PacketVerdict* v, uint64_t generation) {
    LastVerdict& l = lastVerdict;
    l.query = &query;
    l.xid = query.getTransid();
    l.generation = generation;
    l.phone = v != nullptr;
    if (!v) {
        return;
    }
    l.vendor = v->vendor;
    l.modelLen = static_cast<uint8_t>(std::min<size_t>(v->model.size(), 32));
    std::memcpy(l.model, v->model.data(), l.modelLen);
    l.mac = v->mac;
    l.owner = v->owner;
    l.how = v->how;
}

/// @brief The verdict pkt4_receive left for this query on this thread.
/// @return false when there is none (the packet was parked meanwhile), or when a
/// phoneprov-reload replaced the catalogue since (its vendor index is stale).
bool recall(const Pkt4& query, bool& phone, PacketVerdict& v, uint64_t generation) {
    const LastVerdict& l = lastVerdict;
    if (l.query != &query || l.xid != query.getTransid() || l.generation != generation) {
        return (false);
    }
    phone = l.phone;
    if (phone) {
        v.phone = true;
        v.vendor = l.vendor;
        v.model.assign(l.model, l.modelLen);
        v.mac = l.mac;
        v.owner = l.owner;
        v.how = l.how;
    }
    return (true);
}

std::string ipText(uint32_t ip) {
    return (std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
            std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff));
}

/// glibc keeps freed heap for later allocations; the configuration's temporary
/// copy would otherwise stay resident for the life of the process. Give it back.
void releaseFreedMemory() {
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

}  // namespace

nlohmann::json toJson(const ConstElementPtr& e) {
    if (!e) {
        return (nullptr);
    }
    // Kea's own serialisation, parsed again: one well-tested path for every type.
    return (nlohmann::json::parse(e->str(), nullptr, false));
}

core::CheckedConfig checkHookParameters(const nlohmann::json& params,
                                        const ConstElementPtr& elements) {
    core::CheckOptions options;
    // The profiles installed next to this library (any install prefix).
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&toJson), &info) && info.dli_fname) {
        options.defaultProfilesDir = core::installedProfilesDir(info.dli_fname,
                                                                PHONEPROV_HOOK_TO_PROFILES);
    }
    if (elements && elements->getType() == Element::map) {
        options.locate = [elements](const std::string& key) -> std::string {
            ConstElementPtr e = elements->get(key);
            if (!e || e->getPosition().line_ == 0) {
                return ("");
            }
            return (e->getPosition().str());
        };
    }
    return (core::checkConfig(params, options));
}

PhoneProv::PhoneProv(const ConstElementPtr& params) {
    nlohmann::json json = toJson(params);
    core::CheckedConfig checked = checkHookParameters(json, params);
    if (checked.state == core::LoadState::Passthrough) {
        throw core::ConfigError(checked.errors.empty() ? "phoneprov: not configured"
                                                       : checked.errors.front().message);
    }
    params_ = json;
    init(checked);
}

PhoneProv::PhoneProv(const core::CheckedConfig& checked, const nlohmann::json& params)
    : params_(params) {
    init(checked);
}

void PhoneProv::init(const core::CheckedConfig& checked) {
    config_ = checked.config;
    add_classes_ = config_.clientClasses != "never";
    Plan plan = planFrom(checked);
    identifier_ = std::move(plan.identifier);
    provisioning_ = std::move(plan.provisioning);
    kea_options_ = std::move(plan.keaOptions);
    warnings_ = std::move(plan.warnings);
    profiles_left_out_ = checked.brokenProfiles.size();
    output_.reset(new core::OutputDir(config_.outputDir, 0640, checked.gid));
    std::vector<std::string> ids;
    for (const auto& v : identifier_->catalogue().vendors()) {
        ids.push_back(v.id);
    }
    counters_.bind(ids);
    std::vector<std::string> none;
    hosts_ = core::HostIndex::build(nlohmann::json::object(), none);
}

PhoneProv::~PhoneProv() {
    stop();
}

PhoneProv::Plan PhoneProv::planFrom(const core::CheckedConfig& checked) const {
    Plan plan;
    plan.identifier.reset(new core::Identifier(checked.catalogue, checked.registry));
    plan.provisioning = checked.provisioning;
    plan.warnings = checked.warnings;
    if (!checked.keyError.empty()) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_KEY_FILE_UNUSABLE).arg(checked.keyError);
    }
    // Kea options built once; responses share them (packing only reads them).
    const core::Provisioning& prov = *plan.provisioning;
    const auto& vendors = checked.catalogue->vendors();
    auto prepare = [&plan](const std::vector<core::EncodedOption>& list) {
        std::vector<OptionPtr> out;
        for (const auto& e : list) {
            out.push_back(OptionPtr(new Option(Option::V4, e.code,
                                               OptionBuffer(e.data.begin(), e.data.end()))));
        }
        plan.keaOptions[&list] = std::move(out);
    };
    for (size_t v = 0; v < vendors.size(); ++v) {
        for (bool token : {false, true}) {
            prepare(prov.options(static_cast<int>(v), "", token));
            for (const auto& m : vendors[v].models) {
                prepare(prov.options(static_cast<int>(v), m.first, token));
            }
            for (const auto& o : checked.config.vendors) {
                if (o.first == vendors[v].id) {
                    for (const auto& m : o.second.models) {
                        prepare(prov.options(static_cast<int>(v), m.first, token));
                    }
                }
            }
        }
    }
    return (plan);
}

std::vector<std::string> PhoneProv::reload() {
    // Strict: any error keeps the running set (the same checks as load()).
    core::CheckedConfig checked = checkHookParameters(params_, ConstElementPtr());
    if (!checked.errors.empty()) {
        std::string text;
        for (const auto& e : checked.errors) {
            text += (text.empty() ? "" : "; ") + e.message;
        }
        throw core::ConfigError(text);
    }
    for (const std::string& missing : checked.registryMissing) {
        LOG_WARN(phoneprov_logger, PHONEPROV_REGISTRY_MISSING).arg(missing);
    }
    Plan plan = planFrom(checked);
    std::vector<std::string> ids;
    for (const auto& v : plan.identifier->catalogue().vendors()) {
        ids.push_back(v.id);
    }
    {
        // Stops Kea's packet threads (no-op when multi-threading is off: commands
        // and packets then share the main thread) for a swap of a few pointers.
        isc::util::MultiThreadingCriticalSection cs;
        identifier_.swap(plan.identifier);
        provisioning_.swap(plan.provisioning);
        kea_options_.swap(plan.keaOptions);
        counters_.bind(ids);
        generation_.fetch_add(1, std::memory_order_relaxed);
    }
    warnings_ = plan.warnings;
    profiles_left_out_ = checked.brokenProfiles.size();
    buildTokens();  // the key may have changed
    pruneManifest("reload");
    // Another catalogue or registry can change every phone's files.
    renderReserved("reload");
    return (plan.warnings);  // the old set is freed here, outside the critical section
}

core::Verdict PhoneProv::identifyMac(const core::Mac& mac, std::string_view vendorClass) const {
    core::Verdict v = identifier_->identify(mac, vendorClass);
    core::HostIndexPtr index = hosts();
    const core::HostEntry* host = index->find(mac);
    if (host && !host->pinVendor.empty()) {
        identifier_->pin(v, host->pinVendor, host->pinModel);
    }
    return (v);
}

core::RenderQueue::Push PhoneProv::queueRender(const core::Mac& mac, int vendor,
                                               const std::string& model, uint32_t ip) {
    if (!queue_) {
        return (core::RenderQueue::Push::Stopped);
    }
    core::RenderJob job;
    job.mac = mac;
    job.vendor = vendor;
    job.model = model;
    job.ip = ip;
    job.generation = generation_.load(std::memory_order_relaxed);
    job.plan = provisioning_;
    return (queue_->push(job));
}

std::unordered_map<uint64_t, PhoneProv::KnownPhone> PhoneProv::knownPhones() const {
    std::lock_guard<std::mutex> lock(known_mutex_);
    return (known_);
}

size_t PhoneProv::registryRows() const {
    return (identifier_->registry().stats().ieeeRows);
}

size_t PhoneProv::vendorPrefixes() const {
    return (identifier_->registry().stats().vendorPrefixes);
}

void PhoneProv::start() {
    // Never fails the load: a database that cannot be opened is logged, and the
    // records are kept in memory only.
    records_.reset(new PhoneRecords(config_.stateDb, config_.recordRetention,
                                    core::basePathOf(config_.baseUrl)));
    records_->start();
    if (!config_.fetchLogSocket.empty()) {
        records_->listen(config_.fetchLogSocket, core::fileGroupId(config_.fileGroup));
    }
    size_t removed = output_->cleanStaleTemps();
    if (removed) {
        LOG_INFO(phoneprov_logger, PHONEPROV_STALE_TEMPS).arg(removed).arg(config_.outputDir);
    }
    if (!config_.render) {
        return;
    }
    {
        // Issue 21, point 5: the files written by earlier runs. Without a usable
        // manifest nothing is ever deleted (and the hook still serves DHCP).
        std::unique_ptr<core::ManifestStore> store(new core::ManifestStore(config_.outputDir));
        size_t refused = 0;
        std::lock_guard<std::mutex> lock(manifest_mutex_);
        std::string error = store->load(manifest_, refused);
        if (!error.empty()) {
            LOG_ERROR(phoneprov_logger, PHONEPROV_MANIFEST_FAILED).arg(error);
            manifest_.clear();
        } else {
            manifest_store_ = std::move(store);
            LOG_INFO(phoneprov_logger, PHONEPROV_MANIFEST_LOADED)
                .arg(manifest_.size())
                .arg(config_.outputDir)
                .arg(refused);
        }
    }
    if (leaseBinding() && manifest_store_) {
        views_.reset(new core::LeaseViews(config_.outputDir, core::fileGroupId(config_.fileGroup)));
        bind_events_.reserve(kMaxLeaseEvents);
        bind_work_.reserve(kMaxLeaseEvents);
        binder_ = std::thread([this] { binderLoop(); });
    }
    // Group commit: a worker takes up to kRenderBatch waiting phones at once.
    constexpr size_t kRenderBatch = 64;
    queue_.reset(new core::RenderQueue(
        config_.renderThreads, static_cast<size_t>(config_.queueSize), kRenderBatch,
        [this](const std::vector<core::RenderJob>& jobs) { renderJobs(jobs); },
        [this](const core::Mac& mac) { renderDone(mac); }, config_.renderNice));
    if (!parkingEnabled()) {
        return;
    }
    if (pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) {
        throw core::ConfigError("phoneprov: cannot create the wake-up pipe");
    }
    IfaceMgr::instance().addExternalSocket(wake_pipe_[0], [this](int) { onWake(); });
    timer_ = std::thread([this] { timerLoop(); });
}

void PhoneProv::stop() {
    if (queue_) {
        queue_->stop();
    }
    if (binder_.joinable()) {
        {
            std::lock_guard<std::mutex> lock(bind_mutex_);
            bind_stop_ = true;
        }
        bind_cv_.notify_all();
        binder_.join();
    }
    if (records_) {
        records_->stop();  // writes what is queued
    }
    std::vector<Pkt4Ptr> held;
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        stopping_ = true;
        for (auto& p : parked_) {
            if (p.second.response) {
                held.push_back(p.second.response);
            }
            // Kea empties its parking lots on unload and reconfigure.
        }
        parked_.clear();
        deadlines_.clear();
    }
    park_cv_.notify_all();
    if (timer_.joinable()) {
        timer_.join();
    }
    // At shutdown Kea has closed its sockets by now: held ACKs are dropped, and
    // their phones retry their REQUEST (as after any lost packet).
    if (!held.empty()) {
        LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_DETAIL, PHONEPROV_HELD_DROPPED).arg(held.size());
    }
    if (wake_pipe_[0] >= 0) {
        IfaceMgr::instance().deleteExternalSocket(wake_pipe_[0]);
        ::close(wake_pipe_[0]);
        ::close(wake_pipe_[1]);
        wake_pipe_[0] = wake_pipe_[1] = -1;
    }
}

bool PhoneProv::configured(const ConstElementPtr& config) {
    std::vector<std::string> problems;
    core::HostIndexPtr index;
    bool classes = config_.clientClasses == "always";
    {
        // The whole configuration as JSON (with 100,000 reservations, hundreds of MB
        // at its peak): only while the index is built.
        nlohmann::json json = toJson(config);
        index = core::HostIndex::build(json, problems);
        classes = classes ||
                  (config_.clientClasses == "auto" && core::configUsesPhoneClasses(json));
    }
    releaseFreedMemory();
    add_classes_ = classes;
    LOG_INFO(phoneprov_logger, PHONEPROV_CONFIGURED)
        .arg(index->size())
        .arg(index->withData())
        .arg(classes ? "added" : "not added (the configuration does not use them)");
    for (const std::string& p : problems) {
        LOG_WARN(phoneprov_logger, PHONEPROV_HOST_DATA_BAD).arg(p.substr(0, 17)).arg(p.substr(19));
    }
    bool pins = false;
    bool options = false;
    for (const auto& h : index->all()) {
        pins = pins || !h.second.pinVendor.empty();
        options = options || !h.second.optionCodes.empty();
    }
    HostDbPtr db;
    try {
        db = HostDb::fromConfig(config);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_HOST_DB_CONFIG_FAILED).arg(ex.what());
    }
    if (db) {
        std::string names;
        for (const std::string& r : db->redacted()) {
            names += (names.empty() ? "" : "; ") + r;
        }
        LOG_INFO(phoneprov_logger, PHONEPROV_HOST_DB_USED).arg(names);
    }
    {
        std::lock_guard<std::mutex> lock(hosts_mutex_);
        hosts_ = index;
        host_db_ = db;
        hosts_pin_ = pins;
        hosts_options_ = options;
        hosts_generation_.fetch_add(1);
    }
    buildTokens();
    pruneManifest("configuration");
    renderReserved("configuration");
    return (classes);
}

void PhoneProv::buildTokens() {
    // Main thread (configuration, reload): provisioning_ is ours to read.
    bool any = false;
    for (size_t v = 0; v < provisioning_->catalogue().vendors().size(); ++v) {
        any = any || provisioning_->deviceFolder(static_cast<int>(v));
    }
    auto tokens = std::make_shared<TokenMap>();
    core::HostIndexPtr index = hosts();
    if (any) {
        // One HMAC per reserved phone here, none on the DHCP path (100,000
        // reservations: a fraction of a second).
        tokens->reserve(index->withData());
        for (const auto& h : index->all()) {
            if (h.second.hasData) {
                tokens->emplace(h.first, provisioning_->token(h.second.mac));
            }
        }
    }
    std::lock_guard<std::mutex> lock(hosts_mutex_);
    tokens_ = std::move(tokens);
    tokens_on_ = any;
}

std::string PhoneProv::tokenFor(const PacketVerdict& v) {
    // A phone whose option 60 contradicts its MAC's vendor gets no per-device folder.
    if (!tokens_on_.load(std::memory_order_relaxed) || v.owner >= 0 ||
        !provisioning_->deviceFolder(v.vendor)) {
        return (std::string());
    }
    std::shared_ptr<const TokenMap> tokens;
    bool db = false;
    {
        std::lock_guard<std::mutex> lock(hosts_mutex_);
        tokens = tokens_;
        db = static_cast<bool>(host_db_);
    }
    if (tokens) {
        auto it = tokens->find(v.mac.value());
        if (it != tokens->end()) {
            return (it->second);
        }
    }
    // Reservations in a host database are not known here: every phone of the
    // vendor gets its token (one HMAC); those without data find no folder.
    return (db ? provisioning_->token(v.mac) : std::string());
}

void PhoneProv::renderReserved(const char* why) {
    if (!queue_ || !config_.renderReserved) {
        return;
    }
    // Main thread (configuration, reload): identifier_ and provisioning_ are ours.
    core::HostIndexPtr index = hosts();
    const uint64_t generation = generation_.load(std::memory_order_relaxed);
    std::vector<core::RenderJob> jobs;
    jobs.reserve(index->withData());
    size_t unknown = 0;
    for (const auto& h : index->all()) {
        const core::HostEntry& host = h.second;
        if (!host.hasData) {
            continue;
        }
        // The vendor from the MAC alone (or the reservation's pin); without one the
        // phone is rendered at its first DHCP packet, which names it.
        core::Verdict v = identifyMac(host.mac, "");
        if (!v.phone || !provisioning_->enabled(v.vendor)) {
            ++unknown;
            continue;
        }
        core::RenderJob job;
        job.mac = host.mac;
        job.vendor = v.vendor;
        job.model = std::move(v.model);
        if (job.model.empty() && records_) {
            // The model its vendor class named when it last booted (kept in its
            // record across restarts): otherwise its file would be rendered without
            // it now, and again with it at its next DHCP packet.
            auto r = records_->get(host.mac);
            if (r && r->vendor == provisioning_->catalogue().vendors()[v.vendor].id) {
                job.model = r->model;
            }
        }
        job.generation = generation;
        job.plan = provisioning_;
        in_addr a;
        if (!host.ip.empty() && inet_pton(AF_INET, host.ip.c_str(), &a) == 1) {
            job.ip = ntohl(a.s_addr);
        }
        {
            // What the phone last said: its address, and its model when the MAC alone
            // gives none (else the files would flip between model and no model).
            std::lock_guard<std::mutex> lock(known_mutex_);
            auto k = known_.find(host.mac.value());
            if (k != known_.end()) {
                job.ip = job.ip ? job.ip : k->second.ip;
                if (job.model.empty() &&
                    k->second.vendor == provisioning_->catalogue().vendors()[job.vendor].id) {
                    job.model = k->second.model;
                }
            }
        }
        jobs.push_back(std::move(job));
    }
    const size_t count = jobs.size();
    LOG_INFO(phoneprov_logger, PHONEPROV_RESERVED_QUEUED).arg(count).arg(why).arg(unknown);
    const auto start = std::chrono::steady_clock::now();
    queue_->setBackground(std::move(jobs), [count, start] {
        double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        char text[32];
        snprintf(text, sizeof(text), "%.2f", s);
        LOG_INFO(phoneprov_logger, PHONEPROV_RESERVED_DONE).arg(count).arg(std::string(text));
    });
}

bool PhoneProv::sameInputs(const KnownPhone& k, uint64_t plan, int vendor,
                           const std::string& model, uint32_t ip, bool usesAddress) const {
    return (k.current && k.planGeneration == plan &&
            k.hostsGeneration == hosts_generation_.load(std::memory_order_relaxed) &&
            k.vendorIndex == vendor && k.model == model && (!usesAddress || k.ip == ip));
}

bool PhoneProv::stillCurrent(const core::RenderJob& job, core::OutputDir::Batch& batch) {
    std::vector<std::pair<std::string, core::FileStamp>> files;
    {
        std::lock_guard<std::mutex> lock(known_mutex_);
        auto it = known_.find(job.mac.value());
        if (it == known_.end() ||
            !sameInputs(it->second, job.generation, job.vendor, job.model, job.ip,
                        job.plan->usesAddress(job.vendor))) {
            return (false);
        }
        files = it->second.files;
    }
    for (const auto& f : files) {
        size_t slash = f.first.rfind('/');
        std::string_view path(f.first);
        std::string_view dir = slash == std::string::npos ? std::string_view() : path.substr(0, slash);
        std::string_view name = slash == std::string::npos ? path : path.substr(slash + 1);
        if (!batch.unchangedSince(dir, name, f.second)) {
            return (false);  // deleted, replaced or edited since: render again
        }
    }
    if (job.ip != 0) {
        // The phone's address now (re-sync NOTIFYs after a later change go there).
        std::lock_guard<std::mutex> lock(known_mutex_);
        auto it = known_.find(job.mac.value());
        if (it != known_.end()) {
            it->second.ip = job.ip;
        }
    }
    return (true);
}

core::HostIndexPtr PhoneProv::hosts() const {
    std::lock_guard<std::mutex> lock(hosts_mutex_);
    return (hosts_);
}

bool PhoneProv::identify(Pkt4& query, PacketVerdict& pv) {
    HWAddrPtr hw = query.getHWAddr();
    const uint8_t* hwData = hw && !hw->hwaddr_.empty() ? hw->hwaddr_.data() : nullptr;
    size_t hwLen = hw ? hw->hwaddr_.size() : 0;
    uint8_t htype = hw ? static_cast<uint8_t>(hw->htype_) : 0;
    core::Verdict v = identifier_->identify(htype, hwData, hwLen, vendorClassBytes(query));
    if (v.macProblem == core::MacProblem::None && hosts_pin_.load(std::memory_order_relaxed)) {
        core::HostIndexPtr index = hosts();
        const core::HostEntry* host = index->find(v.mac);
        if (host && !host->pinVendor.empty() &&
            !identifier_->pin(v, host->pinVendor, host->pinModel)) {
            LOG_WARN(phoneprov_logger, PHONEPROV_PIN_UNKNOWN_VENDOR)
                .arg(v.mac.colon())
                .arg(host->pinVendor);
        }
    }
    if (!v.phone || !provisioning_->enabled(v.vendor)) {
        PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_NOT_A_PHONE)
            .arg(query.getLabel())
            .arg(v.phone ? "vendor disabled" : v.reason);
        return (false);
    }
    PHONEPROV_TRACE(DBG_PHONEPROV_IDENTIFY, PHONEPROV_PHONE_IDENTIFIED)
        .arg(query.getLabel())
        .arg(identifier_->catalogue().vendors()[v.vendor].id)
        .arg(v.model)
        .arg(core::confidenceText(v.confidence));
    pv.phone = true;
    pv.vendor = v.vendor;
    pv.model = std::move(v.model);
    pv.mac = v.mac;
    // Option 60 named another family than the MAC's registry entry (and no
    // reservation pins the vendor): the MAC's owner is another vendor.
    pv.owner = v.confidence == core::Confidence::Class && v.prefixVendor >= 0 ? v.prefixVendor : -1;
    pv.how = v.confidence == core::Confidence::Pinned  ? HowIdentified::Reservation
             : v.confidence == core::Confidence::Prefix ? HowIdentified::Registry
                                                        : HowIdentified::VendorClass;
    counters_.bump(pv.vendor, Counter::Identified);
    return (true);
}

void PhoneProv::receive(CalloutHandle& handle, Pkt4& query) {
    PacketVerdict pv;
    uint64_t generation = generation_.load(std::memory_order_relaxed);
    if (!identify(query, pv)) {
        remember(query, nullptr, generation);
        return;
    }
    if (add_classes_.load(std::memory_order_relaxed)) {
        query.addClass("PHONEPROV");
        query.addClass(identifier_->catalogue().vendors()[pv.vendor].className);
    }
    remember(query, &pv, generation);
}

void PhoneProv::send(CalloutHandle& handle, Pkt4& query, const Pkt4Ptr& responsePtr) {
    Pkt4& response = *responsePtr;
    // Only an OFFER or an ACK carries a leased address (a NAK, and an ACK to an
    // INFORM, carry none). Cheaper than getType(), a look-up of option 53.
    uint32_t yiaddr = response.getYiaddr().toUint32();
    if (yiaddr == 0) {
        return;
    }
    PacketVerdict v;
    bool phone = false;
    if (identify_in_send_.load(std::memory_order_relaxed) ||
        !recall(query, phone, v, generation_.load(std::memory_order_relaxed))) {
        phone = identify(query, v);
    }
    if (!phone) {
        return;
    }
    core::HostIndexPtr index;
    const core::HostEntry* host = nullptr;
    if (hosts_options_.load(std::memory_order_relaxed)) {
        index = hosts();
        host = index->find(v.mac);
    }
    // A phone with a per-device folder: the options naming it carry its token.
    const std::string token = tokenFor(v);
    const auto& list = provisioning_->options(v.vendor, v.model, !token.empty());
    auto prepared = kea_options_.find(&list);
    if (prepared != kea_options_.end()) {
        bool override = provisioning_->overrideSubnet(v.vendor);
        bool added = false;
        for (size_t i = 0; i < prepared->second.size(); ++i) {
            OptionPtr opt = prepared->second[i];
            uint16_t code = opt->getType();
            if (host && std::find(host->optionCodes.begin(), host->optionCodes.end(), code) !=
                            host->optionCodes.end()) {
                PHONEPROV_TRACE(DBG_PHONEPROV_OPTIONS, PHONEPROV_OPTION_KEPT)
                    .arg(query.getLabel())
                    .arg(code);
                continue;
            }
            if (hasOption(response, code)) {
                if (!override) {
                    continue;
                }
                while (response.delOption(code)) {
                }
            }
            const core::EncodedOption& encoded = list[i];
            if (!token.empty() && !encoded.tokenAt.empty()) {
                OptionBuffer data(encoded.data.begin(), encoded.data.end());
                for (uint16_t at : encoded.tokenAt) {
                    std::memcpy(&data[at], token.data(), core::kTokenChars);
                }
                opt.reset(new Option(Option::V4, encoded.code, data));
            }
            response.addOption(opt);
            added = true;
        }
        if (added) {
            counters_.bump(v.vendor, Counter::Injected);
        }
        PHONEPROV_TRACE(DBG_PHONEPROV_OPTIONS, PHONEPROV_OPTIONS_INJECTED)
            .arg(query.getLabel())
            .arg(prepared->second.size())
            .arg(identifier_->catalogue().vendors()[v.vendor].id);
    }
    const bool ack = response.getType() == DHCPACK;
    if (ack && views_) {
        leaseEvent(LeaseEvent::Kind::Bind, v.mac.value(), yiaddr);
    }
    maybeQueue(v, query, yiaddr, ack);
    if (records_) {
        recordSeen(v, yiaddr, ack);
    }
    if (parkingEnabled() && !usesParkingLot() && hold(v, responsePtr)) {
        // Kea does not send it; onWake() will, once the phone's file is there.
        handle.setStatus(CalloutHandle::NEXT_STEP_DROP);
        PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_PARKED)
            .arg(query.getLabel())
            .arg(v.mac.colon());
    }
}

bool PhoneProv::park(uint64_t mac, const Pkt4Ptr& response, const Pkt4Ptr& query,
                     const ParkingLotHandlePtr& lot) {
    bool first = false;
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        // Bounded like the queue: beyond it an ACK goes out at once.
        if (stopping_ || parked_.size() >= static_cast<size_t>(config_.queueSize)) {
            return (false);
        }
        auto deadline =
            std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.renderWaitMs);
        parked_.emplace(mac, Parked{response, deadline, query, lot});
        first = deadlines_.empty();
        deadlines_.emplace_back(deadline, mac);
    }
    if (first) {
        park_cv_.notify_all();  // the timer had nothing to wait for
    }
    return (true);
}

bool PhoneProv::hold(const PacketVerdict& v, const Pkt4Ptr& response) {
    // Only an ACK: the phone fetches its file once it has its address. Checked
    // first: is a render of this phone queued or running?
    if (!queue_ || !queue_->pending(v.mac) || response->getType() != DHCPACK) {
        return (false);
    }
    if (!park(v.mac.value(), response, Pkt4Ptr(), ParkingLotHandlePtr())) {
        return (false);
    }
    // This phone waits for its file: render it before phones that do not wait yet
    // (in a boot storm the DISCOVERs queue thousands of renders ahead of it).
    queue_->expedite(v.mac);
    // The render may have finished between the check and the holding.
    if (!queue_->pending(v.mac)) {
        renderDone(v.mac);
    }
    return (true);
}

void PhoneProv::committed(CalloutHandle& handle, const Pkt4Ptr& query) {
    if (!queue_ || query->getType() != DHCPREQUEST) {
        return;
    }
    // Before pkt4_send: identify here (pkt4_receive may not be registered).
    PacketVerdict v;
    if (!identify(*query, v) || !queue_->pending(v.mac)) {
        return;
    }
    ParkingLotHandlePtr lot = handle.getParkingLotHandlePtr();
    lot->reference(query);
    if (!park(v.mac.value(), Pkt4Ptr(), query, lot)) {
        lot->dereference(query);
        return;
    }
    handle.setStatus(CalloutHandle::NEXT_STEP_PARK);
    PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_PARKED)
        .arg(query->getLabel())
        .arg(v.mac.colon());
    queue_->expedite(v.mac);
    if (!queue_->pending(v.mac)) {
        renderDone(v.mac);
    }
}

size_t PhoneProv::heldCount() {
    std::lock_guard<std::mutex> lock(park_mutex_);
    return (parked_.size());
}

void PhoneProv::forgetRecent(const core::Mac& mac) {
    // The next sighting of this phone renders again (after a failure).
    std::lock_guard<std::mutex> lock(recent_mutex_);
    recent_.erase(mac.value());
}

void PhoneProv::maybeQueue(const PacketVerdict& v, const Pkt4& query, uint32_t ip, bool ack) {
    if (!queue_) {
        return;
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    uint64_t key = v.mac.value();
    // A new address matters only when the vendor's files use it. In a storm Kea
    // offers each resent DISCOVER another address: without this, every resend
    // would queue the phone again.
    const bool byAddress = provisioning_->usesAddress(v.vendor);
    {
        std::lock_guard<std::mutex> lock(recent_mutex_);
        core::RecentPhones::Entry* seen = recent_.find(key);
        if (seen && (seen->ip == ip || !byAddress) && now - seen->when < config_.renderInterval) {
            // Seen lately. An ACK for another address than the last one seen still
            // queues the phone (merged into its waiting job, or a check): the address
            // it holds is where re-sync NOTIFYs go after a later change.
            const bool leased = ack && seen->ip != ip;
            seen->ip = ip;
            if (!leased) {
                return;
            }
        } else {
            core::RecentPhones::Entry& e = recent_.insert(key);
            e.ip = ip;
            e.when = now;
        }
    }
    core::RenderJob job;
    job.mac = v.mac;
    job.vendor = v.vendor;
    job.model = v.model;
    job.ip = ip;
    job.owner = v.owner;
    job.generation = generation_.load(std::memory_order_relaxed);
    job.plan = provisioning_;
    {
        // Made from the same inputs last time: a worker only checks that its files
        // are still those (no ACK waits for that); anything else renders.
        std::lock_guard<std::mutex> lock(known_mutex_);
        auto it = known_.find(key);
        job.check = it != known_.end() &&
                    sameInputs(it->second, job.generation, v.vendor, v.model, ip, byAddress);
    }
    core::RenderQueue::Push r = queue_->push(job);
    if (r == core::RenderQueue::Push::Full) {
        {
            std::lock_guard<std::mutex> lock(recent_mutex_);
            recent_.erase(key);
        }
        LOG_WARN(phoneprov_logger, PHONEPROV_RENDER_QUEUE_FULL)
            .arg(query.getLabel())
            .arg(config_.queueSize)
            .arg(v.mac.colon());
        return;
    }
    PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_RENDER_QUEUED)
        .arg(query.getLabel())
        .arg(v.mac.colon());
}

void PhoneProv::renderJobs(const std::vector<core::RenderJob>& jobs) {
    struct Staged {
        const core::RenderJob* job;
        core::StagedRender staged;
        core::RenderOutcome early;
        bool ok;
        uint64_t hostsGeneration;
        bool fromDb;
        size_t dataHash;
    };
    std::vector<Staged> all;
    all.reserve(jobs.size());
    core::OutputDir::Batch batch = output_->begin();
    for (const core::RenderJob& job : jobs) {
        if (!job.plan) {
            continue;  // every job carries its plan (a worker never reads provisioning_)
        }
        if ((job.check || job.background) && stillCurrent(job, batch)) {
            checks_current_.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        all.push_back(Staged{&job, {}, {}, false, 0, false, 0});
        Staged& s = all.back();
        s.ok = stageWith(*job.plan, job.mac, job.vendor, job.model,
                         job.ip ? ipText(job.ip) : "", batch, s.staged, s.early,
                         &s.hostsGeneration, &s.fromDb, &s.dataHash, job.owner);
    }
    {
        std::vector<std::pair<uint64_t, const core::StagedRender*>> staged;
        staged.reserve(all.size());
        for (const Staged& s : all) {
            if (s.ok) {
                staged.emplace_back(s.job->mac.value(), &s.staged);
            }
        }
        noteStaged(staged);
    }
    // One sync for every phone's files, then the renames: a MAC is reported done
    // (its held ACK released) only after this.
    batch.commit();
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    for (Staged& s : all) {
        const core::RenderJob& job = *s.job;
        const core::Provisioning& plan = *job.plan;
        core::RenderOutcome r =
            s.ok ? finishWith(plan, job.mac, job.vendor, s.staged, batch) : s.early;
        if (s.ok && r.ok() && job.owner < 0) {
            // Not after a render refused for a contradicting option 60 (anyone can
            // send one with the phone's MAC), nor after a failure.
            pruneRendered(job.mac, r.files);
            if (views_) {
                leaseEvent(LeaseEvent::Kind::Refresh, job.mac.value(), 0);
            }
        }
        if (r.failed > 0) {
            // Not rendered (disk full, output-dir unwritable, database down...): the
            // phone's next packet tries again instead of waiting out render-interval.
            forgetRecent(job.mac);
        }
        bool resync = false;
        {
            // A phone without per-device files (no reservation data) is remembered
            // within a small bound of its own: any MAC can be sent.
            const bool device = r.skipped == 0;
            KnownPhone k;
            k.mac = job.mac;
            k.vendor = plan.catalogue().vendors()[job.vendor].id;
            k.model = job.model;
            k.ip = job.ip;
            k.device = device;
            k.vendorIndex = job.vendor;
            k.planGeneration = job.generation;
            k.hostsGeneration = s.hostsGeneration;
            k.current = s.ok && r.ok() && !s.fromDb;
            if (records_) {
                recordRender(job, plan, r, s.ok && r.ok());
            }
            k.files = std::move(r.deviceStamps);
            k.dataHash = s.dataHash;
            std::lock_guard<std::mutex> lock(known_mutex_);
            auto it = known_.find(job.mac.value());
            if (it != known_.end()) {
                k.lastResync = it->second.lastResync;
                k.resynced = it->second.resynced;
                if (config_.resyncOnChange && r.written > 0 && job.ip != 0 && s.ok &&
                    resyncDue(it->second, k, now)) {
                    resync = true;
                    k.lastResync = now;
                    k.resynced = true;
                }
                if (it->second.device && !device) {
                    ++known_without_device_;
                } else if (!it->second.device && device) {
                    --known_without_device_;
                }
                it->second = std::move(k);
            } else if (known_.size() < kMaxKnown &&
                       (device || known_without_device_ < kMaxKnownWithoutDevice)) {
                known_.emplace(job.mac.value(), std::move(k));
                known_without_device_ += device ? 0 : 1;
            }
        }
        if (resync) {
            sendResync(job);
        }
    }
    if (views_) {
        // The phones of this batch are reported done (their held ACKs sent) when this
        // returns: their views first (the binds their ACKs queued, the refreshes
        // queued above), or a phone fetching at once could find none. Bounded.
        (void)waitBound(kBindWaitMs);
    }
}

bool PhoneProv::resyncDue(const KnownPhone& before, const KnownPhone& now,
                          int64_t seconds) const {
    // A packet alone (a spoofed one with the phone's MAC) can change the vendor,
    // model or address the files are made from: never a reason to re-sync.
    if (before.vendor != now.vendor || before.model != now.model || before.ip != now.ip) {
        return (false);
    }
    if (before.planGeneration == now.planGeneration && before.dataHash == now.dataHash) {
        return (false);
    }
    return (!before.resynced || seconds - before.lastResync >= config_.resyncMinInterval);
}

void PhoneProv::recordSeen(const PacketVerdict& v, uint32_t ip, bool ack) {
    SeenEvent e;
    e.mac = v.mac.value();
    e.ip = ip;
    e.ack = ack;
    e.how = v.how;
    const std::string& id = identifier_->catalogue().vendors()[v.vendor].id;
    e.vendorLen = static_cast<uint8_t>(std::min(id.size(), sizeof(e.vendor)));
    std::memcpy(e.vendor, id.data(), e.vendorLen);
    e.modelLen = static_cast<uint8_t>(std::min(v.model.size(), sizeof(e.model)));
    std::memcpy(e.model, v.model.data(), e.modelLen);
    records_->seen(e);
}

void PhoneProv::recordRender(const core::RenderJob& job, const core::Provisioning& plan,
                             const core::RenderOutcome& r, bool ok) {
    std::vector<std::pair<std::string, uint64_t>> files;
    files.reserve(r.deviceStamps.size());
    for (const auto& f : r.deviceStamps) {
        const core::FileStamp& st = f.second;
        files.emplace_back(f.first, fileVersion(st.dev, st.ino, st.size, st.mtimeSec,
                                                st.mtimeNsec));
    }
    core::HostIndexPtr index = hosts();
    const core::HostEntry* host = index->find(job.mac);
    records_->rendered(job.mac, plan.catalogue().vendors()[job.vendor].id, job.model, ok,
                       host && host->hasData, files);
}

void PhoneProv::sendResync(const core::RenderJob& job) {
    // A file changed: ask the phone to fetch it again (its vendor's re-sync NOTIFY,
    // out of dialog, sent once; `phoneprov resync` waits for answers, the hook does not).
    const core::VendorProfile& vendor = job.plan->catalogue().vendors()[job.vendor];
    if (vendor.resyncEvent.empty()) {
        return;
    }
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return;
    }
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(config_.resyncPort));
    to.sin_addr.s_addr = htonl(job.ip);
    sockaddr_in local{};
    socklen_t len = sizeof(local);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) {
        ::close(fd);
        return;
    }
    static std::atomic<uint64_t> counter{0};
    std::string token = std::to_string(::getpid()) + "x" + std::to_string(++counter) + "x" +
                        job.mac.lower();
    core::sip::Local me;
    me.contact = {ipText(ntohl(local.sin_addr.s_addr)), ntohs(local.sin_port)};
    me.tag = token;
    me.branch = std::string(core::sip::kBranchCookie) + token;
    me.callId = token + "@" + me.contact.address;
    core::sip::Endpoint phone{ipText(job.ip), config_.resyncPort};
    std::string bytes = core::sip::serialize(
        core::sip::makeResyncNotify(phone, vendor.resyncEvent, me));
    ssize_t sent = ::send(fd, bytes.data(), bytes.size(), 0);
    ::close(fd);
    if (sent == static_cast<ssize_t>(bytes.size())) {
        LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_IDENTIFY, PHONEPROV_RESYNC_SENT)
            .arg(job.mac.colon())
            .arg(phone.address)
            .arg(vendor.resyncEvent);
    }
}

core::RenderOutcome PhoneProv::renderNow(const core::Mac& mac, int vendor, const std::string& model,
                                         const std::string& ip) {
    return (renderWith(*provisioning_, mac, vendor, model, ip));
}

core::RenderOutcome PhoneProv::renderWith(const core::Provisioning& plan, const core::Mac& mac,
                                          int vendor, const std::string& model,
                                          const std::string& ip) {
    core::OutputDir::Batch batch = output_->begin();
    core::StagedRender staged;
    core::RenderOutcome early;
    if (!stageWith(plan, mac, vendor, model, ip, batch, staged, early)) {
        return (early);
    }
    noteStaged({{mac.value(), &staged}});
    batch.commit();
    core::RenderOutcome r = finishWith(plan, mac, vendor, staged, batch);
    if (r.ok()) {
        pruneRendered(mac, r.files);
    }
    return (r);
}

void PhoneProv::leaseEvent(LeaseEvent::Kind kind, uint64_t mac, uint32_t ip) {
    // The DHCP path: a push into a vector allocated once; beyond it the event is
    // dropped (a bind comes again with the phone's next ACK; a view left behind
    // names files only its phone's address... until that address is leased again).
    {
        std::lock_guard<std::mutex> lock(bind_mutex_);
        if (bind_events_.size() >= kMaxLeaseEvents) {
            return;
        }
        bind_events_.push_back(LeaseEvent{kind, mac, ip});
    }
    bind_cv_.notify_one();
}

void PhoneProv::leaseGone(const isc::dhcp::Lease4& lease) {
    if (!views_) {
        return;
    }
    uint64_t mac = 0;
    if (lease.hwaddr_ && lease.hwaddr_->hwaddr_.size() == 6) {
        for (uint8_t b : lease.hwaddr_->hwaddr_) {
            mac = (mac << 8) | b;
        }
    }
    leaseEvent(LeaseEvent::Kind::Unbind, mac, lease.addr_.toUint32());
}

bool PhoneProv::waitBound(int timeoutMs) {
    std::unique_lock<std::mutex> lock(bind_mutex_);
    return (bind_cv_.wait_for(lock, std::chrono::milliseconds(timeoutMs),
                              [this] { return (bind_events_.empty() && bind_busy_ == 0); }));
}

void PhoneProv::binderLoop() {
    for (;;) {
        {
            std::unique_lock<std::mutex> lock(bind_mutex_);
            bind_cv_.wait(lock, [this] { return (bind_stop_ || !bind_events_.empty()); });
            if (bind_stop_) {
                return;
            }
            bind_work_.swap(bind_events_);
            bind_busy_ = bind_work_.size();
        }
        for (const LeaseEvent& e : bind_work_) {
            std::string error;
            auto it = bound_.find(e.mac);
            if (e.kind == LeaseEvent::Kind::Unbind) {
                // The view of the address goes, whoever held it (after a restart
                // the map is empty while the views are still there).
                if (it != bound_.end() && it->second == e.ip) {
                    bound_.erase(it);
                }
                error = views_->unbind(e.ip);
                LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_DETAIL, PHONEPROV_LEASE_UNBOUND)
                    .arg(core::LeaseViews::ipText(e.ip));
            } else {
                if (e.kind == LeaseEvent::Kind::Refresh && it == bound_.end()) {
                    continue;  // rendered, but holds no lease we know of
                }
                const uint32_t ip = e.kind == LeaseEvent::Kind::Bind ? e.ip : it->second;
                if (it != bound_.end() && it->second != ip) {
                    (void)views_->unbind(it->second);  // the phone moved
                }
                // Another phone bound to this address before: its view is replaced.
                for (auto o = bound_.begin(); o != bound_.end();) {
                    o = o->second == ip && o->first != e.mac ? bound_.erase(o) : std::next(o);
                }
                std::vector<std::string> paths;
                {
                    std::lock_guard<std::mutex> lock(manifest_mutex_);
                    for (const core::ManifestItem& i : manifest_.of(e.mac)) {
                        paths.push_back(i.path);
                    }
                }
                bound_[e.mac] = ip;
                error = views_->bind(ip, paths);
                LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_DETAIL, PHONEPROV_LEASE_BOUND)
                    .arg(core::LeaseViews::ipText(ip))
                    .arg(paths.size());
            }
            if (!error.empty()) {
                LOG_ERROR(phoneprov_logger, PHONEPROV_LEASE_VIEW_FAILED).arg(error);
            }
        }
        bind_work_.clear();
        {
            std::lock_guard<std::mutex> lock(bind_mutex_);
            bind_busy_ = 0;
        }
        bind_cv_.notify_all();
    }
}

size_t PhoneProv::manifestSize() {
    std::lock_guard<std::mutex> lock(manifest_mutex_);
    return (manifest_.size());
}

void PhoneProv::noteStaged(
    const std::vector<std::pair<uint64_t, const core::StagedRender*>>& staged) {
    std::lock_guard<std::mutex> lock(manifest_mutex_);
    if (!manifest_store_) {
        return;
    }
    std::string lines;
    for (const auto& s : staged) {
        for (const core::ManifestItem& i : s.second->ownFiles) {
            if (manifest_.add(s.first, i)) {
                lines += core::Manifest::line(true, s.first, i) + "\n";
            }
        }
        for (const std::string& path : s.second->sharedFiles) {
            core::ManifestItem i{path, false, false};
            if (manifest_.add(0, i)) {
                lines += core::Manifest::line(true, 0, i) + "\n";
            }
        }
    }
    std::string error = manifest_store_->append(lines);
    if (!error.empty()) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_MANIFEST_FAILED).arg(error);
    }
}

void PhoneProv::pruneRendered(const core::Mac& mac, const std::vector<std::string>& produced) {
    size_t removed = 0;
    {
        std::lock_guard<std::mutex> lock(manifest_mutex_);
        if (!manifest_store_) {
            return;
        }
        std::vector<std::pair<uint64_t, std::string>> stale;
        for (std::string& path : manifest_.supersededBy(mac.value(), produced)) {
            stale.emplace_back(mac.value(), std::move(path));
        }
        if (stale.empty()) {
            return;
        }
        removed = removeListed(stale);
    }
    LOG_INFO(phoneprov_logger, PHONEPROV_FILES_REMOVED)
        .arg(removed)
        .arg("the render of " + mac.colon());
}

void PhoneProv::pruneManifest(const char* why) {
    // Main thread (configuration, reload): provisioning_ and identifier_ are ours.
    if (profiles_left_out_ > 0) {
        // A broken profile's vendor is missing from the plan: its phones' files would
        // all look stale. Never down: nothing is deleted until a load is whole.
        LOG_WARN(phoneprov_logger, PHONEPROV_FILES_KEPT).arg(std::string(why)).arg(profiles_left_out_);
        return;
    }
    core::HostIndexPtr index;
    bool db = false;
    {
        std::lock_guard<std::mutex> lock(hosts_mutex_);
        index = hosts_;
        db = static_cast<bool>(host_db_);
    }
    const auto& vendors = provisioning_->catalogue().vendors();
    std::set<std::string> dirs;
    for (size_t v = 0; v < vendors.size(); ++v) {
        if (provisioning_->enabled(static_cast<int>(v))) {
            dirs.insert(vendors[v].dir);
        }
    }
    auto expect = [&](uint64_t value) {
        core::Mac mac;
        for (int b = 5; b >= 0; --b, value >>= 8) {
            mac.bytes[b] = static_cast<uint8_t>(value & 0xff);
        }
        core::Expected e;
        const core::HostEntry* host = index->find(mac);
        if (!host || !host->hasData) {
            // A host database may hold its data: only its next render can tell.
            e.kind = db ? core::Expected::Kind::Unknown : core::Expected::Kind::NoData;
            return (e);
        }
        e.kind = core::Expected::Kind::Data;
        e.token = provisioning_->token(mac);
        core::Verdict v = identifyMac(mac, "");
        if (v.phone && provisioning_->enabled(v.vendor)) {
            e.vendorKnown = true;
            e.vendorDir = vendors[v.vendor].dir;
            e.folder = provisioning_->deviceFolder(v.vendor);
        }
        return (e);
    };
    size_t removed = 0;
    {
        std::lock_guard<std::mutex> lock(manifest_mutex_);
        if (!manifest_store_) {
            return;
        }
        std::vector<std::pair<uint64_t, std::string>> stale = manifest_.staleForPlan(expect, dirs);
        if (!stale.empty()) {
            removed = removeListed(stale);
        }
        // The journal starts again from a snapshot of what is left.
        std::string error = manifest_store_->compact(manifest_);
        if (!error.empty()) {
            LOG_ERROR(phoneprov_logger, PHONEPROV_MANIFEST_FAILED).arg(error);
        }
    }
    if (removed) {
        LOG_INFO(phoneprov_logger, PHONEPROV_FILES_REMOVED).arg(removed).arg(std::string(why));
    }
}

size_t PhoneProv::removeListed(const std::vector<std::pair<uint64_t, std::string>>& stale) {
    int root = manifest_store_->openRoot();
    if (root < 0) {
        return (0);
    }
    size_t removed = 0;
    std::string lines;
    std::set<std::string> folders;
    for (const auto& s : stale) {
        core::ManifestItem item;
        for (const core::ManifestItem& i : manifest_.of(s.first)) {
            if (i.path == s.second) {
                item = i;
            }
        }
        if (!core::ManifestStore::removeFile(root, s.second)) {
            continue;  // kept in the manifest: tried again next time
        }
        ++removed;
        if (item.tokenFolder) {
            folders.insert(std::string(core::folderOf(s.second)));
        }
        manifest_.erase(s.first, s.second);
        lines += core::Manifest::line(false, s.first, item) + "\n";
    }
    for (const std::string& f : folders) {
        core::ManifestStore::removeEmptyFolder(root, f);
    }
    ::close(root);
    std::string error = manifest_store_->append(lines);
    if (!error.empty()) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_MANIFEST_FAILED).arg(error);
    }
    files_removed_.fetch_add(removed, std::memory_order_relaxed);
    return (removed);
}

bool PhoneProv::stageWith(const core::Provisioning& plan, const core::Mac& mac, int vendor,
                          const std::string& model, const std::string& ip,
                          core::OutputDir::Batch& batch, core::StagedRender& staged,
                          core::RenderOutcome& early, uint64_t* hostsGeneration,
                          bool* fromDatabase, size_t* dataHash, int owner) {
    core::HostIndexPtr index;
    HostDbPtr db;
    {
        std::lock_guard<std::mutex> lock(hosts_mutex_);
        index = hosts_;
        db = host_db_;
        if (hostsGeneration) {
            *hostsGeneration = hosts_generation_.load();
        }
    }
    const core::HostEntry* host = index->find(mac);
    core::HostIndexPtr fromDb;
    if ((!host || !host->hasData) && db) {
        // The configuration file has nothing for this phone: Kea's host databases.
        try {
            nlohmann::json list = nlohmann::json::array();
            for (auto& h : db->find(mac)) {
                list.push_back(std::move(h));
            }
            std::vector<std::string> problems;
            fromDb = core::HostIndex::build({{"reservations", list}}, problems);
            for (const std::string& p : problems) {
                LOG_WARN(phoneprov_logger, PHONEPROV_HOST_DATA_BAD)
                    .arg(p.substr(0, 17))
                    .arg(p.substr(19));
            }
            if (const core::HostEntry* h = fromDb->find(mac)) {
                host = h;
            }
            if (fromDatabase) {
                *fromDatabase = true;  // asked, found or not: its rows can change
            }
        } catch (const std::exception& ex) {
            // Rendering without the phone's data would replace its file with the
            // vendor's defaults: keep the old file, count the failure, retry later.
            LOG_ERROR(phoneprov_logger, PHONEPROV_HOST_DB_FAILED).arg(mac.colon()).arg(ex.what());
            core::RenderOutcome failed;
            failed.failed = 1;
            failed.errors.push_back("host database: " + std::string(ex.what()));
            counters_.bumpId(plan.catalogue().vendors()[vendor].id, Counter::RenderFailures);
            forgetRecent(mac);
            early = failed;
            return (false);
        }
    }
    nlohmann::json data = host ? host->data() : nlohmann::json();
    if (dataHash) {
        *dataHash = host && host->hasData ? std::hash<std::string>{}(data.dump()) : 0;
    }
    const bool foreign = owner >= 0;
    if (foreign && host && host->hasData) {
        // A reserved phone's MAC with another vendor's option 60: its credentials
        // stay in its own vendor's files (issue 21, point 4).
        const auto& vendors = plan.catalogue().vendors();
        LOG_WARN(phoneprov_logger, PHONEPROV_VENDOR_CONFLICT)
            .arg(mac.colon())
            .arg(static_cast<size_t>(owner) < vendors.size() ? vendors[owner].id : "?")
            .arg(vendors[vendor].id);
        counters_.bumpId(vendors[vendor].id, Counter::VendorConflicts);
    }
    staged = plan.stage(batch, vendor, model, mac, ip, host && host->hasData ? &data : nullptr,
                        foreign);
    return (true);
}

core::RenderOutcome PhoneProv::finishWith(const core::Provisioning& plan, const core::Mac& mac,
                                          int vendor, const core::StagedRender& staged,
                                          const core::OutputDir::Batch& batch) {
    core::RenderOutcome r = staged.finish(batch);
    counters_.bumpId(plan.catalogue().vendors()[vendor].id,
                     r.ok() ? Counter::Renders : Counter::RenderFailures);
    for (int i = 0; i < r.notRegular; ++i) {
        counters_.bumpId(plan.catalogue().vendors()[vendor].id, Counter::NotRegular);
    }
    for (const std::string& e : r.errors) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_RENDER_FAILED).arg(mac.colon()).arg(e);
    }
    if (r.skipped) {
        LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_IDENTIFY, PHONEPROV_RENDER_SKIPPED)
            .arg(mac.colon());
    }
    LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_IDENTIFY, PHONEPROV_RENDER_DONE)
        .arg(plan.catalogue().vendors()[vendor].id)
        .arg(mac.colon())
        .arg(r.written)
        .arg(r.unchanged);
    return (r);
}

bool PhoneProv::waitIdle(int timeoutMs) const {
    return (!queue_ || queue_->waitIdle(timeoutMs));
}

void PhoneProv::renderDone(const core::Mac& mac) {
    if (wake_pipe_[1] < 0) {
        return;
    }
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        if (!parked_.count(mac.value())) {
            return;
        }
        ready_.push_back(mac.value());
    }
    char c = 1;
    (void)::write(wake_pipe_[1], &c, 1);
}

void PhoneProv::timerLoop() {
    // Wakes at the first deadline (or when the first ACK is held), never per hold:
    // one look at the front of deadlines_, one look-up per expired entry.
    constexpr auto kSlack = std::chrono::milliseconds(5);  // expiries handled together
    std::unique_lock<std::mutex> lock(park_mutex_);
    while (!stopping_) {
        auto now = std::chrono::steady_clock::now();
        bool expired = false;
        while (!deadlines_.empty() && deadlines_.front().first <= now) {
            uint64_t mac = deadlines_.front().second;
            deadlines_.pop_front();
            // Released already (its render finished) or held again since: nothing to do.
            auto range = parked_.equal_range(mac);
            for (auto it = range.first; it != range.second; ++it) {
                if (it->second.deadline <= now) {
                    timed_out_.push_back(mac);
                    expired = true;
                    break;
                }
            }
        }
        if (expired) {
            char c = 1;
            (void)::write(wake_pipe_[1], &c, 1);
        }
        if (deadlines_.empty()) {
            park_cv_.wait(lock);
        } else {
            park_cv_.wait_until(lock, deadlines_.front().first + kSlack);
        }
    }
}

void PhoneProv::onWake() {
    // Runs on Kea's main thread (an external socket of IfaceMgr): in single-threaded
    // mode Kea's own sends happen here too, so IfaceMgr is never used concurrently.
    char buf[256];
    while (::read(wake_pipe_[0], buf, sizeof(buf)) > 0) {
    }
    std::vector<Parked> release;
    std::vector<bool> timedOutFlags;
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        auto now = std::chrono::steady_clock::now();
        auto take = [&](const std::vector<uint64_t>& macs, bool timedOut) {
            for (uint64_t mac : macs) {
                auto range = parked_.equal_range(mac);
                for (auto it = range.first; it != range.second;) {
                    if (timedOut && it->second.deadline > now) {
                        ++it;
                        continue;
                    }
                    release.push_back(it->second);
                    timedOutFlags.push_back(timedOut);
                    it = parked_.erase(it);
                }
            }
        };
        take(ready_, false);
        take(timed_out_, true);
        ready_.clear();
        timed_out_.clear();
    }
    for (size_t i = 0; i < release.size(); ++i) {
        if (timedOutFlags[i]) {
            LOG_WARN(phoneprov_logger, PHONEPROV_UNPARK_TIMEOUT)
                .arg(release[i].lot ? release[i].query->getLabel()
                                    : release[i].response->getLabel())
                .arg(config_.renderWaitMs);
        }
        if (release[i].lot) {
            release[i].lot->unpark(release[i].query);
        } else {
            sendHeld(release[i].response);
        }
    }
}

void PhoneProv::sendHeld(const Pkt4Ptr& rsp) {
    // What Kea does after pkt4_send (pack, send, count), which the drop skipped;
    // the response already carries its interface and addresses.
    try {
        rsp->pack();
        IfaceMgr::instance().send(rsp);
        isc::stats::StatsMgr& stats = isc::stats::StatsMgr::instance();
        stats.addValue("pkt4-sent", static_cast<int64_t>(1));
        stats.addValue("pkt4-ack-sent", static_cast<int64_t>(1));
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_HELD_SEND_FAILED)
            .arg(rsp->getLabel())
            .arg(ex.what());
    }
}

}  // namespace phoneprov
}  // namespace isc
