// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The site key and per-device tokens (core/token.h): HMAC-SHA-256 of the MAC, the
// key file's checks, and `phoneprov keygen`'s writer.
#include "token.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

using namespace phoneprov;
using namespace phoneprov::test;

namespace {

std::string keyBytes() {
    std::string k;
    for (int i = 0; i < 32; ++i) {
        k.push_back(static_cast<char>(i));
    }
    return (k);
}

mode_t modeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(0, ::stat(path.c_str(), &st));
    return (st.st_mode & 07777);
}

TEST(SiteKey, tokenIsHmacSha256OfTheMacTruncatedTo128Bits) {
    SiteKey key;
    key.set(keyBytes());
    // python3: hmac.new(bytes(range(32)), bytes.fromhex('001565aabbcc'),
    //                   hashlib.sha256).hexdigest()[:32]
    EXPECT_EQ("b9770a16098a580d8772954adeacf7cf",
              key.token(Mac{{0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}}));
    EXPECT_EQ(kTokenChars, key.token(Mac{{0, 0, 0, 0, 0, 1}}).size());
    EXPECT_NE(key.token(Mac{{0, 0, 0, 0, 0, 1}}), key.token(Mac{{0, 0, 0, 0, 0, 2}}));
    SiteKey other;
    other.set(keyBytes() + "x");
    EXPECT_NE(key.token(Mac{{0, 0, 0, 0, 0, 1}}), other.token(Mac{{0, 0, 0, 0, 0, 1}}));
    SiteKey none;
    EXPECT_EQ("", none.token(Mac{{0, 0, 0, 0, 0, 1}}));
}

TEST(SiteKey, loadChecksTheFile) {
    TempDir dir;
    const std::string good = dir.path() + "/site.key";
    writeFile(good, keyBytes());
    ASSERT_EQ(0, ::chmod(good.c_str(), 0600));
    SiteKey key;
    std::string error;
    ASSERT_TRUE(key.load(good, error)) << error;
    EXPECT_EQ("b9770a16098a580d8772954adeacf7cf", key.token(Mac{{0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}}));

    struct Scenario {
        int line_;
        std::string content;
        mode_t mode;
        std::string error;  ///< after "key-file '<path>': "
    };
    const Scenario scenarios[] = {
        {__LINE__, keyBytes(), 0644, "readable or writable by others than its owner (mode 644; want 0600)"},
        {__LINE__, keyBytes(), 0640, "readable or writable by others than its owner (mode 640; want 0600)"},
        {__LINE__, "short", 0600, "5 bytes, at least 16 needed (phoneprov keygen writes 32)"},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE("line " + std::to_string(s.line_));
        const std::string path = dir.path() + "/bad.key";
        writeFile(path, s.content);
        ASSERT_EQ(0, ::chmod(path.c_str(), s.mode));
        SiteKey k;
        std::string e;
        EXPECT_FALSE(k.load(path, e));
        EXPECT_FALSE(k.valid());
        EXPECT_EQ("key-file '" + path + "': " + s.error, e);
    }
    SiteKey missing;
    EXPECT_FALSE(missing.load(dir.path() + "/none.key", error));
    EXPECT_EQ("key-file '" + dir.path() + "/none.key': No such file or directory", error);
}

TEST(SiteKey, keygenWritesA0600KeyAndRefusesToOverwrite) {
    TempDir dir;
    const std::string path = dir.path() + "/site.key";
    ASSERT_EQ("", writeSiteKey(path, false));
    EXPECT_EQ(0600u, modeOf(path));
    std::string first = readFile(path);
    EXPECT_EQ(kSiteKeyBytes, first.size());
    SiteKey key;
    std::string error;
    EXPECT_TRUE(key.load(path, error)) << error;

    EXPECT_EQ("'" + path + "' exists (--force replaces it)", writeSiteKey(path, false));
    EXPECT_EQ(first, readFile(path));
    ASSERT_EQ("", writeSiteKey(path, true));
    EXPECT_EQ(0600u, modeOf(path));
    EXPECT_NE(first, readFile(path));  // 256 random bits: never the same twice
    // No temporary file left behind.
    EXPECT_EQ(std::vector<std::string>{"site.key"}, listDir(dir.path()));
}

}  // namespace
