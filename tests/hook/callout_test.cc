// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Callouts called through Kea's HooksManager with real Pkt4 objects.
#include "hook_fixture.h"

#include <dhcp/iface_mgr.h>
#include <dhcpsrv/lease.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <chrono>
#include <netinet/in.h>
#include <set>
#include <sys/socket.h>
#include <thread>

using namespace phoneprov_test;

namespace {

const std::vector<uint8_t> kYealinkMac = {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc};
const std::vector<uint8_t> kIntelMac = {0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03};

/// @brief A "phone" on loopback for re-sync NOTIFYs: a bound UDP socket (its address
/// and port in `addr`), or -1.
int phoneSocket(sockaddr_in& addr) {
    int sock = socket(AF_INET, SOCK_DGRAM, 0);
    addr = sockaddr_in{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (sock < 0 || bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        if (sock >= 0) {
            close(sock);
        }
        return (-1);
    }
    return (sock);
}

/// @brief Kea subnets with the reserved Yealink 00:15:65:aa:bb:cc and one account.
std::string yealinkReservation(const std::string& password) {
    return (R"({"subnet4": [{"id": 1, "subnet": "127.0.0.0/8", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "hostname": "p1",
         "user-context": {"phoneprov": {"accounts": [{"user": "1001", "password": ")" +
            password + R"("}]}}}]}]})");
}

class CalloutTest : public HookFixture {
protected:
    void SetUp() override {
        HookFixture::SetUp();
        ASSERT_TRUE(load(goodParams()));
    }

    /// @brief Waits (bounded) until a file exists under the output folder.
    bool waitFor(const std::string& rel, int ms = 20000) const {
        for (int i = 0;; ++i) {
            struct stat st;
            if (stat((out_ + "/" + rel).c_str(), &st) == 0) {
                return (true);
            }
            if (i >= ms / 10) {
                return (false);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }

    std::string readOut(const std::string& rel) const {
        std::ifstream in(out_ + "/" + rel);
        std::stringstream ss;
        ss << in.rdbuf();
        return (ss.str());
    }

    /// @brief The MAC of reserved Yealink phone i (reservePhones()).
    static std::vector<uint8_t> phoneMac(int i) {
        return std::vector<uint8_t>{0x00, 0x15, 0x65, 0x10, static_cast<uint8_t>(i >> 8),
                                    static_cast<uint8_t>(i & 0xff)};
    }
    static std::string phoneFile(int i) {
        char name[64];
        snprintf(name, sizeof(name), "yealink/0015651%03x%02x.cfg", i >> 8, i & 0xff);
        return (name);
    }

    /// @brief Commits a configuration with n reserved Yealink phones (an account each;
    /// the phones in `slow` get `slowAccounts` accounts, so that their render takes long).
    void reservePhones(int n, const std::set<int>& slow = {}, int slowAccounts = 0) {
        std::string hosts;
        for (int i = 0; i < n; ++i) {
            char mac[32];
            snprintf(mac, sizeof(mac), "00:15:65:10:%02x:%02x", i >> 8, i & 0xff);
            std::string accounts;
            int count = slow.count(i) ? slowAccounts : 1;
            for (int a = 0; a < count; ++a) {
                accounts += std::string(a ? "," : "") + R"({"user": ")" +
                            std::to_string(1000 + i) + "-" + std::to_string(a) +
                            R"(", "password": "pw"})";
            }
            hosts += std::string(i ? "," : "") + R"({"hw-address": ")" + mac +
                     R"(", "user-context": {"phoneprov": {"accounts": [)" + accounts + "]}}}";
        }
        configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [)" +
                   hosts + "]}]}");
    }

    /// @brief pkt4_receive then pkt4_send with a response of `type`: the status.
    CalloutHandle::CalloutNextStep sendStatus(const Pkt4Ptr& q, uint8_t type) {
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("query4", q);
        HooksManager::callCallouts(hookIndex("pkt4_receive"), *handle);
        Pkt4Ptr rsp(new Pkt4(type, q->getTransid()));
        rsp->setYiaddr(isc::asiolink::IOAddress("192.0.2.100"));
        handle->setArgument("response4", rsp);
        HooksManager::callCallouts(hookIndex("pkt4_send"), *handle);
        return (handle->getStatus());
    }

    /// @brief How often `id` was logged.
    size_t logged(const std::string& id) {
        std::string text = logText();
        size_t n = 0;
        for (size_t at = text.find(id); at != std::string::npos; at = text.find(id, at + 1)) {
            ++n;
        }
        return (n);
    }
};

/// @brief One client and what the hook must do with it.
struct ClassScenario {
    int line_;
    std::vector<uint8_t> mac;
    std::string vendorClass;
    std::string vendorClassName;  ///< "" for not a phone
    uint16_t code;                ///< an option the OFFER must carry, 0 for none
    std::string value;            ///< its exact bytes
};

