// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Atomic, symlink-proof writes beneath the output folder.
#include "safe_write.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <functional>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <future>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::test;

namespace {

struct stat lstatOf(const std::string& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        ADD_FAILURE() << "lstat " << path;
    }
    return (st);
}

bool exists(const std::string& path) {
    struct stat st {};
    return (::lstat(path.c_str(), &st) == 0);
}

mode_t modeOf(const std::string& path) {
    return (lstatOf(path).st_mode & 07777);
}

/// @brief Sets a file's mtime far in the past, so that a rewrite shows.
void ageFile(const std::string& path) {
    struct timespec times[2];
    times[0].tv_sec = 946684800;  // 2000-01-01
    times[0].tv_nsec = 0;
    times[1] = times[0];
    ASSERT_EQ(0, ::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW));
}

class SafeWrite : public ::testing::Test {
protected:
    std::string tmpDir() const { return (root_ / OutputDir::kTempDir); }

    TempDir root_;
    TempDir other_;  ///< where symlinks point: must stay untouched
};

TEST_F(SafeWrite, writesWithModeAndNoTempLeft) {
    OutputDir out(root_.path());
    EXPECT_EQ("", out.check());
    WriteResult w = out.write("", "y000000000000.cfg", "#!version:1.0.0.1\n");
    ASSERT_EQ(WriteStatus::Written, w.status) << w.error;
    EXPECT_EQ("", w.error);
    const std::string file = root_ / "y000000000000.cfg";
    EXPECT_EQ("#!version:1.0.0.1\n", readFile(file));
    EXPECT_TRUE(S_ISREG(lstatOf(file).st_mode));
    EXPECT_EQ(0640u, modeOf(file));
    // The temp folder: private, and empty after the write.
    ASSERT_TRUE(exists(tmpDir()));
    EXPECT_TRUE(S_ISDIR(lstatOf(tmpDir()).st_mode));
    EXPECT_EQ(0700u, modeOf(tmpDir()));
    EXPECT_TRUE(listDir(tmpDir()).empty());
    // A subfolder is created (0750).
    w = out.write("yealink", "001565aabbcc.cfg", "account.1.user_name = 1001\n");
    ASSERT_EQ(WriteStatus::Written, w.status) << w.error;
    EXPECT_EQ(0750u, modeOf(root_ / "yealink"));
    EXPECT_EQ(0640u, modeOf(root_ / "yealink/001565aabbcc.cfg"));
    EXPECT_EQ("account.1.user_name = 1001\n", readFile(root_ / "yealink/001565aabbcc.cfg"));
    EXPECT_TRUE(listDir(tmpDir()).empty());
    EXPECT_EQ((std::vector<std::string>{".phoneprov-tmp", "y000000000000.cfg", "yealink"}),
              listDir(root_.path()));
}

TEST_F(SafeWrite, otherModes) {
    OutputDir out(root_.path(), 0644);
    ASSERT_EQ(WriteStatus::Written, out.write("", "a.cfg", "x").status);
    EXPECT_EQ(0644u, modeOf(root_ / "a.cfg"));
    // An empty file is a file.
    ASSERT_EQ(WriteStatus::Written, out.write("", "empty.cfg", "").status);
    EXPECT_TRUE(exists(root_ / "empty.cfg"));
    EXPECT_EQ("", readFile(root_ / "empty.cfg"));
}

TEST_F(SafeWrite, unchangedContentIsNotRewritten) {
    OutputDir out(root_.path());
    ASSERT_EQ(WriteStatus::Written, out.write("snom", "snom320.htm", "same").status);
    const std::string file = root_ / "snom/snom320.htm";
    ageFile(file);
    ino_t inode = lstatOf(file).st_ino;
    WriteResult w = out.write("snom", "snom320.htm", "same");
    EXPECT_EQ(WriteStatus::Unchanged, w.status) << w.error;
    EXPECT_EQ(946684800, lstatOf(file).st_mtime);
    EXPECT_EQ(inode, lstatOf(file).st_ino);
    // New content: rewritten.
    w = out.write("snom", "snom320.htm", "different");
    EXPECT_EQ(WriteStatus::Written, w.status);
    EXPECT_EQ("different", readFile(file));
    EXPECT_NE(946684800, lstatOf(file).st_mtime);
    // Same length, other bytes: rewritten.
    ageFile(file);
    EXPECT_EQ(WriteStatus::Written, out.write("snom", "snom320.htm", "DIFFERENT").status);
    EXPECT_EQ("DIFFERENT", readFile(file));
    // Same content, wrong mode: rewritten with the right mode.
    ASSERT_EQ(0, ::chmod(file.c_str(), 0666));
    EXPECT_EQ(WriteStatus::Written, out.write("snom", "snom320.htm", "DIFFERENT").status);
    EXPECT_EQ(0640u, modeOf(file));
    EXPECT_TRUE(listDir(tmpDir()).empty());
}

