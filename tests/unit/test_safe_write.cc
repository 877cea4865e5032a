// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Atomic, symlink-proof writes beneath the output folder.
#include "safe_write.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
        {__LINE__, "a/b", "x"},
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
