// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Google Benchmark for the hot paths of the core: identification (with the full
// IEEE registry loaded), option encoding, template rendering and file writing,
// plus the registry's load time and memory. Run: build/benchmarks/bench_core
#include <catalogue.h>
#include <identify.h>
#include <options.h>
#include <params.h>
#include <provisioner.h>
#include <registry.h>
#include <render.h>
#include <safe_write.h>

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <sys/resource.h>
#include <unistd.h>

using namespace phoneprov;

namespace {

const std::string kProfiles = PHONEPROV_SOURCE_DIR "/profiles";
const std::string kRegistry = "/usr/share/ieee-data";

/// @brief Resident memory of this process, in bytes (from /proc/self/statm).
double residentBytes() {
    std::ifstream in("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    in >> pages >> resident;
    return (static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)));
}

/// @brief The catalogue and the full registry, loaded once for the packet benchmarks.
struct Loaded {
    CataloguePtr catalogue = Catalogue::load(kProfiles);
    OuiRegistryPtr registry = OuiRegistry::build(kRegistry, *catalogue);
    Identifier identifier{catalogue, registry};
};

Loaded& loaded() {
    static Loaded l;
    return (l);
}

/// @brief One identification per iteration. `distinct` rotates through that many
/// different vendor classes (a last byte that varies) to defeat the per-thread cache.
void identifyCase(benchmark::State& state, const char* mac, const std::string& vc,
                  size_t distinct = 1) {
    const Identifier& id = loaded().identifier;
    Mac m = *parseMac(mac);
    std::vector<std::string> classes;
    for (size_t i = 0; i < distinct; ++i) {
        classes.push_back(distinct == 1 ? vc : vc + std::to_string(i));
    }
    size_t i = 0;
    for (auto _ : state) {
        Verdict v = id.identify(1, m.bytes.data(), 6, classes[i++ % distinct]);
        benchmark::DoNotOptimize(v);
    }
}

void BM_IdentifyGrandstreamWithClass(benchmark::State& state) {
    identifyCase(state, "00:0b:82:27:3b:89", "Grandstream GXP1628 dslforum.org");
}
void BM_IdentifyCiscoWithClass(benchmark::State& state) {
    identifyCase(state, "00:1e:4a:00:00:01", "Cisco Systems, Inc. IP Phone CP-8861");
}
void BM_IdentifyYealinkPrefixOnly(benchmark::State& state) {
    identifyCase(state, "00:15:65:aa:bb:cc", "");
}
void BM_IdentifyGrandstreamUncached(benchmark::State& state) {
    identifyCase(state, "00:0b:82:27:3b:89", "Grandstream GXP1628 dslforum.org", 4096);
}
void BM_IdentifyLaptop(benchmark::State& state) {
    identifyCase(state, "3c:22:fb:01:02:03", "MSFT 5.0");
}
void BM_IdentifyLongGarbageClass(benchmark::State& state) {
    identifyCase(state, "3c:22:fb:01:02:03", std::string(255, 'A'));
}

/// @brief Loads the catalogue and the whole IEEE registry; reports its memory.
void BM_RegistryLoad(benchmark::State& state) {
    CataloguePtr catalogue = Catalogue::load(kProfiles);
    double before = residentBytes();
    std::vector<OuiRegistryPtr> kept;  // kept alive, so that RSS counts each one
    for (auto _ : state) {
        kept.push_back(OuiRegistry::build(kRegistry, *catalogue));
    }
    double perRegistry = (residentBytes() - before) / static_cast<double>(kept.size());
    state.counters["prefixes"] = static_cast<double>(kept.back()->stats().prefixes);
    state.counters["rss_per_registry_MB"] = perRegistry / (1024.0 * 1024.0);
}

void BM_EncodeMitelOption43(benchmark::State& state) {
    OptionSpec spec;
    spec.code = 43;
    spec.type = "sub-options";
    OptionSpec url;
    url.code = 2;
    url.type = "string";
    url.value = "{{vendor-url}}";
    spec.sub.push_back(url);
    OptionVars vars = {{"vendor-url", "http://10.77.0.1:8080/prov/mitel/"}};
    for (auto _ : state) {
        EncodedOption o = encodeOption(spec, vars, "bench");
        benchmark::DoNotOptimize(o);
    }
}