TEST_F(CalloutTest, ClassesAndOptionsPerClient) {
    const std::string url = "http://127.0.0.1:8080/prov/";
    const std::vector<ClassScenario> scenarios = {
        {__LINE__, kYealinkMac, "yealink", "PHONEPROV_YEALINK", 66, url + "yealink/"},
        {__LINE__, kYealinkMac, "", "PHONEPROV_YEALINK", 66, url + "yealink/"},
        {__LINE__, {0x00, 0x0b, 0x82, 0x27, 0x3b, 0x89}, "Grandstream GXP1628 dslforum.org",
         "PHONEPROV_GRANDSTREAM", 66, url + "grandstream/"},
        {__LINE__, {0x00, 0x1e, 0x4a, 0x00, 0x00, 0x01}, "Cisco Systems, Inc. IP Phone CP-8861",
         "PHONEPROV_CISCO", 150, std::string("\xc0\x00\x02\x45", 4)},
        {__LINE__, kIntelMac, "MSFT 5.0", "", 0, ""},
        {__LINE__, kIntelMac, "android-dhcp-13", "", 0, ""},
        {__LINE__, kIntelMac, "", "", 0, ""},
        // A Cisco MAC alone is not enough: Cisco makes switches and access points.
        {__LINE__, {0x00, 0x1e, 0x4a, 0x00, 0x00, 0x02}, "Cisco AP c2700", "", 0, ""},
        {__LINE__, {0x00, 0x1e, 0x4a, 0x00, 0x00, 0x03}, "", "", 0, ""},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Pkt4Ptr q = query(DHCPDISCOVER, s.mac, s.vendorClass);
        Pkt4Ptr rsp = exchange(q);
        if (s.vendorClassName.empty()) {
            EXPECT_FALSE(q->inClass("PHONEPROV"));
            EXPECT_FALSE(rsp->getOption(66));
            EXPECT_FALSE(rsp->getOption(150));
            EXPECT_FALSE(rsp->getOption(43));
            continue;
        }
        EXPECT_TRUE(q->inClass("PHONEPROV"));
        EXPECT_TRUE(q->inClass(s.vendorClassName));
        OptionPtr opt = rsp->getOption(s.code);
        ASSERT_TRUE(opt);
        EXPECT_EQ(s.value, bytes(opt));
    }
}

/// @brief An option a vendor's phone must find in its OFFER, byte for byte.
struct VendorScenario {
    int line_;
    std::vector<uint8_t> mac;
    std::string vendorClass;
    uint16_t code;
    std::string bytes;
};

TEST_F(CalloutTest, EveryVendorGetsTheBytesItReads) {
    const std::string base = "http://127.0.0.1:8080/prov";
    auto tlv = [](uint8_t code, const std::string& v) {
        return (std::string(1, static_cast<char>(code)) +
                std::string(1, static_cast<char>(v.size())) + v);
    };
    const std::vector<VendorScenario> scenarios = {
        {__LINE__, {0x00, 0x15, 0x65, 1, 0, 1}, "yealink", 66, base + "/yealink/"},
        {__LINE__, {0x00, 0x0b, 0x82, 1, 0, 2}, "Grandstream GXP1628 dslforum.org", 66, base + "/grandstream/"},
        {__LINE__, {0x00, 0x0b, 0x82, 1, 0, 2}, "Grandstream GXP1628 dslforum.org", 160, base + "/grandstream/"},
        {__LINE__, {0x00, 0x04, 0xf2, 1, 0, 3}, "Polycom-VVX310", 66, base + "/polycom/"},
        {__LINE__, {0x00, 0x04, 0xf2, 1, 0, 3}, "Polycom-VVX310", 160, base + "/polycom/"},
        {__LINE__, {0x00, 0x1e, 0x4a, 1, 0, 4}, "Cisco Systems, Inc. IP Phone CP-7961G", 150,
         std::string("\xc0\x00\x02\x45", 4)},
        {__LINE__, {0x00, 0x26, 0x99, 1, 0, 5}, "Cisco SPA504G", 66, "192.0.2.69"},
        {__LINE__, {0x00, 0x26, 0x99, 1, 0, 5}, "Cisco SPA504G", 160, base + "/$PSN.xml"},
        {__LINE__, {0x00, 0x04, 0x13, 1, 0, 6}, "snom320", 66, base + "/snom/"},
        {__LINE__, {0x0c, 0x38, 0x3e, 1, 0, 7}, "Fanvil X4U", 66, base + "/fanvil/"},
        {__LINE__, {0x00, 0x1f, 0xc1, 1, 0, 8}, "Htek UC926", 66, base + "/htek/"},
        {__LINE__, {0x7c, 0x2f, 0x80, 1, 0, 9}, "Gigaset_N720_DM_PRO", 114, base + "/gigaset/"},
        {__LINE__, {0x00, 0x80, 0xf0, 1, 0, 10}, "Panasonic", 66,
         base + "/panasonic/Config{MAC}.cfg"},
        {__LINE__, {0x00, 0x08, 0x5d, 1, 0, 11}, "AastraIPPhone6737i", 43,
         tlv(2, base + "/mitel/") + tlv(3, std::string(1, '\0'))},
        {__LINE__, {0x00, 0x04, 0x0d, 1, 0, 12}, "ccp.avaya.com", 242,
         "HTTPSRVR=127.0.0.1,HTTPPORT=8080,HTTPDIR=prov/avaya"},
        {__LINE__, {0x00, 0x90, 0x8f, 1, 0, 13}, "AUDC-IPPhone-445HD_UC_3.4.8/1.0", 160,
         base + "/audiocodes/"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        for (uint8_t type : {DHCPOFFER, DHCPACK}) {
            Pkt4Ptr q = query(type == DHCPOFFER ? DHCPDISCOVER : DHCPREQUEST, s.mac, s.vendorClass);
            Pkt4Ptr rsp = exchange(q, type);
            OptionPtr opt = rsp->getOption(s.code);
            ASSERT_TRUE(opt) << "option " << s.code;
            EXPECT_EQ(s.bytes, bytes(opt));
            // On the wire, as Kea packs it: code, length, the same bytes.
            isc::util::OutputBuffer buf(0);
            opt->pack(buf);
            ASSERT_EQ(s.bytes.size() + 2, buf.getLength());
            const uint8_t* wire = static_cast<const uint8_t*>(buf.getData());
            EXPECT_EQ(s.code, wire[0]);
            EXPECT_EQ(s.bytes.size(), wire[1]);
        }
    }
}

TEST_F(CalloutTest, CustomOptionAddedOnRequest) {
    // Yealink reads a custom option (128-254) before 66: an admin adds one.
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = goodParams();
    p->set("vendors", Element::fromJSON(R"({"yealink": {"add-options": [
        {"code": 160, "type": "string", "value": "{{vendor-url}}"}]}})"));
    ASSERT_TRUE(load(p));
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    ASSERT_TRUE(rsp->getOption(160));
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", bytes(rsp->getOption(160)));
    EXPECT_TRUE(rsp->getOption(66));
}

