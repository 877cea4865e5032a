// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "catalogue.h"

#include "json_check.h"

#include <re2/re2.h>
#include <re2/set.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cstring>
#include <functional>
#include <dirent.h>
#include <fstream>
#include <sstream>

namespace phoneprov {

/// @brief A small cache of option 60 verdicts, shared by the packet threads: a
/// fleet sends few distinct vendor classes, so most packets skip the regex engine.
/// Direct-mapped and bounded: random strings from an attacker only evict entries,
/// at the regex engine's cost. (Not thread_local: in a dlopen'ed library on glibc
/// 2.36 every thread_local access costs about 1,000 instructions.)
struct Catalogue::ClassCache {
    static constexpr size_t kSlots = 256;
    static constexpr size_t kMaxKey = 64;
    /// A spin lock: held for a few dozen instructions, cheaper than a mutex.
    struct SpinLock {
        std::atomic_flag flag = ATOMIC_FLAG_INIT;
        void lock() {
            while (flag.test_and_set(std::memory_order_acquire)) {
            }
        }
        void unlock() { flag.clear(std::memory_order_release); }
    };
    struct Slot {
        SpinLock mutex;
        bool used = false;
        uint8_t keyLen = 0;
        uint8_t modelLen = 0;
        int16_t vendor = -1;
        char key[kMaxKey];
        char model[32];
    };
    Slot slots[kSlots];
};

struct Catalogue::Compiled {
    std::unique_ptr<re2::RE2::Set> set;
    std::vector<std::unique_ptr<re2::RE2>> patterns;
    std::vector<int> vendorOf;   ///< pattern index -> vendor index
    std::vector<int> modelGroup; ///< pattern index -> capture group of "model", or 0
};

namespace {

const std::vector<Keyword> kProfileKeywords = {
    {"id", JType::String, true},
    {"name", JType::String, true},
    {"family", JType::String, false},
    {"phones-only", JType::Bool, true},
    {"oui-organizations", JType::List, false},
    {"oui-prefixes", JType::List, false},
    {"vendor-class", JType::List, false},
    {"dir", JType::String, true},
    {"format", JType::String, true},
    {"refuse-chars", JType::String, false},
    {"options", JType::List, false},
    {"override-subnet-options", JType::Bool, false},
    {"variables", JType::Map, false},
    {"value-maps", JType::Map, false},
    {"account-keys", JType::List, false},
    {"account-index-width", JType::Int, false},
    {"max-length", JType::Map, false},
    {"files", JType::List, false},
    {"models", JType::Map, false},
    {"resync-event", JType::String, false},
    {"sip-pnp", JType::Bool, false},
    {"comment", JType::Any, false},
};

const std::vector<Keyword> kOptionKeywords = {
    {"code", JType::Int, true},         {"type", JType::String, true},
    {"value", JType::String, false},    {"enterprise", JType::Int, false},
    {"sub-options", JType::List, false}, {"comment", JType::Any, false},
};

const std::vector<Keyword> kFileKeywords = {
    {"name", JType::String, true},      {"template", JType::String, true},
    {"per-device", JType::Bool, false}, {"requires", JType::String, false},
    {"comment", JType::Any, false},
};

const std::vector<Keyword> kModelKeywords = {
    {"variables", JType::Map, false},
    {"options", JType::List, false},
    {"files", JType::List, false},
    {"comment", JType::Any, false},
};

const std::vector<Keyword> kValueMapKeywords = {
    {"from", JType::String, true},
    {"map", JType::Map, true},
    {"default", JType::String, false},
};

const char* const kOptionTypes[] = {"string", "ipv4-list", "hex",        "uint8",
                                    "uint16", "uint32",    "sub-options", "vivso"};

std::string readFile(const std::string& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw ConfigError(where + ": cannot read '" + path + "'");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return (ss.str());
}

bool validId(const std::string& id) {
    if (id.empty() || id.size() > 32) {
        return (false);
    }
    return (std::all_of(id.begin(), id.end(), [](char c) {
        return ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    }));
}

bool validDir(const std::string& dir) {
    if (dir.empty()) {
        return (true);
    }
    // The same rule as OutputDir's names: a letter or digit first.
    char first = dir[0];
    bool alnum = (first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
                 (first >= '0' && first <= '9');
    if (dir.size() > 64 || !alnum) {
        return (false);
    }
    return (std::all_of(dir.begin(), dir.end(), [](char c) {
        return ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.');
    }));
}

std::vector<OptionSpec> parseOptions(const nlohmann::json& list, const std::string& where,
                                     bool sub);

OptionSpec parseOption(const nlohmann::json& j, const std::string& where, bool sub) {
    checkKeywords(j, kOptionKeywords, where);
    OptionSpec o;
    long long code = j.at("code").get<long long>();
    if (code < 1 || code > 254) {
        throw ConfigError(where + ": 'code' is " + std::to_string(code) +
                          ", must be between 1 and 254");
    }
    o.code = static_cast<int>(code);
    o.type = j.at("type").get<std::string>();
    if (std::find(std::begin(kOptionTypes), std::end(kOptionTypes), o.type) ==
        std::end(kOptionTypes)) {
        throw ConfigError(where + ": 'type' '" + o.type + "' is not one of string, ipv4-list, " +
                          "hex, uint8, uint16, uint32, sub-options, vivso");
    }
    o.value = getString(j, "value");
    bool nested = (o.type == "sub-options" || o.type == "vivso");
    if (nested) {
        if (sub && o.type == "vivso") {
            throw ConfigError(where + ": 'type' vivso cannot be a sub-option");
        }
        if (!j.contains("sub-options")) {
            throw ConfigError(where + ": missing parameter 'sub-options'");
        }
        o.sub = parseOptions(j.at("sub-options"), where + ".sub-options", true);
        if (o.type == "vivso") {
            o.enterprise = static_cast<uint32_t>(
                getInt(j, "enterprise", 0, 0, 0xffffffffLL, where));
            if (!j.contains("enterprise")) {
                throw ConfigError(where + ": missing parameter 'enterprise'");
            }
        }
    } else if (!j.contains("value")) {
        throw ConfigError(where + ": missing parameter 'value'");
    }
    return (o);
}

std::vector<OptionSpec> parseOptions(const nlohmann::json& list, const std::string& where,
                                     bool sub) {
    std::vector<OptionSpec> out;
    for (size_t i = 0; i < list.size(); ++i) {
        out.push_back(parseOption(list[i], where + "[" + std::to_string(i) + "]", sub));
    }
    return (out);
}

std::vector<FileSpec> parseFiles(const nlohmann::json& list, const std::string& where,
                                 const std::string& folder) {
    std::vector<FileSpec> out;
    for (size_t i = 0; i < list.size(); ++i) {
        std::string w = where + "[" + std::to_string(i) + "]";
        checkKeywords(list[i], kFileKeywords, w);
        FileSpec f;
        f.name = list[i].at("name").get<std::string>();
        f.tmpl = list[i].at("template").get<std::string>();
        if (f.tmpl.empty() || f.tmpl[0] == '/' || f.tmpl.find("..") != std::string::npos) {
            throw ConfigError(w + ": 'template' must be a path inside the profile folder");
        }
        f.perDevice = getBool(list[i], "per-device", false);
        f.requiresVar = getString(list[i], "requires");
        f.text = folder.empty() ? std::string() : readFile(folder + "/" + f.tmpl, w + ".template");
        out.push_back(std::move(f));
    }
    return (out);
}

std::vector<std::string> stringList(const nlohmann::json& j, const char* key,
                                    const std::string& where) {
    std::vector<std::string> out;
    auto it = j.find(key);
    if (it == j.end()) {
        return (out);
    }
    for (size_t i = 0; i < it->size(); ++i) {
        if (!(*it)[i].is_string()) {
            throw ConfigError(where + ": '" + key + "'[" + std::to_string(i) +
                              "] must be a string");
        }
        out.push_back((*it)[i].get<std::string>());
    }
    return (out);
}

}  // namespace

std::string_view trimVendorClass(std::string_view vc) {
    while (!vc.empty() && (vc.back() == '\0' || vc.back() == ' ')) {
        vc.remove_suffix(1);
    }
    return (vc);
}

std::string normaliseModel(std::string_view raw) {
    if (raw.size() > 32) {
        return ("");
    }
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
        bool ok = (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok) {
            return ("");
        }
        out.push_back(c);
    }
    return (out);
}

VendorProfile Catalogue::parseProfile(const nlohmann::json& j, const std::string& where,
                                      const std::string& folder) {
    checkKeywords(j, kProfileKeywords, where);
    VendorProfile v;
    v.id = j.at("id").get<std::string>();
    if (!validId(v.id)) {
        throw ConfigError(where + ": 'id' '" + v.id + "' must be 1-32 of [a-z0-9-]");
    }
    v.name = j.at("name").get<std::string>();
    v.family = getString(j, "family", v.id);
    v.className = "PHONEPROV_";
    for (char c : v.id) {
        v.className.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(c)));
    }
    v.folder = folder;
    v.phonesOnly = j.at("phones-only").get<bool>();
    v.sipPnp = getBool(j, "sip-pnp", false);
    v.overrideSubnetOptions = getBool(j, "override-subnet-options", true);
    v.resyncEvent = getString(j, "resync-event");
    v.dir = j.at("dir").get<std::string>();
    if (!validDir(v.dir)) {
        throw ConfigError(where + ": 'dir' '" + v.dir + "' must be a plain folder name");
    }
    v.format = j.at("format").get<std::string>();
    if (v.format != "kv" && v.format != "xml" && v.format != "text") {
        throw ConfigError(where + ": 'format' '" + v.format + "' must be kv, xml or text");
    }
    v.refuseChars = getString(j, "refuse-chars");
    v.ouiOrganizations = stringList(j, "oui-organizations", where);
    for (const std::string& p : stringList(j, "oui-prefixes", where)) {
        auto prefix = parsePrefix(p);
        if (!prefix) {
            throw ConfigError(where + ": 'oui-prefixes' has a bad prefix '" + p + "'");
        }
        v.ouiPrefixes.push_back(*prefix);
    }
    v.vendorClass = stringList(j, "vendor-class", where);
    if (j.contains("options")) {
        v.options = parseOptions(j.at("options"), where + ".options", false);
    }
    if (j.contains("variables")) {
        v.variables = j.at("variables");
    }
    if (j.contains("value-maps")) {
        for (auto it = j.at("value-maps").begin(); it != j.at("value-maps").end(); ++it) {
            std::string w = where + ".value-maps." + it.key();
            checkKeywords(it.value(), kValueMapKeywords, w);
            ValueMap m;
            m.from = it.value().at("from").get<std::string>();
            for (auto e = it.value().at("map").begin(); e != it.value().at("map").end(); ++e) {
                if (!e.value().is_string()) {
                    throw ConfigError(w + ": 'map' values must be strings");
                }
                m.map[e.key()] = e.value().get<std::string>();
            }
            m.fallback = getString(it.value(), "default");
            v.valueMaps[it.key()] = std::move(m);
        }
    }
    if (j.contains("account-keys")) {
        const nlohmann::json& list = j.at("account-keys");
        for (size_t i = 0; i < list.size(); ++i) {
            std::string w = where + ".account-keys[" + std::to_string(i) + "]";
            if (!list[i].is_object()) {
                throw ConfigError(w + ": must be a map of strings");
            }
            std::map<std::string, std::string> keys;
            for (auto e = list[i].begin(); e != list[i].end(); ++e) {
                if (!e.value().is_string()) {
                    throw ConfigError(w + "." + e.key() + ": must be a string");
                }
                keys[e.key()] = e.value().get<std::string>();
            }
            v.accountKeys.push_back(std::move(keys));
        }
    }
    if (j.contains("account-index-width")) {
        v.accountIndexWidth = j.at("account-index-width").get<int>();
        if (v.accountIndexWidth < 1 || v.accountIndexWidth > 8) {
            throw ConfigError(where + ": 'account-index-width' must be 1-8");
        }
    }
    if (j.contains("max-length")) {
        for (auto e = j.at("max-length").begin(); e != j.at("max-length").end(); ++e) {
            if (!e.value().is_number_integer() || e.value().get<int>() < 1) {
                throw ConfigError(where + ".max-length." + e.key() + ": must be a positive integer");
            }
            v.maxLength[e.key()] = e.value().get<int>();
        }
    }
    if (j.contains("files")) {
        v.files = parseFiles(j.at("files"), where + ".files", folder);
    }
    if (j.contains("models")) {
        for (auto it = j.at("models").begin(); it != j.at("models").end(); ++it) {
            std::string w = where + ".models." + it.key();
            checkKeywords(it.value(), kModelKeywords, w);
            std::string model = normaliseModel(it.key());
            if (model.empty()) {
                throw ConfigError(w + ": model name must be 1-32 of [A-Za-z0-9._-]");
            }
            ModelProfile m;
            if (it.value().contains("variables")) {
                m.variables = it.value().at("variables");
            }
            if (it.value().contains("options")) {
                m.hasOptions = true;
                m.options = parseOptions(it.value().at("options"), w + ".options", false);
            }
            if (it.value().contains("files")) {
                m.hasFiles = true;
                m.files = parseFiles(it.value().at("files"), w + ".files", folder);
            }
            v.models[model] = std::move(m);
        }
    }
    return (v);
}