struct RenderSetup {
    RenderSetup() {
        char tmpl[] = "/tmp/phoneprov-bench-XXXXXX";
        dir = mkdtemp(tmpl);
        config.outputDir = dir;
        config.baseUrl = "http://10.77.0.1:8080/prov";
        config.tftpServer = "10.77.0.1";
        config.profilesDir = kProfiles;
        std::vector<std::string> warnings;
        prov = Provisioning::build(loaded().catalogue, config, warnings);
        data = {{"sip-server", "10.77.0.5"},
                {"accounts", {{{"user", "1001"}, {"password", "s3cret"}, {"display-name", "Alice"}}}}};
    }
    ~RenderSetup() {
        std::string cmd = "rm -rf '" + dir + "'";
        (void)std::system(cmd.c_str());
    }
    std::string dir;
    Config config;
    ProvisioningPtr prov;
    nlohmann::json data;
};

void BM_RenderYealinkInMemory(benchmark::State& state) {
    RenderSetup s;
    int v = loaded().catalogue->find("yealink");
    Mac mac = *parseMac("00:15:65:aa:bb:cc");
    for (auto _ : state) {
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = s.prov->renderFiles(v, "T46S", mac, "10.77.0.100", &s.data, errors, skipped);
        benchmark::DoNotOptimize(files);
    }
}

void BM_RenderAndWriteUnchanged(benchmark::State& state) {
    RenderSetup s;
    OutputDir out(s.dir);
    int v = loaded().catalogue->find("yealink");
    Mac mac = *parseMac("00:15:65:aa:bb:cc");
    for (auto _ : state) {
        RenderOutcome r = s.prov->render(out, v, "T46S", mac, "10.77.0.100", &s.data);
        benchmark::DoNotOptimize(r);
    }
}

/// @brief The packet path's option step: the encoded options for a phone's vendor and
/// model (encoded once at load, looked up per packet).
void BM_OptionsForYealinkModel(benchmark::State& state) {
    RenderSetup s;
    int v = loaded().catalogue->find("yealink");
    for (auto _ : state) {
        const auto& list = s.prov->options(v, "T46S");
        benchmark::DoNotOptimize(list.data());
    }
}

/// @brief Building every vendor's options and templates from the profiles (at load).
void BM_BuildProvisioningAllVendors(benchmark::State& state) {
    RenderSetup s;
    for (auto _ : state) {
        std::vector<std::string> warnings;
        ProvisioningPtr p = Provisioning::build(loaded().catalogue, s.config, warnings);
        benchmark::DoNotOptimize(p);
    }
}

/// @brief A write whose content equals the file on disk: compared and skipped.
void BM_WriteUnchanged(benchmark::State& state) {
    RenderSetup s;
    OutputDir out(s.dir);
    std::string content(400, 'x');
    (void)out.write("bench", "001565aabbcc.cfg", content);
    if (out.write("bench", "001565aabbcc.cfg", content).status != WriteStatus::Unchanged) {
        state.SkipWithError("an unchanged write was not skipped");
    }
    for (auto _ : state) {
        WriteResult w = out.write("bench", "001565aabbcc.cfg", content);
        benchmark::DoNotOptimize(w);
    }
}

/// @brief A write whose content changed: temp file, fsync, rename.
void BM_WriteNewContent(benchmark::State& state) {
    RenderSetup s;
    OutputDir out(s.dir);
    std::string content(400, 'x');
    size_t i = 0;
    for (auto _ : state) {
        content[0] = static_cast<char>('a' + (i++ % 26));
        WriteResult w = out.write("bench", "001565aabbcc.cfg", content);
        if (w.status != WriteStatus::Written) {
            state.SkipWithError("a changed write was not written");
            break;
        }
        benchmark::DoNotOptimize(w);
    }
}

}  // namespace

BENCHMARK(BM_IdentifyGrandstreamWithClass);
BENCHMARK(BM_IdentifyCiscoWithClass);
BENCHMARK(BM_IdentifyGrandstreamUncached);
BENCHMARK(BM_IdentifyYealinkPrefixOnly);
BENCHMARK(BM_IdentifyLaptop);
BENCHMARK(BM_IdentifyLongGarbageClass);
BENCHMARK(BM_RegistryLoad)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_EncodeMitelOption43);
BENCHMARK(BM_OptionsForYealinkModel);
BENCHMARK(BM_BuildProvisioningAllVendors)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderYealinkInMemory)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_RenderAndWriteUnchanged)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WriteUnchanged)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_WriteNewContent)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
