// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The SIP parser and builders of SIP PnP and re-sync (core/sip.h), with the
// requests real phones send and what an attacker can send instead.
#include "sip.h"

#include "test_util.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

using namespace phoneprov;
using namespace phoneprov::sip;
using namespace phoneprov::test;

namespace {

/// @brief "\n" -> "\r\n" (messages are written with "\n" for legibility).
std::string crlf(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '\n') {
            out += "\r\n";
        } else {
            out.push_back(c);
        }
    }
    return (out);
}

// As in Grandstream's documents (the GXP1628 at boot).
const std::string kGrandstream = crlf(
    "SUBSCRIBE sip:MAC%3A000B82273B89@224.0.1.75 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1403958367;rport\n"
    "From: <sip:MAC%3A000B82273B89@224.0.1.75>;tag=1398424896\n"
    "To: <sip:MAC%3A000B82273B89@224.0.1.75>\n"
    "Call-ID: 1405451239-5060-1@192.168.1.100\n"
    "CSeq: 1 SUBSCRIBE\n"
    "Contact: <sip:192.168.1.100:5060>\n"
    "Max-Forwards: 70\n"
    "User-Agent: Grandstream GXP1628\n"
    "Expires: 0\n"
    "Event: ua-profile;profile-type=\"device\";vendor=\"Grandstream\";model=\"GXP1628\";version=\"\"\n"
    "Accept: application/url\n"
    "Content-Length: 0\n"
    "\n");

// Yealink: lower-case %3a, a MAC of the 80:5E:0C range, User-Agent with firmware.
const std::string kYealink = crlf(
    "SUBSCRIBE sip:MAC%3a805e0c4d796d@224.0.1.75 SIP/2.0\n"
    "Via: SIP/2.0/UDP 10.2.1.48:5060;branch=z9hG4bK1458474622;rport\n"
    "From: <sip:MAC%3a805e0c4d796d@224.0.1.75>;tag=1178379445\n"
    "To: <sip:MAC%3a805e0c4d796d@224.0.1.75>\n"
    "Call-ID: 1453493297@10.2.1.48\n"
    "CSeq: 1 SUBSCRIBE\n"
    "Contact: <sip:10.2.1.48:5060>\n"
    "Accept: application/url\n"
    "Max-Forwards: 70\n"
    "User-Agent: Yealink SIP-T46S 66.85.0.5\n"
    "Expires: 0\n"
    "Event: ua-profile;profile-type=\"device\";vendor=\"Yealink\";model=\"SIP-T46S\";"
    "version=\"66.85.0.5\"\n"
    "Content-Length: 0\n"
    "\n");

// Snom: no branch (RFC 2543 style), rport, model with the vendor in front.
const std::string kSnom = crlf(
    "SUBSCRIBE sip:MAC%3a000413939050@224.0.1.75 SIP/2.0\n"
    "Via: SIP/2.0/UDP 192.168.0.3:1036;rport\n"
    "From: <sip:MAC%3a000413939050@224.0.1.75>;tag=fkqb3c1v0l\n"
    "To: <sip:MAC%3a000413939050@224.0.1.75>\n"
    "Call-ID: 3c2657bbc2ab-jeaa4jrnpm8v\n"
    "CSeq: 1 SUBSCRIBE\n"
    "Max-Forwards: 70\n"
    "Contact: <sip:192.168.0.3:1036>\n"
    "Event: ua-profile;profile-type=\"device\";vendor=\"snom\";model=\"snom360\";version=\"7.1.19\"\n"
    "Expires: 0\n"
    "Content-Length: 0\n"
    "\n");

// The same request again, written as a parser's nightmare: compact names in any
// case, folded lines, two Vias on one line and a third on its own, LWS everywhere.
const std::string kCompact = crlf(
    "SUBSCRIBE sip:mac%3A00-0b-82-27-3b-89@224.0.1.75;transport=udp SIP/2.0\n"
    "v: SIP / 2.0 / UDP 192.168.1.100:5062 ;branch=z9hG4bKabc ; rport,\n"
    "  SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy\n"
    "VIA: SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKv6\n"
    "f: \"GXP \\\"1628\\\"\" <sip:MAC%3A000B82273B89@224.0.1.75>\n"
    " ;tag=1398424896\n"
    "t:<sip:MAC%3A000B82273B89@224.0.1.75>\n"
    "i: abc@host\n"
    "cseq: 7 SUBSCRIBE\n"
    "m: <sip:192.168.1.100:5062>\n"
    "o: UA-Profile ; Profile-Type = device ;\n"
    "\tVENDOR=GrandStream;MODEL=\"gxp1628\"\n"
    "user-agent: Grandstream GXP1628\n"
    "ACCEPT: text/plain, application/url;q=0.5\n"
    "l: 0\n"
    "\n");

Message parsed(const std::string& text) {
    Message m;
    std::string error;
    if (!parse(text, m, error)) {
        throw std::runtime_error("test message does not parse: " + error);
    }
    return (m);
}

}  // namespace