Catalogue::Catalogue() : compiled_(new Compiled), cache_(new ClassCache) {}
Catalogue::~Catalogue() = default;

std::shared_ptr<const Catalogue> Catalogue::load(const std::string& folder,
                                                 std::vector<Broken>* broken) {
    DIR* d = opendir(folder.c_str());
    if (!d) {
        throw ConfigError("profiles-dir: cannot open '" + folder + "'");
    }
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (!n.empty() && n[0] != '.') {
            names.push_back(n);
        }
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    std::vector<VendorProfile> profiles;
    for (const std::string& n : names) {
        std::string sub = folder + "/" + n;
        std::string path = sub + "/profile.json";
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            continue;  // not a profile folder
        }
        try {
            std::ostringstream ss;
            ss << in.rdbuf();
            nlohmann::json j = parseJsonText(ss.str(), path);
            VendorProfile v = parseProfile(j, path, sub);
            if (v.id != n) {
                throw ConfigError(path + ": 'id' '" + v.id + "' differs from its folder name '" + n +
                                  "'");
            }
            profiles.push_back(std::move(v));
        } catch (const ConfigError& e) {
            if (!broken) {
                throw;
            }
            broken->push_back(Broken{n, e.what()});
        }
    }
    if (profiles.empty()) {
        throw ConfigError("profiles-dir: no vendor profile in '" + folder + "'");
    }
    return (fromProfiles(std::move(profiles)));
}

