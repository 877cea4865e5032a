// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov.h"

#include "kea_compat.h"
#include "phoneprov_log.h"

#include <sip.h>

#include <dhcp/dhcp4.h>
#include <dhcp/iface_mgr.h>
#include <hooks/parking_lots.h>
#include <stats/stats_mgr.h>

#include <dlfcn.h>
#include <arpa/inet.h>
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

const char* const kContext = "phoneprov";

/// @brief The verdict of the packet this thread received last. Kea handles a packet
/// on one thread from pkt4_receive to pkt4_send, so pkt4_send finds it here without
/// the cost of the callout context (a map of boost::any); a parked packet, handled
/// later, finds it in the context instead (set only when parking is on).
struct LastVerdict {
    const Pkt4* query = nullptr;
    uint32_t xid = 0;
    bool phone = false;
    int vendor = -1;
    uint8_t modelLen = 0;
    char model[33] = {};
    core::Mac mac;
};
// initial-exec: a plain %fs-relative access. The default model for a dlopen'ed
// library goes through __tls_get_addr, about 1,000 instructions per access on
// glibc 2.36 (Debian 12). The struct is small enough for the static TLS surplus.
thread_local LastVerdict lastVerdict __attribute__((tls_model("initial-exec")));

void remember(const Pkt4& query, const PacketVerdict* v) {
    LastVerdict& l = lastVerdict;
    l.query = &query;
    l.xid = query.getTransid();
    l.phone = v != nullptr;
    if (!v) {
        return;
    }
    l.vendor = v->vendor;
    l.modelLen = static_cast<uint8_t>(std::min<size_t>(v->model.size(), 32));
    std::memcpy(l.model, v->model.data(), l.modelLen);
    l.mac = v->mac;
}

/// @brief The verdict of a query in pkt4_send or leases4_committed.
/// @return false when the query is not a phone.
bool recall(CalloutHandle& handle, const Pkt4& query, PacketVerdict& v) {
    const LastVerdict& l = lastVerdict;
    if (l.query == &query && l.xid == query.getTransid()) {
        if (!l.phone) {
            return (false);
        }
        v.phone = true;
        v.vendor = l.vendor;
        v.model.assign(l.model, l.modelLen);
        v.mac = l.mac;
        return (true);
    }
    try {
        handle.getContext(kContext, v);
    } catch (const NoSuchCalloutContext&) {
        return (false);
    }
    return (v.phone);
}

std::string ipText(uint32_t ip) {
    return (std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
            std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff));
}

}  // namespace

nlohmann::json toJson(const ConstElementPtr& e) {
    if (!e) {
        return (nullptr);
    }
    // Kea's own serialisation, parsed again: one well-tested path for every type.
    return (nlohmann::json::parse(e->str(), nullptr, false));
}