TEST(Parse, startLinesAndFraming) {
    struct Scenario {
        int line_;
        std::string text;
        bool ok;
        std::string what;   ///< method, status, or a piece of the error
        std::string body;
    };
    const std::string h = "Via: SIP/2.0/UDP a;branch=z9hG4bK1\r\n";
    std::vector<Scenario> scenarios = {
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\n" + h + "\r\n", true, "OPTIONS", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\n" + h + "Content-Length: 4\r\n\r\nabcdEXTRA", true,
         "NOTIFY", "abcd"},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\n" + h + "\r\nno length: the rest", true, "NOTIFY",
         "no length: the rest"},
        {__LINE__, "SIP/2.0 200 OK\r\n" + h + "l: 0\r\n\r\n", true, "200", ""},
        {__LINE__, "sip/2.0 481 Call/Transaction Does Not Exist\r\n\r\n", true, "481", ""},
        {__LINE__, "SIP/2.0 200\r\n\r\n", true, "200", ""},
        {__LINE__, "\r\n\r\nOPTIONS sip:a SIP/2.0\r\n\r\n", true, "OPTIONS", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\n" + std::string("Via: x\n\n"), true, "OPTIONS", ""},
        {__LINE__, "", false, "empty", ""},
        {__LINE__, "\r\n\r\n", false, "keep-alive", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\n" + h, false, "blank line", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0", false, "no start line", ""},
        {__LINE__, "OPTIONS sip:a SIP/3.0\r\n\r\n", false, "request line", ""},
        {__LINE__, "OPTIONS  sip:a SIP/2.0\r\n\r\n", false, "request line", ""},
        {__LINE__, "OPT<IONS sip:a SIP/2.0\r\n\r\n", false, "request line", ""},
        {__LINE__, "SIP/2.0 99 Low\r\n\r\n", false, "status", ""},
        {__LINE__, "SIP/2.0 700 High\r\n\r\n", false, "status", ""},
        {__LINE__, "SIP/2.0 2000 OK\r\n\r\n", false, "status", ""},
        {__LINE__, "HELLO\r\n\r\n", false, "start line", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\nNo colon here\r\n\r\n", false, "':'", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\nBad Name: x\r\n\r\n", false, "header name", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\n: x\r\n\r\n", false, "header name", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\n folded: first\r\n\r\n", false, "continuation", ""},
        {__LINE__, "OPTIONS sip:a SIP/2.0\r\nTo: a\rInjected: b\r\n\r\n", false, "control", ""},
        {__LINE__, std::string("OPTIONS sip:a SIP/2.0\r\nTo: a") + '\0' + "b\r\n\r\n", false,
         "control", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\nContent-Length: 5\r\n\r\nabc", false, "truncated", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n", false, "Content-Length", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\nContent-Length: -1\r\n\r\n", false, "Content-Length", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\nab", false,
         "Content-Length", ""},
        {__LINE__, "NOTIFY sip:a SIP/2.0\r\nContent-Length: 99999999999\r\n\r\n", false,
         "Content-Length", ""},
    };
    std::string many = "OPTIONS sip:a SIP/2.0\r\n";
    for (size_t i = 0; i <= kMaxHeaders; ++i) {
        many += "X-H: " + std::to_string(i) + "\r\n";
    }
    scenarios.push_back({__LINE__, many + "\r\n", false, "more than", ""});
    scenarios.push_back({__LINE__, "OPTIONS sip:a SIP/2.0\r\n\r\n" + std::string(kMaxMessage, 'x'),
                         false, "larger", ""});
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Message m;
        std::string error;
        bool ok = parse(s.text, m, error);
        ASSERT_EQ(s.ok, ok) << error;
        if (!ok) {
            EXPECT_NE(std::string::npos, error.find(s.what)) << error;
            continue;
        }
        EXPECT_EQ(s.what, m.request ? m.method : std::to_string(m.status));
        EXPECT_EQ(s.body, m.body);
    }
}

TEST(Parse, headersCompactFormsCaseAndFolding) {
    Message m = parsed(kCompact);
    EXPECT_EQ("sip:mac%3A00-0b-82-27-3b-89@224.0.1.75;transport=udp", m.uri);
    struct Scenario {
        int line_;
        std::string name;   ///< as asked
        std::string value;  ///< first value; "-" for none
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "Call-ID", "abc@host"},
        {__LINE__, "call-id", "abc@host"},
        {__LINE__, "i", "abc@host"},
        {__LINE__, "I", "abc@host"},
        {__LINE__, "CSeq", "7 SUBSCRIBE"},
        {__LINE__, "From", "\"GXP \\\"1628\\\"\" <sip:MAC%3A000B82273B89@224.0.1.75> ;tag=1398424896"},
        {__LINE__, "t", "<sip:MAC%3A000B82273B89@224.0.1.75>"},
        {__LINE__, "Event", "UA-Profile ; Profile-Type = device ; VENDOR=GrandStream;MODEL=\"gxp1628\""},
        {__LINE__, "User-Agent", "Grandstream GXP1628"},
        {__LINE__, "Content-Length", "0"},
        {__LINE__, "Subject", "-"},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        const std::string* v = m.get(s.name);
        EXPECT_EQ(s.value, v ? *v : "-");
    }
    // Three Vias, in order, from two fields (one of them folded).
    std::vector<std::string> vias = m.list("v");
    ASSERT_EQ(3u, vias.size());
    EXPECT_EQ("SIP / 2.0 / UDP 192.168.1.100:5062 ;branch=z9hG4bKabc ; rport", vias[0]);
    EXPECT_EQ("SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKproxy", vias[1]);
    EXPECT_EQ("SIP/2.0/TCP [2001:db8::1]:5070;branch=z9hG4bKv6", vias[2]);
    EXPECT_EQ((std::vector<std::string>{"text/plain", "application/url;q=0.5"}), m.list("Accept"));
    EXPECT_EQ("Via", m.headers[0].name);
    EXPECT_EQ("Via", m.headers[1].name);
    EXPECT_EQ("CSeq", canonicalName("CSEQ"));
    EXPECT_EQ("X-Custom", canonicalName("X-Custom"));
}