TEST_F(SafeWrite, symlinkedSubfolderIsRefused) {
    ASSERT_EQ(0, ::symlink(other_.path().c_str(), (root_ / "yealink").c_str()));
    OutputDir out(root_.path());
    WriteResult w = out.write("yealink", "001565aabbcc.cfg", "secret");
    EXPECT_EQ(WriteStatus::Failed, w.status);
    EXPECT_FALSE(w.error.empty());
    EXPECT_TRUE(listDir(other_.path()).empty());
    std::string content;
    EXPECT_FALSE(out.read("yealink", "001565aabbcc.cfg", content));
}

TEST_F(SafeWrite, symlinkedRootIsRefused) {
    const std::string link = root_ / "link";
    ASSERT_EQ(0, ::symlink(other_.path().c_str(), link.c_str()));
    OutputDir out(link);
    EXPECT_NE("", out.check());
    WriteResult w = out.write("", "a.cfg", "secret");
    EXPECT_EQ(WriteStatus::Failed, w.status);
    EXPECT_NE(std::string::npos, w.error.find(link)) << w.error;
    w = out.write("yealink", "a.cfg", "secret");
    EXPECT_EQ(WriteStatus::Failed, w.status);
    EXPECT_TRUE(listDir(other_.path()).empty());
    EXPECT_EQ(0u, out.cleanStaleTemps());
}

TEST_F(SafeWrite, symlinkedTempFolderIsRefused) {
    ASSERT_EQ(0, ::symlink(other_.path().c_str(), tmpDir().c_str()));
    OutputDir out(root_.path());
    WriteResult w = out.write("", "a.cfg", "secret");
    EXPECT_EQ(WriteStatus::Failed, w.status);
    EXPECT_TRUE(listDir(other_.path()).empty());
    EXPECT_FALSE(exists(root_ / "a.cfg"));
}

TEST_F(SafeWrite, symlinkAsTargetIsReplacedNotFollowed) {
    const std::string target = other_ / "target.txt";
    writeFile(target, "keep");
    const std::string file = root_ / "a.cfg";
    ASSERT_EQ(0, ::symlink(target.c_str(), file.c_str()));
    OutputDir out(root_.path());
    WriteResult w = out.write("", "a.cfg", "new");
    ASSERT_EQ(WriteStatus::Written, w.status) << w.error;
    EXPECT_TRUE(S_ISREG(lstatOf(file).st_mode));
    EXPECT_EQ("new", readFile(file));
    EXPECT_EQ("keep", readFile(target));
    // Same content as the symlink's target: still replaced, never "unchanged".
    const std::string file2 = root_ / "b.cfg";
    ASSERT_EQ(0, ::symlink(target.c_str(), file2.c_str()));
    w = out.write("", "b.cfg", "keep");
    EXPECT_EQ(WriteStatus::Written, w.status);
    EXPECT_TRUE(S_ISREG(lstatOf(file2).st_mode));
    EXPECT_EQ("keep", readFile(target));
}