TEST_F(CalloutTest, ResyncOnChangeNotifiesThePhone) {
    // A "phone" on loopback: a UDP socket where the leased address's SIP port is.
    sockaddr_in addr{};
    int sock = phoneSocket(addr);
    ASSERT_GE(sock, 0);
    timeval tv{5, 0};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = goodParams();
    p->set("resync-on-change", Element::create(true));
    p->set("resync-port", Element::create(static_cast<int64_t>(ntohs(addr.sin_port))));
    ASSERT_TRUE(load(p));
    configured(yealinkReservation("x"));
    // Rendered before it boots (render-reserved); booting, it fetches its file anyway:
    // its files are current, so no NOTIFY.
    ASSERT_TRUE(waitFor("yealink/001565aabbcc.cfg"));
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {}, "127.0.0.1");
    char buf[4096];
    timeval brief{0, 500000};
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &brief, sizeof(brief));
    EXPECT_LT(recv(sock, buf, sizeof(buf) - 1, 0), 0) << "a NOTIFY for a phone whose file is current";
    setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    // Its data changes while it runs: the new configuration renders it at once, at its
    // last address, and tells it to fetch its file again.
    configured(yealinkReservation("y"));
    ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);
    close(sock);
    ASSERT_GT(n, 0) << "no NOTIFY arrived";
    EXPECT_NE(std::string::npos, readOut("yealink/001565aabbcc.cfg").find("password = y\n"));
    std::string msg(buf, static_cast<size_t>(n));
    EXPECT_EQ(0u, msg.find("NOTIFY sip:127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + " SIP/2.0\r\n"))
        << msg;
    EXPECT_NE(std::string::npos, msg.find("\r\nEvent: check-sync;reboot=false\r\n")) << msg;
}

// Issue 23: a packet alone (a spoofed one with the phone's MAC and a new model in
// option 60) never makes the hook send a re-sync NOTIFY; a change of the phone's
// reservation does, at most once per resync-min-interval.
TEST_F(CalloutTest, ResyncOnlyForReservationChangesAtMostOncePerInterval) {
    sockaddr_in addr{};
    int sock = phoneSocket(addr);
    ASSERT_GE(sock, 0);
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = goodParams();
    p->set("resync-on-change", Element::create(true));
    p->set("resync-port", Element::create(static_cast<int64_t>(ntohs(addr.sin_port))));
    p->set("render-interval", Element::create(static_cast<int64_t>(0)));  // every packet renders
    ASSERT_TRUE(load(p));
    // Whether a NOTIFY arrives within `ms`.
    auto notified = [&](int ms) {
        timeval tv{ms / 1000, (ms % 1000) * 1000};
        setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[4096];
        return (recv(sock, buf, sizeof(buf), 0) > 0);
    };
    auto fileHas = [&](const std::string& rel, const std::string& text) {
        for (int i = 0; i < 500; ++i) {
            if (readOut(rel).find(text) != std::string::npos) {
                return (true);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return (false);
    };
    configured(yealinkReservation("x"));
    ASSERT_TRUE(fileHas("yealink/001565aabbcc.cfg", "password = x\n"));
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {}, "127.0.0.1");
    EXPECT_FALSE(notified(300));
    // A packet with the phone's MAC and a new model: its files change (the model's
    // file appears), no NOTIFY.
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink T46S"), DHCPOFFER, {}, "127.0.0.1");
    ASSERT_TRUE(waitFor("yealink/y000000000066.cfg"));  // T46S: model code 066
    EXPECT_FALSE(notified(700)) << "a re-sync NOTIFY for a change that came from a packet";
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {}, "127.0.0.1");
    EXPECT_FALSE(notified(700)) << "a re-sync NOTIFY for a change that came from a packet";
    // Its reservation changes: one NOTIFY.
    configured(yealinkReservation("y"));
    ASSERT_TRUE(fileHas("yealink/001565aabbcc.cfg", "password = y\n"));
    EXPECT_TRUE(notified(5000)) << "no NOTIFY after the reservation changed";
    // Again within resync-min-interval (300 s by default): the file changes, no NOTIFY.
    configured(yealinkReservation("z"));
    ASSERT_TRUE(fileHas("yealink/001565aabbcc.cfg", "password = z\n"));
    EXPECT_FALSE(notified(700)) << "a second NOTIFY within resync-min-interval";
    close(sock);
}

TEST_F(CalloutTest, AckCarriesOptionsToo) {
    Pkt4Ptr rsp = exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK);
    ASSERT_TRUE(rsp->getOption(66));
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", bytes(rsp->getOption(66)));
}

TEST_F(CalloutTest, OtherResponsesAreLeftAlone) {
    Pkt4Ptr rsp = exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPNAK);
    EXPECT_FALSE(rsp->getOption(66));
}

TEST_F(CalloutTest, SubnetOption66IsReplacedForPhonesByDefault) {
    OptionPtr subnet66(new OptionString(Option::V4, 66, "tftp.example.com"));
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {subnet66});
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", bytes(rsp->getOption(66)));
    // Only one option 66 goes out.
    EXPECT_EQ(1u, rsp->options_.count(66));
    // Laptops keep the subnet's option.
    Pkt4Ptr laptop = exchange(query(DHCPDISCOVER, kIntelMac, "MSFT 5.0"), DHCPOFFER, {subnet66});
    EXPECT_EQ("tftp.example.com", bytes(laptop->getOption(66)));
}

TEST_F(CalloutTest, OverrideCanBeTurnedOffPerVendor) {
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = goodParams();
    p->set("vendors", Element::fromJSON("{\"yealink\": {\"override-subnet-options\": false}}"));
    ASSERT_TRUE(load(p));
    OptionPtr subnet66(new OptionString(Option::V4, 66, "tftp.example.com"));
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {subnet66});
    EXPECT_EQ("tftp.example.com", bytes(rsp->getOption(66)));
}

