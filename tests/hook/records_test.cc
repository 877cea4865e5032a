// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The phone records (hook/phone_records.h) on a real SQLite file: what a phone's
// record says after DHCP, a render and fetches, what survives a restart, what
// expires, and the fetch socket fed the way nginx feeds it.
#include <config.h>

#include <phone_records.h>

#include <log/logger_support.h>

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <thread>

using namespace isc::phoneprov;
namespace core = ::phoneprov;

namespace {

const core::Mac kMac = *core::parseMac("00:15:65:aa:bb:cc");
const core::Mac kOther = *core::parseMac("00:15:65:00:00:01");
constexpr uint32_t kLease = 0x0a000007;  // 10.0.0.7

class RecordsTest : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/phoneprov-records-XXXXXX";
        dir_ = mkdtemp(tmpl);
        setenv("KEA_LOCKFILE_DIR", dir_.c_str(), 1);
        isc::log::initLogger("records-test", isc::log::WARN, 0, nullptr, false);
        db_ = dir_ + "/state.db";
    }
    void TearDown() override {
        records_.reset();
        std::string cmd = "rm -rf '" + dir_ + "'";
        (void)system(cmd.c_str());
    }
    PhoneRecords& open(const std::string& db = "", int64_t retention = 86400) {
        records_.reset();  // stops and writes the previous one
        records_.reset(new PhoneRecords(db.empty() ? db_ : db, retention, "/prov/"));
        records_->start();
        return (*records_);
    }
    static void ack(PhoneRecords& r, const core::Mac& mac, uint32_t ip, bool isAck = true) {
        SeenEvent e;
        e.mac = mac.value();
        e.ip = ip;
        e.ack = isAck;
        e.how = HowIdentified::VendorClass;
        std::memcpy(e.vendor, "yealink", 7);
        e.vendorLen = 7;
        std::memcpy(e.model, "T46S", 4);
        e.modelLen = 4;
        r.seen(e);
    }
    static void render(PhoneRecords& r, const core::Mac& mac, uint64_t version, bool ok = true,
                       bool reserved = true) {
        r.rendered(mac, "yealink", "T46S", ok, reserved,
                   {{"yealink/" + mac.lower() + ".cfg", version}});
    }
    static core::FetchLine fetch(const core::Mac& mac, uint32_t from, int status = 200) {
        core::FetchLine f;
        f.address = from;
        f.path = "/prov/yealink/" + mac.lower() + ".cfg";
        f.status = status;
        f.bytes = 512;
        return (f);
    }
    std::string state(const core::Mac& mac) {
        EXPECT_TRUE(records_->sync(2000));
        auto r = records_->get(mac);
        return (r ? r->state() : "none");
    }

    std::string dir_;
    std::string db_;
    std::unique_ptr<PhoneRecords> records_;
};

TEST_F(RecordsTest, StatesFollowDhcpRenderAndFetches) {
    PhoneRecords& r = open();
    EXPECT_TRUE(r.persistent());
    ack(r, kMac, kLease);
    EXPECT_EQ("seen", state(kMac));
    render(r, kMac, 11);
    EXPECT_EQ("rendered", state(kMac));
    r.fetched(fetch(kMac, kLease, 404));  // not served: not fetched
    EXPECT_EQ("rendered", state(kMac));
    r.fetched(fetch(kMac, kLease));
    EXPECT_EQ("fetched", state(kMac));
    render(r, kMac, 11);  // rendered again, same file: still fetched
    EXPECT_EQ("fetched", state(kMac));
    render(r, kMac, 12);  // the file changed since the phone fetched it
    EXPECT_EQ("fetched-stale", state(kMac));
    r.fetched(fetch(kMac, kLease));
    EXPECT_EQ("fetched", state(kMac));
    render(r, kMac, 12, false);
    EXPECT_EQ("failed", state(kMac));
    EXPECT_EQ(0u, r.foreignFetches());

    auto rec = r.get(kMac);
    ASSERT_TRUE(rec);
    nlohmann::json j = rec->toJson(true);
    EXPECT_EQ("00:15:65:aa:bb:cc", j["mac"]);
    EXPECT_EQ("yealink", j["vendor"]);
    EXPECT_EQ("T46S", j["model"]);
    EXPECT_EQ("option-60", j["identified-by"]);
    EXPECT_EQ("10.0.0.7", j["address"]);
    ASSERT_EQ(1u, j["files"].size());
    EXPECT_EQ("yealink/001565aabbcc.cfg", j["files"][0]["path"]);
    EXPECT_EQ("http", j["files"][0]["last-fetch"]["protocol"]);
    EXPECT_EQ("10.0.0.7", j["files"][0]["last-fetch"]["address"]);
    EXPECT_EQ(200, j["files"][0]["last-fetch"]["status"]);
    EXPECT_EQ(512, j["files"][0]["last-fetch"]["bytes"]);
}

TEST_F(RecordsTest, ForeignAddressesAreCountedAndUnknownPathsIgnored) {
    PhoneRecords& r = open();
    ack(r, kMac, kLease);
    render(r, kMac, 5);
    r.fetched(fetch(kMac, 0x0a000063));  // 10.0.0.99 reads 10.0.0.7's file
    r.fetched(fetch(kOther, kLease));    // a file of no phone we know
    core::FetchLine outside = fetch(kMac, 0x0a000063);
    outside.path = "/elsewhere/yealink/001565aabbcc.cfg";  // not under base-url
    r.fetched(outside);
    ASSERT_TRUE(r.sync(2000));
    EXPECT_EQ(1u, r.foreignFetches());
    EXPECT_FALSE(r.get(kOther));
    EXPECT_EQ("10.0.0.99", r.get(kMac)->toJson(true)["files"][0]["last-fetch"]["address"]);
}