TEST(Parse, splitListRespectsQuotesAndBrackets) {
    struct Scenario {
        int line_;
        std::string value;
        std::vector<std::string> elements;
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "a, b ,c", {"a", "b", "c"}},
        {__LINE__, "\"Doe, John\" <sip:j@x>, <sip:k@y;a=1,2>", {"\"Doe, John\" <sip:j@x>", "<sip:k@y;a=1,2>"}},
        {__LINE__, "\"esc \\\", still\" <sip:a>", {"\"esc \\\", still\" <sip:a>"}},
        {__LINE__, ",,a,,", {"a"}},
        {__LINE__, "", {}},
        {__LINE__, "\"unterminated, quote", {"\"unterminated, quote"}},
        {__LINE__, "trailing backslash \"\\", {"trailing backslash \"\\"}},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        EXPECT_EQ(s.elements, splitList(s.value));
    }
}

TEST(Values, via) {
    struct Scenario {
        int line_;
        std::string text;
        bool ok;
        std::string transport;
        std::string host;
        int port;
        std::string branch;
        bool rport;
        std::string formatted;
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport", true, "UDP",
         "192.168.1.100", 5060, "z9hG4bK1", true, "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport"},
        {__LINE__, "SIP / 2.0 / udp  host.example.com ; branch = z9hG4bK2", true, "udp",
         "host.example.com", 0, "z9hG4bK2", false, "SIP/2.0/udp host.example.com;branch=z9hG4bK2"},
        {__LINE__, "SIP/2.0/TCP [2001:db8::1]:5070;received=2001:db8::2", true, "TCP", "2001:db8::1",
         5070, "", false, "SIP/2.0/TCP [2001:db8::1]:5070;received=2001:db8::2"},
        {__LINE__, "SIP/2.0/UDP a;x=\"quoted value\"", true, "UDP", "a", 0, "", false,
         "SIP/2.0/UDP a;x=\"quoted value\""},
        {__LINE__, "SIP/2.0/UDP a:0", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP a:65536", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP a:5060x", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDPhost", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/1.0/UDP a", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP [::1", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP a;branch=\"open", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP a;;", false, "", "", 0, "", false, ""},
        {__LINE__, "SIP/2.0/UDP a junk", false, "", "", 0, "", false, ""},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Via v;
        ASSERT_EQ(s.ok, parseVia(s.text, v));
        if (!s.ok) {
            continue;
        }
        EXPECT_EQ(s.transport, v.transport);
        EXPECT_EQ(s.host, v.host);
        EXPECT_EQ(s.port, v.port);
        const Param* b = findParam(v.params, "BRANCH");
        EXPECT_EQ(s.branch, b ? b->value : "");
        EXPECT_EQ(s.rport, findParam(v.params, "rport") != nullptr);
        EXPECT_EQ(s.formatted, formatVia(v));
    }
}

TEST(Values, nameAddrsUrisEventsCSeq) {
    struct NameAddrCase {
        int line_;
        std::string text;
        bool ok;
        std::string display;
        std::string uri;
        std::string tag;
    };
    std::vector<NameAddrCase> nameAddrs = {
        {__LINE__, "<sip:MAC%3A000B82273B89@224.0.1.75>;tag=1", true, "", "sip:MAC%3A000B82273B89@224.0.1.75", "1"},
        {__LINE__, "\"Alice \\\"A\\\"\" <sip:a@b>", true, "Alice \"A\"", "sip:a@b", ""},
        {__LINE__, "Bob Smith <sip:b@c;transport=udp> ; tag = x", true, "Bob Smith", "sip:b@c;transport=udp", "x"},
        {__LINE__, "sip:a@b;tag=9", true, "", "sip:a@b", "9"},
        {__LINE__, "<sip:a@b", false, "", "", ""},
        {__LINE__, "\"open <sip:a@b>", false, "", "", ""},
        {__LINE__, "<>", false, "", "", ""},
        {__LINE__, "no-scheme", false, "", "", ""},
        {__LINE__, "Bad\"Display <sip:a@b>", false, "", "", ""},
        {__LINE__, "sip:a@b c", false, "", "", ""},
        {__LINE__, "<sip:a b@c>", false, "", "", ""},
    };
    for (const NameAddrCase& s : nameAddrs) {
        SCOPED_TRACE(s.line_);
        NameAddr na;
        ASSERT_EQ(s.ok, parseNameAddr(s.text, na));
        if (s.ok) {
            EXPECT_EQ(s.display, na.display);
            EXPECT_EQ(s.uri, na.uri);
            const Param* tag = findParam(na.params, "tag");
            EXPECT_EQ(s.tag, tag ? tag->value : "");
        }
    }
    struct UriCase {
        int line_;
        std::string text;
        bool ok;
        std::string user;
        std::string host;
        int port;
    };
    std::vector<UriCase> uris = {
        {__LINE__, "sip:MAC%3A000B82273B89@224.0.1.75", true, "MAC:000B82273B89", "224.0.1.75", 0},
        {__LINE__, "SIP:mac%3a805e0c4d796d@224.0.1.75:5060;transport=udp?x=y", true, "mac:805e0c4d796d",
         "224.0.1.75", 5060},
        {__LINE__, "sips:u:secret@[2001:db8::1]:5061", true, "u", "2001:db8::1", 5061},
        {__LINE__, "sip:192.168.1.100:5060", true, "", "192.168.1.100", 5060},
        {__LINE__, "sip:MAC%3@h", false, "", "", 0},
        {__LINE__, "sip:MAC%zz00@h", false, "", "", 0},
        {__LINE__, "tel:+49301234", false, "", "", 0},
        {__LINE__, "sip:", false, "", "", 0},
        {__LINE__, "sip:a@h:99999", false, "", "", 0},
    };
    for (const UriCase& s : uris) {
        SCOPED_TRACE(s.line_);
        Uri u;
        ASSERT_EQ(s.ok, parseUri(s.text, u));
        if (s.ok) {
            EXPECT_EQ(s.user, u.user);
            EXPECT_EQ(s.host, u.host);
            EXPECT_EQ(s.port, u.port);
        }
    }
    Event e;
    ASSERT_TRUE(parseEvent("UA-Profile ; Profile-Type = device ; VENDOR=GrandStream;MODEL=\"gxp1628\";version=\"\"", e));
    EXPECT_EQ("ua-profile", e.package);
    EXPECT_EQ("GrandStream", findParam(e.params, "vendor")->value);
    EXPECT_EQ("gxp1628", findParam(e.params, "Model")->value);
    EXPECT_EQ("", findParam(e.params, "version")->value);
    EXPECT_TRUE(findParam(e.params, "version")->hasValue);
    EXPECT_TRUE(parseEvent("check-sync;reboot=false", e));
    EXPECT_EQ("check-sync", e.package);
    EXPECT_FALSE(parseEvent("", e));
    EXPECT_FALSE(parseEvent("ua profile", e));
    EXPECT_FALSE(parseEvent("ua-profile;vendor=\"x", e));
    CSeq c;
    EXPECT_TRUE(parseCSeq("  1  SUBSCRIBE ", c));
    EXPECT_EQ(1u, c.number);
    EXPECT_EQ("SUBSCRIBE", c.method);
    EXPECT_TRUE(parseCSeq("2147483647 NOTIFY", c));
    EXPECT_FALSE(parseCSeq("2147483648 NOTIFY", c));
    EXPECT_FALSE(parseCSeq("1SUBSCRIBE", c));
    EXPECT_FALSE(parseCSeq("SUBSCRIBE", c));
    EXPECT_FALSE(parseCSeq("1", c));
    EXPECT_FALSE(parseCSeq("-1 NOTIFY", c));
}

TEST(Pnp, macFromUserPart) {
    struct Scenario {
        int line_;
        std::string user;   ///< percent-decoded already
        std::string mac;    ///< "" when none
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "MAC:000B82273B89", "00:0b:82:27:3b:89"},
        {__LINE__, "mac:805e0c4d796d", "80:5e:0c:4d:79:6d"},
        {__LINE__, "Mac:00:0B:82:27:3B:89", "00:0b:82:27:3b:89"},
        {__LINE__, "MAC-00-0b-82-27-3b-89", "00:0b:82:27:3b:89"},
        {__LINE__, "MAC000b.8227.3b89", "00:0b:82:27:3b:89"},
        {__LINE__, "MAC=000B82273B89", "00:0b:82:27:3b:89"},
        {__LINE__, "000413939050", "00:04:13:93:90:50"},
        {__LINE__, " MAC:000B82273B89 ", "00:0b:82:27:3b:89"},
        {__LINE__, "MAC:000B82273B8", ""},
        {__LINE__, "MAC:000B82273B899", ""},
        {__LINE__, "MAC:00:0B:82-27:3B:89", ""},
        {__LINE__, "MAC:", ""},
        {__LINE__, "alice", ""},
        {__LINE__, "", ""},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Mac m;
        bool ok = macFromUser(s.user, m);
        EXPECT_EQ(!s.mac.empty(), ok);
        if (ok) {
            EXPECT_EQ(s.mac, m.colon());
        }
    }
}