TEST_F(CalloutTest, ReservationOptionAlwaysWins) {
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "hostname": "p1",
         "option-data": [{"code": 66, "data": "http://own.example/"}]}]}]})");
    OptionPtr host66(new OptionString(Option::V4, 66, "http://own.example/"));
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {host66});
    EXPECT_EQ("http://own.example/", bytes(rsp->getOption(66)));
}

TEST_F(CalloutTest, ReservationPinsVendorAndModel) {
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "3c:22:fb:01:02:03", "hostname": "p2",
         "user-context": {"phoneprov": {"vendor": "snom", "model": "D785"}}}]}]})");
    Pkt4Ptr q = query(DHCPDISCOVER, kIntelMac, "");
    Pkt4Ptr rsp = exchange(q);
    EXPECT_TRUE(q->inClass("PHONEPROV_SNOM"));
    EXPECT_TRUE(rsp->getOption(66));
}

TEST_F(CalloutTest, AutoClassesFollowTheConfiguration) {
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = goodParams();
    p->set("client-classes", Element::create("auto"));
    ASSERT_TRUE(load(p));
    // A configuration that never names the classes: phones get options, no classes.
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24"}]})");
    // No classes needed: no pkt4_receive either (pkt4_send identifies the phone).
    EXPECT_FALSE(HooksManager::calloutsPresent(hookIndex("pkt4_receive")));
    Pkt4Ptr q = query(DHCPDISCOVER, kYealinkMac, "yealink");
    Pkt4Ptr rsp = exchange(q);
    EXPECT_FALSE(q->inClass("PHONEPROV"));
    EXPECT_TRUE(rsp->getOption(66));
    // A pool guarded by PHONEPROV: the classes are added.
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
        "pools": [{"pool": "192.0.2.10-192.0.2.20", "client-class": "PHONEPROV"}]}]})");
    EXPECT_TRUE(HooksManager::calloutsPresent(hookIndex("pkt4_receive")));
    q = query(DHCPDISCOVER, kYealinkMac, "yealink");
    exchange(q);
    EXPECT_TRUE(q->inClass("PHONEPROV"));
    EXPECT_TRUE(q->inClass("PHONEPROV_YEALINK"));
    // A class expression naming one vendor's class also counts.
    configured(R"J({"client-classes": [{"name": "X", "test": "member('PHONEPROV_SNOM')"}]})J");
    q = query(DHCPDISCOVER, kYealinkMac, "yealink");
    exchange(q);
    EXPECT_TRUE(q->inClass("PHONEPROV_YEALINK"));
    // Hook parameters alone do not count.
    configured(R"({"hooks-libraries": [{"library": "x", "parameters": {"c": "PHONEPROV"}}]})");
    EXPECT_FALSE(HooksManager::calloutsPresent(hookIndex("pkt4_receive")));
    q = query(DHCPDISCOVER, kYealinkMac, "yealink");
    rsp = exchange(q);
    EXPECT_FALSE(q->inClass("PHONEPROV"));
    EXPECT_TRUE(rsp->getOption(66));
}