std::shared_ptr<const Catalogue> Catalogue::fromProfiles(std::vector<VendorProfile> profiles) {
    std::shared_ptr<Catalogue> c(new Catalogue);
    c->vendors_ = std::move(profiles);
    for (size_t i = 0; i < c->vendors_.size(); ++i) {
        for (size_t k = 0; k < i; ++k) {
            if (c->vendors_[k].id == c->vendors_[i].id) {
                throw ConfigError("vendor '" + c->vendors_[i].id + "' is defined twice");
            }
        }
    }
    c->compile();
    return (c);
}

void Catalogue::compile() {
    re2::RE2::Options opts;
    opts.set_log_errors(false);
    opts.set_max_mem(8 << 20);
    compiled_->set.reset(new re2::RE2::Set(opts, re2::RE2::ANCHOR_BOTH));
    for (size_t v = 0; v < vendors_.size(); ++v) {
        for (size_t i = 0; i < vendors_[v].vendorClass.size(); ++i) {
            const std::string& pat = vendors_[v].vendorClass[i];
            std::string where = vendors_[v].id + ": 'vendor-class'[" + std::to_string(i) + "]";
            auto re = std::make_unique<re2::RE2>(pat, opts);
            if (!re->ok()) {
                throw ConfigError(where + ": bad pattern: " + re->error());
            }
            std::string err;
            if (compiled_->set->Add(pat, &err) < 0) {
                throw ConfigError(where + ": bad pattern: " + err);
            }
            const auto& groups = re->NamedCapturingGroups();
            auto g = groups.find("model");
            compiled_->modelGroup.push_back(g == groups.end() ? 0 : g->second);
            compiled_->patterns.push_back(std::move(re));
            compiled_->vendorOf.push_back(static_cast<int>(v));
        }
    }
    if (!compiled_->patterns.empty() && !compiled_->set->Compile()) {
        throw ConfigError("vendor-class patterns: too large to compile");
    }
}

