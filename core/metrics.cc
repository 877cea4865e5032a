// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "metrics.h"

#include <map>
#include <set>

namespace phoneprov {

namespace {

/// The per-vendor counters (hook/phoneprov_counters.cc's counterName), with help.
const std::map<std::string, std::string>& vendorCounters() {
    static const std::map<std::string, std::string> m = {
        {"phones-identified", "DHCP queries identified as coming from a vendor's phones"},
        {"options-injected", "OFFERs and ACKs the hook added a vendor's options to"},
        {"renders", "renders of a phone's files that succeeded"},
        {"render-failures", "renders where a file could not be rendered or written"},
        {"files-not-regular", "files not written because something not a regular file stands there"},
        {"vendor-conflicts", "option 60 contradicting a reserved phone's vendor"},
    };
    return (m);
}

struct Metric {
    std::string type;
    std::string help;
    std::map<std::string, std::string> series;  ///< label set ("" or {k="v"}) -> value
};

std::string snake(const std::string& s) {
    std::string out;
    for (char c : s) {
        out.push_back((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ? c
                                                                                                  : '_');
    }
    return (out);
}

/// @brief A label value escaped as the exposition format wants (\\, \" and \n).
std::string labelValue(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') {
            out.push_back('\\');
            out.push_back(c);
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
    return (out);
}

/// @brief The newest sample's value as text, or "" when there is none usable.
std::string newest(const nlohmann::json& samples) {
    if (!samples.is_array() || samples.empty() || !samples[0].is_array() || samples[0].empty()) {
        return ("");
    }
    const nlohmann::json& v = samples[0][0];
    if (v.is_number_integer() || v.is_number_float()) {
        return (v.dump());
    }
    return ("");
}

}  // namespace

std::string prometheusText(const nlohmann::json& stats) {
    std::map<std::string, Metric> metrics;
    if (!stats.is_object()) {
        return ("");
    }
    const std::string prefix = "phoneprov.";
    for (auto it = stats.begin(); it != stats.end(); ++it) {
        const std::string& name = it.key();
        if (name.compare(0, prefix.size(), prefix) != 0) {
            continue;
        }
        std::string value = newest(it.value());
        if (value.empty()) {
            continue;
        }
        std::string rest = name.substr(prefix.size());
        size_t dot = rest.find('.');
        if (dot != std::string::npos && rest.compare(0, dot, "phones") == 0) {
            Metric& m = metrics["phoneprov_phones"];
            m.type = "gauge";
            m.help = "phones in each provisioning state (seen, rendered, fetched, fetched-stale, failed)";
            m.series["{state=\"" + labelValue(rest.substr(dot + 1)) + "\"}"] = value;
            continue;
        }
        if (dot != std::string::npos && vendorCounters().count(rest.substr(dot + 1))) {
            std::string counter = rest.substr(dot + 1);
            Metric& m = metrics["phoneprov_" + snake(counter) + "_total"];
            m.type = "counter";
            m.help = vendorCounters().at(counter) + ", per vendor, since the hook was loaded";
            m.series["{vendor=\"" + labelValue(rest.substr(0, dot)) + "\"}"] = value;
            continue;
        }
        if (dot == std::string::npos && vendorCounters().count(rest)) {
            continue;  // a total over vendors: the sum of the series above
        }
        if (rest == "fetch-foreign-address") {
            Metric& m = metrics["phoneprov_fetch_foreign_address_total"];
            m.type = "counter";
            m.help = "fetches of a phone's per-device file from another address than its lease";
            m.series[""] = value;
        } else if (rest == "config-errors" || rest == "profiles-broken") {
            Metric& m = metrics["phoneprov_" + snake(rest)];
            m.type = "gauge";
            m.help = rest == "config-errors" ? "configuration errors of the last load"
                                             : "vendor profiles left out at the last load";
            m.series[""] = value;
        } else {
            Metric& m = metrics["phoneprov_" + snake(rest)];
            m.type = "untyped";
            m.help = "the hook's statistic " + name;
            m.series[""] = value;
        }
    }
    std::string out;
    for (const auto& m : metrics) {
        out += "# HELP " + m.first + " " + m.second.help + "\n";
        out += "# TYPE " + m.first + " " + m.second.type + "\n";
        for (const auto& s : m.second.series) {
            out += m.first + s.first + " " + s.second + "\n";
        }
    }
    return (out);
}

}  // namespace phoneprov
