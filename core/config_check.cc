// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "config_check.h"
#include "token.h"

#include "json_check.h"
#include "prefix.h"
#include "safe_write.h"

#include <algorithm>
#include <set>

namespace phoneprov {

namespace {

bool startsWith(const std::string& s, const std::string& prefix) {
    return (s.compare(0, prefix.size(), prefix) == 0);
}

/// @brief An error about the parameters, with where the key is when known.
std::string located(const std::string& message, const CheckOptions& options) {
    if (!options.locate) {
        return (message);
    }
    std::string key = parameterOf(message);
    std::string where = key.empty() ? std::string() : options.locate(key);
    return (where.empty() ? message : message + " (" + where + ")");
}

/// @brief Checks one vendor alone: its patterns, organisation patterns, options
/// and templates with the parameters' overrides for it.
/// @throw ConfigError (the profile's or the parameters' fault).
void checkVendor(const VendorProfile& v, const Config& config) {
    CataloguePtr one = Catalogue::fromProfiles({v});  // compiles vendor-class
    OuiRegistry::build("", *one);                       // compiles oui-organizations
    Config own = config;
    own.vendors.clear();
    auto it = config.vendors.find(v.id);
    if (it != config.vendors.end()) {
        own.vendors.insert(*it);
    }
    std::vector<std::string> scratch;
    Provisioning::build(one, own, scratch);  // encodes options, compiles templates
}

}  // namespace

const char* loadStateText(LoadState s) {
    switch (s) {
    case LoadState::Ok:
        return ("ok");
    case LoadState::Degraded:
        return ("degraded");
    case LoadState::Passthrough:
        return ("passthrough");
    }
    return ("passthrough");
}

std::string parameterOf(const std::string& message) {
    const std::string top = "phoneprov";
    if (!startsWith(message, top)) {
        return ("");
    }
    size_t at = top.size();
    if (at < message.size() && message[at] == '.') {
        // "phoneprov.vendors.yealink: ..." -> vendors
        size_t end = message.find_first_of(".: ", at + 1);
        return (message.substr(at + 1, end == std::string::npos ? end : end - at - 1));
    }
    for (const std::string lead : {": unknown parameter '", ": '"}) {
        if (message.compare(at, lead.size(), lead) == 0) {
            size_t start = at + lead.size();
            size_t end = message.find('\'', start);
            return (end == std::string::npos ? "" : message.substr(start, end - start));
        }
    }
    return ("");
}

CheckedConfig checkConfig(const nlohmann::json& params, const CheckOptions& options) {
    CheckedConfig out;
    auto fail = [&out](const std::string& message) {
        out.errors.push_back(CheckedConfig::Problem{message, ""});
        out.state = LoadState::Passthrough;
        out.catalogue.reset();
        out.registry.reset();
        out.provisioning.reset();
        return (out);
    };
    // 1. The parameters: any error leaves nothing to run with.
    if (!params.is_object()) {
        return (fail("phoneprov: the parameters must be a map with 'output-dir' and 'base-url'"));
    }
    try {
        out.config = parseConfig(params);
        if (!params.contains("profiles-dir") && !options.defaultProfilesDir.empty()) {
            out.config.profilesDir = options.defaultProfilesDir;
        }
        out.gid = fileGroupId(out.config.fileGroup);
    } catch (const std::exception& e) {
        return (fail(located(e.what(), options)));
    }
    std::string problem = OutputDir(out.config.outputDir).check();
    if (!problem.empty()) {
        return (fail(located("phoneprov: 'output-dir': " + problem, options)));
    }
    // 2. The profiles, each on its own: a broken one leaves its vendor out.
    std::vector<Catalogue::Broken> broken;
    CataloguePtr all;
    try {
        all = Catalogue::load(out.config.profilesDir, &broken);
    } catch (const std::exception& e) {
        for (const auto& b : broken) {
            out.errors.push_back(CheckedConfig::Problem{b.error, b.id});
            out.brokenProfiles.push_back(b.id);
        }
        return (fail(located(e.what(), options)));
    }
    std::vector<VendorProfile> good;
    for (const VendorProfile& v : all->vendors()) {
        try {
            checkVendor(v, out.config);
            good.push_back(v);
        } catch (const std::exception& e) {
            std::string msg = e.what();
            if (startsWith(msg, "phoneprov")) {
                // The parameters' override for this vendor is at fault.
                return (fail(located(msg, options)));
            }
            broken.push_back(Catalogue::Broken{v.id, msg});
        }
    }
    std::sort(broken.begin(), broken.end(), [](const Catalogue::Broken& a,
                                               const Catalogue::Broken& b) {
        return (a.id < b.id);
    });
    for (const auto& b : broken) {
        out.errors.push_back(CheckedConfig::Problem{b.error, b.id});
        out.brokenProfiles.push_back(b.id);
    }
    if (good.empty()) {
        return (fail("profiles-dir: no usable vendor profile in '" + out.config.profilesDir + "'"));
    }
    // 3. The parameters may name a vendor left out: that vendor is out anyway. One
    // that no profile defines is the parameters' error.
    std::set<std::string> out_ids(out.brokenProfiles.begin(), out.brokenProfiles.end());
    for (auto it = out.config.vendors.begin(); it != out.config.vendors.end();) {
        bool known = std::any_of(good.begin(), good.end(),
                                 [&it](const VendorProfile& v) { return (v.id == it->first); });
        if (known) {
            ++it;
        } else if (out_ids.count(it->first)) {
            it = out.config.vendors.erase(it);
        } else {
            return (fail(located("phoneprov.vendors: unknown vendor '" + it->first + "'", options)));
        }
    }
    try {
        CataloguePtr catalogue = Catalogue::fromProfiles(std::move(good));
        std::vector<std::pair<Prefix, int>> admin;
        for (const auto& p : out.config.ouiPrefixes) {
            int vendor = catalogue->find(p.second);
            if (vendor < 0 && out_ids.count(p.second)) {
                continue;
            }
            if (vendor < 0) {
                return (fail(located("phoneprov.oui-prefixes: '" + p.first +
                                         "' names unknown vendor '" + p.second + "'",
                                     options)));
            }
            admin.emplace_back(*parsePrefix(p.first), vendor);
        }
        // 4. The IEEE registry: a missing file is not an error (the catalogue's
        // prefixes still work).
        out.registry = OuiRegistry::build(out.config.registryDir, *catalogue, admin);
        out.registryMissing = out.registry->stats().missingFiles;
        // The site key: never a reason to leave anything out (a missing key degrades
        // per-device files to no secrets, loudly).
        SiteKey key;
        if (out.config.deviceTokens && !key.load(out.config.keyFile, out.keyError)) {
            key = SiteKey();
        }
        out.provisioning = Provisioning::build(catalogue, out.config, out.warnings, &key);
        out.catalogue = catalogue;
    } catch (const std::exception& e) {
        return (fail(located(e.what(), options)));
    }
    out.state = out.errors.empty() ? LoadState::Ok : LoadState::Degraded;
    return (out);
}

}  // namespace phoneprov
