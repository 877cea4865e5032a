// kea-phoneprov: tests of `phoneprov simulate`.
//
// Pure parts are tested table-driven; the network clients are tested against
// small fake servers on 127.0.0.1 (ephemeral ports, loopback only).

#include "dhcp_client.h"
#include "fetch.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <sstream>
#include <thread>

using namespace phoneprov::sim;

namespace {

/// @brief Bytes from a string.
Bytes B(const std::string& text) {
    return (Bytes(text.begin(), text.end()));
}

/// @brief Bytes from hex (test data is always valid).
Bytes H(const std::string& hex) {
    Bytes out;
    EXPECT_TRUE(parseHex(hex, out)) << hex;
    return (out);
}

/// @brief An option.
DhcpOption O(uint8_t code, const Bytes& data) {
    return (DhcpOption{ code, data });
}

/// @brief An option holding text.
DhcpOption T(uint8_t code, const std::string& text) {
    return (DhcpOption{ code, B(text) });
}

// ---------------------------------------------------------------------------
// A minimal JSON validator, to check that the report is valid JSON.

/// @brief Recursive-descent JSON validator.
class JsonChecker {
public:
    /// @brief Constructor.
    explicit JsonChecker(const std::string& text) : s_(text) {
    }

    /// @brief Tells whether the whole text is one JSON value.
    bool valid() {
        pos_ = 0;
        if (!value()) {
            return (false);
        }
        skip();
        return (pos_ == s_.size());
    }

private:
    void skip() {
        while (pos_ < s_.size() && std::strchr(" \t\r\n", s_[pos_]) &&
               s_[pos_] != 0) {
            ++pos_;
        }
    }

    bool literal(const char* word) {
        size_t n = std::strlen(word);
        if (s_.compare(pos_, n, word) != 0) {
            return (false);
        }
        pos_ += n;
        return (true);
    }

    bool string() {
        if (s_[pos_] != '"') {
            return (false);
        }
        for (++pos_; pos_ < s_.size(); ++pos_) {
            unsigned char c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return (true);
            }
            if (c < 0x20) {
                return (false);
            }
            if (c == '\\' && !escape()) {
                return (false);
            }
        }
        return (false);
    }

    bool escape() {
        ++pos_;
        if (pos_ >= s_.size()) {
            return (false);
        }
        if (std::strchr("\"\\/bfnrt", s_[pos_]) && s_[pos_] != 0) {
            return (true);
        }
        if (s_[pos_] != 'u' || pos_ + 4 >= s_.size()) {
            return (false);
        }
        for (int i = 1; i <= 4; ++i) {
            if (!std::isxdigit(static_cast<unsigned char>(s_[pos_ + i]))) {
                return (false);
            }
        }
        pos_ += 4;
        return (true);
    }

    bool number() {
        size_t start = pos_;
        if (s_[pos_] == '-') {
            ++pos_;
        }
        while (pos_ < s_.size() &&
               (std::isdigit(static_cast<unsigned char>(s_[pos_])) ||
                s_[pos_] == '.' || s_[pos_] == 'e' || s_[pos_] == 'E' ||
                s_[pos_] == '+' || s_[pos_] == '-')) {
            ++pos_;
        }
        return (pos_ > start);
    }

    template <typename F>
    bool sequence(char close, F item) {
        ++pos_;
        skip();
        if (pos_ < s_.size() && s_[pos_] == close) {
            ++pos_;
            return (true);
        }
        for (;;) {
            if (!item()) {
                return (false);
            }
            skip();
            if (pos_ >= s_.size()) {
                return (false);
            }
            if (s_[pos_] == close) {
                ++pos_;
                return (true);
            }
            if (s_[pos_] != ',') {
                return (false);
            }
            ++pos_;
            skip();
        }
    }

    bool value() {
        skip();
        if (pos_ >= s_.size()) {
            return (false);
        }
        char c = s_[pos_];
        if (c == '{') {
            return (sequence('}', [this]() {
                if (!string()) {
                    return (false);
                }
                skip();
                if (pos_ >= s_.size() || s_[pos_] != ':') {
                    return (false);
                }
                ++pos_;
                return (value());
            }));
        }
        if (c == '[') {
            return (sequence(']', [this]() { return (value()); }));
        }
        if (c == '"') {
            return (string());
        }
        if (c == 't' || c == 'f' || c == 'n') {
            return (literal("true") || literal("false") || literal("null"));
        }
        return (number());
    }

    const std::string& s_;
    size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Small helpers for fake servers on 127.0.0.1.

/// @brief Opens a socket bound to 127.0.0.1:0; returns it and its port.
int openLoopback(int type, uint16_t& port) {
    int fd = socket(AF_INET, type, 0);
    sockaddr_in sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
        ADD_FAILURE() << "cannot bind 127.0.0.1:0";
        return (-1);
    }
    socklen_t len = sizeof(sa);
    getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
    port = ntohs(sa.sin_port);
    return (fd);
}

/// @brief Waits for a datagram; returns its size or -1 on timeout.
ssize_t recvWithin(int fd, Bytes& buf, sockaddr_in& from, int ms) {
    pollfd pfd = { fd, POLLIN, 0 };
    if (poll(&pfd, 1, ms) <= 0) {
        return (-1);
    }
    buf.resize(65536);
    socklen_t len = sizeof(from);
    ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0,
                         reinterpret_cast<sockaddr*>(&from), &len);
    buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return (n);
}

/// @brief Sends a datagram.
void sendTo(int fd, const Bytes& pkt, const sockaddr_in& to) {
    sendto(fd, pkt.data(), pkt.size(), 0,
           reinterpret_cast<const sockaddr*>(&to), sizeof(to));
}

/// @brief Appends an option in wire format.
void putOpt(Bytes& out, uint8_t code, const Bytes& data) {
    out.push_back(code);
    out.push_back(static_cast<uint8_t>(data.size()));
    out.insert(out.end(), data.begin(), data.end());
}

/// @brief Builds a BOOTREPLY for a request.
Bytes makeReply(const Bytes& request, uint8_t type, uint32_t yiaddr,
                const std::vector<DhcpOption>& options) {
    Bytes out(request.begin(), request.begin() + DHCP_OPTIONS_OFFSET);
    out[0] = 2;
    uint32_t net = htonl(yiaddr);
    std::memcpy(&out[16], &net, 4);
    putOpt(out, 53, Bytes{ type });
    putOpt(out, 54, H("7f000001"));
    for (const DhcpOption& option : options) {
        putOpt(out, option.code_, option.data_);
    }
    out.push_back(255);
    return (out);
}

/// @brief A fake DHCP server answering relayed requests on 127.0.0.1.
class FakeDhcpServer {
public:
    /// @brief How it answers.
    enum class Mode { NORMAL, NAK, SILENT };

    /// @brief Starts the server thread.
    FakeDhcpServer(Mode mode, std::vector<DhcpOption> ack_options)
        : mode_(mode), ack_options_(std::move(ack_options)) {
        fd_ = openLoopback(SOCK_DGRAM, port_);
        thread_ = std::thread([this]() { run(); });
    }

    /// @brief Stops the thread.
    ~FakeDhcpServer() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }

    /// @brief Returns the port.
    uint16_t port() const {
        return (port_);
    }

    /// @brief Returns the requests received.
    std::vector<DhcpPacket> requests() {
        std::lock_guard<std::mutex> lock(mutex_);
        return (requests_);
    }

private:
    void run() {
        while (!stop_) {
            Bytes buf;
            sockaddr_in from;
            if (recvWithin(fd_, buf, from, 50) <= 0) {
                continue;
            }
            DhcpPacket pkt;
            std::string error;
            if (!parsePacket(buf.data(), buf.size(), pkt, error)) {
                continue;
            }
            {
                std::lock_guard<std::mutex> lock(mutex_);
                requests_.push_back(pkt);
            }
            answer(buf, pkt, from);
        }
    }

    void answer(const Bytes& buf, const DhcpPacket& pkt,
                const sockaddr_in& from) {
        if (mode_ == Mode::SILENT) {
            return;
        }
        // A reply for another transaction first: it must be ignored.
        Bytes stray = makeReply(buf, DHCPOFFER, 0x7f000063, {});
        stray[4] ^= 0xff;
        sendTo(fd_, stray, from);
        if (messageType(pkt) == DHCPDISCOVER) {
            sendTo(fd_, makeReply(buf, DHCPOFFER, 0x7f000064,
                                  { O(1, H("ff000000")) }), from);
            return;
        }
        if (mode_ == Mode::NAK) {
            sendTo(fd_, makeReply(buf, DHCPNAK, 0,
                                  { T(56, "address not available") }), from);
            return;
        }
        std::vector<DhcpOption> options = ack_options_;
        options.insert(options.begin(), O(1, H("ff000000")));
        sendTo(fd_, makeReply(buf, DHCPACK, 0x7f000064, options), from);
    }

    Mode mode_;
    std::vector<DhcpOption> ack_options_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::atomic<bool> stop_{ false };
    std::mutex mutex_;
    std::vector<DhcpPacket> requests_;
    std::thread thread_;
};

/// @brief A fake HTTP server: one connection, canned response pieces.
class FakeHttpServer {
public:
    /// @brief Starts the server thread.
    ///
    /// @param pieces sent one by one.
    /// @param close_after close after sending (else wait for the client).
    FakeHttpServer(std::vector<std::string> pieces, bool close_after = true)
        : pieces_(std::move(pieces)), close_after_(close_after) {
        fd_ = openLoopback(SOCK_STREAM, port_);
        listen(fd_, 4);
        thread_ = std::thread([this]() { run(); });
    }

    /// @brief Joins the thread.
    ~FakeHttpServer() {
        thread_.join();
        close(fd_);
    }

    /// @brief Returns the port.
    uint16_t port() const {
        return (port_);
    }

