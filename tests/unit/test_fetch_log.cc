// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Fetch lines from nginx (our log_format over syslog) and tftpd-hpa (--verbose,
// through rsyslog): what the hook learns from them, and what it refuses.
#include <fetch_log.h>

#include <gtest/gtest.h>

#include <string>

using namespace phoneprov;

namespace {

struct Case {
    int line_;
    std::string datagram;
    bool ok;
    FetchLine::Protocol protocol;
    std::string address;
    std::string path;
    int status;
    int64_t bytes;
};

std::string ipText(uint32_t ip) {
    return (std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
            std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff));
}

const auto H = FetchLine::Protocol::Http;
const auto T = FetchLine::Protocol::Tftp;

TEST(FetchLog, ParsesOrRefuses) {
    const std::vector<Case> cases = {
        // nginx, syslog:server=unix:...,nohostname: "<PRI>TIME TAG: MESSAGE"
        {__LINE__, "<190>Dec  7 23:59:01 nginx: phoneprov-fetch http 10.0.0.7 200 512 /prov/yealink/001565aabbcc.cfg",
         true, H, "10.0.0.7", "/prov/yealink/001565aabbcc.cfg", 200, 512},
        {__LINE__, "phoneprov-fetch http 127.0.0.2 404 153 /prov/x.cfg\n", true, H, "127.0.0.2",
         "/prov/x.cfg", 404, 153},
        // tftpd-hpa through rsyslog's traditional forward format
        {__LINE__, "<29>Dec  7 23:59:01 host in.tftpd[812]: RRQ from 10.0.0.9 filename cisco/SEP001122334455.cnf.xml",
         true, T, "10.0.0.9", "cisco/SEP001122334455.cnf.xml", 0, -1},
        {__LINE__, "in.tftpd[1]: RRQ from 10.0.0.9 filename /y.cfg remapped to /z.cfg", true, T,
         "10.0.0.9", "/y.cfg", 0, -1},
        // refused: malformed or hostile
        {__LINE__, "", false, H, "", "", 0, 0},
        {__LINE__, "nginx: GET / HTTP/1.1", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.300 200 1 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http ::1 200 1 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 2000 1 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 20 1 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 -1 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 99999999999999999999 /prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 prov/a", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 /prov/../etc/passwd", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 /prov/a b", false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 /prov/\\x22a", false, H, "", "", 0, 0},
        {__LINE__, std::string("phoneprov-fetch http 10.0.0.1 200 1 /prov/\xc3\xa9"), false, H, "", "", 0, 0},
        {__LINE__, "RRQ from 10.0.0.9", false, T, "", "", 0, 0},
        {__LINE__, "RRQ from 10.0.0.9 filename ../x", false, T, "", "", 0, 0},
        {__LINE__, "RRQ from nobody filename x", false, T, "", "", 0, 0},
        {__LINE__, "RRQ from 10.0.0.9 file x", false, T, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 /" + std::string(2000, 'a'), false, H, "", "", 0, 0},
        {__LINE__, "phoneprov-fetch http 10.0.0.1 200 1 /a" + std::string(5000, ' '), false, H, "", "", 0, 0},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("line " + std::to_string(c.line_));
        auto got = parseFetchLine(c.datagram);
        ASSERT_EQ(c.ok, got.has_value());
        if (!c.ok) {
            continue;
        }
        EXPECT_EQ(c.protocol, got->protocol);
        EXPECT_EQ(c.address, ipText(got->address));
        EXPECT_EQ(c.path, got->path);
        EXPECT_EQ(c.status, got->status);
        EXPECT_EQ(c.bytes, got->bytes);
    }
}

TEST(FetchLog, PathsRelativeToOutputDir) {
    EXPECT_EQ("/prov/", basePathOf("http://10.0.0.1:8080/prov"));
    EXPECT_EQ("/prov/", basePathOf("http://10.0.0.1:8080/prov/"));
    EXPECT_EQ("/", basePathOf("http://10.0.0.1"));
    FetchLine h;
    h.path = "/prov/yealink/a.cfg";
    EXPECT_EQ("yealink/a.cfg", relativeFetchPath(h, "/prov/"));
    EXPECT_EQ("", relativeFetchPath(h, "/other/"));
    h.path = "/prov/";
    EXPECT_EQ("", relativeFetchPath(h, "/prov/"));
    FetchLine t;
    t.protocol = FetchLine::Protocol::Tftp;
    t.path = "/cisco/SEP1.cnf.xml";
    EXPECT_EQ("cisco/SEP1.cnf.xml", relativeFetchPath(t, "/prov/"));
    t.path = "cisco/SEP1.cnf.xml";
    EXPECT_EQ("cisco/SEP1.cnf.xml", relativeFetchPath(t, "/prov/"));
}

TEST(FetchLog, RandomBytesNeverCrash) {
    // The socket is open to anyone who can write to it: any bytes parse or are refused.
    uint32_t seed = 12345;
    for (int i = 0; i < 20000; ++i) {
        std::string s;
        size_t n = (seed = seed * 1103515245 + 12345) % 200;
        for (size_t k = 0; k < n; ++k) {
            s += static_cast<char>((seed = seed * 1103515245 + 12345) >> 16);
        }
        if (i % 3 == 0) {
            s = (i % 2 ? "phoneprov-fetch http " : "RRQ from ") + s;
        }
        auto got = parseFetchLine(s);
        if (got) {
            EXPECT_LE(got->path.size(), 1024u);
        }
    }
}

}  // namespace
