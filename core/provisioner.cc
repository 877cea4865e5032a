// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "provisioner.h"

#include "tz.h"

namespace phoneprov {

namespace {

/// @brief Shallow merge: keys of `top` replace those of `base`.
void mergeInto(nlohmann::json& base, const nlohmann::json& top) {
    if (!top.is_object()) {
        return;
    }
    for (auto it = top.begin(); it != top.end(); ++it) {
        base[it.key()] = it.value();
    }
}

/// @brief Reservation keys that steer the hook and are not template variables.
bool controlKey(const std::string& k) {
    return (k == "vendor" || k == "model" || k == "options");
}

/// @brief Whether a word of a dash-separated name is `word`.
bool hasWord(const std::string& k, const std::string& word) {
    for (size_t at = k.find(word); at != std::string::npos; at = k.find(word, at + 1)) {
        bool start = at == 0 || k[at - 1] == '-' || k[at - 1] == '_';
        size_t end = at + word.size();
        bool stop = end == k.size() || k[end] == '-' || k[end] == '_';
        if (start && stop) {
            return (true);
        }
    }
    return (false);
}

}  // namespace

bool secretVariable(const std::string& k) {
    return (k == "accounts" || k.find("password") != std::string::npos ||
            k.find("passwd") != std::string::npos || k.find("secret") != std::string::npos ||
            k.find("credential") != std::string::npos || hasWord(k, "key") ||
            hasWord(k, "pin") || hasWord(k, "token"));
}

namespace {

std::string asText(const nlohmann::json& v) {
    if (v.is_string()) {
        return (v.get<std::string>());
    }
    if (v.is_boolean()) {
        return (v.get<bool>() ? "true" : "false");
    }
    return (v.dump());
}

/// @brief Gives each account its index and defaults, and its vendor's per-account
/// keys (`account-keys`); drops the accounts beyond the model's line count (`lines`).
void normaliseAccounts(nlohmann::json& vars, const VendorProfile& v) {
    auto it = vars.find("accounts");
    if (it == vars.end() || !it->is_array()) {
        return;
    }
    size_t most = it->size();
    auto lines = vars.find("lines");
    if (lines != vars.end() && lines->is_string()) {
        const std::string& text = lines->get<std::string>();
        if (!text.empty() && text.size() < 4 &&
            text.find_first_not_of("0123456789") == std::string::npos) {
            most = std::min(most, static_cast<size_t>(std::stoi(text)));
        }
    }
    nlohmann::json kept = nlohmann::json::array();
    for (auto& a : *it) {
        if (!a.is_object()) {
            continue;
        }
        if (kept.size() >= most) {
            break;
        }
        size_t k = kept.size();
        a["index"] = std::to_string(k + 1);
        a["index0"] = std::to_string(k);
        if (v.accountIndexWidth > 0) {
            std::string padded = std::to_string(k + 1);
            if (padded.size() < static_cast<size_t>(v.accountIndexWidth)) {
                padded.insert(0, v.accountIndexWidth - padded.size(), '0');
            }
            a["index-padded"] = padded;
        }
        if (!a.contains("auth-user") && a.contains("user")) {
            a["auth-user"] = a["user"];
        }
        if (!a.contains("display-name") && a.contains("user")) {
            a["display-name"] = a["user"];
        }
        if (!a.contains("label") && a.contains("display-name")) {
            a["label"] = a["display-name"];
        }
        if (k < v.accountKeys.size()) {
            for (const auto& key : v.accountKeys[k]) {
                a[key.first] = key.second;
            }
        }
        kept.push_back(std::move(a));
    }
    *it = std::move(kept);
}

/// @brief Host, port and path of a base URL: `http://h:8080/prov` gives `h`,
/// `8080`, `prov` (the port is the scheme's when the URL names none).
void splitBaseUrl(const std::string& url, std::string& host, std::string& port,
                  std::string& path) {
    size_t schemeEnd = url.find("://");
    std::string scheme = schemeEnd == std::string::npos ? "" : url.substr(0, schemeEnd);
    size_t start = schemeEnd == std::string::npos ? 0 : schemeEnd + 3;
    size_t slash = url.find('/', start);
    std::string authority = url.substr(start, slash == std::string::npos ? std::string::npos
                                                                         : slash - start);
    size_t at = authority.rfind('@');
    if (at != std::string::npos) {
        authority = authority.substr(at + 1);
    }
    size_t colon = authority.rfind(':');
    size_t bracket = authority.rfind(']');
    if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    } else {
        host = authority;
        port = scheme == "https" ? "443" : scheme == "tftp" ? "69" : "80";
    }
    path = slash == std::string::npos ? "" : url.substr(slash + 1);
    while (!path.empty() && path.back() == '/') {
        path.pop_back();
    }
}

}  // namespace