    /// @brief Returns the request received (after the thread ended).
    std::string request() {
        std::lock_guard<std::mutex> lock(mutex_);
        return (request_);
    }

private:
    void run() {
        pollfd pfd = { fd_, POLLIN, 0 };
        if (poll(&pfd, 1, 5000) <= 0) {
            return;
        }
        int conn = accept(fd_, nullptr, nullptr);
        std::string req;
        char buf[4096];
        while (req.find("\r\n\r\n") == std::string::npos) {
            ssize_t n = recv(conn, buf, sizeof(buf), 0);
            if (n <= 0) {
                break;
            }
            req.append(buf, static_cast<size_t>(n));
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            request_ = req;
        }
        for (const std::string& piece : pieces_) {
            send(conn, piece.data(), piece.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (!close_after_) {
            pollfd cp = { conn, POLLIN, 0 };
            poll(&cp, 1, 5000);
        }
        close(conn);
    }

    std::vector<std::string> pieces_;
    bool close_after_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::mutex mutex_;
    std::string request_;
    std::thread thread_;
};

/// @brief A scripted fake TFTP server.
///
/// The script gets the listening socket, the RRQ and its sender.
class FakeTftpServer {
public:
    /// @brief The script.
    typedef std::function<void(const Bytes& rrq, const sockaddr_in& client)>
        Script;

    /// @brief Starts the server thread.
    explicit FakeTftpServer(Script script) : script_(std::move(script)) {
        fd_ = openLoopback(SOCK_DGRAM, port_);
        thread_ = std::thread([this]() { run(); });
    }

    /// @brief Joins the thread.
    ~FakeTftpServer() {
        thread_.join();
        close(fd_);
    }

    /// @brief Returns the port.
    uint16_t port() const {
        return (port_);
    }

private:
    void run() {
        Bytes rrq;
        sockaddr_in client;
        if (recvWithin(fd_, rrq, client, 5000) <= 0) {
            return;
        }
        script_(rrq, client);
    }

    Script script_;
    int fd_ = -1;
    uint16_t port_ = 0;
    std::thread thread_;
};

/// @brief A TFTP DATA packet.
Bytes tftpData(uint16_t block, const std::string& payload) {
    Bytes out;
    out.reserve(payload.size() + 4);
    out.push_back(0);
    out.push_back(TFTP_DATA);
    out.push_back(static_cast<uint8_t>(block >> 8));
    out.push_back(static_cast<uint8_t>(block));
    out.insert(out.end(), payload.begin(), payload.end());
    return (out);
}

/// @brief Waits for an ACK of a block on fd; true when it came.
bool expectAck(int fd, uint16_t block, int ms = 3000) {
    Bytes buf;
    sockaddr_in from;
    if (recvWithin(fd, buf, from, ms) <= 0) {
        return (false);
    }
    return (buf == buildTftpAck(block));
}

/// @brief A TFTP target on 127.0.0.1.
FetchTarget tftpTargetOn(uint16_t port, const std::string& file) {
    FetchTarget target;
    target.protocol_ = "tftp";
    target.host_ = "127.0.0.1";
    target.port_ = port;
    target.path_ = file;
    return (target);
}

/// @brief An HTTP target on 127.0.0.1.
FetchTarget httpTargetOn(uint16_t port, const std::string& path) {
    FetchTarget target;
    target.protocol_ = "http";
    target.host_ = "127.0.0.1";
    target.port_ = port;
    target.path_ = path;
    return (target);
}

/// @brief Runs parseSimulateArgs on a list of arguments.
bool parseArgs(const std::vector<std::string>& args, SimOptions& opts,
               std::string& error) {
    std::vector<const char*> argv = { "simulate" };
    for (const std::string& arg : args) {
        argv.push_back(arg.c_str());
    }
    return (parseSimulateArgs(static_cast<int>(argv.size()), argv.data(), opts,
                              error));
}

// ---------------------------------------------------------------------------
// MAC, hex, code lists.

TEST(SimMac, parse) {
    struct Scenario {
        int line_;
        std::string text_;
        bool ok_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "00:15:65:aa:bb:cc", true },
        { __LINE__, "00-15-65-AA-BB-CC", true },
        { __LINE__, "001565aabbcc", true },
        { __LINE__, "001565AABBCC", true },
        { __LINE__, "0015.65aa.bbcc", true },
        { __LINE__, "", false },
        { __LINE__, "00:15:65:aa:bb", false },
        { __LINE__, "00:15:65:aa:bb:cc:dd", false },
        { __LINE__, "00:15:65:aa:bb:cg", false },
        { __LINE__, "0:15:65:aa:bb:ccc", false },
        { __LINE__, "00:15-65:aa:bb:cc", false },
        { __LINE__, "001565aabbcc ", false },
        { __LINE__, "00155.65aa.bbc", false },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Mac mac = {};
        ASSERT_EQ(s.ok_, parseMac(s.text_, mac));
        if (s.ok_) {
            EXPECT_EQ("00:15:65:aa:bb:cc", formatMac(mac, ':', false));
            EXPECT_EQ("001565AABBCC", formatMac(mac, 0, true));
        }
    }
}

TEST(SimHex, parse) {
    struct Scenario {
        int line_;
        std::string text_;
        bool ok_;
        std::string hex_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "0a0B", true, "0a0b" },
        { __LINE__, "0x0a0b", true, "0a0b" },
        { __LINE__, "01:02-03 04", true, "01020304" },
        { __LINE__, "", true, "" },
        { __LINE__, "abc", false, "" },
        { __LINE__, "zz", false, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Bytes out;
        ASSERT_EQ(s.ok_, parseHex(s.text_, out));
        if (s.ok_) {
            EXPECT_EQ(s.hex_, toHex(out));
        }
    }
}

TEST(SimCodes, parse) {
    struct Scenario {
        int line_;
        std::string text_;
        bool ok_;
        std::string hex_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "1,3,6", true, "010306" },
        { __LINE__, " 66 , 150 ", true, "4296" },
        { __LINE__, "254", true, "fe" },
        { __LINE__, "0", false, "" },
        { __LINE__, "255", false, "" },
        { __LINE__, "1,,3", false, "" },
        { __LINE__, "1,", false, "" },
        { __LINE__, "x", false, "" },
        { __LINE__, "-1", false, "" },
        { __LINE__, "", false, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Bytes out;
        ASSERT_EQ(s.ok_, parseCodeList(s.text_, out));
        if (s.ok_) {
            EXPECT_EQ(s.hex_, toHex(out));
        }
    }
    Bytes defaults;
    EXPECT_TRUE(parseCodeList(DEFAULT_REQUEST_OPTIONS, defaults));
    EXPECT_EQ(14u, defaults.size());
}

// ---------------------------------------------------------------------------
// Packet building and parsing.

/// @brief Client parameters used by the packet tests.
ClientParams testParams() {
    ClientParams params;
    parseMac("00:15:65:aa:bb:cc", params.mac_);
    params.giaddr_ = 0x7f000001;
    parseCodeList("1,3,66", params.request_options_);
    params.vendor_class_ = B("yealink SIP-T46S");
    params.hostname_ = "phone1";
    params.client_id_ = H("01001565aabbcc");
    return (params);
}

TEST(SimPacket, discover) {
    Bytes pkt = buildDiscover(testParams(), 0x12345678, 3);
    ASSERT_GE(pkt.size(), DHCP_MIN_PACKET_SIZE);
    EXPECT_EQ(1, pkt[0]);
    EXPECT_EQ(1, pkt[1]);
    EXPECT_EQ(6, pkt[2]);
    EXPECT_EQ(1, pkt[3]);
    EXPECT_EQ("12345678", toHex(Bytes(pkt.begin() + 4, pkt.begin() + 8)));
    EXPECT_EQ("0003", toHex(Bytes(pkt.begin() + 8, pkt.begin() + 10)));
    EXPECT_EQ("0000", toHex(Bytes(pkt.begin() + 10, pkt.begin() + 12)));
    EXPECT_EQ("7f000001", toHex(Bytes(pkt.begin() + 24, pkt.begin() + 28)));
    EXPECT_EQ("001565aabbcc", toHex(Bytes(pkt.begin() + 28,
                                         pkt.begin() + 34)));
    EXPECT_EQ("63825363", toHex(Bytes(pkt.begin() + 236, pkt.begin() + 240)));
    DhcpPacket parsed;
    std::string error;
    ASSERT_TRUE(parsePacket(pkt.data(), pkt.size(), parsed, error)) << error;
    EXPECT_TRUE(parsed.warning_.empty()) << parsed.warning_;
    EXPECT_EQ(DHCPDISCOVER, messageType(parsed));
    EXPECT_EQ(0x7f000001u, parsed.giaddr_);
    EXPECT_EQ(1, parsed.hops_);
    EXPECT_EQ(B("yealink SIP-T46S"), *findOption(parsed.options_, 60));
    EXPECT_EQ(B("phone1"), *findOption(parsed.options_, 12));
    EXPECT_EQ(H("01001565aabbcc"), *findOption(parsed.options_, 61));
    EXPECT_EQ(H("010342"), *findOption(parsed.options_, 55));
    EXPECT_FALSE(findOption(parsed.options_, 50));
    EXPECT_FALSE(findOption(parsed.options_, 54));
}

TEST(SimPacket, request) {
    ClientParams params = testParams();
    params.vendor_class_.reset();
    params.hostname_.clear();
    params.client_id_.clear();
    Bytes pkt = buildRequest(params, 0xdeadbeef, 1, 0x7f000064, 0x7f000001);
    DhcpPacket parsed;
    std::string error;
    ASSERT_TRUE(parsePacket(pkt.data(), pkt.size(), parsed, error)) << error;
    EXPECT_EQ(0xdeadbeefu, parsed.xid_);
    EXPECT_EQ(1, parsed.secs_);
    EXPECT_EQ(DHCPREQUEST, messageType(parsed));
    EXPECT_EQ(H("7f000064"), *findOption(parsed.options_, 50));
    EXPECT_EQ(H("7f000001"), *findOption(parsed.options_, 54));
    EXPECT_FALSE(findOption(parsed.options_, 60));
    EXPECT_FALSE(findOption(parsed.options_, 12));
    EXPECT_FALSE(findOption(parsed.options_, 61));
}

TEST(SimPacket, longOptionIsSplit) {
    ClientParams params = testParams();
    params.vendor_class_ = Bytes(300, 'v');
    Bytes pkt = buildDiscover(params, 1, 1);
    DhcpPacket parsed;
    std::string error;
    ASSERT_TRUE(parsePacket(pkt.data(), pkt.size(), parsed, error));
    EXPECT_EQ(Bytes(300, 'v'), *findOption(parsed.options_, 60));
}

TEST(SimOptions, parseOptions) {
    struct Scenario {
        int line_;
        std::string hex_;
        bool ok_;
        std::string codes_;  // codes parsed, comma separated
    };
    const Scenario scenarios[] = {
        { __LINE__, "", true, "" },
        { __LINE__, "ff", true, "" },
        { __LINE__, "000000ff", true, "" },
        { __LINE__, "350105ff", true, "53" },
        { __LINE__, "350105", true, "53" },              // no end option
        { __LINE__, "3501050c00ff", true, "53,12" },     // zero length
        { __LINE__, "350105ff0c0161", true, "53" },      // after end: ignored
        { __LINE__, "350105ff0c", true, "53" },          // junk after end
        { __LINE__, "35", false, "" },                   // no length byte
        { __LINE__, "350105 0c", false, "53" },          // no length byte
        { __LINE__, "350105 0c05616263", false, "53" },  // length too long
        { __LINE__, "42ff", false, "" },                 // 255 bytes claimed
        { __LINE__, "0000 0c02", false, "" },            // after pads
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Bytes data = H(s.hex_);
        std::vector<DhcpOption> out;
        std::string error;
        EXPECT_EQ(s.ok_, parseOptions(data.data(), data.size(), out, error));
        EXPECT_EQ(s.ok_, error.empty()) << error;
        std::string codes;
        for (const DhcpOption& option : out) {
            codes += (codes.empty() ? "" : ",") + std::to_string(option.code_);
        }
        EXPECT_EQ(s.codes_, codes);
    }
}

/// @brief A BOOTREPLY with the given options area (hex) and file field.
Bytes replyWith(const std::string& options_hex, const Bytes& file = Bytes(),
                const Bytes& sname = Bytes()) {
    Bytes pkt(DHCP_HEADER_SIZE, 0);
    pkt[0] = 2;
    std::copy(sname.begin(), sname.end(), pkt.begin() + 44);
    std::copy(file.begin(), file.end(), pkt.begin() + 108);
    Bytes cookie = H("63825363");
    pkt.insert(pkt.end(), cookie.begin(), cookie.end());
    Bytes options = H(options_hex);
    pkt.insert(pkt.end(), options.begin(), options.end());
    return (pkt);
}

TEST(SimPacket, parse) {
    struct Scenario {
        int line_;
        Bytes pkt_;
        bool ok_;
        bool warning_;
        std::string codes_;
        std::string file_;
    };
    Bytes bad_cookie = replyWith("350105ff");
    bad_cookie[239] = 0;
    const Scenario scenarios[] = {
        { __LINE__, Bytes(), false, false, "", "" },
        { __LINE__, Bytes(239, 0), false, false, "", "" },
        { __LINE__, bad_cookie, false, false, "", "" },
        { __LINE__, replyWith(""), true, false, "", "" },
        { __LINE__, replyWith("350105ff"), true, false, "53", "" },
        { __LINE__, replyWith("35010542"), true, true, "53", "" },
        { __LINE__, replyWith("350105", B("boot.cfg")), true, false, "53",
          "boot.cfg" },
        // Overload 1: the file field holds options.
        { __LINE__, replyWith("350105340101ff", H("4203616263ff")), true,
          false, "53,52,66", "" },
        // Overload 3: file then sname.
        { __LINE__, replyWith("350105340103ff", H("4201 61ff"),
                              H("0f0162ff")),
          true, false, "53,52,66,15", "" },
        // Overload with a malformed file field: warning, no crash.
        { __LINE__, replyWith("350105340101ff", H("42ff616263")), true, true,
          "53,52", "" },
        // Overload value of the wrong size: ignored.
        { __LINE__, replyWith("350105 34020101 ff", H("4203616263ff")), true,
          false, "53,52", "B\x03" "abc\xff" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        DhcpPacket pkt;
        std::string error;
        ASSERT_EQ(s.ok_, parsePacket(s.pkt_.data(), s.pkt_.size(), pkt,
                                     error)) << error;
        if (!s.ok_) {
            EXPECT_FALSE(error.empty());
            continue;
        }
        EXPECT_EQ(s.warning_, !pkt.warning_.empty()) << pkt.warning_;
        std::string codes;
        for (const DhcpOption& option : pkt.options_) {
            codes += (codes.empty() ? "" : ",") + std::to_string(option.code_);
        }
        EXPECT_EQ(s.codes_, codes);
        EXPECT_EQ(s.file_, pkt.file_);
    }
}

TEST(SimPacket, fuzzDoesNotCrash) {
    // Random option areas: parsing must stay inside the buffer.
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; ++round) {
        Bytes pkt = replyWith("");
        size_t extra = (seed >> 8) % 80;
        for (size_t i = 0; i < extra; ++i) {
            seed = seed * 1103515245 + 12345;
            pkt.push_back(static_cast<uint8_t>(seed >> 16));
        }
        pkt[108] = 0x35;  // sometimes overloaded fields hold junk too
        DhcpPacket parsed;
        std::string error;
        ASSERT_TRUE(parsePacket(pkt.data(), pkt.size(), parsed, error));
        for (const DhcpOption& option : parsed.options_) {
            decodeOption(option);
        }
        chooseFetchTarget(parsed.options_, "f.cfg", 69);
        seed = seed * 1103515245 + 12345;
    }
}

TEST(SimOptions, findOptionConcatenates) {
    std::vector<DhcpOption> options = { T(66, "http://a"), T(1, "x"),
                                        T(66, "/b/") };
    EXPECT_EQ(B("http://a/b/"), *findOption(options, 66));
    EXPECT_FALSE(findOption(options, 67));
}

TEST(SimOptions, subOption) {
    struct Scenario {
        int line_;
        std::string hex_;
        uint8_t code_;
        bool found_;
        std::string value_hex_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "0102aabb 0201cc", 2, true, "cc" },
        { __LINE__, "0102aabb 0201cc", 1, true, "aabb" },
        { __LINE__, "0102aabb 0201cc", 3, false, "" },
        { __LINE__, "0105aabb", 1, false, "" },      // truncated
        { __LINE__, "", 1, false, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        std::optional<Bytes> value = findSubOption(H(s.hex_), s.code_);
        ASSERT_EQ(s.found_, value.has_value());
        if (s.found_) {
            EXPECT_EQ(s.value_hex_, toHex(*value));
        }
    }
}

TEST(SimOptions, decode) {
    struct Scenario {
        int line_;
        uint8_t code_;
        std::string hex_;
        std::string name_;
        std::string decoded_;
    };
    const Scenario scenarios[] = {
        { __LINE__, 1, "ffffff00", "subnet-mask", "255.255.255.0" },
        { __LINE__, 3, "0a000001 0a000002", "routers", "10.0.0.1, 10.0.0.2" },
        { __LINE__, 6, "0a0000", "domain-name-servers", "0x0a0000" },
        { __LINE__, 54, "", "dhcp-server-identifier", "(empty)" },
        { __LINE__, 150, "c0a80001", "tftp-server-address", "192.168.0.1" },
        { __LINE__, 51, "00000e10", "dhcp-lease-time", "3600" },
        { __LINE__, 51, "0e10", "dhcp-lease-time", "0x0e10" },
        { __LINE__, 2, "ffffffff", "time-offset", "-1" },
        { __LINE__, 53, "05", "dhcp-message-type", "ACK" },
        { __LINE__, 53, "09", "dhcp-message-type", "type-9" },
        { __LINE__, 53, "0506", "dhcp-message-type", "0x0506" },
        { __LINE__, 55, "01034296", "dhcp-parameter-request-list",
          "1,3,66,150" },
        { __LINE__, 66, "687474703a2f2f6100", "tftp-server-name",
          "http://a" },
        { __LINE__, 67, "0001", "boot-file-name", "0x0001" },
        { __LINE__, 43, "0203616263 0101ff", "vendor-encapsulated-options",
          "2=\"abc\"; 1=0xff" },
        { __LINE__, 43, "020961", "vendor-encapsulated-options", "0x020961" },
        { __LINE__, 43, "41424344", "vendor-encapsulated-options", "ABCD" },
        { __LINE__, 43, "41", "vendor-encapsulated-options", "A" },
        { __LINE__, 125, "00000de9 0a 01044142434402024142",
          "vivso-suboptions", "enterprise 3561: 1=\"ABCD\"; 2=\"AB\"" },
        { __LINE__, 125, "00000de9 00 00000009 03 010141",
          "vivso-suboptions", "enterprise 3561:  | enterprise 9: 1=\"A\"" },
        { __LINE__, 125, "00000de9 0c 0104414243", "vivso-suboptions",
          "0x00000de90c0104414243" },
        { __LINE__, 125, "00000de9 03 0105", "vivso-suboptions",
          "0x00000de9030105" },
        { __LINE__, 125, "0000", "vivso-suboptions", "0x0000" },
        { __LINE__, 124, "00000de9 06 03414243 0144", "vivco-suboptions",
          "enterprise 3561: \"ABC\", \"D\"" },
        { __LINE__, 124, "00000de9 02 05", "vivco-suboptions",
          "0x00000de90205" },
        { __LINE__, 200, "48656c6c6f", "option-200", "Hello" },
        { __LINE__, 200, "00ff", "option-200", "0x00ff" },
        { __LINE__, 82, "0104 65746830", "dhcp-agent-options",
          "1=\"eth0\"" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        DhcpOption option = O(s.code_, H(s.hex_));
        EXPECT_EQ(s.name_, optionName(s.code_));
        EXPECT_EQ(s.decoded_, decodeOption(option));
    }
}

TEST(SimOptions, differ) {
    std::vector<DhcpOption> offer = { O(53, H("02")), T(66, "a") };
    std::vector<DhcpOption> ack = { O(53, H("05")), T(66, "a") };
    EXPECT_FALSE(optionsDiffer(offer, ack));
    ack.push_back(O(1, H("ff000000")));
    EXPECT_TRUE(optionsDiffer(offer, ack));
    ack = { O(53, H("05")), T(66, "b") };
    EXPECT_TRUE(optionsDiffer(offer, ack));
}

// ---------------------------------------------------------------------------
// URL choice.

TEST(SimUrl, parse) {
    struct Scenario {
        int line_;
        std::string text_;
        bool ok_;
        std::string scheme_;
        std::string host_;
        uint16_t port_;
        std::string path_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "http://h/p/f", true, "http", "h", 80, "/p/f" },
        { __LINE__, "HTTP://h:8080", true, "http", "h", 8080, "/" },
        { __LINE__, "http://10.0.0.1:81/a?b=c", true, "http", "10.0.0.1", 81,
          "/a?b=c" },
        { __LINE__, "http://h?x", true, "http", "h", 80, "/?x" },
        { __LINE__, "tftp://h/f", true, "tftp", "h", 80, "/f" },
        { __LINE__, "http://", false, "", "", 0, "" },
        { __LINE__, "http://h:0/", false, "", "", 0, "" },
        { __LINE__, "http://h:65536/", false, "", "", 0, "" },
        { __LINE__, "http://h:/", false, "", "", 0, "" },
        { __LINE__, "http://u:p@h/", false, "", "", 0, "" },
        { __LINE__, "http://[::1]/", false, "", "", 0, "" },
        { __LINE__, "http://a b/", false, "", "", 0, "" },
        { __LINE__, "http://h/a\nb", false, "", "", 0, "" },
        { __LINE__, "h/p", false, "", "", 0, "" },
        { __LINE__, "://h/p", false, "", "", 0, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Url url;
        std::string error;
        ASSERT_EQ(s.ok_, parseUrl(s.text_, 80, url, error)) << error;
        if (!s.ok_) {
            EXPECT_FALSE(error.empty());
            continue;
        }
        EXPECT_EQ(s.scheme_, url.scheme_);
        EXPECT_EQ(s.host_, url.host_);
        EXPECT_EQ(s.port_, url.port_);
        EXPECT_EQ(s.path_, url.path_);
    }
}

TEST(SimUrl, join) {
    struct Scenario {
        int line_;
        std::string base_;
        std::string file_;
        std::string joined_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "http://h/p/", "f.cfg", "http://h/p/f.cfg" },
        { __LINE__, "http://h/p", "f.cfg", "http://h/p/f.cfg" },
        { __LINE__, "http://h/p/", "/f.cfg", "http://h/p/f.cfg" },
        { __LINE__, "http://h/p", "/f.cfg", "http://h/p/f.cfg" },
        { __LINE__, "", "f.cfg", "f.cfg" },
        { __LINE__, "dir", "", "dir" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        EXPECT_EQ(s.joined_, joinPath(s.base_, s.file_));
    }
}

TEST(SimUrl, choose) {
    struct Scenario {
        int line_;
        std::vector<DhcpOption> options_;
        std::string protocol_;  // empty: error expected
        std::string url_;
        std::string host_;
        uint16_t port_;
        std::string path_;
        std::string source_;
    };
    Bytes opt43 = H("0103616263");
    Bytes url43 = B("http://p43/x/");
    opt43.push_back(2);
    opt43.push_back(static_cast<uint8_t>(url43.size()));
    opt43.insert(opt43.end(), url43.begin(), url43.end());
    const Scenario scenarios[] = {
        { __LINE__, { T(66, "http://10.0.0.1:8080/prov/") }, "http",
          "http://10.0.0.1:8080/prov/f.cfg", "10.0.0.1", 8080,
          "/prov/f.cfg", "option 66" },
        { __LINE__, { T(66, "http://h/prov") }, "http",
          "http://h/prov/f.cfg", "h", 80, "/prov/f.cfg", "option 66" },
        { __LINE__, { T(66, "HTTP://h") }, "http", "HTTP://h/f.cfg", "h", 80,
          "/f.cfg", "option 66" },
        { __LINE__, { O(66, B(std::string("http://h/\0", 10))) }, "http",
          "http://h/f.cfg", "h", 80, "/f.cfg", "option 66" },
        { __LINE__, { T(66, " http://h/ ") }, "http", "http://h/f.cfg", "h",
          80, "/f.cfg", "option 66" },
        { __LINE__, { T(66, "https://h/prov/") }, "", "", "", 0, "",
          "option 66" },
        { __LINE__, { T(66, "ftp://h/prov/") }, "", "", "", 0, "",
          "option 66" },
        { __LINE__, { T(66, "http://u@h/") }, "", "", "", 0, "",
          "option 66" },
        { __LINE__, { T(66, "tftp://10.0.0.2/prov/") }, "tftp",
          "tftp://10.0.0.2:16969/prov/f.cfg", "10.0.0.2", 16969,
          "prov/f.cfg", "option 66" },
        { __LINE__, { T(66, "tftp://10.0.0.2:69") }, "tftp",
          "tftp://10.0.0.2/f.cfg", "10.0.0.2", 69, "f.cfg", "option 66" },
        { __LINE__, { T(66, "10.0.0.3") }, "tftp",
          "tftp://10.0.0.3:16969/f.cfg", "10.0.0.3", 16969, "f.cfg",
          "option 66" },
        { __LINE__, { T(66, "tftp.example.com/phones") }, "tftp",
          "tftp://tftp.example.com:16969/phones/f.cfg", "tftp.example.com",
          16969, "phones/f.cfg", "option 66" },
        { __LINE__, { T(66, "10.0.0.3:1069") }, "tftp",
          "tftp://10.0.0.3:1069/f.cfg", "10.0.0.3", 1069, "f.cfg",
          "option 66" },
        { __LINE__, { T(66, "not a host") }, "", "", "", 0, "", "option 66" },
        { __LINE__, { O(66, H("0102")) }, "", "", "", 0, "", "option 66" },
        // Option 66 comes first.
        { __LINE__, { O(150, H("0a000009")), T(66, "http://h/") }, "http",
          "http://h/f.cfg", "h", 80, "/f.cfg", "option 66" },
        { __LINE__, { O(150, H("0a000009 0a00000a")) }, "tftp",
          "tftp://10.0.0.9:16969/f.cfg", "10.0.0.9", 16969, "f.cfg",
          "option 150" },
        { __LINE__, { T(66, ""), O(150, H("0a000009")) }, "tftp",
          "tftp://10.0.0.9:16969/f.cfg", "10.0.0.9", 16969, "f.cfg",
          "option 150" },
        { __LINE__, { O(150, H("0a00")), T(160, "http://p160/dir") }, "http",
          "http://p160/dir/f.cfg", "p160", 80, "/dir/f.cfg", "option 160" },
        { __LINE__, { T(160, "tftp://p160/"), O(43, opt43) }, "http",
          "http://p43/x/f.cfg", "p43", 80, "/x/f.cfg",
          "option 43 sub-option 2" },
        { __LINE__, { O(43, H("0104616263")) }, "", "", "", 0, "", "" },
        { __LINE__, { O(43, H("02ff")) }, "", "", "", 0, "", "" },
        { __LINE__, {}, "", "", "", 0, "", "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        FetchTarget target = chooseFetchTarget(s.options_, "f.cfg", 16969);
        EXPECT_EQ(s.source_, target.source_);
        if (s.protocol_.empty()) {
            EXPECT_TRUE(target.protocol_.empty());
            EXPECT_FALSE(target.error_.empty());
            continue;
        }
        EXPECT_TRUE(target.error_.empty()) << target.error_;
        EXPECT_EQ(s.protocol_, target.protocol_);
        EXPECT_EQ(s.url_, target.url_);
        EXPECT_EQ(s.host_, target.host_);
        EXPECT_EQ(s.port_, target.port_);
        EXPECT_EQ(s.path_, target.path_);
    }
}

TEST(SimUrl, httpsIsReportedAsUnsupported) {
    FetchTarget target = chooseFetchTarget({ T(66, "https://h/") }, "f", 69);
    EXPECT_NE(std::string::npos, target.error_.find("https:// is not "
                                                    "supported"));
}

// ---------------------------------------------------------------------------
// HTTP parsing.

TEST(SimHttp, request) {
    EXPECT_EQ("GET /prov/a%20b%7B.cfg HTTP/1.1\r\n"
              "Host: h:8080\r\n"
              "User-Agent: kea-phoneprov-simulate\r\n"
              "Accept: */*\r\n"
              "Connection: close\r\n\r\n",
              buildHttpRequest("h:8080", "/prov/a b{.cfg"));
}

TEST(SimHttp, head) {
    struct Scenario {
        int line_;
        std::string raw_;
        ParseStatus status_;
        int code_;
        std::optional<size_t> length_;
        bool chunked_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
          ParseStatus::COMPLETE, 200, 5, false },
        { __LINE__, "HTTP/1.0 404 File not found\r\n\r\n",
          ParseStatus::COMPLETE, 404, std::nullopt, false },
        { __LINE__, "HTTP/1.1 200\r\ntransfer-encoding: gzip, Chunked\r\n\r\n",
          ParseStatus::COMPLETE, 200, std::nullopt, true },
        { __LINE__, "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
          ParseStatus::COMPLETE, 200, 0, false },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
          "Content-Length: 3\r\n\r\n", ParseStatus::COMPLETE, 200, 3, false },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Len", ParseStatus::INCOMPLETE,
          0, std::nullopt, false },
        { __LINE__, "", ParseStatus::INCOMPLETE, 0, std::nullopt, false },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
          "Content-Length: 4\r\n\r\n", ParseStatus::FAILED, 0, std::nullopt,
          false },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
          ParseStatus::FAILED, 0, std::nullopt, false },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999"
          "\r\n\r\n", ParseStatus::FAILED, 0, std::nullopt, false },
        { __LINE__, "HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
          ParseStatus::FAILED, 0, std::nullopt, false },
        { __LINE__, "SSH-2.0-OpenSSH\r\n\r\n", ParseStatus::FAILED, 0,
          std::nullopt, false },
        { __LINE__, "HTTP/1.1 2x0 OK\r\n\r\n", ParseStatus::FAILED, 0,
          std::nullopt, false },
        { __LINE__, "HTTP/1.1 2000 OK\r\n\r\n", ParseStatus::FAILED, 0,
          std::nullopt, false },
        { __LINE__, "HTTP/1.1 200 OK\r\n" + std::string(70000, 'x'),
          ParseStatus::FAILED, 0, std::nullopt, false },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        HttpHead head;
        std::string error;
        ASSERT_EQ(s.status_, parseHttpHead(s.raw_, head, error)) << error;
        if (s.status_ == ParseStatus::FAILED) {
            EXPECT_FALSE(error.empty());
        }
        if (s.status_ != ParseStatus::COMPLETE) {
            continue;
        }
        EXPECT_EQ(s.code_, head.status_);
        EXPECT_EQ(s.length_, head.content_length_);
        EXPECT_EQ(s.chunked_, head.chunked_);
    }
}

