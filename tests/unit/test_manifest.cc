// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The manifest of written files (issue 21, point 5): what the current plan no
// longer produces is found from the manifest alone, and only those files go.
#include <manifest.h>

#include "test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace phoneprov {
namespace {

using test::TempDir;

constexpr uint64_t kA = 0x001565aabbccULL;  // reserved, Yealink
constexpr uint64_t kB = 0x000b82010203ULL;  // reserved, Grandstream
const std::string kTokA(32, 'a');
const std::string kTokA2(32, 'f');

/// The manifest every scenario starts from.
Manifest sample() {
    Manifest m;
    m.add(0, {"yealink/y000000000066.cfg", false, false});
    m.add(0, {"grandstream/common.xml", false, false});
    m.add(0, {"gone-vendor/common.cfg", false, false});
    m.add(kA, {"yealink/" + kTokA + "/001565aabbcc.cfg", true, true});
    m.add(kA, {"yealink/" + kTokA + "/y000000000066.cfg", true, true});
    m.add(kA, {"yealink/001565aabbcc.cfg", true, false});  // before tokens: at its MAC name
    m.add(kB, {"grandstream/cfg000b82010203.xml", false, false});  // provision-unknown
    return (m);
}

TEST(Manifest, StaleForPlan) {
    const std::set<std::string> dirs = {"yealink", "grandstream"};
    Expected unknown;
    Expected noData;
    noData.kind = Expected::Kind::NoData;
    Expected yealinkTok;  // reserved, vendor known, token folder kTokA
    yealinkTok.kind = Expected::Kind::Data;
    yealinkTok.token = kTokA;
    yealinkTok.vendorKnown = true;
    yealinkTok.vendorDir = "yealink";
    yealinkTok.folder = true;
    Expected newKey = yealinkTok;
    newKey.token = kTokA2;
    Expected otherVendor = yealinkTok;  // its reservation now pins Grandstream
    otherVendor.vendorDir = "grandstream";
    Expected tokensOff = yealinkTok;
    tokensOff.token = "";
    tokensOff.folder = false;
    Expected vendorUnknown;  // reserved, vendor from option 60 at its next packet
    vendorUnknown.kind = Expected::Kind::Data;
    vendorUnknown.token = kTokA;
    struct Scenario {
        int line_;
        const char* what;
        Expected a;
        Expected b;
        std::vector<std::pair<uint64_t, std::string>> stale;
    };
    const std::string tokDir = "yealink/" + kTokA + "/";
    const std::vector<Scenario> scenarios = {
        {__LINE__, "nothing known: only the removed vendor's shared file", unknown, unknown,
         {{0, "gone-vendor/common.cfg"}}},
        {__LINE__, "A's reservation removed: its files with data and its token folder",
         noData, unknown,
         {{0, "gone-vendor/common.cfg"},
          {kA, "yealink/001565aabbcc.cfg"},
          {kA, tokDir + "001565aabbcc.cfg"},
          {kA, tokDir + "y000000000066.cfg"}}},
        {__LINE__, "A current: only its old MAC-named file with data", yealinkTok, noData,
         {{0, "gone-vendor/common.cfg"}, {kA, "yealink/001565aabbcc.cfg"}}},
        {__LINE__, "new site key: A's old token folder", newKey, unknown,
         {{0, "gone-vendor/common.cfg"},
          {kA, "yealink/001565aabbcc.cfg"},
          {kA, tokDir + "001565aabbcc.cfg"},
          {kA, tokDir + "y000000000066.cfg"}}},
        {__LINE__, "A's vendor changed: every Yealink file of A", otherVendor, unknown,
         {{0, "gone-vendor/common.cfg"},
          {kA, "yealink/001565aabbcc.cfg"},
          {kA, tokDir + "001565aabbcc.cfg"},
          {kA, tokDir + "y000000000066.cfg"}}},
        {__LINE__, "device-tokens off: the token folder, not the MAC-named file", tokensOff,
         unknown,
         {{0, "gone-vendor/common.cfg"},
          {kA, tokDir + "001565aabbcc.cfg"},
          {kA, tokDir + "y000000000066.cfg"}}},
        {__LINE__, "vendor unknown, token unchanged: kept until its next render",
         vendorUnknown, unknown, {{0, "gone-vendor/common.cfg"}}},
    };
    const Manifest m = sample();
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(testing::Message() << "line " << s.line_ << ": " << s.what);
        auto expect = [&s](uint64_t mac) {
            EXPECT_NE(mac, 0u);
            return (mac == kA ? s.a : s.b);
        };
        auto stale = m.staleForPlan(expect, dirs);
        auto want = s.stale;
        std::sort(want.begin(), want.end());
        EXPECT_EQ(stale, want);
    }
}