std::string checkDeviceData(const nlohmann::json& device) {
    if (!device.is_object()) {
        return ("'phoneprov' must be a map");
    }
    for (auto it = device.begin(); it != device.end(); ++it) {
        const auto& v = it.value();
        if (it.key() == "accounts") {
            if (!v.is_array()) {
                return ("'accounts' must be a list");
            }
            for (size_t i = 0; i < v.size(); ++i) {
                if (!v[i].is_object()) {
                    return ("'accounts'[" + std::to_string(i) + "] must be a map");
                }
                for (auto a = v[i].begin(); a != v[i].end(); ++a) {
                    if (!(a.value().is_string() || a.value().is_number())) {
                        return ("'accounts'[" + std::to_string(i) + "]." + a.key() +
                                " must be a string or a number");
                    }
                }
            }
            continue;
        }
        if (it.key() == "options") {
            continue;
        }
        if (!(v.is_string() || v.is_number() || v.is_boolean())) {
            return ("'" + it.key() + "' must be a string, a number or a boolean");
        }
    }
    return ("");
}

bool templateNames(std::string_view text, std::string_view name) {
    auto space = [](char c) { return (c == ' ' || c == '\t' || c == '\r' || c == '\n'); };
    for (size_t at = text.find("{{"); at != std::string_view::npos; at = text.find("{{", at)) {
        size_t i = at + 2;
        while (i < text.size() && space(text[i])) {
            ++i;
        }
        if (i < text.size() && (text[i] == '#' || text[i] == '^' || text[i] == '/')) {
            ++i;
        }
        while (i < text.size() && space(text[i])) {
            ++i;
        }
        size_t end = i;
        while (end < text.size() && !space(text[end]) && text[end] != '}') {
            ++end;
        }
        if (text.substr(i, end - i) == name) {
            return (true);
        }
        at += 2;
    }
    return (false);
}