TEST(SimHttp, chunked) {
    struct Scenario {
        int line_;
        std::string raw_;
        ParseStatus status_;
        std::string body_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n",
          ParseStatus::COMPLETE, "hello world" },
        { __LINE__, "0\r\nX-Trailer: 1\r\n\r\n", ParseStatus::COMPLETE, "" },
        { __LINE__, "a\nabcdefghij\n0\n\n", ParseStatus::COMPLETE,
          "abcdefghij" },
        { __LINE__, "5\r\nhel", ParseStatus::INCOMPLETE, "" },
        { __LINE__, "5\r\nhello\r\n", ParseStatus::INCOMPLETE, "" },
        { __LINE__, "5\r\nhello\r\n0\r\n", ParseStatus::INCOMPLETE, "" },
        { __LINE__, "", ParseStatus::INCOMPLETE, "" },
        { __LINE__, "zz\r\n", ParseStatus::FAILED, "" },
        { __LINE__, "\r\n", ParseStatus::FAILED, "" },
        { __LINE__, "fffffffff\r\n", ParseStatus::FAILED, "" },
        { __LINE__, "3\r\nhelxx\r\n", ParseStatus::FAILED, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        std::string body = "unchanged";
        std::string error;
        ASSERT_EQ(s.status_, decodeChunked(s.raw_, body, error)) << error;
        if (s.status_ == ParseStatus::COMPLETE) {
            EXPECT_EQ(s.body_, body);
        }
    }
}