PhoneProv::PhoneProv(const ConstElementPtr& params) {
    if (!params || params->getType() != Element::map) {
        throw core::ConfigError("phoneprov: the parameters must be a map with 'output-dir' and "
                                "'base-url'");
    }
    nlohmann::json json = toJson(params);
    config_ = core::parseConfig(json);
    add_classes_ = config_.clientClasses != "never";
    if (!json.contains("profiles-dir")) {
        // The profiles installed next to this library (any install prefix).
        Dl_info info;
        if (dladdr(reinterpret_cast<void*>(&toJson), &info) && info.dli_fname) {
            config_.profilesDir = core::installedProfilesDir(info.dli_fname,
                                                             PHONEPROV_HOOK_TO_PROFILES);
        }
    }
    gid_t gid = core::fileGroupId(config_.fileGroup);
    // A broken vendor profile leaves that vendor out (logged, counted) rather than
    // failing the load: at a config-reload Kea 2.2 would stop serving DHCP at all.
    std::vector<std::string> broken;
    core::CataloguePtr catalogue = core::Catalogue::load(config_.profilesDir, &broken);
    for (const std::string& b : broken) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PROFILE_BROKEN).arg(b);
    }
    isc::stats::StatsMgr::instance().setValue("phoneprov.profiles-broken",
                                              static_cast<int64_t>(broken.size()));
    std::vector<std::pair<core::Prefix, int>> admin;
    for (const auto& p : config_.ouiPrefixes) {
        int vendor = catalogue->find(p.second);
        if (vendor < 0) {
            throw core::ConfigError("phoneprov.oui-prefixes: '" + p.first +
                                    "' names unknown vendor '" + p.second + "'");
        }
        admin.emplace_back(*core::parsePrefix(p.first), vendor);
    }
    core::OuiRegistryPtr registry = core::OuiRegistry::build(config_.registryDir, *catalogue, admin);
    for (const std::string& missing : registry->stats().missingFiles) {
        LOG_WARN(phoneprov_logger, PHONEPROV_REGISTRY_MISSING).arg(missing);
    }
    identifier_.reset(new core::Identifier(catalogue, registry));
    provisioning_ = core::Provisioning::build(catalogue, config_, warnings_);
    output_.reset(new core::OutputDir(config_.outputDir, 0640, gid));
    std::string problem = output_->check();
    if (!problem.empty()) {
        throw core::ConfigError("phoneprov: 'output-dir': " + problem);
    }
    // Kea options built once; responses share them (packing only reads them).
    const auto& vendors = catalogue->vendors();
    auto prepare = [this](const std::vector<core::EncodedOption>& list) {
        std::vector<OptionPtr> out;
        for (const auto& e : list) {
            out.push_back(OptionPtr(new Option(Option::V4, e.code,
                                               OptionBuffer(e.data.begin(), e.data.end()))));
        }
        kea_options_[&list] = std::move(out);
    };
    for (size_t v = 0; v < vendors.size(); ++v) {
        prepare(provisioning_->options(static_cast<int>(v), ""));
        for (const auto& m : vendors[v].models) {
            prepare(provisioning_->options(static_cast<int>(v), m.first));
        }
        for (const auto& o : config_.vendors) {
            if (o.first == vendors[v].id) {
                for (const auto& m : o.second.models) {
                    prepare(provisioning_->options(static_cast<int>(v), m.first));
                }
            }
        }
    }
    std::vector<std::string> none;
    hosts_ = core::HostIndex::build(nlohmann::json::object(), none);
}

PhoneProv::~PhoneProv() {
    stop();
}

size_t PhoneProv::registryRows() const {
    return (identifier_->registry().stats().ieeeRows);
}

size_t PhoneProv::vendorPrefixes() const {
    return (identifier_->registry().stats().vendorPrefixes);
}

void PhoneProv::start() {
    size_t removed = output_->cleanStaleTemps();
    if (removed) {
        LOG_INFO(phoneprov_logger, PHONEPROV_STALE_TEMPS).arg(removed).arg(config_.outputDir);
    }
    if (!config_.render) {
        return;
    }
    queue_.reset(new core::RenderQueue(
        config_.renderThreads, static_cast<size_t>(config_.queueSize),
        [this](const core::RenderJob& job) { renderJob(job); },
        [this](const core::Mac& mac) { renderDone(mac); }));
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
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        stopping_ = true;
        // Kea empties its parking lots on unload and reconfigure: forget ours.
        parked_.clear();
    }
    park_cv_.notify_all();
    if (timer_.joinable()) {
        timer_.join();
    }
    if (wake_pipe_[0] >= 0) {
        IfaceMgr::instance().deleteExternalSocket(wake_pipe_[0]);
        ::close(wake_pipe_[0]);
        ::close(wake_pipe_[1]);
        wake_pipe_[0] = wake_pipe_[1] = -1;
    }
}

void PhoneProv::configured(const ConstElementPtr& config) {
    std::vector<std::string> problems;
    nlohmann::json json = toJson(config);
    core::HostIndexPtr index = core::HostIndex::build(json, problems);
    bool classes = config_.clientClasses == "always" ||
                   (config_.clientClasses == "auto" && core::configUsesPhoneClasses(json));
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
    std::lock_guard<std::mutex> lock(hosts_mutex_);
    hosts_ = index;
    hosts_pin_ = pins;
    hosts_options_ = options;
}

core::HostIndexPtr PhoneProv::hosts() const {
    std::lock_guard<std::mutex> lock(hosts_mutex_);
    return (hosts_);
}