// A FIFO (or device, socket, folder) where a file goes is refused before any open:
// opening a FIFO without a writer blocks the render worker for ever. Logged by the
// caller from the error, counted here.
TEST_F(SafeWrite, nonRegularTargetsAreRefusedWithoutOpening) {
    struct Case {
        int line_;
        const char* name;
        std::function<bool(const std::string&)> make;  ///< false: cannot here (skip)
        std::string kind;
    };
    const std::vector<Case> cases = {
        {__LINE__, "fifo.cfg", [](const std::string& p) { return (::mkfifo(p.c_str(), 0644) == 0); },
         "a FIFO"},
        {__LINE__, "sock.cfg",
         [](const std::string& p) {
             int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
             sockaddr_un a{};
             a.sun_family = AF_UNIX;
             if (fd < 0 || p.size() >= sizeof(a.sun_path)) {
                 return (false);
             }
             std::strcpy(a.sun_path, p.c_str());
             bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
             ::close(fd);
             return (ok);
         },
         "a socket"},
        {__LINE__, "dev.cfg",
         [](const std::string& p) { return (::mknod(p.c_str(), S_IFCHR | 0644, makedev(1, 3)) == 0); },
         "a device"},
        {__LINE__, "dir.cfg", [](const std::string& p) { return (::mkdir(p.c_str(), 0755) == 0); },
         "a folder"},
    };
    OutputDir out(root_.path());
    uint64_t refused = 0;
    for (const Case& c : cases) {
        SCOPED_TRACE(c.line_);
        const std::string path = root_ / c.name;
        if (!c.make(path)) {
            continue;  // mknod without CAP_MKNOD
        }
        mode_t type = lstatOf(path).st_mode & S_IFMT;
        bool readable = true;
        auto w = std::async(std::launch::async, [&] {
            WriteResult r = out.write("", c.name, "new");
            std::string text;
            readable = out.read("", c.name, text);
            return (r);
        });
        if (w.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
            ADD_FAILURE() << c.name << ": the write blocked";
            int unblock = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);  // a writer frees the reader
            w.wait();
            if (unblock >= 0) {
                ::close(unblock);
            }
        }
        WriteResult r = w.get();
        EXPECT_EQ(WriteStatus::Failed, r.status);
        EXPECT_TRUE(r.notRegular);
        EXPECT_EQ("'" + std::string(c.name) + "' is " + c.kind + ", not a regular file: left alone",
                  r.error);
        EXPECT_EQ(type, lstatOf(path).st_mode & S_IFMT) << "left as it was";
        EXPECT_EQ(++refused, out.notRegularCount());
        EXPECT_FALSE(readable);
    }
    EXPECT_GE(refused, 3u);
    // A regular file next to them is written as usual.
    EXPECT_EQ(WriteStatus::Written, out.write("", "a.cfg", "x").status);
}

TEST_F(SafeWrite, unsafeNamesAreRefused) {
    OutputDir out(root_.path());
    struct Scenario {
        int line_;
        std::string subdir;
        std::string name;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "", "../x"},
        {__LINE__, "", "a/b"},
        {__LINE__, "", ".hidden"},
        {__LINE__, "", ""},
        {__LINE__, "", ".."},
        {__LINE__, "", "."},
        {__LINE__, "", "-rf"},
        {__LINE__, "", "a b"},
        {__LINE__, "", "a\nb"},
        {__LINE__, "", std::string("a\0b", 3)},
        {__LINE__, "", std::string(129, 'a')},
        {__LINE__, "..", "x"},
        {__LINE__, "../other", "x"},
        {__LINE__, "a/b/c", "x"},  // a vendor's folder and a phone's in it: two at most
        {__LINE__, "a//b", "x"},
        {__LINE__, "a/", "x"},
        {__LINE__, "a/..", "x"},
        {__LINE__, "a/.phoneprov-tmp", "x"},
        {__LINE__, ".phoneprov-tmp", "x"},
        {__LINE__, "/etc", "x"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        WriteResult w = out.write(s.subdir, s.name, "x");
        EXPECT_EQ(WriteStatus::Failed, w.status);
        EXPECT_EQ("refused unsafe file name", w.error);
        std::string content;
        EXPECT_FALSE(out.read(s.subdir, s.name, content));
    }
    EXPECT_TRUE(listDir(root_.path()).empty());
    EXPECT_EQ(WriteStatus::Written, out.write("", std::string(128, 'a'), "x").status);
    // A phone's token folder inside its vendor's (issue 21): both made, read back.
    EXPECT_EQ(WriteStatus::Written, out.write("yealink/0123abcd", "a.cfg", "tok").status);
    std::string content;
    EXPECT_TRUE(out.read("yealink/0123abcd", "a.cfg", content));
    EXPECT_EQ("tok", content);
}