TEST(Pnp, subscribesOfRealPhones) {
    struct Scenario {
        int line_;
        std::string text;
        std::string mac;
        std::string vendor;
        std::string model;
        std::string version;
        std::string userAgent;
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, kGrandstream, "00:0b:82:27:3b:89", "Grandstream", "GXP1628", "", "Grandstream GXP1628"},
        {__LINE__, kYealink, "80:5e:0c:4d:79:6d", "Yealink", "SIP-T46S", "66.85.0.5",
         "Yealink SIP-T46S 66.85.0.5"},
        {__LINE__, kSnom, "00:04:13:93:90:50", "snom", "snom360", "7.1.19", ""},
        {__LINE__, kCompact, "00:0b:82:27:3b:89", "GrandStream", "gxp1628", "", "Grandstream GXP1628"},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        PnpSubscribe p;
        std::string why;
        ASSERT_TRUE(parsePnpSubscribe(parsed(s.text), p, why)) << why;
        EXPECT_EQ(s.mac, p.mac.colon());
        EXPECT_EQ(s.vendor, p.vendor);
        EXPECT_EQ(s.model, p.model);
        EXPECT_EQ(s.version, p.version);
        EXPECT_EQ(s.userAgent, p.userAgent);
        EXPECT_EQ(*parsed(s.text).get("Event"), p.event);
    }
}