std::shared_ptr<const Provisioning> Provisioning::build(CataloguePtr catalogue,
                                                        const Config& config,
                                                        std::vector<std::string>& warnings,
                                                        const SiteKey* key) {
    std::shared_ptr<Provisioning> p(new Provisioning);
    p->catalogue_ = catalogue;
    p->config_ = config;
    if (key && key->valid() && config.deviceTokens) {
        p->key_ = *key;
    }
    // Where a phone's token goes in its options: bytes that no URL holds.
    const std::string placeholder(kTokenChars, '\x01');
    const auto& vendors = catalogue->vendors();
    for (const auto& o : config.vendors) {
        if (catalogue->find(o.first) < 0) {
            throw ConfigError("phoneprov.vendors: unknown vendor '" + o.first + "'");
        }
    }
    p->plans_.resize(vendors.size());
    // The parts of base-url, for vendors whose option names host, port and path apart
    // (Avaya's 242: HTTPSRVR, HTTPPORT, HTTPDIR); computed once here.
    std::string baseHost;
    std::string basePort;
    std::string basePath;
    splitBaseUrl(config.baseUrl, baseHost, basePort, basePath);
    for (size_t i = 0; i < vendors.size(); ++i) {
        const VendorProfile& v = vendors[i];
        VendorPlan& plan = p->plans_[i];
        auto ov = config.vendors.find(v.id);
        const VendorOverride* over = ov == config.vendors.end() ? nullptr : &ov->second;
        plan.enabled = over ? over->enabled : true;
        plan.overrideSubnet = v.overrideSubnetOptions;
        if (over && over->overrideSubnetOptions >= 0) {
            plan.overrideSubnet = over->overrideSubnetOptions == 1;
        }
        plan.vendorUrl = config.baseUrl + "/" + (v.dir.empty() ? "" : v.dir + "/");
        plan.variables = v.variables;
        if (over) {
            mergeInto(plan.variables, over->variables);
        }
        const std::string vendorPath = basePath.empty() ? v.dir
                                       : v.dir.empty()  ? basePath
                                                        : basePath + "/" + v.dir;
        OptionVars ovars = {{"base-url", config.baseUrl}, {"vendor-url", plan.vendorUrl},
                            {"tftp-server", config.tftpServer}, {"vendor", v.id},
                            {"dir", v.dir}, {"model", ""}, {"base-host", baseHost},
                            {"base-port", basePort}, {"base-path", basePath},
                            {"vendor-path", vendorPath}, {"device-url", plan.vendorUrl},
                            {"device-dir", v.dir}, {"device-path", vendorPath}};
        // The same options with the placeholder where the token goes.
        OptionVars tvars = ovars;
        tvars["device-url"] = plan.vendorUrl + placeholder + "/";
        tvars["device-dir"] = v.dir.empty() ? placeholder : v.dir + "/" + placeholder;
        tvars["device-path"] = vendorPath.empty() ? placeholder : vendorPath + "/" + placeholder;
        bool namesToken = false;
        auto encodeWith = [&](const OptionVars& vars, const std::vector<OptionSpec>& specs,
                              const std::string& where, std::vector<std::string>& notes) {
            std::vector<EncodedOption> out;
            for (size_t k = 0; k < specs.size(); ++k) {
                std::string w = where + "[" + std::to_string(k) + "]";
                try {
                    EncodedOption e = encodeOption(specs[k], vars, w);
                    auto same = std::find_if(out.begin(), out.end(), [&](const EncodedOption& x) {
                        return (x.code == e.code);
                    });
                    if (same != out.end()) {
                        *same = std::move(e);
                    } else {
                        out.push_back(std::move(e));
                    }
                } catch (const ConfigError& e) {
                    // An unset variable (tftp-server) leaves the option out; anything
                    // else is an error in the profile or the parameters.
                    std::string msg = e.what();
                    if (msg.find("is not set") == std::string::npos) {
                        throw;
                    }
                    notes.push_back(msg);
                }
            }
            return (out);
        };
        auto encode = [&](const std::vector<OptionSpec>& specs, const std::string& where) {
            return (encodeWith(ovars, specs, where, warnings));
        };
        // The list for a phone with a token, its placeholders found (warnings were
        // given by the plain list already).
        auto encodeToken = [&](const std::vector<OptionSpec>& specs, const std::string& where) {
            std::vector<std::string> again;
            std::vector<EncodedOption> out = encodeWith(tvars, specs, where, again);
            for (EncodedOption& e : out) {
                auto at = std::search(e.data.begin(), e.data.end(), placeholder.begin(),
                                      placeholder.end());
                while (at != e.data.end()) {
                    e.tokenAt.push_back(static_cast<uint16_t>(at - e.data.begin()));
                    at = std::search(at + kTokenChars, e.data.end(), placeholder.begin(),
                                     placeholder.end());
                }
                namesToken = namesToken || !e.tokenAt.empty();
            }
            return (out);
        };
        std::vector<OptionSpec> specs = (over && over->hasOptions) ? over->options : v.options;
        if (over) {
            specs.insert(specs.end(), over->addOptions.begin(), over->addOptions.end());
        }
        // Errors name where the options came from: the hook parameters or the profile.
        bool fromParams = over && (over->hasOptions || !over->addOptions.empty());
        plan.options = encode(specs, (fromParams ? "phoneprov.vendors." : "") + v.id + ".options");
        plan.tokenOptions = encodeToken(specs, v.id + ".options");
        std::set<std::string> models;
        for (const auto& m : v.models) {
            models.insert(m.first);
        }
        if (over) {
            for (const auto& m : over->models) {
                models.insert(m.first);
            }
        }
        for (const std::string& model : models) {
            auto pm = v.models.find(model);
            const ModelProfile* prof = pm == v.models.end() ? nullptr : &pm->second;
            const ModelOverride* mo = nullptr;
            if (over) {
                auto it = over->models.find(model);
                mo = it == over->models.end() ? nullptr : &it->second;
            }
            // Complete for this model, in the documented order: profile, profile
            // model, hook vendor, hook model (the reservation comes later).
            nlohmann::json mv = v.variables;
            if (prof) {
                mergeInto(mv, prof->variables);
            }
            if (over) {
                mergeInto(mv, over->variables);
            }
            if (mo) {
                mergeInto(mv, mo->variables);
            }
            p->plans_[i].modelVariables[model] = mv;
            ovars["model"] = model;
            tvars["model"] = model;
            if (mo && mo->hasOptions) {
                std::string where = "phoneprov.vendors." + v.id + ".models." + model + ".options";
                plan.modelOptions[model] = encode(mo->options, where);
                plan.modelTokenOptions[model] = encodeToken(mo->options, where);
            } else if (prof && prof->hasOptions) {
                std::string where = v.id + ".models." + model + ".options";
                plan.modelOptions[model] = encode(prof->options, where);
                plan.modelTokenOptions[model] = encodeToken(prof->options, where);
            }
            ovars["model"] = "";
            tvars["model"] = "";
        }
        auto compile = [&](const std::vector<FileSpec>& files) {
            for (const FileSpec& f : files) {
                std::string tmplKey = v.folder + "/" + f.tmpl;
                if (!p->templates_.count(tmplKey)) {
                    p->templates_[tmplKey].reset(new Template(f.text, tmplKey));
                }
                std::string nameKey = "name:" + f.name;
                if (!p->templates_.count(nameKey)) {
                    p->templates_[nameKey].reset(new Template(f.name, v.id + ": file name '" + f.name + "'"));
                }
            }
        };
        compile(v.files);
        for (const auto& m : v.models) {
            if (m.second.hasFiles) {
                compile(m.second.files);
            }
        }
        // Whether the phone's address reaches its files (a check then compares it).
        auto usesIp = [](const std::vector<FileSpec>& files) {
            return (std::any_of(files.begin(), files.end(), [](const FileSpec& f) {
                return (templateNames(f.text, "ip") || templateNames(f.name, "ip") ||
                        f.requiresVar == "ip");
            }));
        };
        plan.usesAddress = usesIp(v.files);
        for (const auto& m : v.models) {
            plan.usesAddress = plan.usesAddress || (m.second.hasFiles && usesIp(m.second.files));
        }
        for (const auto& vm : v.valueMaps) {
            plan.usesAddress = plan.usesAddress || vm.second.from == "ip";
        }
        p->warnTimeZones(i, warnings);
        if (!namesToken || !config.deviceTokens) {
            plan.tokenOptions.clear();
            plan.modelTokenOptions.clear();
        } else if (!p->key_.valid()) {
            plan.tokenOptions.clear();
            plan.modelTokenOptions.clear();
            plan.withhold = true;
            p->degraded_ = true;
        } else {
            plan.deviceFolder = true;
        }
    }
    return (p);
}