TEST(SafeFileName, table) {
    struct Scenario {
        int line_;
        std::string name;
        bool ok;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, "001565aabbcc.cfg", true},
        {__LINE__, "SEP001565AABBCC.cnf.xml", true},
        {__LINE__, "snom320-001565AABBCC.htm", true},
        {__LINE__, "a..b", true},
        {__LINE__, "0", true},
        {__LINE__, "", false},
        {__LINE__, ".cfg", false},
        {__LINE__, "_x", false},
        {__LINE__, "-x", false},
        {__LINE__, "a/b", false},
        {__LINE__, "a\\b", false},
        {__LINE__, "caf\xc3\xa9", false},
        {__LINE__, "a:b", false},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_) + ": " + s.name);
        EXPECT_EQ(s.ok, safeFileName(s.name));
    }
}

TEST_F(SafeWrite, cleanStaleTempsRemovesLeftovers) {
    OutputDir out(root_.path());
    EXPECT_EQ(0u, out.cleanStaleTemps());  // no temp folder yet
    ASSERT_EQ(WriteStatus::Written, out.write("", "a.cfg", "x").status);
    writeFile(tmpDir() + "/a.cfg.123.0.tmp", "half");
    writeFile(tmpDir() + "/b.cfg.123.1.tmp", "half");
    EXPECT_EQ(2u, out.cleanStaleTemps());
    EXPECT_TRUE(listDir(tmpDir()).empty());
    EXPECT_EQ(0u, out.cleanStaleTemps());
    // The written file is untouched.
    EXPECT_EQ("x", readFile(root_ / "a.cfg"));
}

TEST_F(SafeWrite, read) {
    OutputDir out(root_.path());
    std::string content = "previous";
    EXPECT_FALSE(out.read("", "absent.cfg", content));
    ASSERT_EQ(WriteStatus::Written, out.write("polycom", "common.cfg", "<polycomConfig/>").status);
    ASSERT_TRUE(out.read("polycom", "common.cfg", content));
    EXPECT_EQ("<polycomConfig/>", content);
    EXPECT_FALSE(out.read("yealink", "common.cfg", content));
    // A symlinked file is not read.
    writeFile(other_ / "secret", "s3cret");
    ASSERT_EQ(0, ::symlink((other_ / "secret").c_str(), (root_ / "polycom/link.cfg").c_str()));
    content.clear();
    EXPECT_FALSE(out.read("polycom", "link.cfg", content));
    EXPECT_EQ(std::string::npos, content.find("s3cret"));
}

TEST_F(SafeWrite, missingOrBadRoot) {
    OutputDir missing(root_ / "absent");
    std::string why = missing.check();
    EXPECT_NE(std::string::npos, why.find(root_ / "absent")) << why;
    EXPECT_EQ(WriteStatus::Failed, missing.write("", "a.cfg", "x").status);
    EXPECT_FALSE(exists(root_ / "absent"));
    writeFile(root_ / "file", "x");
    OutputDir notDir(root_ / "file");
    EXPECT_NE("", notDir.check());
    EXPECT_EQ(WriteStatus::Failed, notDir.write("", "a.cfg", "x").status);
    EXPECT_EQ(root_ / "file", notDir.root());
}