void PhoneProv::receive(CalloutHandle& handle, Pkt4& query) {
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
        remember(query, nullptr);
        PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_NOT_A_PHONE)
            .arg(query.getLabel())
            .arg(v.phone ? "vendor disabled" : v.reason);
        return;
    }
    const core::VendorProfile& vendor = identifier_->catalogue().vendors()[v.vendor];
    if (add_classes_.load(std::memory_order_relaxed)) {
        query.addClass("PHONEPROV");
        query.addClass(vendor.className);
    }
    PHONEPROV_TRACE(DBG_PHONEPROV_IDENTIFY, PHONEPROV_PHONE_IDENTIFIED)
        .arg(query.getLabel())
        .arg(vendor.id)
        .arg(v.model)
        .arg(core::confidenceText(v.confidence));
    PacketVerdict pv;
    pv.phone = true;
    pv.vendor = v.vendor;
    pv.model = std::move(v.model);
    pv.mac = v.mac;
    remember(query, &pv);
    if (parkingEnabled()) {
        // A parked ACK is sent later, after other packets: keep the verdict with it.
        handle.setContext(kContext, pv);
    }
}

void PhoneProv::send(CalloutHandle& handle, Pkt4& query, Pkt4& response) {
    // Only an OFFER or an ACK carries a leased address (a NAK, and an ACK to an
    // INFORM, carry none). Cheaper than getType(), a look-up of option 53.
    uint32_t yiaddr = response.getYiaddr().toUint32();
    if (yiaddr == 0) {
        return;
    }
    PacketVerdict v;
    if (!recall(handle, query, v)) {
        return;  // not a phone
    }
    core::HostIndexPtr index;
    const core::HostEntry* host = nullptr;
    if (hosts_options_.load(std::memory_order_relaxed)) {
        index = hosts();
        host = index->find(v.mac);
    }
    const auto& list = provisioning_->options(v.vendor, v.model);
    auto prepared = kea_options_.find(&list);
    if (prepared != kea_options_.end()) {
        bool override = provisioning_->overrideSubnet(v.vendor);
        for (const OptionPtr& opt : prepared->second) {
            uint16_t code = opt->getType();
            if (host && std::find(host->optionCodes.begin(), host->optionCodes.end(), code) !=
                            host->optionCodes.end()) {
                PHONEPROV_TRACE(DBG_PHONEPROV_OPTIONS, PHONEPROV_OPTION_KEPT)
                    .arg(query.getLabel())
                    .arg(code);
                continue;
            }
            if (response.getOption(code)) {
                if (!override) {
                    continue;
                }
                while (response.delOption(code)) {
                }
            }
            response.addOption(opt);
        }
        PHONEPROV_TRACE(DBG_PHONEPROV_OPTIONS, PHONEPROV_OPTIONS_INJECTED)
            .arg(query.getLabel())
            .arg(prepared->second.size())
            .arg(identifier_->catalogue().vendors()[v.vendor].id);
    }
    maybeQueue(v, query, yiaddr);
}