std::shared_ptr<const TzVariables> Provisioning::timeZone(const std::string& name) const {
    {
        std::lock_guard<std::mutex> lock(tzMutex_);
        auto it = tz_.find(name);
        if (it != tz_.end()) {
            return (it->second);
        }
    }
    auto tz = std::make_shared<const TzVariables>(zoneVariables(name, config_.zoneinfoDir));
    std::lock_guard<std::mutex> lock(tzMutex_);
    if (tz_.size() < kMaxTimeZones) {
        tz_.emplace(name, tz);
    }
    return (tz);
}

void Provisioning::warnTimeZones(size_t vendor, std::vector<std::string>& warnings) const {
    const VendorProfile& v = catalogue_->vendors()[vendor];
    const VendorPlan& plan = plans_[vendor];
    // The derived variables this vendor's files (or value maps) read.
    std::set<std::string> used;
    auto scan = [&](const std::vector<FileSpec>& files) {
        for (const FileSpec& f : files) {
            for (const std::string& n : tzVariableNames()) {
                if (templateNames(f.text, n) || templateNames(f.name, n) || f.requiresVar == n) {
                    used.insert(n);
                }
            }
        }
    };
    scan(v.files);
    for (const auto& m : v.models) {
        scan(m.second.files);
    }
    for (const auto& vm : v.valueMaps) {
        if (std::find(tzVariableNames().begin(), tzVariableNames().end(), vm.second.from) !=
            tzVariableNames().end()) {
            used.insert(vm.second.from);
        }
    }
    if (used.empty()) {
        return;
    }
    // Every zone the configuration gives this vendor: defaults, vendor, models.
    std::set<std::string> zones;
    auto add = [&](const nlohmann::json& vars) {
        if (vars.is_object() && vars.contains("timezone") && vars["timezone"].is_string() &&
            !vars["timezone"].get<std::string>().empty()) {
            zones.insert(vars["timezone"].get<std::string>());
        }
    };
    nlohmann::json base = config_.defaults.is_object() ? config_.defaults : nlohmann::json::object();
    mergeInto(base, plan.variables);
    add(base);
    for (const auto& m : plan.modelVariables) {
        nlohmann::json mv = config_.defaults.is_object() ? config_.defaults : nlohmann::json::object();
        mergeInto(mv, m.second);
        add(mv);
    }
    for (const std::string& zone : zones) {
        std::shared_ptr<const TzVariables> tz = timeZone(zone);
        if (!tz->error.empty()) {
            warnings.push_back("vendor '" + v.id + "': timezone '" + zone + "' " + tz->error +
                               ": its files carry no time zone");
            continue;
        }
        for (const std::string& n : used) {
            auto miss = tz->missing.find(n);
            if (miss != tz->missing.end()) {
                warnings.push_back("vendor '" + v.id + "' cannot express timezone '" + zone +
                                   "': " + miss->second + " (" + n + ")");
                break;
            }
            auto most = v.maxLength.find(n);
            auto value = tz->values.find(n);
            if (most != v.maxLength.end() && value != tz->values.end() &&
                value->second.size() > static_cast<size_t>(most->second)) {
                warnings.push_back("vendor '" + v.id + "' cannot express timezone '" + zone +
                                   "': " + n + " '" + value->second + "' is longer than " +
                                   std::to_string(most->second) + " characters");
                break;
            }
        }
    }
}

