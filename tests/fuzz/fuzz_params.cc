// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: the hook's parameter parser (core/params parseConfig) and the
// plan built from it (Provisioning::build with the real profiles) on any JSON.
// Input: JSON text (anything that does not parse is skipped, as Kea would refuse it).
// Invariants: a bad configuration is refused with ConfigError only (which load()
// logs, naming the key), never another exception or a crash; an accepted one holds
// the ranges the hook relies on.
#include "fuzz_check.h"

#include <catalogue.h>
#include <params.h>
#include <provisioner.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace phoneprov;

namespace {

using phoneprov_fuzz::check;

const CataloguePtr& catalogue() {
    static const CataloguePtr c = [] {
        const char* profiles = std::getenv("PHONEPROV_PROFILES");
        return (Catalogue::load(profiles ? profiles : PHONEPROV_SOURCE_DIR "/profiles"));
    }();
    return (c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const CataloguePtr& cat = catalogue();
    nlohmann::json params =
        nlohmann::json::parse(reinterpret_cast<const char*>(data), reinterpret_cast<const char*>(data) + size,
                              nullptr, false);
    if (params.is_discarded()) {
        return (0);
    }
    Config c;
    try {
        c = parseConfig(params);
    } catch (const ConfigError& e) {
        check(std::string(e.what()).rfind("phoneprov", 0) == 0, "an error that names no key");
        return (0);
    }
    check(!c.outputDir.empty() && c.outputDir[0] == '/', "relative output-dir accepted");
    check(c.baseUrl.empty() || c.baseUrl.back() != '/', "base-url keeps a trailing '/'");
    check(c.baseUrl.find_first_of(" \t\r\n\"'<>\\") == std::string::npos, "base-url with blanks or quotes");
    check(c.renderThreads >= 1 && c.renderThreads <= 64, "render-threads out of range");
    check(c.queueSize >= 16 && c.queueSize <= 1000000, "queue-size out of range");
    check(c.renderWaitMs >= 0 && c.renderWaitMs <= 30000, "render-wait-ms out of range");
    check(c.resyncPort >= 1 && c.resyncPort <= 65535, "resync-port out of range");
    check(c.clientClasses == "auto" || c.clientClasses == "always" || c.clientClasses == "never",
          "client-classes out of range");
    std::vector<std::string> warnings;
    ProvisioningPtr p;
    try {
        p = Provisioning::build(cat, c, warnings);
    } catch (const ConfigError& e) {
        // Names the parameter, or the profile option a parameter's value broke.
        std::string what = e.what();
        bool named = what.rfind("phoneprov", 0) == 0;
        for (const auto& v : cat->vendors()) {
            named = named || what.rfind(v.id + ".", 0) == 0;
        }
        check(named, "a plan error that names no key");
        return (0);
    }
    // Every vendor's and model's options are ready and each fits in one DHCP option.
    for (size_t v = 0; v < cat->vendors().size(); ++v) {
        for (const auto& o : p->options(static_cast<int>(v), "")) {
            check(o.data.size() <= 255, "an option longer than 255 bytes");
        }
        for (const auto& m : cat->vendors()[v].models) {
            for (const auto& o : p->options(static_cast<int>(v), m.first)) {
                check(o.data.size() <= 255, "a model option longer than 255 bytes");
            }
        }
    }
    return (0);
}
