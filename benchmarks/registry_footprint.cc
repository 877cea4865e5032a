// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The IEEE registry's cost in a fresh process: load time and resident memory,
// measured around one load of oui.csv + mam.csv + oui36.csv with the catalogue.
// (Google Benchmark reuses freed memory between runs, so RSS is measured here.)
#include <catalogue.h>
#include <registry.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <unistd.h>

namespace {

double residentMB() {
    std::ifstream in("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    in >> pages >> resident;
    return (static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0);
}

}  // namespace

int main(int argc, char** argv) {
    const char* profiles = argc > 1 ? argv[1] : PHONEPROV_SOURCE_DIR "/profiles";
    const char* ieee = argc > 2 ? argv[2] : "/usr/share/ieee-data";
    auto catalogue = phoneprov::Catalogue::load(profiles);
    double before = residentMB();
    auto t0 = std::chrono::steady_clock::now();
    auto registry = phoneprov::OuiRegistry::build(ieee, *catalogue);
    auto t1 = std::chrono::steady_clock::now();
    double after = residentMB();
    double ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
    std::printf("{\"ieee_rows\": %zu, \"prefixes\": %zu, \"vendor_prefixes\": %zu, "
                "\"load_ms\": %.1f, \"rss_growth_mb\": %.2f, \"rss_total_mb\": %.2f}\n",
                registry->stats().ieeeRows, registry->stats().prefixes,
                registry->stats().vendorPrefixes, ms, after - before, after);
    return (0);
}