TEST(SimHttp, body) {
    struct Scenario {
        int line_;
        std::string raw_;
        bool eof_;
        ParseStatus status_;
        std::string body_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
          false, ParseStatus::COMPLETE, "hello" },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello!!",
          false, ParseStatus::COMPLETE, "hello" },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", false,
          ParseStatus::INCOMPLETE, "" },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", true,
          ParseStatus::FAILED, "" },
        { __LINE__, "HTTP/1.0 200 OK\r\n\r\nto the end", false,
          ParseStatus::INCOMPLETE, "" },
        { __LINE__, "HTTP/1.0 200 OK\r\n\r\nto the end", true,
          ParseStatus::COMPLETE, "to the end" },
        { __LINE__, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n0\r\n\r\n", false, ParseStatus::COMPLETE, "abc" },
        { __LINE__, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\nabc\r\n", true, ParseStatus::FAILED, "" },
        { __LINE__, "HTTP/1.1 204 No Content\r\n\r\n", false,
          ParseStatus::COMPLETE, "" },
        { __LINE__, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n\0\xff\n",
          false, ParseStatus::COMPLETE, std::string("\0\xff\n", 3) },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        // The literal above holds a NUL: rebuild the raw bytes with it.
        std::string raw = s.raw_;
        if (s.body_.size() == 3 && s.body_[0] == 0) {
            raw = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" + s.body_;
        }
        HttpHead head;
        std::string error;
        ASSERT_EQ(ParseStatus::COMPLETE, parseHttpHead(raw, head, error));
        std::string body;
        ASSERT_EQ(s.status_, extractHttpBody(raw, head, s.eof_, body, error))
            << error;
        if (s.status_ == ParseStatus::COMPLETE) {
            EXPECT_EQ(s.body_, body);
        }
    }
}

