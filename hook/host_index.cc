// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "host_index.h"

#include <provisioner.h>

namespace isc {
namespace phoneprov {

using isc::data::ConstElementPtr;
using isc::data::Element;

nlohmann::json toJson(const ConstElementPtr& e) {
    if (!e) {
        return (nullptr);
    }
    // Kea's own serialisation, parsed again: one well-tested path for every type.
    return (nlohmann::json::parse(e->str(), nullptr, false));
}

namespace {

void addHost(std::unordered_map<uint64_t, HostEntry>& map, const ConstElementPtr& host,
             std::vector<std::string>& problems, size_t& withData) {
    ConstElementPtr hw = host->get("hw-address");
    if (!hw || hw->getType() != Element::string) {
        return;
    }
    auto mac = ::phoneprov::parseMac(hw->stringValue());
    if (!mac) {
        return;
    }
    HostEntry& entry = map[mac->value()];
    ConstElementPtr options = host->get("option-data");
    if (options && options->getType() == Element::list) {
        for (const auto& o : options->listValue()) {
            ConstElementPtr code = o->get("code");
            if (code && code->getType() == Element::integer && code->intValue() > 0 &&
                code->intValue() < 255) {
                entry.optionCodes.push_back(static_cast<uint8_t>(code->intValue()));
            }
        }
    }
    ConstElementPtr ctx = host->get("user-context");
    ConstElementPtr pp = ctx && ctx->getType() == Element::map ? ctx->get("phoneprov")
                                                                : ConstElementPtr();
    if (!pp || entry.hasData) {
        return;
    }
    nlohmann::json data = toJson(pp);
    std::string bad = ::phoneprov::checkDeviceData(data);
    if (!bad.empty()) {
        problems.push_back(mac->colon() + ": " + bad);
        // Kept, so that the render logs and counts the refusal for this phone.
    }
    entry.hasData = true;
    entry.data = std::move(data);
    if (entry.data.is_object()) {
        if (entry.data.contains("vendor") && entry.data["vendor"].is_string()) {
            entry.pinVendor = entry.data["vendor"].get<std::string>();
        }
        if (entry.data.contains("model") && entry.data["model"].is_string()) {
            entry.pinModel = entry.data["model"].get<std::string>();
        }
    }
    ++withData;
}

}  // namespace

std::shared_ptr<const HostIndex> HostIndex::build(const ConstElementPtr& config,
                                                  std::vector<std::string>& problems) {
    std::shared_ptr<HostIndex> index(new HostIndex);
    if (!config || config->getType() != Element::map) {
        return (index);
    }
    ConstElementPtr dhcp4 = config->get("Dhcp4");
    if (dhcp4 && dhcp4->getType() == Element::map) {
        return (build(dhcp4, problems));
    }
    auto addList = [&](const ConstElementPtr& list) {
        if (!list || list->getType() != Element::list) {
            return;
        }
        for (const auto& host : list->listValue()) {
            if (host && host->getType() == Element::map) {
                addHost(index->byMac_, host, problems, index->withData_);
            }
        }
    };
    auto addSubnets = [&](const ConstElementPtr& subnets) {
        if (!subnets || subnets->getType() != Element::list) {
            return;
        }
        for (const auto& subnet : subnets->listValue()) {
            if (subnet && subnet->getType() == Element::map) {
                addList(subnet->get("reservations"));
            }
        }
    };
    // Global reservations, then subnets, then subnets inside shared networks.
    addList(config->get("reservations"));
    addSubnets(config->get("subnet4"));
    ConstElementPtr networks = config->get("shared-networks");
    if (networks && networks->getType() == Element::list) {
        for (const auto& net : networks->listValue()) {
            if (net && net->getType() == Element::map) {
                addSubnets(net->get("subnet4"));
            }
        }
    }
    return (index);
}

}  // namespace phoneprov
}  // namespace isc
