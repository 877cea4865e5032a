// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov_commands.h"

#include "phoneprov_log.h"
#include "phoneprov_stats.h"

#include <cc/command_interpreter.h>

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>
#include <limits>
#include <map>
#include <stdexcept>

using namespace isc::config;
using namespace isc::data;
namespace core = ::phoneprov;

namespace isc {
namespace phoneprov {

namespace {

/// @brief A bad command argument; the text names the argument.
class ArgError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief The arguments of a command, checked against its keyword table.
/// @param keywords argument name -> expected Element type.
nlohmann::json checkArgs(const ConstElementPtr& args,
                         const std::map<std::string, Element::types>& keywords,
                         bool required) {
    if (!args) {
        if (required) {
            throw ArgError("missing 'arguments'");
        }
        return (nlohmann::json::object());
    }
    if (args->getType() != Element::map) {
        throw ArgError("'arguments' must be a map");
    }
    for (const auto& kv : args->mapValue()) {
        auto it = keywords.find(kv.first);
        if (it == keywords.end()) {
            throw ArgError("unknown argument '" + kv.first + "'");
        }
        if (!kv.second || kv.second->getType() != it->second) {
            throw ArgError("'" + kv.first + "' must be a " + Element::typeToName(it->second));
        }
    }
    return (toJson(args));
}

core::Mac macArg(const nlohmann::json& args) {
    if (!args.contains("mac")) {
        throw ArgError("missing 'mac'");
    }
    std::string text = args["mac"].get<std::string>();
    auto mac = core::parseMac(text);
    if (!mac) {
        // The text is the admin's own; cut it short in case it is long.
        throw ArgError("'mac': '" + text.substr(0, 40) + "' is not a MAC address");
    }
    return (*mac);
}

ConstElementPtr answer(int result, const std::string& text, const nlohmann::json& args) {
    return (createAnswer(result, text, Element::fromJSON(args.dump())));
}

uint32_t parseIpv4(const std::string& text) {
    in_addr a{};
    if (text.empty() || inet_pton(AF_INET, text.c_str(), &a) != 1) {
        return (0);
    }
    return (ntohl(a.s_addr));
}

/// @brief Queues one phone's render; "" when queued, else why not.
/// @brief What the hook learned from packets, from the phone's record: a phone identified
/// by its vendor class (or a PnP SUBSCRIBE) is still that phone after a reload or a
/// restart, when a command names its MAC without a vendor class. False when there is
/// no record, or its vendor is not in the catalogue now.
bool fromRecord(PhoneProv& impl, const core::Mac& mac, core::Verdict& v, uint32_t* ip = nullptr) {
    PhoneRecords* records = impl.records();
    if (!records) {
        return (false);
    }
    auto r = records->get(mac);
    if (!r || r->vendor.empty()) {
        return (false);
    }
    int vendor = impl.identifier().catalogue().find(r->vendor);
    if (vendor < 0) {
        return (false);
    }
    v.phone = true;
    v.vendor = vendor;
    v.model = r->model;
    v.confidence = core::Confidence::Class;
    v.reason = "";
    if (ip) {
        *ip = r->ip;
    }
    return (true);
}

std::string queueOne(PhoneProv& impl, const core::Mac& mac, const std::string& vendorClass,
                     const std::unordered_map<uint64_t, PhoneProv::KnownPhone>& known,
                     const core::HostIndex& hosts) {
    const core::Catalogue& catalogue = impl.identifier().catalogue();
    int vendor = -1;
    std::string model;
    uint32_t ip = 0;
    auto seen = known.find(mac.value());
    if (seen != known.end() && vendorClass.empty()) {
        vendor = catalogue.find(seen->second.vendor);  // -1 when a reload removed it
        model = seen->second.model;
        ip = seen->second.ip;
    }
    if (vendor < 0) {
        core::Verdict v = impl.identifyMac(mac, vendorClass);
        if (!v.phone && !(vendorClass.empty() && fromRecord(impl, mac, v, &ip))) {
            return (std::string("not identified as a phone (") + v.reason + ")");
        }
        vendor = v.vendor;
        model = v.model;
    }
    if (!impl.provisioning().enabled(vendor)) {
        return ("vendor '" + catalogue.vendors()[vendor].id + "' is disabled");
    }
    if (ip == 0) {
        const core::HostEntry* host = hosts.find(mac);
        ip = host ? parseIpv4(host->ip) : 0;
    }
    switch (impl.queueRender(mac, vendor, model, ip)) {
    case core::RenderQueue::Push::Queued:
    case core::RenderQueue::Push::Merged:
        return ("");
    case core::RenderQueue::Push::Full:
        return ("the render queue is full");
    case core::RenderQueue::Push::Stopped:
        break;
    }
    return ("rendering is off");
}

}  // namespace

ConstElementPtr Commands::notLoaded(const std::string& command) {
    return (createAnswer(CONTROL_RESULT_ERROR,
                         command + ": phoneprov is in passthrough (configuration errors: see "
                                   "phoneprov-status)"));
}

namespace {

/// @brief The state part of phoneprov-status.
nlohmann::json healthJson() {
    nlohmann::json out = {{"state", core::loadStateText(loadHealth.state)},
                          {"parameters", loadHealth.parameters},
                          {"config-errors", loadHealth.errors},
                          {"vendors-left-out", loadHealth.leftOut}};
    return (out);
}

}  // namespace

ConstElementPtr Commands::passthroughStatus() {
    nlohmann::json out = healthJson();
    out["version"] = PHONEPROV_VERSION;
    return (answer(CONTROL_RESULT_SUCCESS, "phoneprov " PHONEPROV_VERSION " passthrough", out));
}

ConstElementPtr Commands::status(PhoneProv& impl) {
    pushStatistics(impl);  // statistic-get-all agrees with this answer at once
    const core::Catalogue& catalogue = impl.identifier().catalogue();
    VendorCounters& counters = impl.counters();
    auto known = impl.knownPhones();
    std::map<std::string, size_t> phones;
    for (const auto& k : known) {
        ++phones[k.second.vendor];
    }
    nlohmann::json vendors = nlohmann::json::object();
    for (size_t slot = 0; slot < counters.slots(); ++slot) {
        std::string id = counters.id(slot);
        nlohmann::json v = {{"loaded", catalogue.find(id) >= 0}, {"phones-rendered", phones[id]}};
        for (int c = 0; c < static_cast<int>(Counter::Count); ++c) {
            v[counterName(static_cast<Counter>(c))] = counters.get(slot, static_cast<Counter>(c));
        }
        vendors[id] = v;
    }
    nlohmann::json totals = {{"phones-rendered", known.size()}};
    for (int c = 0; c < static_cast<int>(Counter::Count); ++c) {
        totals[counterName(static_cast<Counter>(c))] = counters.total(static_cast<Counter>(c));
    }
    core::HostIndexPtr hosts = impl.reservations();
    nlohmann::json out = healthJson();
    out.update({
        {"version", PHONEPROV_VERSION},
        {"catalogue",
         {{"vendors", catalogue.vendors().size()},
          {"profiles-dir", impl.config().profilesDir},
          {"reloads", impl.generation()}}},
        {"registry",
         {{"rows", impl.registryRows()}, {"vendor-prefixes", impl.vendorPrefixes()}}},
        {"reservations", {{"hosts", hosts->size()}, {"with-data", hosts->withData()}}},
        {"rendering", impl.config().render},
        {"renders-pending", impl.rendersPending()},
        {"queue-depth", impl.queueDepth()},
        {"reserved-left", impl.reservedLeft()},
        {"files-current", impl.checksCurrent()},
        {"totals", totals},
        {"vendors", vendors},
    });
    if (PhoneRecords* records = impl.records()) {
        nlohmann::json byState = nlohmann::json::object();
        for (const auto& c : records->countByState()) {
            byState[c.first] = c.second;
        }
        out["phones"] = byState;  // phone records by state (the statistics phoneprov.phones.<state>)
    }
    return (answer(CONTROL_RESULT_SUCCESS,
                   std::string("phoneprov " PHONEPROV_VERSION " ") +
                       core::loadStateText(loadHealth.state),
                   out));
}

ConstElementPtr Commands::identify(PhoneProv& impl, const ConstElementPtr& args) {
    try {
        nlohmann::json a = checkArgs(args, {{"mac", Element::string},
                                            {"vendor-class", Element::string}}, true);
        core::Mac mac = macArg(a);
        std::string vc = a.value("vendor-class", std::string());
        core::Verdict v = impl.identifyMac(mac, vc);
        bool recorded = !v.phone && vc.empty() && fromRecord(impl, mac, v);
        nlohmann::json out = core::verdictJson(v, impl.identifier().catalogue());
        if (recorded) {
            out["from-record"] = true;  // learned from its packets before, not from the MAC alone
        }
        std::string text = mac.colon() + (v.phone ? " is a phone: " +
                                                        out["vendor"].get<std::string>() +
                                                        (recorded ? " (from its record)" : "")
                                                  : std::string(" is not a phone: ") + v.reason);
        return (answer(CONTROL_RESULT_SUCCESS, text, out));
    } catch (const ArgError& ex) {
        return (createAnswer(CONTROL_RESULT_ERROR,
                             std::string("phoneprov-identify: ") + ex.what()));
    }
}

ConstElementPtr Commands::render(PhoneProv& impl, const ConstElementPtr& args) {
    try {
        nlohmann::json a = checkArgs(args, {{"mac", Element::string},
                                            {"vendor-class", Element::string},
                                            {"all", Element::boolean}}, true);
        bool all = a.value("all", false);
        if (a.contains("all") && !all) {
            throw ArgError("'all' must be true when given");
        }
        if (all == a.contains("mac")) {
            throw ArgError("give either 'mac' or \"all\": true");
        }
        if (!impl.config().render) {
            return (createAnswer(CONTROL_RESULT_ERROR,
                                 "phoneprov-render: rendering is off (parameter 'render')"));
        }
        auto known = impl.knownPhones();
        core::HostIndexPtr hosts = impl.reservations();
        size_t queued = 0;
        nlohmann::json skipped = nlohmann::json::object();
        if (!all) {
            core::Mac mac = macArg(a);
            std::string why = queueOne(impl, mac, a.value("vendor-class", std::string()), known,
                                       *hosts);
            if (!why.empty()) {
                return (createAnswer(CONTROL_RESULT_ERROR,
                                     "phoneprov-render: " + mac.colon() + ": " + why));
            }
            queued = 1;
        } else {
            if (a.contains("vendor-class")) {
                throw ArgError("'vendor-class' goes with 'mac', not with 'all'");
            }
            std::map<uint64_t, core::Mac> macs;  // reserved phones, then phones seen
            for (const auto& h : hosts->all()) {
                macs[h.first] = h.second.mac;
            }
            for (const auto& k : known) {
                macs[k.first] = k.second.mac;
            }
            if (PhoneRecords* records = impl.records()) {
                // Phones rendered before this load (identified by their vendor class).
                PhoneRecords::Filter every;
                every.limit = std::numeric_limits<size_t>::max();
                size_t total = 0;
                for (const PhoneRecord& r : records->list(every, total)) {
                    if (r.renderTime != 0) {  // rendered before: render again; never rendered: not now either
                        macs.emplace(r.mac.value(), r.mac);
                    }
                }
            }
            for (const auto& m : macs) {
                std::string why = queueOne(impl, m.second, "", known, *hosts);
                if (why.empty()) {
                    ++queued;
                } else {
                    skipped[m.second.colon()] = why;
                }
            }
        }
        LOG_INFO(phoneprov_logger, PHONEPROV_COMMAND_RENDER).arg(queued).arg(skipped.size());
        return (answer(CONTROL_RESULT_SUCCESS, std::to_string(queued) + " renders queued",
                       {{"queued", queued}, {"skipped", skipped}}));
    } catch (const ArgError& ex) {
        return (createAnswer(CONTROL_RESULT_ERROR, std::string("phoneprov-render: ") + ex.what()));
    }
}

namespace {

/// @brief What a command shows includes every event handed over before it (a
/// render finished, a fetch line received): the writer gets this long to apply them.
constexpr int kSyncMs = 1000;


int64_t intArg(const nlohmann::json& a, const char* key, int64_t def, int64_t lo, int64_t hi) {
    if (!a.contains(key)) {
        return (def);
    }
    int64_t v = a[key].get<int64_t>();
    if (v < lo || v > hi) {
        throw ArgError("'" + std::string(key) + "' must be between " + std::to_string(lo) +
                       " and " + std::to_string(hi));
    }
    return (v);
}

}  // namespace

ConstElementPtr Commands::list(PhoneProv& impl, const ConstElementPtr& args) {
    try {
        nlohmann::json a = checkArgs(args, {{"vendor", Element::string},
                                            {"state", Element::string},
                                            {"seen-since", Element::integer},
                                            {"limit", Element::integer},
                                            {"offset", Element::integer}}, false);
        PhoneRecords::Filter f;
        f.vendor = a.value("vendor", std::string());
        f.state = a.value("state", std::string());
        if (!f.state.empty() &&
            std::find(std::begin(kPhoneStates), std::end(kPhoneStates), f.state) == std::end(kPhoneStates)) {
            throw ArgError("'state' '" + f.state.substr(0, 40) +
                           "' must be seen, rendered, fetched, fetched-stale or failed");
        }
        f.seenSinceMs = intArg(a, "seen-since", 0, 0, INT64_C(1) << 40) * 1000;
        f.limit = static_cast<size_t>(intArg(a, "limit", 100, 1, 10000));
        f.offset = static_cast<size_t>(intArg(a, "offset", 0, 0, INT64_C(1) << 32));
        PhoneRecords* records = impl.records();
        if (!records) {
            return (createAnswer(CONTROL_RESULT_ERROR, "phoneprov-list: no phone records"));
        }
        records->sync(kSyncMs);
        size_t total = 0;
        nlohmann::json phones = nlohmann::json::array();
        for (const PhoneRecord& r : records->list(f, total)) {
            phones.push_back(r.toJson(false));
        }
        nlohmann::json out = {{"total", total},
                              {"offset", f.offset},
                              {"count", phones.size()},
                              {"persistent", records->persistent()},
                              {"phones", phones}};
        return (answer(phones.empty() ? CONTROL_RESULT_EMPTY : CONTROL_RESULT_SUCCESS,
                       std::to_string(phones.size()) + " of " + std::to_string(total) + " phones",
                       out));
    } catch (const ArgError& ex) {
        return (createAnswer(CONTROL_RESULT_ERROR, std::string("phoneprov-list: ") + ex.what()));
    }
}

ConstElementPtr Commands::get(PhoneProv& impl, const ConstElementPtr& args) {
    try {
        nlohmann::json a = checkArgs(args, {{"mac", Element::string}}, true);
        core::Mac mac = macArg(a);
        PhoneRecords* records = impl.records();
        if (!records) {
            return (createAnswer(CONTROL_RESULT_ERROR, "phoneprov-get: no phone records"));
        }
        records->sync(kSyncMs);
        auto r = records->get(mac);
        if (!r) {
            return (createAnswer(CONTROL_RESULT_EMPTY,
                                 "phoneprov-get: no record of " + mac.colon()));
        }
        return (answer(CONTROL_RESULT_SUCCESS, mac.colon() + ": " + r->state(), r->toJson(true)));
    } catch (const ArgError& ex) {
        return (createAnswer(CONTROL_RESULT_ERROR, std::string("phoneprov-get: ") + ex.what()));
    }
}

ConstElementPtr Commands::reload(PhoneProv& impl) {
    std::vector<std::string> warnings;
    try {
        warnings = impl.reload();
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_RELOAD_FAILED).arg(ex.what());
        return (createAnswer(CONTROL_RESULT_ERROR,
                             std::string("phoneprov-reload: ") + ex.what() +
                                 " (the running profiles stay)"));
    }
    for (const std::string& w : warnings) {
        LOG_WARN(phoneprov_logger, PHONEPROV_LOAD_WARNING).arg(w);
    }
    size_t vendors = impl.identifier().catalogue().vendors().size();
    LOG_INFO(phoneprov_logger, PHONEPROV_RELOAD_OK)
        .arg(vendors)
        .arg(impl.vendorPrefixes())
        .arg(impl.registryRows())
        .arg(impl.config().profilesDir);
    return (answer(CONTROL_RESULT_SUCCESS,
                   "phoneprov reloaded " + std::to_string(vendors) + " vendor profiles",
                   {{"vendors", vendors},
                    {"registry-rows", impl.registryRows()},
                    {"reloads", impl.generation()},
                    {"warnings", warnings}}));
}

}  // namespace phoneprov
}  // namespace isc