// ---------------------------------------------------------------------------
// TFTP packets and the receiver.

TEST(SimTftp, build) {
    EXPECT_EQ("0001" + toHex(B("prov/a.cfg")) + "00" + toHex(B("octet")) +
              "00", toHex(buildTftpRrq("prov/a.cfg")));
    EXPECT_EQ("00040102", toHex(buildTftpAck(0x0102)));
    EXPECT_EQ("00050005" + toHex(B("Unknown transfer ID")) + "00",
              toHex(buildTftpError(5, "Unknown transfer ID")));
}

TEST(SimTftp, parse) {
    struct Scenario {
        int line_;
        std::string hex_;
        bool ok_;
        uint16_t opcode_;
        uint16_t block_;
        size_t data_size_;
        std::string message_;
    };
    const std::string full_block = "0003 0001" + std::string(1024, 'a');
    const std::string too_big = full_block + "61";
    const Scenario scenarios[] = {
        { __LINE__, "", false, 0, 0, 0, "" },
        { __LINE__, "000300", false, 0, 0, 0, "" },
        { __LINE__, "00030001", true, TFTP_DATA, 1, 0, "" },
        { __LINE__, "0003ffff616263", true, TFTP_DATA, 0xffff, 3, "" },
        { __LINE__, full_block, true, TFTP_DATA, 1, 512, "" },
        { __LINE__, too_big, false, 0, 0, 0, "" },
        { __LINE__, "00040007", true, TFTP_ACK, 7, 0, "" },
        { __LINE__, "00050001 6e6f00", true, TFTP_ERROR, 0, 0, "no" },
        { __LINE__, "00050002 6e6f", true, TFTP_ERROR, 0, 0, "no" },
        { __LINE__, "00050002", true, TFTP_ERROR, 0, 0, "" },
        { __LINE__, "00060000", true, TFTP_OACK, 0, 0, "" },
        { __LINE__, "00090001", false, 0, 0, 0, "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Bytes data = H(s.hex_);
        TftpPacket pkt;
        std::string error;
        ASSERT_EQ(s.ok_, parseTftpPacket(data.data(), data.size(), pkt,
                                         error)) << error;
        if (!s.ok_) {
            continue;
        }
        EXPECT_EQ(s.opcode_, pkt.opcode_);
        EXPECT_EQ(s.block_, pkt.block_);
        EXPECT_EQ(s.data_size_, pkt.data_.size());
        EXPECT_EQ(s.message_, pkt.error_message_);
    }
}

/// @brief A DATA packet for the receiver tests.
TftpPacket dataPacket(uint16_t block, size_t size, char fill = 'x') {
    TftpPacket pkt;
    pkt.opcode_ = TFTP_DATA;
    pkt.block_ = block;
    pkt.data_.assign(size, static_cast<uint8_t>(fill));
    return (pkt);
}

TEST(SimTftp, receiver) {
    typedef TftpReceiver::Action A;
    struct Step {
        TftpPacket pkt_;
        A action_;
        uint16_t ack_;
    };
    struct Scenario {
        int line_;
        size_t limit_;
        std::vector<Step> steps_;
        size_t size_;
    };
    TftpPacket error_pkt;
    error_pkt.opcode_ = TFTP_ERROR;
    error_pkt.error_code_ = 1;
    error_pkt.error_message_ = "File not found";
    TftpPacket oack;
    oack.opcode_ = TFTP_OACK;
    const Scenario scenarios[] = {
        { __LINE__, FETCH_LIMIT, { { dataPacket(1, 10), A::DONE, 1 } }, 10 },
        { __LINE__, FETCH_LIMIT, { { dataPacket(1, 0), A::DONE, 1 } }, 0 },
        { __LINE__, FETCH_LIMIT, { { dataPacket(1, 512), A::ACK, 1 },
                                   { dataPacket(1, 512), A::IGNORE, 1 },
                                   { dataPacket(3, 512), A::IGNORE, 1 },
                                   { dataPacket(2, 512), A::ACK, 2 },
                                   { dataPacket(3, 0), A::DONE, 3 } },
          1024 },
        { __LINE__, FETCH_LIMIT, { { dataPacket(2, 10), A::IGNORE, 0 },
                                   { dataPacket(1, 10), A::DONE, 1 } }, 10 },
        { __LINE__, FETCH_LIMIT, { { error_pkt, A::FAIL, 0 } }, 0 },
        { __LINE__, FETCH_LIMIT, { { oack, A::FAIL, 0 } }, 0 },
        { __LINE__, 1000, { { dataPacket(1, 512), A::ACK, 1 },
                            { dataPacket(2, 512), A::FAIL, 1 } }, 512 },
        { __LINE__, 1024, { { dataPacket(1, 512), A::ACK, 1 },
                            { dataPacket(2, 512), A::ACK, 2 },
                            { dataPacket(3, 0), A::DONE, 3 } }, 1024 },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        TftpReceiver receiver(s.limit_);
        for (size_t i = 0; i < s.steps_.size(); ++i) {
            SCOPED_TRACE(i);
            const Step& step = s.steps_[i];
            EXPECT_EQ(step.action_, receiver.onPacket(step.pkt_));
            EXPECT_EQ(step.ack_, receiver.ackBlock());
        }
        EXPECT_EQ(s.size_, receiver.data().size());
    }
}

TEST(SimTftp, receiverBlockWraps) {
    TftpReceiver receiver(70000 * 512);
    for (uint32_t block = 1; block <= 65536; ++block) {
        ASSERT_EQ(TftpReceiver::Action::ACK,
                  receiver.onPacket(dataPacket(static_cast<uint16_t>(block),
                                               512)));
    }
    EXPECT_EQ(0, receiver.ackBlock());
    EXPECT_EQ(TftpReceiver::Action::DONE, receiver.onPacket(dataPacket(1, 1)));
    EXPECT_EQ(65536u * 512 + 1, receiver.data().size());
}

TEST(SimTftp, errorMessage) {
    TftpPacket pkt;
    pkt.opcode_ = TFTP_ERROR;
    pkt.error_code_ = 2;
    pkt.error_message_ = "Access violation";
    TftpReceiver receiver;
    EXPECT_EQ(TftpReceiver::Action::FAIL, receiver.onPacket(pkt));
    EXPECT_EQ("TFTP error 2: Access violation", receiver.error());
}

// ---------------------------------------------------------------------------
// Command line, file names, JSON.

TEST(SimArgs, parse) {
    struct Scenario {
        int line_;
        std::vector<std::string> args_;
        bool ok_;
        std::string error_part_;
    };
    const Scenario scenarios[] = {
        { __LINE__, { "--mac", "001565aabbcc" }, true, "" },
        { __LINE__, { "--mac=00:15:65:aa:bb:cc", "--json", "--quiet" }, true,
          "" },
        { __LINE__, { "--help" }, true, "" },
        { __LINE__, { "-h" }, true, "" },
        { __LINE__, {}, false, "--mac is required" },
        { __LINE__, { "--mac", "nope" }, false, "not a MAC" },
        { __LINE__, { "--mac" }, false, "needs a value" },
        { __LINE__, { "--mac", "001565aabbcc", "extra" }, false,
          "unexpected argument" },
        { __LINE__, { "--mac", "001565aabbcc", "--bogus" }, false,
          "unknown option" },
        { __LINE__, { "--mac", "001565aabbcc", "--json=1" }, false,
          "unknown option" },
        { __LINE__, { "--mac", "001565aabbcc", "--vendor-class", "a",
                      "--vendor-class-hex", "61" }, false, "not both" },
        { __LINE__, { "--mac", "001565aabbcc", "--vendor-class-hex", "6" },
          false, "not hex" },
        { __LINE__, { "--mac", "001565aabbcc", "--vendor-class", "" }, false,
          "empty" },
        { __LINE__, { "--mac", "001565aabbcc", "--server-port", "0" }, false,
          "not a number" },
        { __LINE__, { "--mac", "001565aabbcc", "--server-port", "65536" },
          false, "not a number" },
        { __LINE__, { "--mac", "001565aabbcc", "--bind-port", "0" }, true,
          "" },
        { __LINE__, { "--mac", "001565aabbcc", "--timeout", "abc" }, false,
          "not a number" },
        { __LINE__, { "--mac", "001565aabbcc", "--bind", "0.0.0.0" }, false,
          "not a usable IPv4" },
        { __LINE__, { "--mac", "001565aabbcc", "--server", "host" }, false,
          "not a usable IPv4" },
        { __LINE__, { "--mac", "001565aabbcc", "--request-options", "1,300" },
          false, "option codes" },
        { __LINE__, { "--mac", "001565aabbcc", "--client-id", "" }, false,
          "not hex" },
        { __LINE__, { "--mac", "001565aabbcc", "--output", "/tmp/x" }, false,
          "--output needs --file" },
        { __LINE__, { "--mac", "001565aabbcc", "--file", "" }, false,
          "--file is empty" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        SimOptions opts;
        std::string error;
        ASSERT_EQ(s.ok_, parseArgs(s.args_, opts, error)) << error;
        EXPECT_NE(std::string::npos, error.find(s.error_part_)) << error;
    }
}

TEST(SimArgs, values) {
    SimOptions opts;
    std::string error;
    ASSERT_TRUE(parseArgs({ "--mac", "00-15-65-AA-BB-CC" }, opts, error));
    EXPECT_EQ(0x7f000001u, opts.relay_.server_);
    EXPECT_EQ(67, opts.relay_.server_port_);
    EXPECT_EQ(0x7f000001u, opts.relay_.bind_);
    EXPECT_EQ(68, opts.relay_.bind_port_);
    EXPECT_EQ(2000, opts.relay_.timeout_ms_);
    EXPECT_EQ(69, opts.tftp_port_);
    EXPECT_EQ(14u, opts.params_.request_options_.size());
    EXPECT_FALSE(opts.params_.vendor_class_);
    EXPECT_FALSE(opts.json_ || opts.quiet_ || opts.no_fetch_ || opts.help_);

    ASSERT_TRUE(parseArgs({ "--mac", "001565aabbcc", "--vendor-class",
                            "yealink", "--server", "10.1.2.3",
                            "--server-port", "10067", "--bind=10.0.0.1",
                            "--bind-port", "10068", "--request-options",
                            "66", "--hostname", "p1", "--client-id",
                            "01:00:15", "--timeout", "150", "--file",
                            "{mac}.cfg", "--output", "/tmp/o",
                            "--tftp-port", "16969", "--json" }, opts,
                          error)) << error;
    EXPECT_EQ(B("yealink"), *opts.params_.vendor_class_);
    EXPECT_EQ(0x0a010203u, opts.relay_.server_);
    EXPECT_EQ(10067, opts.relay_.server_port_);
    EXPECT_EQ(0x0a000001u, opts.relay_.bind_);
    EXPECT_EQ(10068, opts.relay_.bind_port_);
    EXPECT_EQ(H("42"), opts.params_.request_options_);
    EXPECT_EQ("p1", opts.params_.hostname_);
    EXPECT_EQ(H("010015"), opts.params_.client_id_);
    EXPECT_EQ(150, opts.relay_.timeout_ms_);
    EXPECT_EQ("{mac}.cfg", opts.file_);
    EXPECT_EQ("/tmp/o", opts.output_);
    EXPECT_EQ(16969, opts.tftp_port_);
    EXPECT_TRUE(opts.json_);

    ASSERT_TRUE(parseArgs({ "--mac", "001565aabbcc", "--vendor-class-hex",
                            "0x00ff", "--request-options", "" }, opts, error));
    EXPECT_EQ(H("00ff"), *opts.params_.vendor_class_);
    EXPECT_TRUE(opts.params_.request_options_.empty());
}

TEST(SimArgs, expandFileName) {
    struct Scenario {
        int line_;
        std::string pattern_;
        std::string name_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "{mac}.cfg", "001565aabbcc.cfg" },
        { __LINE__, "SEP{MAC}.cnf.xml", "SEP001565AABBCC.cnf.xml" },
        { __LINE__, "{mac}/{MAC}", "001565aabbcc/001565AABBCC" },
        { __LINE__, "y000000000028.cfg", "y000000000028.cfg" },
        { __LINE__, "{mac", "{mac" },
        { __LINE__, "{Mac}", "{Mac}" },
    };
    Mac mac;
    ASSERT_TRUE(parseMac("00:15:65:aa:bb:cc", mac));
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        EXPECT_EQ(s.name_, expandFileName(s.pattern_, mac));
    }
}