TEST(Manifest, DisabledVendorDropsEverythingInItsFolder) {
    Manifest m = sample();
    auto stale = m.staleForPlan([](uint64_t) { return (Expected()); }, {"yealink"});
    std::vector<std::pair<uint64_t, std::string>> want = {
        {0, "gone-vendor/common.cfg"},
        {0, "grandstream/common.xml"},
        {kB, "grandstream/cfg000b82010203.xml"}};
    EXPECT_EQ(stale, want);
}

TEST(Manifest, SupersededByRender) {
    struct Scenario {
        int line_;
        uint64_t mac;
        std::vector<std::string> produced;
        std::vector<std::string> superseded;
    };
    const std::string tok = "yealink/" + kTokA + "/";
    const std::vector<Scenario> scenarios = {
        {__LINE__, kA,
         {"yealink/y000000000066.cfg", tok + "001565aabbcc.cfg", tok + "y000000000066.cfg"},
         {"yealink/001565aabbcc.cfg"}},
        {__LINE__, kA, {"yealink/y000000000066.cfg"},  // no data any more
         {tok + "001565aabbcc.cfg", tok + "y000000000066.cfg", "yealink/001565aabbcc.cfg"}},
        {__LINE__, kB, {"grandstream/cfg000b82010203.xml"}, {}},
        {__LINE__, 0x0000000000ffULL, {}, {}},  // not in the manifest
        // The shared files are never a phone's to remove.
        {__LINE__, kB, {}, {"grandstream/cfg000b82010203.xml"}},
    };
    const Manifest m = sample();
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(testing::Message() << "line " << s.line_);
        auto got = m.supersededBy(s.mac, s.produced);
        std::sort(got.begin(), got.end());
        auto want = s.superseded;
        std::sort(want.begin(), want.end());
        EXPECT_EQ(got, want);
    }
}

TEST(Manifest, TextRoundTripAndRefusedLines) {
    const Manifest m = sample();
    Manifest back;
    EXPECT_EQ(back.apply(m.snapshot()), 0u);
    EXPECT_EQ(back.snapshot(), m.snapshot());
    EXPECT_EQ(back.size(), 7u);
    struct Scenario {
        int line_;
        std::string text;
        size_t refused;
        size_t size;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "+ 001565aabbcc d yealink/a.cfg\n", 0, 8},
        {__LINE__, "- 001565aabbcc - yealink/001565aabbcc.cfg\n", 0, 6},
        {__LINE__, "+ 001565aabbcc d ../etc/passwd\n", 1, 7},
        {__LINE__, "+ 001565aabbcc d /etc/passwd\n", 1, 7},
        {__LINE__, "+ 001565aabbcc d a/b/c/d.cfg\n", 1, 7},
        {__LINE__, "+ 001565aabbcc t top.cfg\n", 1, 7},  // a token folder needs a folder
        {__LINE__, "+ 00156zaabbcc d yealink/a.cfg\n", 1, 7},
        {__LINE__, "garbage\n\n+\n", 2, 7},
        {__LINE__, "+ 001565aabbcc d yealink/a.cfg", 0, 8},  // last line without newline
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(testing::Message() << "line " << s.line_);
        Manifest c = sample();
        EXPECT_EQ(c.apply(s.text), s.refused);
        EXPECT_EQ(c.size(), s.size);
    }
}