TEST_F(RecordsTest, RecordsSurviveARestart) {
    {
        PhoneRecords& r = open();
        ack(r, kMac, kLease);
        render(r, kMac, 7);
        r.fetched(fetch(kMac, kLease));
        ack(r, kOther, kLease + 1, false);  // an OFFER: seen, no lease
        ASSERT_TRUE(r.sync(2000));
    }
    PhoneRecords& r = open();
    ASSERT_EQ(2u, r.size());
    EXPECT_EQ("fetched", state(kMac));
    EXPECT_EQ("seen", state(kOther));
    EXPECT_EQ(nullptr, r.get(kOther)->toJson(false)["address"]);
    // The file index is back too: a fetch after the restart finds its phone.
    r.fetched(fetch(kMac, 0x0a000063));
    ASSERT_TRUE(r.sync(2000));
    EXPECT_EQ(1u, r.foreignFetches());
}

TEST_F(RecordsTest, ListFiltersAndPages) {
    PhoneRecords& r = open();
    for (int i = 0; i < 5; ++i) {
        core::Mac m = kOther;
        m.bytes[5] = static_cast<uint8_t>(i + 1);
        ack(r, m, kLease + i);
        if (i < 2) {
            render(r, m, 1);
        }
    }
    ASSERT_TRUE(r.sync(2000));
    size_t total = 0;
    PhoneRecords::Filter f;
    EXPECT_EQ(5u, r.list(f, total).size());
    f.state = "rendered";
    EXPECT_EQ(2u, r.list(f, total).size());
    EXPECT_EQ(2u, total);
    f.state = "";
    f.vendor = "snom";
    EXPECT_EQ(0u, r.list(f, total).size());
    f.vendor = "yealink";
    f.limit = 2;
    f.offset = 3;
    auto page = r.list(f, total);
    EXPECT_EQ(5u, total);
    ASSERT_EQ(2u, page.size());
    EXPECT_EQ("00:15:65:00:00:04", page[0].mac.colon());  // sorted by MAC
    f.limit = 100;
    f.offset = 0;
    f.seenSinceMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count() +
                    60000;
    EXPECT_EQ(0u, r.list(f, total).size());
}

TEST_F(RecordsTest, PhonesWithoutReservationDataExpire) {
    PhoneRecords& r = open("", 60);
    ack(r, kMac, kLease);
    render(r, kMac, 1, true, true);     // reservation data: kept
    ack(r, kOther, kLease + 1);
    render(r, kOther, 1, true, false);  // none: expires
    ASSERT_TRUE(r.sync(2000));
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    EXPECT_EQ(0u, r.expire(now + 30 * 1000));
    EXPECT_EQ(1u, r.expire(now + 61 * 1000));
    EXPECT_FALSE(r.get(kOther));
    ack(r, kMac, kLease);  // any change writes: the removal is committed with it
    ASSERT_TRUE(r.sync(2000));
    open();
    EXPECT_EQ(1u, records_->size());
    EXPECT_TRUE(records_->get(kMac));
}

TEST_F(RecordsTest, ADatabaseThatCannotBeOpenedKeepsRecordsInMemory) {
    PhoneRecords& r = open(dir_ + "/missing/folder/state.db");
    EXPECT_FALSE(r.persistent());
    ack(r, kMac, kLease);
    EXPECT_EQ("seen", state(kMac));
    // Not a database at all.
    std::string junk = dir_ + "/junk.db";
    FILE* f = fopen(junk.c_str(), "w");
    fputs("this is not an SQLite file, it is long enough to have a header of sorts......", f);
    fclose(f);
    EXPECT_FALSE(open(junk).persistent());
}

TEST_F(RecordsTest, FetchLinesArriveOnTheSocket) {
    PhoneRecords& r = open();
    std::string path = dir_ + "/fetch.sock";
    ASSERT_TRUE(r.listen(path, static_cast<gid_t>(-1)));
    ack(r, kMac, kLease);
    render(r, kMac, 3);
    ASSERT_TRUE(r.sync(2000));
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un to{};
    to.sun_family = AF_UNIX;
    std::strncpy(to.sun_path, path.c_str(), sizeof(to.sun_path) - 1);
    // As nginx sends it (syslog:server=unix:...,nohostname), then junk.
    for (std::string line :
         {std::string("<190>Dec  8 00:00:01 nginx: phoneprov-fetch http 10.0.0.7 200 512 "
                      "/prov/yealink/001565aabbcc.cfg"),
          std::string("\x01\x02 garbage"), std::string(5000, 'x')}) {
        ASSERT_GE(sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&to),
                         sizeof(to)),
                  0);
    }
    close(fd);
    // Bounded wait for the listener thread to hand the line over.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (state(kMac) != "fetched" && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::yield();
    }
    EXPECT_EQ("fetched", state(kMac));
    EXPECT_EQ(0u, r.foreignFetches());
}

}  // namespace