TEST_F(SafeWrite, concurrentWritersLeaveWholeFiles) {
    OutputDir out(root_.path());
    const std::string a(100000, 'a');
    const std::string b(100000, 'b');
    std::vector<std::thread> threads;
    std::atomic<int> failed{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 25; ++i) {
                // All write one shared file, and one file each.
                if (out.write("d", "shared.cfg", (t + i) % 2 ? a : b).status == WriteStatus::Failed ||
                    out.write("d", "own" + std::to_string(t) + ".cfg", std::to_string(i)).status ==
                        WriteStatus::Failed) {
                    ++failed;
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(0, failed.load());
    std::string shared = readFile(root_ / "d/shared.cfg");
    EXPECT_TRUE(shared == a || shared == b);
    for (int t = 0; t < 4; ++t) {
        EXPECT_EQ("24", readFile(root_ / ("d/own" + std::to_string(t) + ".cfg")));
    }
    EXPECT_TRUE(listDir(tmpDir()).empty());
}

}  // namespace

// ---- Group commit: OutputDir::Batch ----

namespace {

class SafeWriteBatch : public SafeWrite,
                       public ::testing::WithParamInterface<OutputDir::BatchSync> {};

std::vector<std::string> tempsIn(const std::string& dir) {
    return (exists(dir) ? listDir(dir) : std::vector<std::string>{});
}

}  // namespace

TEST_P(SafeWriteBatch, filesAppearOnlyAtCommit) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(WriteStatus::Written, out.write("yealink", "old.cfg", "old").status);
    OutputDir::Batch b = out.begin();
    size_t a = b.stage("", "y000000000000.cfg", "common");
    size_t o = b.stage("yealink", "old.cfg", "new");
    size_t c = b.stage("snom", "000413aabbcc.xml", "<x/>");
    EXPECT_EQ(3u, b.pendingCount());
    // Staged: nothing visible, the old file as it was, results not final.
    EXPECT_FALSE(exists(root_ / "y000000000000.cfg"));
    EXPECT_FALSE(exists(root_ / "snom/000413aabbcc.xml"));
    EXPECT_EQ("old", readFile(root_ / "yealink/old.cfg"));
    EXPECT_EQ(3u, tempsIn(tmpDir()).size());
    EXPECT_EQ(WriteStatus::Failed, b.result(a).status);
    b.commit();
    for (size_t i : {a, o, c}) {
        EXPECT_EQ(WriteStatus::Written, b.result(i).status) << i << ": " << b.result(i).error;
    }
    EXPECT_EQ("common", readFile(root_ / "y000000000000.cfg"));
    EXPECT_EQ("new", readFile(root_ / "yealink/old.cfg"));
    EXPECT_EQ("<x/>", readFile(root_ / "snom/000413aabbcc.xml"));
    EXPECT_EQ(0640u, modeOf(root_ / "snom/000413aabbcc.xml"));
    EXPECT_EQ(0750u, modeOf(root_ / "snom"));
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
    EXPECT_EQ(0u, b.pendingCount());
}

TEST_P(SafeWriteBatch, oneFailureKeepsItsOldFileAndNotTheOthers) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(WriteStatus::Written, out.write("", "b.cfg", "old b").status);
    ASSERT_EQ(WriteStatus::Written, out.write("", "c.cfg", "old c").status);
    OutputDir::Batch b = out.begin();
    size_t ia = b.stage("", "a.cfg", "new a");
    size_t ib = b.stage("", "b.cfg", "new b");
    size_t ic = b.stage("", "c.cfg", "new c");
    size_t id = b.stage("", "d.cfg", "new d");
    // b's temp vanishes before the commit (its sync fails); d's target becomes a
    // non-empty folder (its rename fails).
    std::vector<std::string> temps = tempsIn(tmpDir());
    ASSERT_EQ(4u, temps.size());
    for (const std::string& t : temps) {
        if (t.rfind("b.cfg.", 0) == 0) {
            ASSERT_EQ(0, ::unlink((tmpDir() + "/" + t).c_str()));
        }
    }
    ASSERT_EQ(0, ::mkdir((root_ / "d.cfg").c_str(), 0750));
    writeFile(root_ / "d.cfg/keep", "k");
    b.commit();
    // PerFile: b's sync fails; SyncFs: b's rename does.
    EXPECT_EQ(WriteStatus::Failed, b.result(ib).status);
    EXPECT_FALSE(b.result(ib).error.empty());
    EXPECT_EQ("old b", readFile(root_ / "b.cfg"));
    EXPECT_EQ(WriteStatus::Failed, b.result(id).status);
    EXPECT_EQ("k", readFile(root_ / "d.cfg/keep"));
    EXPECT_EQ(WriteStatus::Written, b.result(ia).status) << b.result(ia).error;
    EXPECT_EQ(WriteStatus::Written, b.result(ic).status) << b.result(ic).error;
    EXPECT_EQ("new a", readFile(root_ / "a.cfg"));
    EXPECT_EQ("new c", readFile(root_ / "c.cfg"));
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
}