TEST(SimJson, string) {
    struct Scenario {
        int line_;
        std::string text_;
        std::string json_;
    };
    const Scenario scenarios[] = {
        { __LINE__, "plain", "\"plain\"" },
        { __LINE__, "a\"b\\c", "\"a\\\"b\\\\c\"" },
        { __LINE__, "l1\nl2\r\t", "\"l1\\nl2\\r\\t\"" },
        { __LINE__, std::string("\0\x01\x1f\x7f", 4),
          "\"\\u0000\\u0001\\u001f\\u007f\"" },
        { __LINE__, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e",
          "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x9e\"" },
        { __LINE__, "\xff\xc3", "\"\\u00ff\\u00c3\"" },
        { __LINE__, "\xc0\xaf", "\"\\u00c0\\u00af\"" },          // overlong
        // A UTF-16 surrogate.
        { __LINE__, "\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"" },
        { __LINE__, "\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\"" },
        { __LINE__, "</script>", "\"</script>\"" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        std::string json = jsonString(s.text_);
        EXPECT_EQ(s.json_, json);
        EXPECT_TRUE(JsonChecker(json).valid()) << json;
    }
    EXPECT_EQ("\"a\\u00c3\\u00a9\\n\"", jsonLatin1String("a\xc3\xa9\n"));
}

TEST(SimJson, report) {
    SimReport report;
    parseMac("001565aabbcc", report.mac_);
    report.exchange_.xid_ = 0xabc;
    report.exchange_.offered_ = 0x0a000005;
    report.exchange_.server_id_ = 0x0a000001;
    DhcpPacket offer;
    offer.options_ = { O(53, H("02")), T(66, "http://h/\"q\"/") };
    report.exchange_.offer_ = offer;
    DhcpPacket ack = offer;
    ack.options_[0] = O(53, H("05"));
    ack.options_.push_back(O(43, H("0203 616263")));
    ack.yiaddr_ = 0x0a000005;
    report.exchange_.ack_ = ack;
    report.file_ = "001565aabbcc.cfg";
    report.target_ = chooseFetchTarget(ack.options_, report.file_, 69);
    FetchResult fetch;
    fetch.ok_ = true;
    fetch.protocol_ = "http";
    fetch.status_ = 200;
    fetch.data_ = "line \"1\"\n\x01\xff";
    report.fetch_ = fetch;
    std::string json = reportJson(report);
    EXPECT_TRUE(JsonChecker(json).valid()) << json;
    const char* const parts[] = {
        "\"mac\": \"00:15:65:aa:bb:cc\"",
        "\"xid\": \"0x00000abc\"",
        "\"offered\": \"10.0.0.5\"",
        "\"server-id\": \"10.0.0.1\"",
        "{\"code\": 66, \"name\": \"tftp-server-name\", \"hex\": "
        "\"687474703a2f2f682f2271222f\", \"text\": \"http://h/\\\"q\\\"/\"}",
        "{\"code\": 43, \"name\": \"vendor-encapsulated-options\", \"hex\": "
        "\"0203616263\", \"text\": \"2=\\\"abc\\\"\"}",
        "\"url\": \"http://h/\\\"q\\\"/001565aabbcc.cfg\"",
        "\"fetch\": {\"protocol\": \"http\", \"status\": 200, \"bytes\": 11}",
        "\"file\": \"line \\\"1\\\"\\n\\u0001\\u00ff\"",
        "\"file-encoding\": \"latin1\"",
    };
    for (const char* part : parts) {
        EXPECT_NE(std::string::npos, json.find(part)) << part << "\n" << json;
    }
    EXPECT_EQ(std::string::npos, json.find("\"error\""));

    SimReport failed;
    failed.exchange_.error_ = "no DHCPOFFER";
    failed.error_ = "no DHCPOFFER \"x\"";
    json = reportJson(failed);
    EXPECT_TRUE(JsonChecker(json).valid()) << json;
    EXPECT_EQ(std::string::npos, json.find("offer-options"));
    EXPECT_EQ(std::string::npos, json.find("\"fetch\""));
    EXPECT_NE(std::string::npos, json.find("\"error\": \"no DHCPOFFER "
                                           "\\\"x\\\"\""));
}

TEST(SimJson, checkerRejectsBadJson) {
    EXPECT_TRUE(JsonChecker("{\"a\": [1, \"b\", {}], \"c\": null}").valid());
    EXPECT_FALSE(JsonChecker("{\"a\": \"x\ny\"}").valid());
    EXPECT_FALSE(JsonChecker("{\"a\": 1,}").valid());
    EXPECT_FALSE(JsonChecker("{\"a\": \"\\x\"}").valid());
    EXPECT_FALSE(JsonChecker("{} {}").valid());
}

// ---------------------------------------------------------------------------
// Network clients against fake servers on 127.0.0.1.

TEST(SimNet, exchange) {
    FakeDhcpServer server(FakeDhcpServer::Mode::NORMAL,
                          { T(66, "http://127.0.0.1:1/") });
    RelayConfig relay;
    relay.server_port_ = server.port();
    relay.bind_port_ = 0;
    relay.timeout_ms_ = 1000;
    DhcpExchange exchange;
    ASSERT_TRUE(runExchange(relay, testParams(), 0x11223344, exchange))
        << exchange.error_;
    EXPECT_EQ(0x7f000064u, exchange.offered_);
    EXPECT_EQ(0x7f000001u, exchange.server_id_);
    ASSERT_TRUE(exchange.ack_);
    EXPECT_EQ(DHCPACK, messageType(*exchange.ack_));
    EXPECT_EQ(B("http://127.0.0.1:1/"), *findOption(exchange.ack_->options_,
                                                     66));
    std::vector<DhcpPacket> requests = server.requests();
    ASSERT_EQ(2u, requests.size());
    EXPECT_EQ(DHCPDISCOVER, messageType(requests[0]));
    EXPECT_EQ(DHCPREQUEST, messageType(requests[1]));
    for (const DhcpPacket& pkt : requests) {
        EXPECT_EQ(0x11223344u, pkt.xid_);
        EXPECT_EQ(1, pkt.hops_);
        EXPECT_EQ(0x7f000001u, pkt.giaddr_);
        EXPECT_EQ(1, pkt.secs_);
    }
    EXPECT_EQ(H("7f000064"), *findOption(requests[1].options_, 50));
    EXPECT_EQ(H("7f000001"), *findOption(requests[1].options_, 54));
}

TEST(SimNet, nak) {
    FakeDhcpServer server(FakeDhcpServer::Mode::NAK, {});
    RelayConfig relay;
    relay.server_port_ = server.port();
    relay.bind_port_ = 0;
    DhcpExchange exchange;
    EXPECT_FALSE(runExchange(relay, testParams(), 7, exchange));
    EXPECT_EQ("server answered DHCPNAK: address not available",
              exchange.error_);
    ASSERT_TRUE(exchange.ack_);
    EXPECT_EQ(DHCPNAK, messageType(*exchange.ack_));
}

TEST(SimNet, noOffer) {
    FakeDhcpServer server(FakeDhcpServer::Mode::SILENT, {});
    RelayConfig relay;
    relay.server_port_ = server.port();
    relay.bind_port_ = 0;
    relay.timeout_ms_ = 100;
    DhcpExchange exchange;
    EXPECT_FALSE(runExchange(relay, testParams(), 7, exchange));
    EXPECT_NE(std::string::npos, exchange.error_.find("no DHCPOFFER"));
    EXPECT_EQ(3u, server.requests().size());
    std::vector<DhcpPacket> requests = server.requests();
    EXPECT_LE(requests[0].secs_, requests[2].secs_);
}

TEST(SimNet, httpContentLength) {
    FakeHttpServer server({ "HTTP/1.1 200 OK\r\nContent-Len", "gth: 5\r\n\r\n",
                            "hel", "lo" }, false);
    // The server keeps the connection open: the client must stop reading
    // at Content-Length.
    FetchResult result = fetchHttp(httpTargetOn(server.port(), "/p/a b.cfg"),
                                   2000);
    EXPECT_TRUE(result.ok_) << result.error_;
    EXPECT_EQ(200, result.status_);
    EXPECT_EQ("hello", result.data_);
}

TEST(SimNet, httpRequestLine) {
    std::string request;
    {
        FakeHttpServer server({ "HTTP/1.0 200 OK\r\n\r\nbody to close" });
        FetchResult result = fetchHttp(httpTargetOn(server.port(), "/p/f.cfg"),
                                       2000);
        EXPECT_TRUE(result.ok_) << result.error_;
        EXPECT_EQ("body to close", result.data_);
        request = server.request();
    }
    EXPECT_EQ(0u, request.find("GET /p/f.cfg HTTP/1.1\r\n"));
    EXPECT_NE(std::string::npos, request.find("\r\nHost: 127.0.0.1:"));
    EXPECT_NE(std::string::npos, request.find("\r\nConnection: close\r\n"));
    EXPECT_NE(std::string::npos,
              request.find("\r\nUser-Agent: kea-phoneprov-simulate\r\n"));
}

TEST(SimNet, httpResponses) {
    struct Scenario {
        int line_;
        std::vector<std::string> pieces_;
        size_t limit_;
        bool ok_;
        int status_;
        std::string body_or_error_;
    };
    const Scenario scenarios[] = {
        { __LINE__, { "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
                      "4\r\nabcd\r\n", "2\r\nef\r\n0\r\n\r\n" }, FETCH_LIMIT,
          true, 200, "abcdef" },
        { __LINE__, { "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
          FETCH_LIMIT, false, 404, "HTTP status 404 Not Found" },
        { __LINE__, { "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc" },
          FETCH_LIMIT, false, 200, "connection closed after 3 of 10" },
        { __LINE__, { "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n" },
          10, false, 200, "file too large" },
        { __LINE__, { "HTTP/1.0 200 OK\r\n\r\n0123456789A" }, 10, false, 200,
          "larger than the limit" },
        { __LINE__, { "HTTP/1.0 200 OK\r\n\r\n0123456789" }, 10, true, 200,
          "0123456789" },
        { __LINE__, { "garbage\r\n\r\n" }, FETCH_LIMIT, false, 0,
          "bad HTTP status line" },
        { __LINE__, { "HTTP/1.1 200 OK\r\n" }, FETCH_LIMIT, false, 0,
          "before the end of the response header" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        FakeHttpServer server(s.pieces_);
        FetchResult result = fetchHttp(httpTargetOn(server.port(), "/f"),
                                       2000, s.limit_);
        ASSERT_EQ(s.ok_, result.ok_) << result.error_;
        EXPECT_EQ(s.status_, result.status_);
        EXPECT_EQ("http", result.protocol_);
        if (s.ok_) {
            EXPECT_EQ(s.body_or_error_, result.data_);
        } else {
            EXPECT_NE(std::string::npos,
                      result.error_.find(s.body_or_error_)) << result.error_;
        }
    }
}

TEST(SimNet, httpTimeout) {
    FakeHttpServer server({}, false);
    auto start = std::chrono::steady_clock::now();
    FetchResult result = fetchHttp(httpTargetOn(server.port(), "/f"), 200);
    EXPECT_FALSE(result.ok_);
    EXPECT_NE(std::string::npos, result.error_.find("timed out"));
    EXPECT_LT(std::chrono::steady_clock::now() - start,
              std::chrono::seconds(3));
}

TEST(SimNet, httpRefused) {
    uint16_t port = 0;
    int fd = openLoopback(SOCK_STREAM, port);
    close(fd);  // nothing listens on the port now
    FetchResult result = fetchHttp(httpTargetOn(port, "/f"), 1000);
    EXPECT_FALSE(result.ok_);
    EXPECT_NE(std::string::npos, result.error_.find("cannot connect"));
}

TEST(SimNet, tftpTransfer) {
    const std::string block1(512, 'a');
    const std::string block2 = "tail";
    std::atomic<int> acks1{ 0 };
    std::atomic<bool> got_tid_error{ false };
    Bytes rrq_seen;
    {
        FakeTftpServer server([&](const Bytes& rrq, const sockaddr_in& to) {
            rrq_seen = rrq;
            uint16_t tid = 0;
            uint16_t other = 0;
            int fd = openLoopback(SOCK_DGRAM, tid);
            int stranger = openLoopback(SOCK_DGRAM, other);
            sendTo(fd, tftpData(1, block1), to);
            acks1 += expectAck(fd, 1) ? 1 : 0;
            // A duplicate DATA 1: the client must not answer it...
            sendTo(fd, tftpData(1, block1), to);
            // ...and a packet from another TID gets ERROR 5.
            sendTo(stranger, tftpData(2, "evil"), to);
            Bytes buf;
            sockaddr_in from;
            if (recvWithin(stranger, buf, from, 2000) > 4) {
                got_tid_error = buf[1] == TFTP_ERROR && buf[3] == 5;
            }
            // The ACK is "lost": the client resends it after its timeout.
            acks1 += expectAck(fd, 1) ? 1 : 0;
            sendTo(fd, tftpData(2, block2), to);
            expectAck(fd, 2);
            close(stranger);
            close(fd);
        });
        FetchResult result = fetchTftp(tftpTargetOn(server.port(),
                                                    "prov/a.cfg"), 300);
        EXPECT_TRUE(result.ok_) << result.error_;
        EXPECT_EQ("tftp", result.protocol_);
        EXPECT_EQ(block1 + block2, result.data_);
    }
    EXPECT_EQ(buildTftpRrq("prov/a.cfg"), rrq_seen);
    EXPECT_EQ(2, acks1.load());
    EXPECT_TRUE(got_tid_error.load());
}

TEST(SimNet, tftpError) {
    FakeTftpServer server([](const Bytes&, const sockaddr_in& to) {
        uint16_t tid = 0;
        int fd = openLoopback(SOCK_DGRAM, tid);
        sendTo(fd, buildTftpError(1, "File not found"), to);
        close(fd);
    });
    FetchResult result = fetchTftp(tftpTargetOn(server.port(), "x"), 1000);
    EXPECT_FALSE(result.ok_);
    EXPECT_EQ("TFTP error 1: File not found", result.error_);
}

TEST(SimNet, tftpLimit) {
    std::atomic<bool> got_error{ false };
    {
        FakeTftpServer server([&](const Bytes&, const sockaddr_in& to) {
            uint16_t tid = 0;
            int fd = openLoopback(SOCK_DGRAM, tid);
            sendTo(fd, tftpData(1, std::string(512, 'x')), to);
            expectAck(fd, 1);
            sendTo(fd, tftpData(2, std::string(512, 'x')), to);
            Bytes buf;
            sockaddr_in from;
            if (recvWithin(fd, buf, from, 2000) > 4) {
                got_error = buf[1] == TFTP_ERROR && buf[3] == 3;
            }
            close(fd);
        });
        FetchResult result = fetchTftp(tftpTargetOn(server.port(), "x"), 1000,
                                       3, 700);
        EXPECT_FALSE(result.ok_);
        EXPECT_NE(std::string::npos, result.error_.find("limit"));
    }
    EXPECT_TRUE(got_error.load());
}

TEST(SimNet, tftpNoAnswer) {
    FakeTftpServer server([](const Bytes&, const sockaddr_in&) {
        // Never answers.
    });
    FetchResult result = fetchTftp(tftpTargetOn(server.port(), "x"), 100);
    EXPECT_FALSE(result.ok_);
    EXPECT_NE(std::string::npos, result.error_.find("timed out after 3"));
}

// ---------------------------------------------------------------------------
// The whole command against the fake servers.

/// @brief Options for a run against fake servers.
SimOptions loopbackOptions(uint16_t dhcp_port) {
    SimOptions opts;
    parseMac("00:15:65:aa:bb:cc", opts.mac_);
    opts.relay_.server_port_ = dhcp_port;
    opts.relay_.bind_port_ = 0;
    opts.relay_.timeout_ms_ = 1000;
    parseCodeList(DEFAULT_REQUEST_OPTIONS, opts.params_.request_options_);
    return (opts);
}

TEST(SimRun, httpJsonAndOutput) {
    FakeHttpServer http({ "HTTP/1.1 200 OK\r\nContent-Length: 14\r\n\r\n"
                          "account=\"1\"\n\x01\n" });
    std::string base = "http://127.0.0.1:" + std::to_string(http.port()) +
        "/prov";
    FakeDhcpServer dhcp(FakeDhcpServer::Mode::NORMAL, { T(66, base) });
    SimOptions opts = loopbackOptions(dhcp.port());
    opts.file_ = "{mac}.cfg";
    opts.json_ = true;
    char path[] = "/tmp/sim_test_out.XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    opts.output_ = path;
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(0, runSimulate(opts, out, err)) << err.str();
    std::string json = out.str();
    ASSERT_FALSE(json.empty());
    EXPECT_EQ('\n', json.back());
    json.pop_back();
    EXPECT_EQ(std::string::npos, json.find('\n'));
    EXPECT_TRUE(JsonChecker(json).valid()) << json;
    EXPECT_NE(std::string::npos, json.find("\"url\": \"" + base +
                                           "/001565aabbcc.cfg\""));
    EXPECT_NE(std::string::npos, json.find("\"offered\": \"127.0.0.100\""));
    EXPECT_NE(std::string::npos, json.find("\"file\": \"account=\\\"1\\\"\\n"
                                           "\\u0001\\n\""));
    EXPECT_NE(std::string::npos, json.find("\"status\": 200"));
    std::ifstream written(path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(written)),
                        std::istreambuf_iterator<char>());
    EXPECT_EQ("account=\"1\"\n\x01\n", content);
    std::remove(path);
    EXPECT_EQ(0u, http.request().find("GET /prov/001565aabbcc.cfg "));
    std::vector<DhcpPacket> requests = dhcp.requests();
    ASSERT_EQ(2u, requests.size());
    for (const DhcpPacket& pkt : requests) {
        EXPECT_EQ("001565aabbcc" + std::string(20, '0'),
                  toHex(Bytes(pkt.chaddr_.begin(), pkt.chaddr_.end())));
        EXPECT_EQ(6, pkt.hlen_);
    }
}

TEST(SimRun, textReport) {
    FakeHttpServer http({ "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n"
                          "k=v\r\n\n" });
    std::string base = "http://127.0.0.1:" + std::to_string(http.port()) +
        "/";
    FakeDhcpServer dhcp(FakeDhcpServer::Mode::NORMAL,
                        { T(66, base), O(150, H("7f000001")) });
    SimOptions opts = loopbackOptions(dhcp.port());
    opts.file_ = "SEP{MAC}.cnf.xml";
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(0, runSimulate(opts, out, err)) << err.str();
    std::string text = out.str();
    const char* const parts[] = {
        "OFFER from 127.0.0.1: 127.0.0.100 (server-id 127.0.0.1)",
        "ACK: 127.0.0.100",
        "   66 tftp-server-name",
        "  150 tftp-server-address          127.0.0.1  [7f000001]",
        "OFFER options (they differ",
        "fetch " ,
        "SEP001565AABBCC.cnf.xml (from option 66)",
        "fetched 6 bytes over http (HTTP 200)",
        "k=v\r\n\n----- end of SEP001565AABBCC.cnf.xml -----",
    };
    for (const char* part : parts) {
        EXPECT_NE(std::string::npos, text.find(part)) << part << "\n" << text;
    }
    EXPECT_TRUE(err.str().empty()) << err.str();
}

TEST(SimRun, exitCodes) {
    struct Scenario {
        int line_;
        FakeDhcpServer::Mode mode_;
        std::vector<DhcpOption> ack_options_;
        std::string file_;
        bool no_fetch_;
        int code_;
        std::string stderr_part_;
        std::string stdout_part_;
    };
    const Scenario scenarios[] = {
        { __LINE__, FakeDhcpServer::Mode::NORMAL, {}, "", false, 0, "",
          "no --file given: nothing fetched" },
        { __LINE__, FakeDhcpServer::Mode::NORMAL, {}, "a.cfg", true, 0, "",
          "ACK: 127.0.0.100" },
        { __LINE__, FakeDhcpServer::Mode::NORMAL, {}, "a.cfg", false, 3,
          "no provisioning server in the ACK", "" },
        { __LINE__, FakeDhcpServer::Mode::NORMAL,
          { T(66, "https://127.0.0.1/") }, "a.cfg", false, 3,
          "https:// is not supported", "" },
        { __LINE__, FakeDhcpServer::Mode::NAK, {}, "a.cfg", false, 2,
          "DHCPNAK", "NAK: 0.0.0.0" },
        { __LINE__, FakeDhcpServer::Mode::SILENT, {}, "a.cfg", false, 2,
          "no DHCPOFFER", "" },
    };
    for (const Scenario& s : scenarios) {
        SCOPED_TRACE(s.line_);
        FakeDhcpServer dhcp(s.mode_, s.ack_options_);
        SimOptions opts = loopbackOptions(dhcp.port());
        opts.relay_.timeout_ms_ = 200;
        opts.file_ = s.file_;
        opts.no_fetch_ = s.no_fetch_;
        std::ostringstream out;
        std::ostringstream err;
        EXPECT_EQ(s.code_, runSimulate(opts, out, err));
        EXPECT_NE(std::string::npos, err.str().find(s.stderr_part_))
            << err.str();
        EXPECT_NE(std::string::npos, out.str().find(s.stdout_part_))
            << out.str();
    }
}

TEST(SimRun, quietPrintsNothing) {
    FakeDhcpServer dhcp(FakeDhcpServer::Mode::NORMAL, {});
    SimOptions opts = loopbackOptions(dhcp.port());
    opts.quiet_ = true;
    opts.no_fetch_ = true;
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(0, runSimulate(opts, out, err));
    EXPECT_TRUE(out.str().empty()) << out.str();
    EXPECT_TRUE(err.str().empty()) << err.str();
}

TEST(SimRun, usageErrors) {
    const char* const bad[] = { "simulate", "--mac", "zz" };
    EXPECT_EQ(1, cmdSimulate(3, const_cast<char**>(bad)));
    const char* const help[] = { "simulate", "--help" };
    testing::internal::CaptureStdout();
    EXPECT_EQ(0, cmdSimulate(2, const_cast<char**>(help)));
    EXPECT_NE(std::string::npos,
              testing::internal::GetCapturedStdout().find("usage:"));
}

}  // namespace