TEST(Pnp, subscribesRefused) {
    auto edit = [](std::string text, const std::string& from, const std::string& to) {
        size_t p = text.find(from);
        if (p == std::string::npos) {
            throw std::runtime_error("no '" + from + "' in the test message");
        }
        return (text.replace(p, from.size(), to));
    };
    struct Scenario {
        int line_;
        std::string text;
        std::string why;
    };
    const std::string& g = kGrandstream;
    std::vector<Scenario> scenarios = {
        {__LINE__, edit(edit(g, "SUBSCRIBE sip", "OPTIONS sip"), "1 SUBSCRIBE", "1 OPTIONS"), "not a SUBSCRIBE"},
        {__LINE__, edit(g, "SUBSCRIBE sip", "subscribe sip"), "not a SUBSCRIBE"},
        {__LINE__, "SIP/2.0 200 OK\r\n\r\n", "not a SUBSCRIBE"},
        {__LINE__, edit(g, "Event: ", "X-Event: "), "no Event"},
        {__LINE__, edit(g, "Call-ID: ", "X-Call-ID: "), "no Call-ID"},
        {__LINE__, edit(g, "192.168.1.100:5060;branch", "192.168.1.100:99999;branch"), "bad Via"},
        {__LINE__, edit(g, "Via: SIP/2.0/UDP", "Via: SIP/3.0/UDP"), "bad Via"},
        {__LINE__, edit(g, "1 SUBSCRIBE", "1 NOTIFY"), "bad CSeq"},
        {__LINE__, edit(g, "From: <sip:MAC", "From: <sip:MAC\"x"), "bad From or To"},
        {__LINE__, edit(g, "Event: ua-profile", "Event: presence"), "not ua-profile"},
        {__LINE__, edit(g, "Event: ua-profile;", "Event: ua-profile;;"), "bad Event"},
        {__LINE__, edit(g, "profile-type=\"device\"", "profile-type=\"user\""), "not device"},
        {__LINE__, edit(g, "Accept: application/url", "Accept: text/plain"), "Accept"},
        {__LINE__, edit(edit(edit(g, "MAC%3A000B82273B89@224.0.1.75 SIP", "phone@224.0.1.75 SIP"),
                             "To: <sip:MAC%3A000B82273B89", "To: <sip:phone"),
                        "From: <sip:MAC%3A000B82273B89", "From: <sip:phone"),
         "no MAC"},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        PnpSubscribe p;
        std::string why;
        EXPECT_FALSE(parsePnpSubscribe(parsed(s.text), p, why));
        EXPECT_NE(std::string::npos, why.find(s.why)) << why;
    }
    // The MAC may come from To when the Request-URI has none.
    std::string moved = edit(g, "MAC%3A000B82273B89@224.0.1.75 SIP", "pnp@224.0.1.75 SIP");
    PnpSubscribe p;
    std::string why;
    ASSERT_TRUE(parsePnpSubscribe(parsed(moved), p, why)) << why;
    EXPECT_EQ("00:0b:82:27:3b:89", p.mac.colon());
    // Accept with a wildcard is fine.
    ASSERT_TRUE(parsePnpSubscribe(parsed(edit(g, "Accept: application/url", "Accept: */*")), p, why));
}

TEST(Pnp, vendorAndModelFromTheEvent) {
    CataloguePtr catalogue = Catalogue::load(profilesDir());
    struct VendorCase {
        int line_;
        std::string vendor;
        std::string id;  ///< "-" for none
    };
    std::vector<VendorCase> vendors = {
        {__LINE__, "Grandstream", "grandstream"},
        {__LINE__, "Yealink", "yealink"},
        {__LINE__, "snom", "snom"},
        {__LINE__, "SNOM", "snom"},
        {__LINE__, " fanvil ", "fanvil"},
        {__LINE__, "Yealink Network Technology", "yealink"},
        {__LINE__, "Cisco", "cisco"},
        {__LINE__, "cisco-mpp", "cisco-mpp"},
        {__LINE__, "Acme", "-"},
        {__LINE__, "", "-"},
        {__LINE__, "grand", "-"},
    };
    for (const VendorCase& s : vendors) {
        SCOPED_TRACE(s.line_);
        int v = pnpVendor(*catalogue, s.vendor);
        EXPECT_EQ(s.id, v < 0 ? "-" : catalogue->vendors()[v].id);
    }
    auto profile = [&](const std::string& id) -> const VendorProfile& {
        return (catalogue->vendors()[catalogue->find(id)]);
    };
    struct ModelCase {
        int line_;
        std::string vendor;
        std::string model;
        std::string want;
    };
    std::vector<ModelCase> models = {
        {__LINE__, "grandstream", "GXP1628", "GXP1628"},
        {__LINE__, "grandstream", "gxp1628", "GXP1628"},
        {__LINE__, "snom", "snom360", "360"},
        {__LINE__, "snom", "snomD785", "D785"},
        {__LINE__, "snom", "D785", "D785"},
        {__LINE__, "yealink", "SIP-T46S", "T46S"},
        {__LINE__, "yealink", "T46S", "T46S"},
        {__LINE__, "yealink", "SIP-X99", "SIP-X99"},
        {__LINE__, "yealink", "Yealink-T46S", "T46S"},
        {__LINE__, "yealink", "", ""},
        {__LINE__, "yealink", "T46S<script>", ""},
        {__LINE__, "yealink", std::string(40, 'A'), ""},
    };
    for (const ModelCase& s : models) {
        SCOPED_TRACE(s.line_);
        EXPECT_EQ(s.want, pnpModel(profile(s.vendor), s.model));
    }
}