TEST_P(SafeWriteBatch, unchangedAndRepeatedPaths) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(WriteStatus::Written, out.write("", "same.cfg", "same").status);
    const std::string file = root_ / "same.cfg";
    ageFile(file);
    ino_t inode = lstatOf(file).st_ino;
    OutputDir::Batch b = out.begin();
    size_t s = b.stage("", "same.cfg", "same");
    EXPECT_EQ(WriteStatus::Unchanged, b.result(s).status);  // decided at once
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
    // A common file staged by many phones: written once, then Unchanged.
    size_t c1 = b.stage("", "common.cfg", "v1");
    size_t c2 = b.stage("", "common.cfg", "v1");
    // New content for a path staged earlier: the newer wins.
    size_t n1 = b.stage("", "new.cfg", "first");
    size_t n2 = b.stage("", "new.cfg", "second");
    EXPECT_EQ(2u, b.pendingCount());
    EXPECT_EQ(2u, tempsIn(tmpDir()).size());
    b.commit();
    EXPECT_EQ(WriteStatus::Unchanged, b.result(s).status);
    EXPECT_EQ(946684800, lstatOf(file).st_mtime);
    EXPECT_EQ(inode, lstatOf(file).st_ino);
    EXPECT_EQ(WriteStatus::Written, b.result(c1).status);
    EXPECT_EQ(WriteStatus::Unchanged, b.result(c2).status);
    EXPECT_EQ("v1", readFile(root_ / "common.cfg"));
    EXPECT_EQ(WriteStatus::Written, b.result(n1).status);
    EXPECT_EQ(WriteStatus::Written, b.result(n2).status);
    EXPECT_EQ("second", readFile(root_ / "new.cfg"));
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
}

TEST_P(SafeWriteBatch, uncommittedBatchLeavesNothing) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(WriteStatus::Written, out.write("", "kept.cfg", "old").status);
    {
        OutputDir::Batch b = out.begin();
        b.stage("", "kept.cfg", "new");
        b.stage("", "never.cfg", "x");
        EXPECT_EQ(2u, tempsIn(tmpDir()).size());
    }  // dropped without commit
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
    EXPECT_EQ("old", readFile(root_ / "kept.cfg"));
    EXPECT_FALSE(exists(root_ / "never.cfg"));
}

TEST_P(SafeWriteBatch, nothingOutsideOutputDir) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(0, ::symlink(other_.path().c_str(), (root_ / "yealink").c_str()));
    ASSERT_EQ(0, ::mkdir((root_ / "snom").c_str(), 0750));
    writeFile(other_ / "target.xml", "outside");
    ASSERT_EQ(0, ::symlink((other_ / "target.xml").c_str(), (root_ / "snom/a.xml").c_str()));
    OutputDir::Batch b = out.begin();
    size_t viaLink = b.stage("yealink", "001565aabbcc.cfg", "secret");
    size_t badName = b.stage("..", "x.cfg", "secret");
    size_t badFile = b.stage("", "../x.cfg", "secret");
    size_t overLink = b.stage("snom", "a.xml", "mine");
    size_t fine = b.stage("", "ok.cfg", "ok");
    EXPECT_EQ(WriteStatus::Failed, b.result(viaLink).status);
    EXPECT_EQ(WriteStatus::Failed, b.result(badName).status);
    EXPECT_EQ(WriteStatus::Failed, b.result(badFile).status);
    b.commit();
    EXPECT_EQ(WriteStatus::Failed, b.result(viaLink).status);
    // A symlink as the target is replaced, never followed.
    EXPECT_EQ(WriteStatus::Written, b.result(overLink).status) << b.result(overLink).error;
    EXPECT_TRUE(S_ISREG(lstatOf(root_ / "snom/a.xml").st_mode));
    EXPECT_EQ("outside", readFile(other_ / "target.xml"));
    EXPECT_EQ(WriteStatus::Written, b.result(fine).status);
    EXPECT_EQ((std::vector<std::string>{"target.xml"}), listDir(other_.path()));
    EXPECT_FALSE(exists(root_.path() + "/../x.cfg"));
    EXPECT_TRUE(tempsIn(tmpDir()).empty());
}