TEST_F(CalloutTest, HostileHardwareAddressesAreNotPhones) {
    struct Hostile {
        int line_;
        std::vector<uint8_t> mac;
        uint8_t htype;
    };
    const std::vector<Hostile> scenarios = {
        {__LINE__, {}, HTYPE_ETHER},
        {__LINE__, {0x00, 0x15, 0x65, 0x00, 0x00}, HTYPE_ETHER},
        {__LINE__, std::vector<uint8_t>(16, 0x15), HTYPE_ETHER},
        {__LINE__, {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, 6},
        {__LINE__, {0, 0, 0, 0, 0, 0}, HTYPE_ETHER},
        {__LINE__, {0x01, 0x15, 0x65, 0xaa, 0xbb, 0xcc}, HTYPE_ETHER},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        Pkt4Ptr q = query(DHCPDISCOVER, s.mac, "yealink", s.htype);
        Pkt4Ptr rsp;
        ASSERT_NO_THROW(rsp = exchange(q));
        EXPECT_FALSE(q->inClass("PHONEPROV"));
        EXPECT_FALSE(rsp->getOption(66));
    }
}

TEST_F(CalloutTest, HostileVendorClassesNeverThrow) {
    std::vector<std::string> classes = {
        std::string(255, '\0'), std::string("yealink\0\0\0", 10), std::string("\xff\xfe\x80", 3),
        std::string(255, 'A'), "yealink\r\nX-Injected: 1", std::string("Grandstream \0GXP", 16),
    };
    for (size_t i = 0; i < classes.size(); ++i) {
        SCOPED_TRACE(i);
        Pkt4Ptr q = query(DHCPDISCOVER, kIntelMac, classes[i]);
        ASSERT_NO_THROW(exchange(q));
    }
    // Trailing NULs are tolerated: "yealink\0\0\0" is a Yealink.
    Pkt4Ptr q = query(DHCPDISCOVER, kIntelMac, std::string("yealink\0\0\0", 10));
    exchange(q);
    EXPECT_TRUE(q->inClass("PHONEPROV_YEALINK"));
}

TEST_F(CalloutTest, SeveralVendorClassInstancesNeverThrow) {
    Pkt4Ptr q = query(DHCPDISCOVER, kYealinkMac, "yealink");
    // Pkt4::addOption refuses duplicates; unpack() does not: insert as unpack does.
    q->options_.insert(std::make_pair(60, OptionPtr(new Option(Option::V4, 60, OptionBuffer(3, 'x')))));
    ASSERT_NO_THROW(exchange(q));
    EXPECT_TRUE(q->inClass("PHONEPROV_YEALINK"));
}

TEST_F(CalloutTest, RendersReservedPhoneOnly) {
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "hostname": "p1",
         "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
           "accounts": [{"user": "1001", "password": "s3cret", "display-name": "Alice"}]}}}]}]})");
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    ASSERT_TRUE(waitFor("yealink/001565aabbcc.cfg"));
    std::string cfg = readOut("yealink/001565aabbcc.cfg");
    EXPECT_EQ(0u, cfg.find("#!version:1.0.0.1\n"));
    EXPECT_NE(cfg.find("account.1.user_name = 1001\n"), std::string::npos);
    EXPECT_NE(cfg.find("account.1.password = s3cret\n"), std::string::npos);
    EXPECT_NE(cfg.find("account.1.sip_server.1.address = 10.77.0.5\n"), std::string::npos);
    struct stat st;
    ASSERT_EQ(0, stat((out_ + "/yealink/001565aabbcc.cfg").c_str(), &st));
    EXPECT_EQ(0640u, st.st_mode & 07777);

    // An unknown Yealink: the common file, and no per-device file.
    exchange(query(DHCPDISCOVER, {0x00, 0x15, 0x65, 0x11, 0x22, 0x33}, "yealink"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_FALSE(waitFor("yealink/001565112233.cfg", 200));
    EXPECT_TRUE(waitFor("yealink/y000000000000.cfg"));
    EXPECT_EQ(std::string::npos, readOut("yealink/y000000000000.cfg").find("s3cret"));
}

// An ACK is held (dropped from Kea's path, sent by the hook) only while its phone's
// render is pending, and released once the file is written; OFFERs, non-phones and
// phones whose file is ready are never held. The workers are held still while the
// packets come (the test seam), so the render is pending however fast the machine.
TEST_F(CalloutTest, AckHeldOnlyWhileItsRenderIsPending) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(10000));
    p->set("render-threads", Element::create(1));
    p->set("render-reserved", Element::create(false));  // rendered when seen, not before
    ASSERT_TRUE(load(p));
    const int kPhones = 150;
    reservePhones(kPhones);
    ASSERT_TRUE(pauseRenders(true));
    // OFFERs queue every phone's render and are never held.
    for (int i = 0; i < kPhones; ++i) {
        EXPECT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
                  sendStatus(query(DHCPDISCOVER, phoneMac(i), "yealink"), DHCPOFFER));
    }
    // The last phone's ACK while its render is still queued: held.
    const std::string last = phoneFile(kPhones - 1);
    ASSERT_FALSE(waitFor(last, 0));
    EXPECT_EQ(CalloutHandle::NEXT_STEP_DROP,
              sendStatus(query(DHCPREQUEST, phoneMac(kPhones - 1), "yealink"), DHCPACK));
    // A laptop's ACK is never held.
    EXPECT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
              sendStatus(query(DHCPREQUEST, {0x3c, 0x22, 0xfb, 1, 2, 3}, ""), DHCPACK));
    // Nothing is released while the render cannot run.
    IfaceMgr::instance().receive4(0, 50000);
    EXPECT_FALSE(waitFor(last, 0));
    EXPECT_EQ(0u, logged("PHONEPROV_HELD_SEND_FAILED"));
    ASSERT_TRUE(pauseRenders(false));
    // Kea's main loop (IfaceMgr's external sockets) wakes the hook once the file is
    // written; it then sends the ACK (here there is no interface to send it on, so
    // the send fails and says so: the release path ran, after the file existed).
    bool released = false;
    for (int i = 0; i < 200 && !released; ++i) {
        IfaceMgr::instance().receive4(0, 50000);
        released = logText().find("PHONEPROV_HELD_SEND_FAILED") != std::string::npos;
        if (released) {
            EXPECT_TRUE(waitFor(last, 0)) << "released before the file was written";
        }
    }
    EXPECT_TRUE(released) << logText();
    EXPECT_EQ(std::string::npos, logText().find("PHONEPROV_UNPARK_TIMEOUT"));
    // Its file is there now: the next ACK goes straight out.
    ASSERT_TRUE(waitFor(last));
    ASSERT_TRUE(HooksManager::calloutsPresent(hookIndex("pkt4_send")));
    EXPECT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
              sendStatus(query(DHCPREQUEST, phoneMac(kPhones - 1), "yealink"), DHCPACK));
}

// A phone whose ACK is held is rendered before the thousands of phones queued ahead of
// it (their DISCOVERs came first): its file is written in the first batch the worker
// takes, not after the queue drains. The worker is held still while the queue fills.
TEST_F(CalloutTest, HeldPhoneIsRenderedBeforeTheQueue) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(30000));
    p->set("render-threads", Element::create(1));
    p->set("render-reserved", Element::create(false));  // rendered when seen, not before
    ASSERT_TRUE(load(p));
    const int kPhones = 2000;
    reservePhones(kPhones);
    ASSERT_TRUE(pauseRenders(true));
    for (int i = 0; i < kPhones; ++i) {
        ASSERT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
                  sendStatus(query(DHCPDISCOVER, phoneMac(i), "yealink"), DHCPOFFER));
    }
    const int last = kPhones - 1;  // queued behind every other phone
    ASSERT_FALSE(waitFor(phoneFile(last), 0));
    EXPECT_EQ(CalloutHandle::NEXT_STEP_DROP,
              sendStatus(query(DHCPREQUEST, phoneMac(last), "yealink"), DHCPACK));
    ASSERT_TRUE(pauseRenders(false));
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (logged("PHONEPROV_HELD_SEND_FAILED") < 1 && std::chrono::steady_clock::now() < end) {
        IfaceMgr::instance().receive4(0, 10000);
    }
    // Released (the send fails here: no interface) with its file, not by the timer.
    ASSERT_EQ(1u, logged("PHONEPROV_HELD_SEND_FAILED")) << logText();
    EXPECT_EQ(0u, logged("PHONEPROV_UNPARK_TIMEOUT"));
    EXPECT_TRUE(waitFor(phoneFile(last), 0));
    // Once every file is written: the held phone's was written in the first batch
    // (64 phones), so fewer than 64 files are older than it; in arrival order it
    // would have been the last of 2,000.
    struct stat held;
    ASSERT_EQ(0, stat((out_ + "/" + phoneFile(last)).c_str(), &held));
    int older = 0;
    for (int i = 0; i < kPhones; ++i) {
        ASSERT_TRUE(waitFor(phoneFile(i), 40000)) << phoneFile(i);
        struct stat st;
        ASSERT_EQ(0, stat((out_ + "/" + phoneFile(i)).c_str(), &st));
        if (st.st_mtim.tv_sec < held.st_mtim.tv_sec ||
            (st.st_mtim.tv_sec == held.st_mtim.tv_sec && st.st_mtim.tv_nsec < held.st_mtim.tv_nsec)) {
            ++older;
        }
    }
    EXPECT_LT(older, 64) << "the held phone was not in the first batch";
}