TEST(Messages, responsesFollowRfc3261And3581) {
    struct Scenario {
        int line_;
        std::string via;      ///< top Via of the request
        Endpoint source;
        std::string topVia;   ///< top Via of the response
        Endpoint target;      ///< where the response goes
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport", {"192.168.1.100", 5060},
         "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport=5060;received=192.168.1.100",
         {"192.168.1.100", 5060}},
        {__LINE__, "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport", {"10.0.0.7", 40123},
         "SIP/2.0/UDP 192.168.1.100:5060;branch=z9hG4bK1;rport=40123;received=10.0.0.7",
         {"10.0.0.7", 40123}},
        {__LINE__, "SIP/2.0/UDP 192.168.1.100:5062;branch=z9hG4bK1", {"192.168.1.100", 40000},
         "SIP/2.0/UDP 192.168.1.100:5062;branch=z9hG4bK1", {"192.168.1.100", 5062}},
        {__LINE__, "SIP/2.0/UDP phone.local;branch=z9hG4bK1", {"10.0.0.8", 5060},
         "SIP/2.0/UDP phone.local;branch=z9hG4bK1;received=10.0.0.8", {"10.0.0.8", 5060}},
        {__LINE__, "SIP/2.0/UDP 1.2.3.4:5060;received=9.9.9.9;rport=1", {"10.0.0.9", 6000},
         "SIP/2.0/UDP 1.2.3.4:5060;received=10.0.0.9;rport=6000", {"10.0.0.9", 6000}},
        // A received= of the request's own, naming another host than the sender.
        {__LINE__, "SIP/2.0/UDP 10.0.0.9:5060;received=127.0.0.1", {"10.0.0.9", 5060},
         "SIP/2.0/UDP 10.0.0.9:5060;received=10.0.0.9", {"10.0.0.9", 5060}},
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Message req = parsed(crlf("SUBSCRIBE sip:x@y SIP/2.0\nVia: " + s.via +
                                  "\nVia: SIP/2.0/UDP proxy;branch=z9hG4bKp\nFrom: <sip:a@b>;tag=f\n"
                                  "To: <sip:x@y>\nCall-ID: c1\nCSeq: 4 SUBSCRIBE\n\n"));
        auto resp = makeResponse(req, 200, "OK", "t0", s.source);
        ASSERT_TRUE(resp);
        std::vector<std::string> vias = resp->list("Via");
        ASSERT_EQ(2u, vias.size());
        EXPECT_EQ(s.topVia, vias[0]);
        EXPECT_EQ("SIP/2.0/UDP proxy;branch=z9hG4bKp", vias[1]);
        EXPECT_EQ("<sip:a@b>;tag=f", *resp->get("From"));
        EXPECT_EQ("<sip:x@y>;tag=t0", *resp->get("To"));
        EXPECT_EQ("c1", *resp->get("Call-ID"));
        EXPECT_EQ("4 SUBSCRIBE", *resp->get("CSeq"));
        Endpoint to;
        ASSERT_TRUE(viaTarget(*resp, to));
        EXPECT_EQ(s.target.address, to.address);
        EXPECT_EQ(s.target.port, to.port);
        Message again = parsed(serialize(*resp));
        EXPECT_EQ(200, again.status);
        EXPECT_EQ("OK", again.reason);
        EXPECT_EQ(vias, again.list("Via"));
    }
    // Many Via values on few lines: the response keeps them in order, in two fields,
    // and parses again (one field per value went past the 128-header limit).
    std::string many = "SUBSCRIBE sip:x@y SIP/2.0\n";
    for (int line = 0; line < 20; ++line) {
        many += "Via: ";
        for (int v = 0; v < 10; ++v) {
            many += (v ? ", " : "") + std::string("SIP/2.0/UDP p") + std::to_string(line * 10 + v);
        }
        many += "\n";
    }
    many += "From: <sip:a@b>;tag=f\nTo: <sip:x@y>\nCall-ID: c\nCSeq: 1 SUBSCRIBE\n\n";
    Message manyVias = parsed(crlf(many));
    auto manyResp = makeResponse(manyVias, 200, "OK", "t", {"10.0.0.1", 5060});
    ASSERT_TRUE(manyResp);
    Message manyAgain = parsed(serialize(*manyResp));
    std::vector<std::string> sent = manyVias.list("Via");
    std::vector<std::string> back = manyAgain.list("Via");
    ASSERT_EQ(200u, back.size());
    EXPECT_EQ(std::vector<std::string>(sent.begin() + 1, sent.end()),
              std::vector<std::string>(back.begin() + 1, back.end()));
    // A To that already has a tag keeps it; a request without From gets no response.
    Message tagged = parsed(crlf("SUBSCRIBE sip:x@y SIP/2.0\nVia: SIP/2.0/UDP a\nFrom: <sip:a@b>;tag=f\n"
                                 "To: sip:x@y;tag=old\nCall-ID: c\nCSeq: 1 SUBSCRIBE\n\n"));
    EXPECT_EQ("sip:x@y;tag=old", *makeResponse(tagged, 200, "OK", "new", {"1.1.1.1", 1})->get("To"));
    Message noFrom = parsed(crlf("SUBSCRIBE sip:x@y SIP/2.0\nVia: SIP/2.0/UDP a\nTo: <sip:x@y>\n"
                                 "Call-ID: c\nCSeq: 1 SUBSCRIBE\n\n"));
    EXPECT_FALSE(makeResponse(noFrom, 200, "OK", "t", {"1.1.1.1", 1}));
}