void PhoneProv::maybeQueue(const PacketVerdict& v, const Pkt4& query, uint32_t ip) {
    if (!queue_) {
        return;
    }
    int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now().time_since_epoch())
                      .count();
    uint64_t key = v.mac.value();
    Recent& slot = recent_[(key ^ (key >> 17)) % kRecentSlots];
    {
        std::lock_guard<std::mutex> lock(recent_mutex_);
        if (slot.mac == key && slot.ip == ip && now - slot.when < config_.renderInterval) {
            return;
        }
        slot = Recent{key, ip, now};
    }
    core::RenderJob job;
    job.mac = v.mac;
    job.vendor = v.vendor;
    job.model = v.model;
    job.ip = ip;
    core::RenderQueue::Push r = queue_->push(job);
    if (r == core::RenderQueue::Push::Full) {
        {
            std::lock_guard<std::mutex> lock(recent_mutex_);
            slot.mac = 0;
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

void PhoneProv::renderJob(const core::RenderJob& job) {
    core::RenderOutcome r = renderNow(job.mac, job.vendor, job.model, job.ip ? ipText(job.ip) : "");
    if (r.failed > 0) {
        // Not rendered (disk full, output-dir unwritable...): the phone's next packet
        // tries again instead of waiting out render-interval, so a fixed fault heals.
        uint64_t key = job.mac.value();
        std::lock_guard<std::mutex> lock(recent_mutex_);
        Recent& slot = recent_[(key ^ (key >> 17)) % kRecentSlots];
        if (slot.mac == key) {
            slot.mac = 0;
        }
    }
    if (config_.resyncOnChange && r.written > 0 && job.ip != 0) {
        sendResync(job);
    }
}

void PhoneProv::sendResync(const core::RenderJob& job) {
    // A file changed: ask the phone to fetch it again (its vendor's re-sync NOTIFY,
    // out of dialog, sent once; `phoneprov resync` waits for answers, the hook does not).
    const core::VendorProfile& vendor = identifier_->catalogue().vendors()[job.vendor];
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
    core::HostIndexPtr index = hosts();
    const core::HostEntry* host = index->find(mac);
    const nlohmann::json* data = host && host->hasData ? &host->data : nullptr;
    core::RenderOutcome r = provisioning_->render(*output_, vendor, model, mac, ip, data);
    for (const std::string& e : r.errors) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_RENDER_FAILED).arg(mac.colon()).arg(e);
    }
    // Counted in Kea's statistics (statistic-get phoneprov.render-failed): files
    // not rendered or not written, and files written.
    if (r.failed > 0) {
        isc::stats::StatsMgr::instance().addValue("phoneprov.render-failed",
                                                  static_cast<int64_t>(r.failed));
    }
    if (r.written > 0) {
        isc::stats::StatsMgr::instance().addValue("phoneprov.files-written",
                                                  static_cast<int64_t>(r.written));
    }
    if (r.skipped) {
        LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_IDENTIFY, PHONEPROV_RENDER_SKIPPED)
            .arg(mac.colon());
    }
    LOG_DEBUG(phoneprov_logger, DBG_PHONEPROV_IDENTIFY, PHONEPROV_RENDER_DONE)
        .arg(identifier_->catalogue().vendors()[vendor].id)
        .arg(mac.colon())
        .arg(r.written)
        .arg(r.unchanged);
    return (r);
}

bool PhoneProv::waitIdle(int timeoutMs) const {
    return (!queue_ || queue_->waitIdle(timeoutMs));
}

void PhoneProv::committed(CalloutHandle& handle, const Pkt4Ptr& query) {
    if (!queue_ || !parkingEnabled() || query->getType() != DHCPREQUEST) {
        return;
    }
    PacketVerdict v;
    if (!recall(handle, *query, v) || !queue_->pending(v.mac)) {
        return;
    }
    ParkingLotHandlePtr lot = handle.getParkingLotHandlePtr();
    lot->reference(query);
    {
        std::lock_guard<std::mutex> lock(park_mutex_);
        if (stopping_) {
            lot->dereference(query);
            return;
        }
        parked_.emplace(v.mac.value(),
                        Parked{query, lot,
                               std::chrono::steady_clock::now() +
                                   std::chrono::milliseconds(config_.renderWaitMs)});
    }
    park_cv_.notify_all();
    handle.setStatus(CalloutHandle::NEXT_STEP_PARK);
    PHONEPROV_TRACE(DBG_PHONEPROV_DETAIL, PHONEPROV_PARKED)
        .arg(query->getLabel())
        .arg(v.mac.colon());
    // The render may have finished between the check and the parking.
    if (!queue_->pending(v.mac)) {
        renderDone(v.mac);
    }
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
    std::unique_lock<std::mutex> lock(park_mutex_);
    while (!stopping_) {
        auto next = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        bool expired = false;
        auto now = std::chrono::steady_clock::now();
        for (const auto& p : parked_) {
            if (p.second.deadline <= now) {
                timed_out_.push_back(p.first);
                expired = true;
            } else if (p.second.deadline < next) {
                next = p.second.deadline;
            }
        }
        if (expired) {
            char c = 1;
            (void)::write(wake_pipe_[1], &c, 1);
        }
        park_cv_.wait_until(lock, next);
    }
}

void PhoneProv::onWake() {
    // Runs on Kea's main thread (an external socket of IfaceMgr), where unpark is safe.
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
                .arg(release[i].query->getLabel())
                .arg(config_.renderWaitMs);
        }
        release[i].lot->unpark(release[i].query);
    }
}

}  // namespace phoneprov
}  // namespace isc
