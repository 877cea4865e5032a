// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "provisioner.h"

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

bool secretKey(const std::string& k) {
    return (k == "accounts" || k.find("password") != std::string::npos ||
            k.find("secret") != std::string::npos);
}

std::string asText(const nlohmann::json& v) {
    if (v.is_string()) {
        return (v.get<std::string>());
    }
    if (v.is_boolean()) {
        return (v.get<bool>() ? "true" : "false");
    }
    return (v.dump());
}

void normaliseAccounts(nlohmann::json& vars) {
    auto it = vars.find("accounts");
    if (it == vars.end() || !it->is_array()) {
        return;
    }
    int index = 1;
    for (auto& a : *it) {
        if (!a.is_object()) {
            continue;
        }
        a["index"] = std::to_string(index++);
        if (!a.contains("auth-user") && a.contains("user")) {
            a["auth-user"] = a["user"];
        }
        if (!a.contains("display-name") && a.contains("user")) {
            a["display-name"] = a["user"];
        }
        if (!a.contains("label") && a.contains("display-name")) {
            a["label"] = a["display-name"];
        }
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
                                                        std::vector<std::string>& warnings) {
    std::shared_ptr<Provisioning> p(new Provisioning);
    p->catalogue_ = catalogue;
    p->config_ = config;
    const auto& vendors = catalogue->vendors();
    for (const auto& o : config.vendors) {
        if (catalogue->find(o.first) < 0) {
            throw ConfigError("phoneprov.vendors: unknown vendor '" + o.first + "'");
        }
    }
    p->plans_.resize(vendors.size());
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
        OptionVars ovars = {{"base-url", config.baseUrl}, {"vendor-url", plan.vendorUrl},
                            {"tftp-server", config.tftpServer}, {"vendor", v.id},
                            {"dir", v.dir}, {"model", ""}};
        auto encode = [&](const std::vector<OptionSpec>& specs, const std::string& where) {
            std::vector<EncodedOption> out;
            for (size_t k = 0; k < specs.size(); ++k) {
                std::string w = where + "[" + std::to_string(k) + "]";
                try {
                    EncodedOption e = encodeOption(specs[k], ovars, w);
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
                    warnings.push_back(msg);
                }
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
            if (mo && mo->hasOptions) {
                plan.modelOptions[model] = encode(mo->options, "phoneprov.vendors." + v.id + ".models." +
                                                                   model + ".options");
            } else if (prof && prof->hasOptions) {
                plan.modelOptions[model] = encode(prof->options, v.id + ".models." + model + ".options");
            }
            ovars["model"] = "";
        }
        auto compile = [&](const std::vector<FileSpec>& files) {
            for (const FileSpec& f : files) {
                std::string key = v.folder + "/" + f.tmpl;
                if (!p->templates_.count(key)) {
                    p->templates_[key].reset(new Template(f.text, key));
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
    }
    return (p);
}

const std::vector<EncodedOption>& Provisioning::options(int vendor, const std::string& model) const {
    const VendorPlan& plan = plans_[vendor];
    if (!model.empty() && !plan.modelOptions.empty()) {
        auto it = plan.modelOptions.find(model);
        if (it != plan.modelOptions.end()) {
            return (it->second);
        }
    }
    return (plan.options);
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
    // Derived values, from the merged variables.
    for (const auto& vm : v.valueMaps) {
        std::string from = vars.contains(vm.second.from) ? asText(vars[vm.second.from]) : "";
        auto hit = vm.second.map.find(from);
        vars[vm.first] = hit != vm.second.map.end() ? hit->second : vm.second.fallback;
    }
    if (forCommon) {
        for (auto it = vars.begin(); it != vars.end();) {
            if (secretKey(it.key())) {
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
    normaliseAccounts(vars);
    // Built-ins last: nothing overrides them.
    vars["mac"] = mac.lower();
    vars["MAC"] = mac.upper();
    vars["mac-colon"] = mac.colon();
    vars["vendor"] = v.id;
    vars["model"] = model;
    vars["ip"] = ip;
    vars["base-url"] = config_.baseUrl;
    vars["vendor-url"] = plan.vendorUrl;
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
                                                       std::string& error) const {
    if (!f.requiresVar.empty()) {
        auto it = vars.find(f.requiresVar);
        if (it == vars.end() || (it->is_string() && it->get<std::string>().empty())) {
            return (CommonFile::Kind::Skip);
        }
    }
    RenderResult name = templates_.at("name:" + f.name)->render(vars, Escaping::FileName);
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
Provisioning::renderCommon(int vendor, const std::string& model) const {
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
                                                    int& skipped) const {
    std::vector<RenderedFile> out;
    const VendorProfile& v = catalogue_->vendors()[vendor];
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
            // Per-device files stay as they are; common files are still rendered.
            for (const FileSpec& f : specs) {
                skipped += f.perDevice ? 1 : 0;
            }
        }
    }
    std::shared_ptr<const CommonFiles> commons = commonFiles(vendor, model);
    nlohmann::json deviceVars;
    bool deviceOk = known || config_.provisionUnknown;
    if (deviceOk) {
        deviceVars = variables(vendor, model, mac, ip, device, false);
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
        switch (renderOne(v, f, deviceVars, escaping, file, error)) {
        case CommonFile::Kind::File:
            out.push_back(std::move(file));
            break;
        case CommonFile::Kind::Error:
            errors.push_back(v.id + " " + mac.lower() + ": " + error);
            break;
        case CommonFile::Kind::Skip:
            break;
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
                                 const nlohmann::json* device) const {
    StagedRender s;
    s.owner = this;
    std::vector<RenderedFile> files = renderFiles(vendor, model, mac, ip, device,
                                                  s.outcome.errors, s.outcome.skipped);
    s.outcome.failed = static_cast<int>(s.outcome.errors.size());
    for (const RenderedFile& f : files) {
        std::string path = f.dir.empty() ? f.name : f.dir + "/" + f.name;
        if (f.perDevice) {
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
    nlohmann::json vars = variables(vendor, model, mac, "", nullptr, true);
    for (const FileSpec& f : filesFor(vendor, model)) {
        if (!f.perDevice) {
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