// render-wait-ms bounds the hold: an ACK whose render is still queued goes out when
// its time is up, each at its own time, and the timer still works for ACKs held
// after it had nothing left to wait for. The workers are held still, so the renders
// cannot finish first however fast the machine.
TEST_F(CalloutTest, HeldAckGoesOutAfterRenderWaitMs) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(100));
    p->set("render-threads", Element::create(1));
    p->set("render-reserved", Element::create(false));  // rendered when seen, not before
    ASSERT_TRUE(load(p));
    const int kPhones = 10;
    reservePhones(kPhones);
    ASSERT_TRUE(pauseRenders(true));
    for (int i = 0; i < kPhones; ++i) {
        ASSERT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
                  sendStatus(query(DHCPDISCOVER, phoneMac(i), "yealink"), DHCPOFFER));
    }
    auto pumpUntil = [this](size_t sent, int ms) {
        auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
        while (logged("PHONEPROV_HELD_SEND_FAILED") < sent &&
               std::chrono::steady_clock::now() < end) {
            IfaceMgr::instance().receive4(0, 10000);
        }
        return (logged("PHONEPROV_HELD_SEND_FAILED"));
    };
    // Two ACKs held 50 ms apart, then (after both are out) a third.
    for (int round = 0; round < 2; ++round) {
        SCOPED_TRACE(round);
        std::vector<int> phones = round == 0 ? std::vector<int>{kPhones - 1, kPhones - 2}
                                             : std::vector<int>{kPhones - 3};
        auto t0 = std::chrono::steady_clock::now();
        for (int i : phones) {
            EXPECT_EQ(CalloutHandle::NEXT_STEP_DROP,
                      sendStatus(query(DHCPREQUEST, phoneMac(i), "yealink"), DHCPACK));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        size_t want = round == 0 ? 2 : 3;
        EXPECT_EQ(want, pumpUntil(want, 10000)) << logText();
        auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - t0)
                        .count();
        EXPECT_GE(took, 100);  // not before render-wait-ms
        EXPECT_EQ(want, logged("PHONEPROV_UNPARK_TIMEOUT")) << logText();
        EXPECT_FALSE(waitFor(phoneFile(phones.back()), 0)) << "rendered while paused";
    }
    ASSERT_TRUE(pauseRenders(false));
    EXPECT_TRUE(waitFor(phoneFile(kPhones - 3), 20000));
}

// render-reserved (the default): every phone with reservation data whose vendor the MAC
// tells (or the reservation pins) is rendered when the configuration is committed, before
// any packet; a reservation without phone data, or whose vendor needs the phone's vendor
// class, is not. Table: reservation, the file it must (or must not) get.
TEST_F(CalloutTest, ReservedPhonesAreRenderedBeforeTheyBoot) {
    struct Scenario {
        int line_;
        std::string reservation;
        std::string file;
        bool rendered;
    };
    const std::vector<Scenario> scenarios = {
        {__LINE__, R"({"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": "x"}]}}})", "yealink/001565aabbcc.cfg", true},
        {__LINE__, R"({"hw-address": "3c:22:fb:01:02:03", "user-context": {"phoneprov":
            {"vendor": "snom", "model": "D785", "accounts": [{"user": "1002"}]}}})",
         "snom/3C22FB010203.xml", true},
        {__LINE__, R"({"hw-address": "00:15:65:00:00:01", "hostname": "no-phone-data"})",
         "yealink/001565000001.cfg", false},
        // A Cisco MAC alone does not make a phone (Cisco makes switches too).
        {__LINE__, R"({"hw-address": "00:1e:4a:00:00:01", "user-context": {"phoneprov":
            {"accounts": [{"user": "1003"}]}}})", "SEP001E4A000001.cnf.xml", false},
    };
    for (bool on : {true, false}) {
        SCOPED_TRACE(on ? "render-reserved on" : "render-reserved off");
        TearDown();
        HookFixture::SetUp();
        ElementPtr p = goodParams();
        if (!on) {
            p->set("render-reserved", Element::create(false));
        }
        ASSERT_TRUE(load(p));
        std::string hosts;
        for (const Scenario& sc : scenarios) {
            hosts += (hosts.empty() ? "" : ",") + sc.reservation;
        }
        configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [)" +
                   hosts + "]}]}");
        if (on) {
            ASSERT_TRUE(waitFor("yealink/001565aabbcc.cfg"));
            // The list is done once the workers are idle; the log says so.
            for (int i = 0; i < 3000 && logged("PHONEPROV_RESERVED_DONE") == 0; ++i) {
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            EXPECT_EQ(1u, logged("PHONEPROV_RESERVED_QUEUED"));
            EXPECT_NE(std::string::npos, logText().find("queued 2 reserved phones")) << logText();
            EXPECT_NE(std::string::npos, logText().find("1 with phone data wait")) << logText();
            EXPECT_EQ(1u, logged("PHONEPROV_RESERVED_DONE")) << logText();
        } else {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            EXPECT_EQ(0u, logged("PHONEPROV_RESERVED_QUEUED"));
        }
        for (const Scenario& sc : scenarios) {
            SCOPED_TRACE(sc.line_);
            EXPECT_EQ(on && sc.rendered, waitFor(sc.file, 0)) << sc.file;
        }
    }
    // A new configuration renders what changed, without any packet.
    TearDown();
    HookFixture::SetUp();
    ASSERT_TRUE(load(goodParams()));
    for (const char* password : {"first", "second"}) {
        configured(std::string(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24",
            "reservations": [{"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": ")") + password + R"("}]}}}]}]})");
        bool seen = false;
        for (int i = 0; i < 3000 && !seen; ++i) {
            seen = readOut("yealink/001565aabbcc.cfg").find(std::string("password = ") +
                                                           password + "\n") != std::string::npos;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_TRUE(seen) << password;
    }
}