TEST(Manifest, AddIsIdempotentAndSharedPathsAreIndexed) {
    Manifest m;
    EXPECT_TRUE(m.add(0, {"a/common.cfg", false, false}));
    EXPECT_FALSE(m.add(0, {"a/common.cfg", false, false}));
    EXPECT_TRUE(m.add(kA, {"a/x.cfg", true, false}));
    EXPECT_FALSE(m.add(kA, {"a/x.cfg", true, false}));
    EXPECT_TRUE(m.add(kA, {"a/x.cfg", false, false}));  // flags changed: a new line
    EXPECT_EQ(m.size(), 2u);
    EXPECT_TRUE(m.erase(0, "a/common.cfg"));
    EXPECT_TRUE(m.add(0, {"a/common.cfg", false, false}));
    EXPECT_FALSE(m.erase(kB, "a/x.cfg"));
}

TEST(ManifestStore, RemovesOnlyRegularFilesBeneathTheRootWithoutFollowingLinks) {
    TempDir root;
    TempDir outside;
    test::writeFile(root / "yealink/tok/a.cfg", "x");
    test::writeFile(outside / "victim.cfg", "keep");
    std::filesystem::create_symlink(outside.path(), root / "linked");
    std::filesystem::create_symlink(outside / "victim.cfg", root / "yealink/link.cfg");
    ::mkfifo((root / "yealink/fifo.cfg").c_str(), 0600);
    int fd = ::open(root.path().c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(ManifestStore::removeFile(fd, "yealink/tok/a.cfg"));
    EXPECT_FALSE(std::filesystem::exists(root / "yealink/tok/a.cfg"));
    EXPECT_TRUE(ManifestStore::removeFile(fd, "yealink/tok/a.cfg"));  // gone already
    EXPECT_FALSE(ManifestStore::removeFile(fd, "linked/victim.cfg"));
    EXPECT_FALSE(ManifestStore::removeFile(fd, "yealink/link.cfg"));  // a symlink: not ours
    EXPECT_FALSE(ManifestStore::removeFile(fd, "yealink/fifo.cfg"));
    EXPECT_FALSE(ManifestStore::removeFile(fd, "../" + std::filesystem::path(outside.path())
                                                              .filename()
                                                              .string() +
                                                   "/victim.cfg"));
    EXPECT_EQ(test::readFile(outside / "victim.cfg"), "keep");
    // An empty token folder goes; one holding an admin's file stays.
    test::writeFile(root / "yealink/tok2/admin.txt", "mine");
    ManifestStore::removeEmptyFolder(fd, "yealink/tok");
    ManifestStore::removeEmptyFolder(fd, "yealink/tok2");
    ManifestStore::removeEmptyFolder(fd, "linked");
    EXPECT_FALSE(std::filesystem::exists(root / "yealink/tok"));
    EXPECT_TRUE(std::filesystem::exists(root / "yealink/tok2/admin.txt"));
    EXPECT_TRUE(std::filesystem::is_symlink(root / "linked"));
    ::close(fd);
}

TEST(ManifestStore, PersistsThroughJournalAndSnapshotAndForgetsVanishedFiles) {
    TempDir root;
    test::writeFile(root / "yealink/a.cfg", "a");
    test::writeFile(root / "yealink/b.cfg", "b");
    {
        ManifestStore store(root.path());
        Manifest m;
        size_t refused = 0;
        ASSERT_EQ(store.load(m, refused), "");
        EXPECT_EQ(m.size(), 0u);
        std::string lines = Manifest::line(true, kA, {"yealink/a.cfg", true, false}) + "\n" +
                            Manifest::line(true, kA, {"yealink/b.cfg", true, false}) + "\n" +
                            Manifest::line(true, kB, {"yealink/never-written.cfg", true, false}) +
                            "\n";
        ASSERT_EQ(store.append(lines), "");
    }
    struct stat st;
    ASSERT_EQ(::stat((root / ".phoneprov-state").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    ASSERT_EQ(::stat((root / ".phoneprov-state/manifest.log").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ManifestStore store(root.path());
    Manifest m;
    size_t refused = 0;
    ASSERT_EQ(store.load(m, refused), "");
    EXPECT_EQ(refused, 0u);
    EXPECT_EQ(m.size(), 2u);  // the line of a file never written is forgotten
    EXPECT_EQ(test::readFile(root / ".phoneprov-state/manifest.log"), "");
    EXPECT_EQ(test::readFile(root / ".phoneprov-state/manifest"), m.snapshot());
}

}  // namespace
}  // namespace phoneprov