TEST(Messages, pnpNotifyIsInTheSubscriptionDialog) {
    Message sub = parsed(kGrandstream);
    auto ok = makeResponse(sub, 200, "OK", "srv1", {"192.168.1.100", 5060});
    ASSERT_TRUE(ok);
    Local local;
    local.contact = {"192.168.1.1", 5060};
    local.branch = "z9hG4bKn1";
    local.cseq = 1;
    auto notify = makePnpNotify(sub, "srv1", "http://10.77.0.1:8080/prov/grandstream/", local);
    ASSERT_TRUE(notify);
    Message n = parsed(serialize(*notify));
    EXPECT_TRUE(n.request);
    EXPECT_EQ("NOTIFY", n.method);
    EXPECT_EQ("sip:192.168.1.100:5060", n.uri);  // the Contact
    EXPECT_EQ("SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKn1;rport", *n.get("Via"));
    EXPECT_EQ(*ok->get("To"), *n.get("From"));   // our side, our tag
    EXPECT_EQ(*sub.get("From"), *n.get("To"));   // theirs, their tag
    EXPECT_EQ(*sub.get("Call-ID"), *n.get("Call-ID"));
    EXPECT_EQ("1 NOTIFY", *n.get("CSeq"));
    EXPECT_EQ(*sub.get("Event"), *n.get("Event"));
    EXPECT_EQ("terminated;reason=timeout", *n.get("Subscription-State"));
    EXPECT_EQ("application/url", *n.get("Content-Type"));
    EXPECT_EQ("<sip:192.168.1.1:5060>", *n.get("Contact"));
    EXPECT_EQ("70", *n.get("Max-Forwards"));
    EXPECT_EQ("http://10.77.0.1:8080/prov/grandstream/", n.body);
    EXPECT_EQ(std::to_string(n.body.size()), *n.get("Content-Length"));
    // Without a Contact the NOTIFY goes to From's URI.
    Message snom = parsed(kSnom);
    snom.headers.erase(std::remove_if(snom.headers.begin(), snom.headers.end(),
                                      [](const Header& h) { return (h.name == "Contact"); }),
                       snom.headers.end());
    EXPECT_EQ("sip:MAC%3a000413939050@224.0.1.75", makePnpNotify(snom, "t", "u", local)->uri);

    // A phone's answer to it, and answers to something else.
    Message answer = parsed(crlf("SIP/2.0 200 OK\nVia: SIP/2.0/UDP 192.168.1.1:5060;branch=z9hG4bKn1;"
                                 "rport=5060;received=192.168.1.1\nCSeq: 1 NOTIFY\n\n"));
    EXPECT_TRUE(answers(answer, "z9hG4bKn1", "NOTIFY"));
    EXPECT_FALSE(answers(answer, "z9hG4bKn2", "NOTIFY"));
    EXPECT_FALSE(answers(answer, "z9hG4bKn1", "SUBSCRIBE"));
    EXPECT_FALSE(answers(*notify, "z9hG4bKn1", "NOTIFY"));
}