const std::vector<EncodedOption>& Provisioning::options(int vendor, const std::string& model,
                                                       bool token) const {
    const VendorPlan& plan = plans_[vendor];
    if (token && plan.deviceFolder) {
        if (!model.empty() && !plan.modelTokenOptions.empty()) {
            auto it = plan.modelTokenOptions.find(model);
            if (it != plan.modelTokenOptions.end()) {
                return (it->second);
            }
        }
        return (plan.tokenOptions);
    }
    if (!model.empty() && !plan.modelOptions.empty()) {
        auto it = plan.modelOptions.find(model);
        if (it != plan.modelOptions.end()) {
            return (it->second);
        }
    }
    return (plan.options);
}

const std::string& Provisioning::fileModel(int vendor, const std::string& model) const {
    static const std::string kGeneric;
    return (knownModel(vendor, model) ? model : kGeneric);
}

const std::vector<FileSpec>& Provisioning::filesFor(int vendor, const std::string& model) const {
    const VendorProfile& v = catalogue_->vendors()[vendor];
    auto it = v.models.find(model);
    if (it != v.models.end() && it->second.hasFiles) {
        return (it->second.files);
    }
    return (v.files);
}

const Template& Provisioning::templateFor(const VendorProfile& v, const FileSpec& f) const {
    return (*templates_.at(v.folder + "/" + f.tmpl));
}

nlohmann::json Provisioning::variables(int vendor, const std::string& model, const Mac& mac,
                                       const std::string& ip, const nlohmann::json* device,
                                       bool forCommon) const {
    const VendorProfile& v = catalogue_->vendors()[vendor];
    const VendorPlan& plan = plans_[vendor];
    nlohmann::json vars = config_.defaults;
    if (!vars.is_object()) {
        vars = nlohmann::json::object();
    }
    auto mv = plan.modelVariables.find(model);
    mergeInto(vars, mv != plan.modelVariables.end() ? mv->second : plan.variables);
    if (device && device->is_object()) {
        for (auto it = device->begin(); it != device->end(); ++it) {
            if (!controlKey(it.key())) {
                vars[it.key()] = it.value();
            }
        }
    }
    // A time zone's values for vendors that cannot read an IANA name, derived from
    // the system tzdata; a value set explicitly wins.
    auto zone = vars.find("timezone");
    if (zone != vars.end() && zone->is_string() && !zone->get<std::string>().empty()) {
        std::shared_ptr<const TzVariables> tz = timeZone(zone->get<std::string>());
        for (const auto& kv : tz->values) {
            if (!vars.contains(kv.first)) {
                vars[kv.first] = kv.second;
            }
        }
    }
    // Derived values, from the merged variables.
    for (const auto& vm : v.valueMaps) {
        std::string from = vars.contains(vm.second.from) ? asText(vars[vm.second.from]) : "";
        auto hit = vm.second.map.find(from);
        vars[vm.first] = hit != vm.second.map.end() ? hit->second : vm.second.fallback;
    }
    if (forCommon) {
        for (auto it = vars.begin(); it != vars.end();) {
            if (secretVariable(it.key())) {
                it = vars.erase(it);
            } else {
                ++it;
            }
        }
    }
    // Scalars as text, so that templates see one type.
    for (auto it = vars.begin(); it != vars.end(); ++it) {
        if (it.value().is_number()) {
            it.value() = it.value().dump();
        }
    }
    normaliseAccounts(vars, v);
    // Built-ins last: nothing overrides them.
    vars["mac"] = mac.lower();
    vars["MAC"] = mac.upper();
    vars["mac-colon"] = mac.colon();
    vars["vendor"] = v.id;
    vars["model"] = model;
    vars["ip"] = ip;
    vars["base-url"] = config_.baseUrl;
    vars["vendor-url"] = plan.vendorUrl;
    vars["device-url"] = plan.vendorUrl;
    vars["tftp-server"] = config_.tftpServer;
    // Mustache treats every string as true: drop empty ones so that
    // {{#model}}...{{/model}} means "when the model is known".
    for (auto it = vars.begin(); it != vars.end();) {
        if (it.value().is_string() && it.value().get<std::string>().empty()) {
            it = vars.erase(it);
        } else {
            ++it;
        }
    }
    return (vars);
}