TEST_P(SafeWriteBatch, symlinkedRootFailsEveryFile) {
    const std::string link = root_ / "link";
    ASSERT_EQ(0, ::symlink(other_.path().c_str(), link.c_str()));
    OutputDir out(link);
    out.setBatchSync(GetParam());
    OutputDir::Batch b = out.begin();
    size_t i = b.stage("", "a.cfg", "secret");
    b.commit();
    EXPECT_EQ(WriteStatus::Failed, b.result(i).status);
    EXPECT_NE(std::string::npos, b.result(i).error.find(link));
    EXPECT_TRUE(listDir(other_.path()).empty());
}

// A file's stamp (what a later render checks with one fstatat instead of reading
// the file): it holds for the file as written or found, and no longer once the
// file is replaced, rewritten, chmod'ed, deleted or swapped for a symlink.
TEST_P(SafeWriteBatch, stampsNameTheFileAsOnDisk) {
    OutputDir out(root_.path());
    out.setBatchSync(GetParam());
    ASSERT_EQ(WriteStatus::Written, out.write("", "found.cfg", "found").status);
    struct Case {
        const char* name;
        std::function<void(const std::string& path)> change;  ///< null: left alone
    };
    const std::vector<Case> cases = {
        {"left alone", nullptr},
        {"replaced by rename", [](const std::string& p) {
             writeFile(p + ".new", "other");
             ASSERT_EQ(0, ::rename((p + ".new").c_str(), p.c_str()));
         }},
        {"rewritten in place", [](const std::string& p) { writeFile(p, "changed"); }},
        {"same size, other time", [](const std::string& p) { ageFile(p); }},
        {"chmod", [](const std::string& p) { ASSERT_EQ(0, ::chmod(p.c_str(), 0644)); }},
        {"deleted", [](const std::string& p) { ASSERT_EQ(0, ::unlink(p.c_str())); }},
        {"symlink", [this](const std::string& p) {
             writeFile(other_ / "t", "found");
             ASSERT_EQ(0, ::unlink(p.c_str()));
             ASSERT_EQ(0, ::symlink((other_ / "t").c_str(), p.c_str()));
         }},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        for (const char* file : {"written.cfg", "found.cfg"}) {
            SCOPED_TRACE(file);
            const std::string path = root_ / file;
            if (std::string(file) == "written.cfg") {
                (void)::unlink(path.c_str());
            } else {
                (void)::unlink(path.c_str());
                ASSERT_EQ(WriteStatus::Written, out.write("", file, "found").status);
            }
            OutputDir::Batch b = out.begin();
            size_t i = b.stage("", file, "found");
            b.commit();
            WriteResult w = b.result(i);
            ASSERT_NE(WriteStatus::Failed, w.status) << w.error;
            EXPECT_EQ(std::string(file) == "written.cfg" ? WriteStatus::Written
                                                          : WriteStatus::Unchanged,
                      w.status);
            ASSERT_TRUE(w.stamped);
            OutputDir::Batch later = out.begin();
            EXPECT_TRUE(later.unchangedSince("", file, w.stamp));
            if (c.change) {
                c.change(path);
                EXPECT_FALSE(later.unchangedSince("", file, w.stamp));
            }
            (void)::unlink(path.c_str());
        }
    }
    // Nothing is stamped for a failure, and unsafe names are never looked up.
    OutputDir::Batch b = out.begin();
    size_t bad = b.stage("..", "x.cfg", "x");
    b.commit();
    EXPECT_FALSE(b.result(bad).stamped);
    EXPECT_FALSE(b.unchangedSince("..", "x.cfg", FileStamp{}));
    EXPECT_FALSE(b.unchangedSince("", "../x.cfg", FileStamp{}));
}

INSTANTIATE_TEST_SUITE_P(Sync, SafeWriteBatch,
                         ::testing::Values(OutputDir::BatchSync::PerFile,
                                           OutputDir::BatchSync::SyncFs),
                         [](const ::testing::TestParamInfo<OutputDir::BatchSync>& p) {
                             return (p.param == OutputDir::BatchSync::SyncFs ? "syncfs"
                                                                              : "perfile");
                         });