TEST(Messages, resyncNotifies) {
    struct Scenario {
        int line_;
        std::string event;
        std::string contentType;  ///< "-" for none
        std::string body;
    };
    std::vector<Scenario> scenarios = {
        {__LINE__, "check-sync;reboot=false", "-", ""},
        {__LINE__, "resync", "-", ""},
        {__LINE__, "check-sync", "-", ""},
        {__LINE__, "service-control", "text/plain", "action=restart\r\n"},
    };
    Local local;
    local.contact = {"10.77.0.1", 40000};
    local.tag = "t1";
    local.branch = "z9hG4bKr1";
    local.callId = "c1@10.77.0.1";
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Message n = parsed(serialize(makeResyncNotify({"10.77.0.50", 5060}, s.event, local)));
        EXPECT_EQ("NOTIFY", n.method);
        EXPECT_EQ("sip:10.77.0.50:5060", n.uri);
        EXPECT_EQ(s.event, *n.get("Event"));
        EXPECT_EQ("active", *n.get("Subscription-State"));
        EXPECT_EQ("<sip:phoneprov@10.77.0.1>;tag=t1", *n.get("From"));
        EXPECT_EQ("<sip:10.77.0.50:5060>", *n.get("To"));
        EXPECT_EQ("c1@10.77.0.1", *n.get("Call-ID"));
        EXPECT_EQ("1 NOTIFY", *n.get("CSeq"));
        EXPECT_EQ("SIP/2.0/UDP 10.77.0.1:40000;branch=z9hG4bKr1;rport", *n.get("Via"));
        const std::string* ct = n.get("Content-Type");
        EXPECT_EQ(s.contentType, ct ? *ct : "-");
        EXPECT_EQ(s.body, n.body);
    }
    Message v6 = makeResyncNotify({"2001:db8::5", 5060}, "resync", local);
    EXPECT_EQ("sip:[2001:db8::5]:5060", v6.uri);
}

TEST(Messages, transactionKeysRecogniseRetransmissions) {
    Message a = parsed(kGrandstream);
    Message b = parsed(kGrandstream);
    EXPECT_EQ(transactionKey(a), transactionKey(b));
    EXPECT_EQ(0u, transactionKey(a).find("z9hG4bK1403958367|192.168.1.100:5060|SUBSCRIBE"));
    std::string other = kGrandstream;
    other.replace(other.find("z9hG4bK1403958367"), 17, "z9hG4bK1403958368");
    EXPECT_NE(transactionKey(a), transactionKey(parsed(other)));
    // RFC 2543 style (Snom, no branch): Call-ID, CSeq and From tag decide.
    Message s1 = parsed(kSnom);
    std::string s2text = kSnom;
    s2text.replace(s2text.find("CSeq: 1"), 7, "CSeq: 2");
    EXPECT_EQ(transactionKey(s1), transactionKey(parsed(kSnom)));
    EXPECT_NE(transactionKey(s1), transactionKey(parsed(s2text)));
}

TEST(Messages, serializeRoundTrips) {
    for (const std::string* text : {&kGrandstream, &kYealink, &kSnom, &kCompact}) {
        Message m = parsed(*text);
        Message again = parsed(serialize(m));
        ASSERT_EQ(m.headers.size(), again.headers.size());
        for (size_t i = 0; i < m.headers.size(); ++i) {
            EXPECT_EQ(m.headers[i].name, again.headers[i].name);
            EXPECT_EQ(m.headers[i].value, again.headers[i].value);
        }
        EXPECT_EQ(m.uri, again.uri);
        EXPECT_EQ(serialize(m), serialize(again));
    }
    Message m;
    m.request = true;
    m.method = "NOTIFY";
    m.uri = "sip:a";
    m.add("content-length", "99");  // replaced by the real length
    m.body = "abc";
    EXPECT_EQ("NOTIFY sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabc", serialize(m));
}

TEST(Robustness, garbageNeverCrashesAndWhatParsesRoundTrips) {
    // Random bytes, then real messages with random bytes changed, cut or repeated.
    std::mt19937 rng(20260101);
    std::vector<std::string> seeds = {kGrandstream, kYealink, kSnom, kCompact};
    size_t parsedCount = 0;
    for (int round = 0; round < 20000; ++round) {
        std::string data;
        if (round % 4 == 0) {
            data.resize(rng() % 512);
            for (char& c : data) {
                c = static_cast<char>(rng());
            }
        } else {
            data = seeds[rng() % seeds.size()];
            int edits = 1 + static_cast<int>(rng() % 6);
            for (int e = 0; e < edits && !data.empty(); ++e) {
                size_t at = rng() % data.size();
                switch (rng() % 4) {
                case 0:
                    data[at] = static_cast<char>(rng());
                    break;
                case 1:
                    data.resize(at);
                    break;
                case 2:
                    data.insert(at, data.substr(at, rng() % 64));
                    break;
                default:
                    data[at] = "\r\n :;,\"<>%@=\t"[rng() % 13];
                }
            }
        }
        Message m;
        std::string error;
        if (!parse(data, m, error)) {
            EXPECT_FALSE(error.empty());
            continue;
        }
        ++parsedCount;
        Message again;
        ASSERT_TRUE(parse(serialize(m), again, error)) << error;
        EXPECT_EQ(serialize(m), serialize(again));
        PnpSubscribe p;
        std::string why;
        if (parsePnpSubscribe(m, p, why)) {
            auto ok = makeResponse(m, 200, "OK", "t", {"10.0.0.1", 5060});
            ASSERT_TRUE(ok);
            ASSERT_TRUE(parse(serialize(*ok), again, error)) << error;
            Local local{{"10.0.0.2", 5060}, "t", "z9hG4bKx", "c", 1};
            auto n = makePnpNotify(m, "t", "http://x/", local);
            ASSERT_TRUE(n);
            ASSERT_TRUE(parse(serialize(*n), again, error)) << error;
        }
    }
    EXPECT_GT(parsedCount, 1000u);
}
