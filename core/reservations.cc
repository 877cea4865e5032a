// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "reservations.h"

#include "catalogue.h"
#include "provisioner.h"
#include "json_check.h"

namespace phoneprov {

namespace {

/// Kea 2.2's standard names of the DHCPv4 options the hook may inject (a
/// reservation that sets one by name, without its code, must still win).
const std::unordered_map<std::string, int>& keaStandardNames() {
    static const std::unordered_map<std::string, int> names = {
        {"vendor-encapsulated-options", 43}, {"tftp-server-name", 66},
        {"boot-file-name", 67},              {"v4-captive-portal", 114},
        {"vivco-suboptions", 124},           {"vivso-suboptions", 125},
        {"v4-portparams", 159},
    };
    return (names);
}

}  // namespace

int HostIndex::optionCode(const nlohmann::json& o) const {
    if (!o.is_object()) {
        return (-1);
    }
    auto space = o.find("space");
    if (space != o.end() && (!space->is_string() || space->get<std::string>() != "dhcp4")) {
        return (-1);  // sub-options of another space
    }
    auto code = o.find("code");
    if (code != o.end()) {
        return (code->is_number_integer() ? code->get<int>() : -1);
    }
    auto name = o.find("name");
    if (name == o.end() || !name->is_string()) {
        return (-1);
    }
    const std::string& n = name->get_ref<const std::string&>();
    auto d = definedNames_.find(n);
    if (d != definedNames_.end()) {
        return (d->second);
    }
    auto s = keaStandardNames().find(n);
    return (s == keaStandardNames().end() ? -1 : s->second);
}

void HostIndex::add(const nlohmann::json& host, std::vector<std::string>& problems) {
    if (!host.is_object()) {
        return;
    }
    auto hw = host.find("hw-address");
    if (hw == host.end() || !hw->is_string()) {
        return;
    }
    auto mac = parseMac(hw->get<std::string>());
    if (!mac) {
        return;
    }
    HostEntry& entry = byMac_[mac->value()];
    entry.mac = *mac;
    auto ip = host.find("ip-address");
    if (ip != host.end() && ip->is_string() && entry.ip.empty()) {
        entry.ip = ip->get<std::string>();
    }
    auto options = host.find("option-data");
    if (options != host.end() && options->is_array()) {
        for (const auto& o : *options) {
            int code = optionCode(o);
            if (code > 0 && code < 255) {
                entry.optionCodes.push_back(static_cast<uint8_t>(code));
            }
        }
    }
    auto ctx = host.find("user-context");
    if (ctx == host.end() || !ctx->is_object() || !ctx->contains("phoneprov") || entry.hasData) {
        return;
    }
    entry.hasData = true;
    const nlohmann::json& data = (*ctx)["phoneprov"];
    entry.dataText = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    std::string bad = checkDeviceData(data);
    if (!bad.empty()) {
        // Kept, so that the render logs and counts the refusal for this phone.
        problems.push_back(mac->colon() + ": " + bad);
    }
    if (data.is_object()) {
        auto vendor = data.find("vendor");
        if (vendor != data.end() && vendor->is_string()) {
            entry.pinVendor = vendor->get<std::string>();
        }
        auto model = data.find("model");
        if (model != data.end() && model->is_string()) {
            entry.pinModel = model->get<std::string>();
        }
    }
    ++withData_;
}

std::shared_ptr<const HostIndex> HostIndex::build(const nlohmann::json& config,
                                                  std::vector<std::string>& problems) {
    std::shared_ptr<HostIndex> index(new HostIndex);
    if (!config.is_object()) {
        return (index);
    }
    if (config.contains("Dhcp4")) {
        return (build(config["Dhcp4"], problems));
    }
    // The configuration's own option names (a reservation may set 150 by its name).
    auto defs = config.find("option-def");
    if (defs != config.end() && defs->is_array()) {
        for (const auto& d : *defs) {
            if (d.is_object() && d.contains("name") && d["name"].is_string() &&
                d.contains("code") && d["code"].is_number_integer() &&
                (!d.contains("space") || d["space"] == "dhcp4")) {
                index->definedNames_[d["name"].get<std::string>()] = d["code"].get<int>();
            }
        }
    }
    auto addList = [&](const nlohmann::json& obj) {
        auto list = obj.find("reservations");
        if (list != obj.end() && list->is_array()) {
            for (const auto& host : *list) {
                index->add(host, problems);
            }
        }
    };
    auto addSubnets = [&](const nlohmann::json& obj) {
        auto subnets = obj.find("subnet4");
        if (subnets != obj.end() && subnets->is_array()) {
            for (const auto& subnet : *subnets) {
                if (subnet.is_object()) {
                    addList(subnet);
                }
            }
        }
    };
    // Global reservations, then subnets, then subnets inside shared networks.
    addList(config);
    addSubnets(config);
    auto networks = config.find("shared-networks");
    if (networks != config.end() && networks->is_array()) {
        for (const auto& net : *networks) {
            if (net.is_object()) {
                addSubnets(net);
            }
        }
    }
    return (index);
}

nlohmann::json findHookParameters(const nlohmann::json& config) {
    const nlohmann::json& dhcp4 = config.contains("Dhcp4") ? config["Dhcp4"] : config;
    auto libs = dhcp4.find("hooks-libraries");
    if (libs == dhcp4.end() || !libs->is_array()) {
        return (nullptr);
    }
    for (const auto& lib : *libs) {
        if (!lib.is_object() || !lib.contains("library") || !lib["library"].is_string()) {
            continue;
        }
        std::string path = lib["library"].get<std::string>();
        if (path.find("libdhcp_phoneprov") != std::string::npos) {
            return (lib.contains("parameters") ? lib["parameters"] : nlohmann::json::object());
        }
    }
    return (nullptr);
}

nlohmann::json parseKeaConfigText(const std::string& text, const std::string& where) {
    // Kea accepts //, /* */ and # comments. One pass that knows strings and all
    // three kinds blanks them (keeping line breaks), then the JSON parser runs.
    std::string clean = text;
    enum { Code, String, Line, Block } state = Code;
    for (size_t i = 0; i < clean.size(); ++i) {
        char c = clean[i];
        char next = i + 1 < clean.size() ? clean[i + 1] : '\0';
        switch (state) {
        case Code:
            if (c == '"') {
                state = String;
            } else if (c == '#' || (c == '/' && next == '/')) {
                state = Line;
                clean[i] = ' ';
            } else if (c == '/' && next == '*') {
                state = Block;
                clean[i] = ' ';
                clean[++i] = ' ';
            }
            break;
        case String:
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                state = Code;
            }
            break;
        case Line:
            if (c == '\n') {
                state = Code;
            } else {
                clean[i] = ' ';
            }
            break;
        case Block:
            if (c == '*' && next == '/') {
                clean[i] = ' ';
                clean[++i] = ' ';
                state = Code;
            } else if (c != '\n') {
                clean[i] = ' ';
            }
            break;
        }
    }
    // Comments were blanked in place: line and column of an error are the file's.
    return (parseJsonText(clean, where));
}

}  // namespace phoneprov