int Catalogue::find(std::string_view id) const {
    for (size_t i = 0; i < vendors_.size(); ++i) {
        if (vendors_[i].id == id) {
            return (static_cast<int>(i));
        }
    }
    return (-1);
}

namespace {

/// @brief FNV-1a, enough to spread a few distinct strings over the cache's slots.
inline size_t slotOf(std::string_view s, size_t slots) {
    uint32_t h = 2166136261u;
    for (unsigned char c : s) {
        h = (h ^ c) * 16777619u;
    }
    return (h % slots);
}

}  // namespace

VendorClassMatch Catalogue::matchVendorClass(std::string_view vendorClass) const {
    std::string_view vc = trimVendorClass(vendorClass);
    if (vc.empty() || compiled_->patterns.empty()) {
        return (VendorClassMatch());
    }
    if (vc.size() > ClassCache::kMaxKey) {
        return (matchUncached(vc));
    }
    ClassCache::Slot& slot = cache_->slots[slotOf(vc, ClassCache::kSlots)];
    {
        std::lock_guard<ClassCache::SpinLock> lock(slot.mutex);
        if (slot.used && slot.keyLen == vc.size() &&
            std::memcmp(slot.key, vc.data(), vc.size()) == 0) {
            VendorClassMatch hit;
            hit.vendor = slot.vendor;
            hit.model.assign(slot.model, slot.modelLen);
            return (hit);
        }
    }
    VendorClassMatch m = matchUncached(vc);
    std::lock_guard<ClassCache::SpinLock> lock(slot.mutex);
    slot.used = true;
    slot.keyLen = static_cast<uint8_t>(vc.size());
    std::memcpy(slot.key, vc.data(), vc.size());
    slot.vendor = static_cast<int16_t>(m.vendor);
    slot.modelLen = static_cast<uint8_t>(std::min<size_t>(m.model.size(), sizeof(slot.model)));
    std::memcpy(slot.model, m.model.data(), slot.modelLen);
    return (m);
}

VendorClassMatch Catalogue::matchUncached(std::string_view vc) const {
    VendorClassMatch m;
    thread_local std::vector<int> hits;
    hits.clear();
    if (!compiled_->set->Match(re2::StringPiece(vc.data(), vc.size()), &hits) || hits.empty()) {
        return (m);
    }
    // The first pattern in catalogue order names the vendor, so that the verdict is
    // deterministic; the first of that vendor's matching patterns that yields a model
    // gives the model.
    std::sort(hits.begin(), hits.end());
    m.vendor = compiled_->vendorOf[hits.front()];
    for (int idx : hits) {
        int group = compiled_->modelGroup[idx];
        if (compiled_->vendorOf[idx] != m.vendor || group <= 0 || group >= 8) {
            continue;
        }
        re2::StringPiece sub[8];
        if (!compiled_->patterns[idx]->Match(re2::StringPiece(vc.data(), vc.size()), 0,
                                             vc.size(), re2::RE2::ANCHOR_BOTH, sub, group + 1)) {
            continue;
        }
        m.model = normaliseModel(std::string_view(sub[group].data(), sub[group].size()));
        if (!m.model.empty()) {
            break;
        }
    }
    return (m);
}

}  // namespace phoneprov