Provisioning::CommonFile::Kind Provisioning::renderOne(const VendorProfile& v, const FileSpec& f,
                                                       const nlohmann::json& vars,
                                                       Escaping escaping, RenderedFile& out,
                                                       std::string& error,
                                                       const nlohmann::json* nameVars) const {
    const nlohmann::json& named = nameVars ? *nameVars : vars;
    if (!f.requiresVar.empty()) {
        auto it = named.find(f.requiresVar);
        if (it == named.end() || (it->is_string() && it->get<std::string>().empty())) {
            return (CommonFile::Kind::Skip);
        }
    }
    RenderResult name = templates_.at("name:" + f.name)->render(named, Escaping::FileName);
    if (!name.ok || !safeFileName(name.text)) {
        error = "file name '" + f.name + "' did not give a safe name";
        return (CommonFile::Kind::Error);
    }
    RenderResult body = templateFor(v, f).render(vars, escaping, v.refuseChars);
    if (!body.ok) {
        error = name.text + " not rendered: " + body.error;
        return (CommonFile::Kind::Error);
    }
    out = RenderedFile{v.dir, name.text, std::move(body.text), f.perDevice};
    return (CommonFile::Kind::File);
}

std::shared_ptr<const Provisioning::CommonFiles>
Provisioning::renderCommon(int vendor, const std::string& model,
                           const std::string& deviceUrl) const {
    const VendorProfile& v = catalogue_->vendors()[vendor];
    const std::vector<FileSpec>& specs = filesFor(vendor, model);
    auto out = std::make_shared<CommonFiles>(specs.size());
    // A common file's content depends on its name only, never on the phone that
    // triggered the render (HA peers and re-renders must write the same bytes): no
    // MAC, no address; a file of fixed name shared by every model gets the vendor's
    // variables, one named after the model (or listed by the model) the model's.
    auto common = [&](const std::string& m) {
        nlohmann::json vars = variables(vendor, m, Mac{}, "", nullptr, true);
        for (const char* k : {"mac", "MAC", "mac-colon", "ip"}) {
            vars.erase(k);
        }
        if (!deviceUrl.empty()) {
            // A copy in a phone's folder: the URLs it names stay in that folder.
            vars["vendor-url"] = deviceUrl;
            vars["device-url"] = deviceUrl;
        }
        return (vars);
    };
    bool any = std::any_of(specs.begin(), specs.end(),
                           [](const FileSpec& f) { return (!f.perDevice); });
    if (!any) {
        return (out);
    }
    const nlohmann::json vendorVars = common("");
    const nlohmann::json modelVars = common(model);
    // A fixed name listed by this model alone is that model's file.
    auto ownName = [&](const std::string& name) {
        for (const FileSpec& g : v.files) {
            if (g.name == name) {
                return (false);
            }
        }
        for (const auto& m : v.models) {
            if (m.first == model || !m.second.hasFiles) {
                continue;
            }
            for (const FileSpec& g : m.second.files) {
                if (g.name == name) {
                    return (false);
                }
            }
        }
        return (true);
    };
    Escaping escaping = escapingFor(v.format);
    for (size_t k = 0; k < specs.size(); ++k) {
        const FileSpec& f = specs[k];
        CommonFile& c = (*out)[k];
        if (f.perDevice) {
            continue;
        }
        const bool byModel = f.name.find("{{") != std::string::npos || ownName(f.name);
        c.kind = renderOne(v, f, byModel ? modelVars : vendorVars, escaping, c.file, c.error);
        c.file.hash = c.kind == CommonFile::Kind::File ? std::hash<std::string>{}(c.file.content) : 0;
    }
    return (out);
}

std::shared_ptr<const Provisioning::CommonFiles>
Provisioning::commonFiles(int vendor, const std::string& model) const {
    std::string key = std::to_string(vendor) + "\n" + model;
    {
        std::lock_guard<std::mutex> lock(commonMutex_);
        auto it = common_.find(key);
        if (it != common_.end()) {
            return (it->second);
        }
    }
    std::shared_ptr<const CommonFiles> files = renderCommon(vendor, model);
    std::lock_guard<std::mutex> lock(commonMutex_);
    if (common_.size() < kMaxCommonKeys) {
        common_.emplace(key, files);
    }
    return (files);
}

void Provisioning::rememberCommon(const std::string& path, size_t hash,
                                  const FileStamp& stamp) const {
    std::lock_guard<std::mutex> lock(commonMutex_);
    auto it = onDisk_.find(path);
    if (it != onDisk_.end()) {
        it->second = OnDisk{hash, stamp};
    } else if (onDisk_.size() < kMaxCommonOnDisk) {
        onDisk_.emplace(path, OnDisk{hash, stamp});
    }
}