// A phone whose files were made from what it would be made from now (plan, reservation,
// vendor, model) is not rendered again when it boots: its ACK goes straight out, even
// while the workers are held still, and its file is the very one written before. A
// phone that is rendered (here a Cisco phone, whose vendor needs its vendor class) is held.
TEST_F(CalloutTest, APhoneWithCurrentFilesIsNeitherHeldNorRendered) {
    ElementPtr p = goodParams();
    p->set("render-wait-ms", Element::create(30000));
    p->set("render-threads", Element::create(1));
    ASSERT_TRUE(load(p));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": "x"}]}}},
        {"hw-address": "00:1e:4a:00:00:01", "user-context": {"phoneprov":
            {"accounts": [{"user": "1002", "password": "y"}]}}}]}]})");
    ASSERT_TRUE(waitFor("yealink/001565aabbcc.cfg"));
    for (int i = 0; i < 3000 && logged("PHONEPROV_RESERVED_DONE") == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(1u, logged("PHONEPROV_RESERVED_DONE"));
    struct stat before;
    ASSERT_EQ(0, stat((out_ + "/yealink/001565aabbcc.cfg").c_str(), &before));
    ASSERT_TRUE(pauseRenders(true));
    const std::vector<uint8_t> cisco = {0x00, 0x1e, 0x4a, 0x00, 0x00, 0x01};
    const std::string cvc = "Cisco Systems, Inc. IP Phone CP-8861";
    ASSERT_EQ(CalloutHandle::NEXT_STEP_CONTINUE, sendStatus(query(DHCPDISCOVER, cisco, cvc), DHCPOFFER));
    ASSERT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
              sendStatus(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER));
    EXPECT_EQ(CalloutHandle::NEXT_STEP_CONTINUE,
              sendStatus(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK));
    ASSERT_FALSE(waitFor("SEP001E4A000001.cnf.xml", 0));
    EXPECT_EQ(CalloutHandle::NEXT_STEP_DROP, sendStatus(query(DHCPREQUEST, cisco, cvc), DHCPACK));
    ASSERT_TRUE(pauseRenders(false));
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (logged("PHONEPROV_HELD_SEND_FAILED") < 1 && std::chrono::steady_clock::now() < end) {
        IfaceMgr::instance().receive4(0, 10000);
    }
    EXPECT_EQ(1u, logged("PHONEPROV_HELD_SEND_FAILED"));  // the Cisco phone's, with its file
    EXPECT_EQ(0u, logged("PHONEPROV_UNPARK_TIMEOUT"));
    EXPECT_TRUE(waitFor("SEP001E4A000001.cnf.xml", 0));
    struct stat after;
    ASSERT_EQ(0, stat((out_ + "/yealink/001565aabbcc.cfg").c_str(), &after));
    EXPECT_EQ(before.st_ino, after.st_ino);
    EXPECT_EQ(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
}

// The check of a phone whose inputs did not change still looks at the disk: a file
// deleted or edited behind the hook's back is rendered again at the phone's next packet.
TEST_F(CalloutTest, ACheckRestoresAFileChangedBehindTheHooksBack) {
    ElementPtr p = goodParams();
    p->set("render-interval", Element::create(0));  // every packet looks again
    ASSERT_TRUE(load(p));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": "x"}]}}}]}]})");
    const std::string file = "yealink/001565aabbcc.cfg";
    ASSERT_TRUE(waitFor(file));
    const std::string good = readOut(file);
    for (int i = 0; i < 3000 && logged("PHONEPROV_RESERVED_DONE") == 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(1u, logged("PHONEPROV_RESERVED_DONE"));  // the list is done
    for (const char* how : {"deleted", "edited"}) {
        SCOPED_TRACE(how);
        if (std::string(how) == "deleted") {
            ASSERT_EQ(0, unlink((out_ + "/" + file).c_str()));
        } else {
            std::ofstream(out_ + "/" + file) << "account.1.password = stolen\n";
        }
        exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
        bool back = false;
        for (int i = 0; i < 3000 && !back; ++i) {
            back = readOut(file) == good;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_TRUE(back);
    }
}

// Issue 21, point 1: a reserved phone's files live in its token folder, and only its
// own DHCP answer names that folder; unknown phones keep the vendor's folder.
TEST_F(CalloutTest, ReservedPhoneLearnsItsFolderFromItsOwnAnswer) {
    TearDown();
    HookFixture::SetUp();
    ASSERT_TRUE(load(tokenParams()));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
           "accounts": [{"user": "1001", "password": "s3cret"}]}}}]}]})");
    // HMAC-SHA-256(bytes 0..31, 00:15:65:aa:bb:cc), first 128 bits (unit test_token).
    const std::string token = "b9770a16098a580d8772954adeacf7cf";
    const std::string plain = "http://127.0.0.1:8080/prov/yealink/";
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    EXPECT_EQ(plain + token + "/", bytes(rsp->getOption(66)));
    ASSERT_TRUE(waitFor("yealink/" + token + "/001565aabbcc.cfg"));
    EXPECT_NE(std::string::npos, readOut("yealink/" + token + "/001565aabbcc.cfg").find("s3cret"));
    ASSERT_TRUE(waitFor("yealink/" + token + "/y000000000000.cfg"));
    EXPECT_NE(std::string::npos, readOut("yealink/" + token + "/y000000000000.cfg")
                                     .find("static.auto_provision.server.url = " + plain + token + "/"));
    struct stat st;
    EXPECT_NE(0, stat((out_ + "/yealink/001565aabbcc.cfg").c_str(), &st));
    // An unknown Yealink: the vendor's folder, where the shared common file is.
    rsp = exchange(query(DHCPDISCOVER, {0x00, 0x15, 0x65, 0x11, 0x22, 0x33}, "yealink"));
    EXPECT_EQ(plain, bytes(rsp->getOption(66)));
    EXPECT_TRUE(waitFor("yealink/y000000000000.cfg"));
}

