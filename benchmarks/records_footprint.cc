// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The phone records' cost for a fleet (issue 24's target: 10,000 phones under
// 20 MB on disk and in memory): each phone ACKed, rendered (two per-device files)
// and fetched over HTTP, through PhoneRecords as the hook feeds it, into a fresh
// SQLite file; then the file's size (with its WAL) and the resident memory grown,
// and how long the writer took to apply and commit everything.
#include <config.h>

#include <phone_records.h>

#include <log/logger_support.h>

#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

using namespace isc::phoneprov;

namespace {

double residentMB() {
    std::ifstream in("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    in >> pages >> resident;
    return (static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0);
}

double fileMB(const std::string& path) {
    struct stat st;
    return (::stat(path.c_str(), &st) == 0 ? static_cast<double>(st.st_size) / 1048576.0 : 0.0);
}

}  // namespace

int main(int argc, char** argv) {
    const int phones = argc > 1 ? std::atoi(argv[1]) : 10000;
    isc::log::initLogger("records-footprint", isc::log::ERROR, 0, nullptr, false);
    char tmpl[] = "/tmp/phoneprov-records-bench-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    std::string db = dir + "/state.db";
    double before = residentMB();
    auto t0 = std::chrono::steady_clock::now();
    double during = 0;
    {
        PhoneRecords records(db, 30 * 86400, "/prov/");
        records.start();
        for (int i = 0; i < phones; ++i) {
            ::phoneprov::Mac mac;
            uint64_t v = 0x001565000000ULL + static_cast<uint64_t>(i);
            for (int b = 5; b >= 0; --b, v >>= 8) {
                mac.bytes[b] = static_cast<uint8_t>(v & 0xff);
            }
            const uint32_t ip = 0x0a000000u + static_cast<uint32_t>(i) + 10;
            SeenEvent e;
            e.mac = mac.value();
            e.ip = ip;
            e.ack = true;
            std::memcpy(e.vendor, "yealink", 7);
            e.vendorLen = 7;
            std::memcpy(e.model, "T46S", 4);
            e.modelLen = 4;
            records.seen(e);
            const std::string file = "yealink/" + mac.lower() + ".cfg";
            const std::string file2 = "yealink/" + mac.lower() + "-contacts.xml";
            records.rendered(mac, "yealink", "T46S", true, true,
                             {{file, fileVersion(1, i, 900, 1796601600, i)},
                              {file2, fileVersion(1, i + phones, 300, 1796601600, i)}});
            ::phoneprov::FetchLine f;
            f.address = ip;
            f.path = "/prov/" + file;
            f.status = 200;
            f.bytes = 900;
            records.fetched(f);
        }
        if (!records.sync(120000)) {
            std::fprintf(stderr, "the writer did not catch up\n");
            return (1);
        }
        // What the records keep: the queues' freed memory given back first (glibc
        // keeps freed heap for later; the hook does the same after a configuration).
        malloc_trim(0);
        during = residentMB();
        size_t total = 0;
        PhoneRecords::Filter all;
        all.limit = 1;
        records.list(all, total);
        if (total != static_cast<size_t>(phones)) {
            std::fprintf(stderr, "%zu records, expected %d\n", total, phones);
            return (1);
        }
    }
    auto t1 = std::chrono::steady_clock::now();
    const double disk = fileMB(db) + fileMB(db + "-wal") + fileMB(db + "-shm");
    std::printf("{\"phones\": %d, \"db_mb\": %.2f, \"rss_growth_mb\": %.2f, \"seconds\": %.2f}\n",
                phones, disk, during - before,
                std::chrono::duration<double>(t1 - t0).count());
    std::string cmd = "rm -rf '" + dir + "'";
    return (system(cmd.c_str()) == 0 ? 0 : 1);
}