std::vector<RenderedFile> Provisioning::renderFiles(int vendor, const std::string& model,
                                                    const Mac& mac, const std::string& ip,
                                                    const nlohmann::json* device,
                                                    std::vector<std::string>& errors,
                                                    int& skipped, bool foreign) const {
    std::vector<RenderedFile> out;
    const VendorProfile& v = catalogue_->vendors()[vendor];
    const VendorPlan& plan = plans_[vendor];
    bool known = device != nullptr;
    bool refused = false;
    const std::vector<FileSpec>& specs = filesFor(vendor, model);
    if (known) {
        std::string bad = checkDeviceData(*device);
        if (!bad.empty()) {
            errors.push_back(v.id + " " + mac.lower() + ": reservation data refused: " + bad);
            known = false;
            refused = true;
            device = nullptr;
        }
    }
    if (foreign) {
        // Another vendor owns this phone: its credentials go to that vendor's files
        // only, and no file here is tied to its MAC.
        known = false;
        refused = true;
        device = nullptr;
    }
    if (refused) {
        // Per-device files stay as they are; common files are still rendered.
        for (const FileSpec& f : specs) {
            skipped += f.perDevice ? 1 : 0;
        }
    }
    // Common files are those of a known model (or the vendor's): their names and
    // contents come from a bounded set whatever models are sent.
    const std::string& named = fileModel(vendor, model);
    std::shared_ptr<const CommonFiles> commons = commonFiles(vendor, named);
    nlohmann::json deviceVars;
    nlohmann::json nameVars;  // per-device names: without an unknown model
    bool deviceOk = !foreign && (known || config_.provisionUnknown);
    // A phone with reservation data of a vendor with per-device folders: its files
    // in <dir>/<token>, the only place its URL (from its own DHCP answer) names.
    const std::string token = known && plan.deviceFolder ? key_.token(mac) : "";
    const std::string deviceDir = token.empty() ? v.dir : (v.dir.empty() ? token : v.dir + "/" + token);
    if (deviceOk) {
        // A phone without reservation data (provision-unknown) is anyone who sends
        // its MAC: its files carry no secret of any kind, as common files do. Nor do
        // those of a vendor that would have per-device folders while the site key is
        // missing (the names are computable from the MAC).
        const bool strip = device == nullptr || plan.withhold || (plan.deviceFolder && token.empty());
        deviceVars = variables(vendor, model, mac, ip, device, strip);
        if (!token.empty()) {
            deviceVars["vendor-url"] = plan.vendorUrl + token + "/";
            deviceVars["device-url"] = plan.vendorUrl + token + "/";
        }
        if (named != model) {
            nameVars = deviceVars;
            nameVars.erase("model");
        }
    }
    Escaping escaping = escapingFor(v.format);
    for (size_t k = 0; k < specs.size(); ++k) {
        const FileSpec& f = specs[k];
        if (!f.perDevice) {
            const CommonFile& c = (*commons)[k];
            if (c.kind == CommonFile::Kind::Error) {
                errors.push_back(v.id + " " + mac.lower() + ": " + c.error);
            } else if (c.kind == CommonFile::Kind::File) {
                out.push_back(c.file);
            }
            continue;
        }
        if (!deviceOk) {
            skipped += refused ? 0 : 1;
            continue;
        }
        RenderedFile file;
        std::string error;
        switch (renderOne(v, f, deviceVars, escaping, file, error,
                          named != model ? &nameVars : nullptr)) {
        case CommonFile::Kind::File:
            file.dir = deviceDir;
            out.push_back(std::move(file));
            break;
        case CommonFile::Kind::Error:
            errors.push_back(v.id + " " + mac.lower() + ": " + error);
            break;
        case CommonFile::Kind::Skip:
            break;
        }
    }
    if (!token.empty()) {
        // The phone fetches its common files from its folder too: copies there, each
        // rendered with `vendor-url` naming the folder (a common file that names the
        // provisioning URL, as Yealink's, Snom's and Panasonic's do, keeps the phone
        // in it). Copies, not links: the writer refuses links in the tree, and a hard
        // link would keep the old content after the next atomic replace.
        std::shared_ptr<const CommonFiles> copies =
            renderCommon(vendor, named, plan.vendorUrl + token + "/");
        for (const CommonFile& c : *copies) {
            if (c.kind == CommonFile::Kind::File) {
                RenderedFile copy = c.file;
                copy.dir = deviceDir;
                copy.perDevice = true;
                copy.hash = 0;
                out.push_back(std::move(copy));
            }
        }
    }
    return (out);
}