// Issue 21, point 2: with lease-binding, the ACK's address gets a view of the phone's
// per-device files (links); release, decline and expiry of the lease remove it; an
// OFFER's address gets none.
TEST_F(CalloutTest, LeaseBindingViewFollowsTheLease) {
    const std::string token = "b9770a16098a580d8772954adeacf7cf";
    const std::string file = "yealink/" + token + "/001565aabbcc.cfg";
    for (const char* point : {"lease4_release", "lease4_decline", "lease4_expire"}) {
        SCOPED_TRACE(point);
        TearDown();
        HookFixture::SetUp();
        ElementPtr p = tokenParams();
        p->set("lease-binding", Element::create(true));
        ASSERT_TRUE(load(p));
        configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
            {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
               "accounts": [{"user": "1001", "password": "s3cret"}]}}}]}]})");
        ASSERT_TRUE(waitFor(file));
        exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {}, "192.0.2.77");
        exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK, {}, "192.0.2.100");
        ASSERT_TRUE(waitFor("by-address/192.0.2.100/" + file));
        EXPECT_NE(std::string::npos, readOut("by-address/192.0.2.100/" + file).find("s3cret"));
        struct stat st;
        EXPECT_NE(0, lstat((out_ + "/by-address/192.0.2.77").c_str(), &st));  // an OFFER binds nothing
        ASSERT_EQ(0, lstat((out_ + "/by-address/192.0.2.100/" + file).c_str(), &st));
        EXPECT_TRUE(S_ISLNK(st.st_mode));
        isc::dhcp::HWAddrPtr hw(new isc::dhcp::HWAddr(kYealinkMac, isc::dhcp::HTYPE_ETHER));
        isc::dhcp::Lease4Ptr lease(new isc::dhcp::Lease4(isc::asiolink::IOAddress("192.0.2.100"), hw,
                                                         isc::dhcp::ClientIdPtr(), 3600, 0, 1));
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("lease4", lease);
        if (std::string(point) != "lease4_expire") {
            handle->setArgument("query4", query(DHCPRELEASE, kYealinkMac, "yealink"));
        } else {
            handle->setArgument("remove_lease", true);
        }
        HooksManager::callCallouts(hookIndex(point), *handle);
        bool gone = false;
        for (int i = 0; i < 500 && !gone; ++i) {
            gone = lstat((out_ + "/by-address/192.0.2.100").c_str(), &st) != 0;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        EXPECT_TRUE(gone);
        EXPECT_NE(std::string::npos, readOut(file).find("s3cret"));  // the file itself stays
    }
}

// Issue 21, point 4: the reserved phone's MAC with another vendor's option 60 gets
// that vendor's options without a token, no per-device file, and a warning.
TEST_F(CalloutTest, ForeignVendorClassGetsNoCredentials) {
    TearDown();
    HookFixture::SetUp();
    ASSERT_TRUE(load(tokenParams()));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
           "accounts": [{"user": "1001", "password": "s3cret"}]}}}]}]})");
    ASSERT_TRUE(waitFor("yealink/b9770a16098a580d8772954adeacf7cf/001565aabbcc.cfg"));
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "Grandstream GXP2170 dslforum.org"));
    EXPECT_EQ("http://127.0.0.1:8080/prov/grandstream/", bytes(rsp->getOption(66)));
    // Its render is done once the common file is there, and the warning logged.
    ASSERT_TRUE(waitFor("grandstream/cfg.xml"));
    for (int i = 0; i < 500 && logText().find("PHONEPROV_VENDOR_CONFLICT") == std::string::npos; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(std::string::npos,
              logText().find("PHONEPROV_VENDOR_CONFLICT phoneprov: 00:15:65:aa:bb:cc has reservation "
                             "data for vendor yealink but its vendor class names grandstream"));
    DIR* d = opendir((out_ + "/grandstream").c_str());
    ASSERT_TRUE(d);
    std::vector<std::string> names;
    while (dirent* e = readdir(d)) {
        names.push_back(e->d_name);
    }
    closedir(d);
    // Common files only (cfg.xml, the model's): nothing of the phone's, no folder.
    for (const std::string& n : names) {
        if (n == "." || n == "..") {
            continue;
        }
        EXPECT_EQ(std::string::npos, n.find("001565aabbcc")) << n;
        EXPECT_EQ(std::string::npos, readOut("grandstream/" + n).find("s3cret")) << n;
        struct stat st;
        ASSERT_EQ(0, stat((out_ + "/grandstream/" + n).c_str(), &st));
        EXPECT_TRUE(S_ISREG(st.st_mode)) << n;
    }
}

// A missing key file never fails the load: ERROR naming it, the vendor's folder in
// the options, and per-device files without credentials.
TEST_F(CalloutTest, MissingKeyFileDegradesWithoutCredentials) {
    TearDown();
    HookFixture::SetUp();
    ElementPtr p = tokenParams();
    p->set("key-file", Element::create(dir_ + "/none.key"));
    ASSERT_TRUE(load(p));
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_KEY_FILE_UNUSABLE phoneprov cannot use the "
                                                "site key: key-file '" + dir_ +
                                                "/none.key': No such file or directory"));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
           "accounts": [{"user": "1001", "password": "s3cret"}]}}}]}]})");
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", bytes(rsp->getOption(66)));
    ASSERT_TRUE(waitFor("yealink/001565aabbcc.cfg"));
    std::string cfg = readOut("yealink/001565aabbcc.cfg");
    EXPECT_EQ(0u, cfg.find("#!version:1.0.0.1\n")) << cfg;
    EXPECT_EQ(std::string::npos, cfg.find("s3cret")) << cfg;
    EXPECT_EQ(std::string::npos, cfg.find("account.1.user_name")) << cfg;
}

}  // namespace