RenderOutcome Provisioning::render(const OutputDir& out, int vendor, const std::string& model,
                                   const Mac& mac, const std::string& ip,
                                   const nlohmann::json* device) const {
    OutputDir::Batch batch = out.begin();
    StagedRender s = stage(batch, vendor, model, mac, ip, device);
    batch.commit();
    return (s.finish(batch));
}

StagedRender Provisioning::stage(OutputDir::Batch& batch, int vendor, const std::string& model,
                                 const Mac& mac, const std::string& ip,
                                 const nlohmann::json* device, bool foreign) const {
    StagedRender s;
    s.owner = this;
    std::vector<RenderedFile> files = renderFiles(vendor, model, mac, ip, device,
                                                  s.outcome.errors, s.outcome.skipped, foreign);
    s.outcome.failed = static_cast<int>(s.outcome.errors.size());
    const std::string& vendorDir = catalogue_->vendors()[vendor].dir;
    const bool data = device && !foreign && checkDeviceData(*device).empty();
    for (const RenderedFile& f : files) {
        std::string path = f.dir.empty() ? f.name : f.dir + "/" + f.name;
        if (f.perDevice) {
            const bool tokenFolder = f.dir != vendorDir;
            s.ownFiles.push_back(ManifestItem{path, data || tokenFolder, tokenFolder});
            s.device.push_back(s.files.size());
            s.files.emplace_back(batch.stage(f.dir, f.name, f.content), std::move(path));
            continue;
        }
        // A common file this plan wrote (or found) and that is still that very
        // file on disk: one fstatat instead of opening, reading and comparing it.
        size_t hash = f.hash ? f.hash : std::hash<std::string>{}(f.content);
        bool known = false;
        FileStamp stamp;
        {
            std::lock_guard<std::mutex> lock(commonMutex_);
            auto it = onDisk_.find(path);
            if (it != onDisk_.end() && it->second.hash == hash) {
                known = true;
                stamp = it->second.stamp;
            }
        }
        s.sharedFiles.push_back(path);
        if (known && batch.unchangedSince(f.dir, f.name, stamp)) {
            s.files.emplace_back(StagedRender::kOnDisk, std::move(path));
            continue;
        }
        size_t i = batch.stage(f.dir, f.name, f.content);
        s.files.emplace_back(i, path);
        s.commons.push_back(StagedRender::Common{i, std::move(path), hash});
    }
    return (s);
}

RenderOutcome StagedRender::finish(const OutputDir::Batch& batch) const {
    RenderOutcome r = outcome;
    for (const auto& f : files) {
        if (f.first == kOnDisk) {
            ++r.unchanged;
            r.files.push_back(f.second);
            continue;
        }
        WriteResult w = batch.result(f.first);
        switch (w.status) {
        case WriteStatus::Written:
            ++r.written;
            r.files.push_back(f.second);
            break;
        case WriteStatus::Unchanged:
            ++r.unchanged;
            r.files.push_back(f.second);
            break;
        case WriteStatus::Failed:
            ++r.failed;
            r.notRegular += w.notRegular ? 1 : 0;
            r.errors.push_back(f.second + ": " + w.error);
            break;
        }
    }
    for (size_t k : device) {
        WriteResult w = batch.result(files[k].first);
        if (w.status != WriteStatus::Failed && w.stamped) {
            r.deviceStamps.emplace_back(files[k].second, w.stamp);
        }
    }
    if (owner) {
        for (const Common& c : commons) {
            WriteResult w = batch.result(c.index);
            if (w.status != WriteStatus::Failed && w.stamped) {
                owner->rememberCommon(c.path, c.hash, w.stamp);
            }
        }
    }
    return (r);
}

std::vector<std::string> Provisioning::deviceFiles(int vendor, const std::string& model,
                                                   const Mac& mac) const {
    std::vector<std::string> out;
    const VendorProfile& v = catalogue_->vendors()[vendor];
    nlohmann::json vars = variables(vendor, fileModel(vendor, model), mac, "", nullptr, true);
    for (const FileSpec& f : filesFor(vendor, model)) {
        if (!f.perDevice || (!f.requiresVar.empty() && !vars.contains(f.requiresVar))) {
            continue;
        }
        RenderResult name = templates_.at("name:" + f.name)->render(vars, Escaping::FileName);
        if (name.ok && safeFileName(name.text)) {
            out.push_back(v.dir.empty() ? name.text : v.dir + "/" + name.text);
        }
    }
    return (out);
}

}  // namespace phoneprov
