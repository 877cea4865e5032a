// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The phoneprov-* control commands, called through Kea's HooksManager as the
// control channel calls them, and the statistics they and the callouts leave in
// Kea's StatsMgr.
#include "hook_fixture.h"

#include <stats/stats_mgr.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <chrono>
#include <cstring>
#include <thread>

using namespace phoneprov_test;
using isc::stats::StatsMgr;

namespace {

const std::vector<uint8_t> kYealinkMac = {0x00, 0x15, 0x65, 0xaa, 0xbb, 0xcc};
const std::vector<uint8_t> kSnomMac = {0x00, 0x04, 0x13, 0x01, 0x02, 0x03};
const std::vector<uint8_t> kIntelMac = {0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03};

/// @brief The vendor folders of a profiles folder.
size_t countProfiles(const std::string& dir) {
    size_t n = 0;
    DIR* d = opendir(dir.c_str());
    while (dirent* e = d ? readdir(d) : nullptr) {
        struct stat st;
        if (e->d_name[0] != '.' &&
            stat((dir + "/" + e->d_name + "/profile.json").c_str(), &st) == 0) {
            ++n;
        }
    }
    if (d) {
        closedir(d);
    }
    return (n);
}

class CommandTest : public HookFixture {
protected:
    void SetUp() override {
        HookFixture::SetUp();
        hookIndex("command_processed");  // registered by Kea's command manager in kea-dhcp4
        profiles_ = dir_ + "/profiles";
        std::string cmd = "cp -r '" + std::string(PHONEPROV_SOURCE_DIR) + "/profiles' '" +
                          profiles_ + "'";
        ASSERT_EQ(0, system(cmd.c_str()));
    }

    /// @brief Loads with a private copy of the profiles (which tests may break).
    void loadCopy(bool render = true) {
        ElementPtr p = goodParams();
        p->set("profiles-dir", Element::create(profiles_));
        p->set("render", Element::create(render));
        ASSERT_TRUE(load(p));
    }

    /// @brief Runs a command as the control channel does; returns the answer.
    static ConstElementPtr command(const std::string& name, const std::string& args = "") {
        ElementPtr cmd = Element::createMap();
        cmd->set("command", Element::create(name));
        if (!args.empty()) {
            cmd->set("arguments", Element::fromJSON(args));
        }
        EXPECT_TRUE(HooksManager::commandHandlersPresent(name)) << name;
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("command", ConstElementPtr(cmd));
        HooksManager::callCommandHandlers(name, *handle);
        ConstElementPtr answer;
        handle->getArgument("response", answer);
        return (answer);
    }

    static int result(const ConstElementPtr& a) {
        return (a && a->get("result") ? static_cast<int>(a->get("result")->intValue()) : -1);
    }
    static std::string text(const ConstElementPtr& a) {
        return (a && a->get("text") ? a->get("text")->stringValue() : std::string());
    }
    static ConstElementPtr args(const ConstElementPtr& a) {
        return (a ? a->get("arguments") : ConstElementPtr());
    }

    /// @brief Calls command_processed as Kea does after one of its own commands.
    static ConstElementPtr processed(const std::string& name, const ConstElementPtr& response,
                                     const ConstElementPtr& arguments = ConstElementPtr()) {
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("name", name);
        handle->setArgument("arguments", arguments);
        handle->setArgument("response", response);
        HooksManager::callCallouts(hookIndex("command_processed"), *handle);
        ConstElementPtr out;
        handle->getArgument("response", out);
        return (out);
    }

    /// @brief A StatsMgr integer, or -1 when the statistic does not exist.
    static int64_t stat(const std::string& name) {
        auto obs = StatsMgr::instance().getObservation(name);
        return (obs ? obs->getInteger().first : -1);
    }

    /// @brief Waits (bounded) until no render is pending.
    static void waitRenders() {
        for (int i = 0; i < 3000; ++i) {
            ConstElementPtr a = args(command("phoneprov-status"));
            if (a && a->get("renders-pending")->intValue() == 0) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ADD_FAILURE() << "renders still pending";
    }

    bool exists(const std::string& rel, int ms = 20000) const {
        for (int i = 0; i < ms / 10; ++i) {
            struct stat st;
            if (::stat((out_ + "/" + rel).c_str(), &st) == 0) {
                return (true);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return (false);
    }

    void writeFile(const std::string& path, const std::string& content) const {
        std::ofstream out(path, std::ios::trunc);
        out << content;
    }

    std::string profiles_;
};

TEST_F(CommandTest, StatusDescribesWhatIsLoaded) {
    loadCopy();
    ConstElementPtr a = command("phoneprov-status");
    ASSERT_EQ(0, result(a)) << a->str();
    ConstElementPtr s = args(a);
    ASSERT_TRUE(s);
    EXPECT_FALSE(s->get("version")->stringValue().empty());
    EXPECT_EQ(countProfiles(profiles_),
              static_cast<size_t>(s->get("catalogue")->get("vendors")->intValue()));
    EXPECT_EQ(profiles_, s->get("catalogue")->get("profiles-dir")->stringValue());
    EXPECT_EQ(0, s->get("catalogue")->get("reloads")->intValue());
    EXPECT_GT(s->get("registry")->get("vendor-prefixes")->intValue(), 0);
    EXPECT_TRUE(s->get("rendering")->boolValue());
    EXPECT_EQ(0, s->get("queue-depth")->intValue());
    EXPECT_EQ(0, s->get("renders-pending")->intValue());
    EXPECT_EQ(0, s->get("reserved-left")->intValue());
    EXPECT_EQ(0, s->get("files-current")->intValue());
    for (const char* c : {"phones-identified", "options-injected", "renders", "render-failures"}) {
        SCOPED_TRACE(c);
        EXPECT_EQ(0, s->get("totals")->get(c)->intValue());
        EXPECT_EQ(0, s->get("vendors")->get("yealink")->get(c)->intValue());
    }
    EXPECT_EQ(countProfiles(profiles_), s->get("vendors")->mapValue().size());
}

// The reserved phones rendered in the background, then a phone seen again with its
// files current: counted as checked, not rendered.
TEST_F(CommandTest, StatusCountsReservedPhonesAndCurrentFiles) {
    loadCopy();
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": "x"}]}}}]}]})");
    waitRenders();  // renders-pending counts the background list too
    ConstElementPtr s = args(command("phoneprov-status"));
    ASSERT_TRUE(s);
    EXPECT_EQ(0, s->get("reserved-left")->intValue());
    EXPECT_EQ(1, s->get("totals")->get("renders")->intValue());
    EXPECT_TRUE(exists("yealink/001565aabbcc.cfg"));
    EXPECT_EQ(0, s->get("files-current")->intValue());
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    waitRenders();
    s = args(command("phoneprov-status"));
    EXPECT_EQ(1, s->get("files-current")->intValue());
    EXPECT_EQ(1, s->get("totals")->get("renders")->intValue());  // not rendered again
    // A resent DISCOVER offered another address (Yealink's files do not use it): not
    // looked at again. The ACK for yet another address: looked at once more (the address
    // the phone holds is recorded), still not rendered.
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"), DHCPOFFER, {}, "192.0.2.101");
    waitRenders();
    s = args(command("phoneprov-status"));
    EXPECT_EQ(1, s->get("files-current")->intValue());
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK, {}, "192.0.2.102");
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK, {}, "192.0.2.102");
    waitRenders();
    s = args(command("phoneprov-status"));
    EXPECT_EQ(2, s->get("files-current")->intValue());
    EXPECT_EQ(1, s->get("totals")->get("renders")->intValue());
}

TEST_F(CommandTest, StatisticGetAnswersAreBroughtUpToDate) {
    loadCopy();
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    exchange(query(DHCPDISCOVER, kSnomMac, "snom"));
    // Kea built its answer before the hook pushed: the hook answers again.
    ConstElementPtr stale = StatsMgr::statisticGetAllHandler("statistic-get-all", ConstElementPtr());
    EXPECT_FALSE(stale->get("arguments")->get("phoneprov.yealink.phones-identified"));
    ConstElementPtr fresh = processed("statistic-get-all", stale);
    ASSERT_NE(stale, fresh);
    ConstElementPtr all = fresh->get("arguments");
    ASSERT_TRUE(all->get("phoneprov.yealink.phones-identified")) << fresh->str();
    EXPECT_EQ(1, all->get("phoneprov.yealink.phones-identified")->get(0)->get(0)->intValue());
    EXPECT_EQ(2, all->get("phoneprov.phones-identified")->get(0)->get(0)->intValue());

    // statistic-get of one name.
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    ElementPtr one = Element::createMap();
    one->set("name", Element::create("phoneprov.yealink.phones-identified"));
    stale = StatsMgr::statisticGetHandler("statistic-get", one);
    fresh = processed("statistic-get", stale, one);
    EXPECT_EQ(2, fresh->get("arguments")->get("phoneprov.yealink.phones-identified")->get(0)
                     ->get(0)->intValue()) << fresh->str();

    // Nothing moved: Kea's own answer stands. Other commands are left alone.
    ConstElementPtr current = StatsMgr::statisticGetAllHandler("statistic-get-all", ConstElementPtr());
    EXPECT_EQ(current, processed("statistic-get-all", current));
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    ConstElementPtr other = Element::fromJSON(R"({"result": 0, "text": "x"})");
    EXPECT_EQ(other, processed("config-get", other));
    EXPECT_EQ(2, stat("phoneprov.yealink.phones-identified"));  // not pushed by config-get
}

// A FIFO where a file goes (issue 23): refused before any open (a render worker
// would wait for a writer for ever), logged, counted.
TEST_F(CommandTest, AFifoInTheOutputTreeIsRefusedAndCounted) {
    ASSERT_EQ(0, mkdir((out_ + "/yealink").c_str(), 0750));
    const std::string fifo = out_ + "/yealink/y000000000000.cfg";
    ASSERT_EQ(0, mkfifo(fifo.c_str(), 0640));
    loadCopy();
    EXPECT_EQ(0, stat("phoneprov.files-not-regular"));
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    waitRenders();
    ConstElementPtr s = args(command("phoneprov-status"));  // pushes to StatsMgr
    ASSERT_TRUE(s);
    EXPECT_EQ(0, s->get("renders-pending")->intValue()) << "a render worker is blocked";
    EXPECT_EQ(1, stat("phoneprov.yealink.files-not-regular"));
    EXPECT_EQ(1, stat("phoneprov.files-not-regular"));
    EXPECT_EQ(1, stat("phoneprov.yealink.render-failures"));
    EXPECT_NE(std::string::npos, logText().find("'yealink/y000000000000.cfg' is a FIFO, not a regular file"));
    struct stat st;
    ASSERT_EQ(0, lstat(fifo.c_str(), &st));
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "left alone";
    // A worker stuck on the FIFO would hang the unload: free it.
    int unblock = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (unblock >= 0) {
        close(unblock);
    }
}

TEST_F(CommandTest, CountersFollowPacketsAndReachStatsMgr) {
    loadCopy();
    // The totals exist from load, at 0; a vendor's statistics once it has a count.
    EXPECT_EQ(0, stat("phoneprov.phones-identified"));
    EXPECT_EQ(0, stat("phoneprov.render-failures"));
    EXPECT_EQ(-1, stat("phoneprov.yealink.phones-identified"));
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK);
    exchange(query(DHCPDISCOVER, kSnomMac, "snom"));
    exchange(query(DHCPDISCOVER, kIntelMac, "MSFT 5.0"));            // not a phone
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPNAK);  // no address: no options
    waitRenders();
    ConstElementPtr s = args(command("phoneprov-status"));  // pushes to StatsMgr too
    ASSERT_TRUE(s);
    struct Expect {
        int line_;
        std::string name;  ///< statistic, without "phoneprov."
        int64_t value;
    };
    const std::vector<Expect> expected = {
        {__LINE__, "yealink.phones-identified", 3},
        {__LINE__, "yealink.options-injected", 2},
        {__LINE__, "snom.phones-identified", 1},
        {__LINE__, "snom.options-injected", 1},
        {__LINE__, "snom.render-failures", 0},
        {__LINE__, "phones-identified", 4},
        {__LINE__, "options-injected", 3},
        {__LINE__, "render-failures", 0},
    };
    for (const auto& e : expected) {
        SCOPED_TRACE(e.line_);
        EXPECT_EQ(e.value, stat("phoneprov." + e.name));
        std::string vendor = e.name.substr(0, e.name.find('.'));
        ConstElementPtr where = e.name.find('.') == std::string::npos
                                    ? s->get("totals")
                                    : s->get("vendors")->get(vendor);
        std::string counter = e.name.substr(e.name.find('.') + 1);
        EXPECT_EQ(e.value, where->get(counter)->intValue());
    }
    // Each phone was rendered once (its common files; no reservation data).
    EXPECT_EQ(1, stat("phoneprov.yealink.renders"));
    EXPECT_EQ(1, stat("phoneprov.snom.renders"));
    EXPECT_EQ(2, stat("phoneprov.renders"));
    EXPECT_EQ(1, s->get("vendors")->get("yealink")->get("phones-rendered")->intValue());

    EXPECT_EQ(-1, stat("phoneprov.cisco.phones-identified"));  // no Cisco seen
    EXPECT_EQ(0, s->get("vendors")->get("cisco")->get("phones-identified")->intValue());

    // A statistic-reset is honoured: later pushes add to it.
    StatsMgr::instance().reset("phoneprov.yealink.phones-identified");
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    command("phoneprov-status");
    EXPECT_EQ(1, stat("phoneprov.yealink.phones-identified"));

    // Unload removes them.
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
    EXPECT_EQ(-1, stat("phoneprov.yealink.phones-identified"));
    EXPECT_EQ(-1, stat("phoneprov.renders"));
}

/// @brief A phoneprov-identify call and its answer.
struct IdentifyScenario {
    int line_;
    std::string args;    ///< "" for no arguments at all
    int result;
    std::string answer;  ///< the exact "arguments" (result 0) or "text" (result 1)
};

TEST_F(CommandTest, IdentifyAnswersOrNamesTheBadArgument) {
    loadCopy();
    const std::vector<IdentifyScenario> scenarios = {
        {__LINE__, R"({"mac": "00:15:65:aa:bb:cc", "vendor-class": "yealink"})", 0,
         R"({"class": "PHONEPROV_YEALINK", "confidence": "sure", "model": "", "phone": true, "vendor": "yealink"})"},
        {__LINE__, R"({"mac": "0015.65aa.bbcc"})", 0,
         R"({"class": "PHONEPROV_YEALINK", "confidence": "prefix", "model": "", "phone": true, "vendor": "yealink"})"},
        {__LINE__, R"({"mac": "00:1e:4a:00:00:01", "vendor-class": "Cisco Systems, Inc. IP Phone CP-8861"})", 0,
         R"({"class": "PHONEPROV_CISCO", "confidence": "sure", "model": "CP-8861", "phone": true, "vendor": "cisco"})"},
        {__LINE__, R"({"mac": "3c:22:fb:01:02:03", "vendor-class": "MSFT 5.0"})", 0, R"({"phone": false})"},
        {__LINE__, "", 1, "phoneprov-identify: missing 'arguments'"},
        {__LINE__, "{}", 1, "phoneprov-identify: missing 'mac'"},
        {__LINE__, "[1]", 1, "phoneprov-identify: 'arguments' must be a map"},
        {__LINE__, R"({"mac": "zz"})", 1, "phoneprov-identify: 'mac': 'zz' is not a MAC address"},
        {__LINE__, R"({"mac": 5})", 1, "phoneprov-identify: 'mac' must be a string"},
        {__LINE__, R"({"mac": "00:15:65:aa:bb:cc", "vendor-class": ["x"]})", 1,
         "phoneprov-identify: 'vendor-class' must be a string"},
        {__LINE__, R"({"mac": "00:15:65:aa:bb:cc", "vendor": "x"})", 1,
         "phoneprov-identify: unknown argument 'vendor'"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        ConstElementPtr a;
        ASSERT_NO_THROW(a = command("phoneprov-identify", s.args));
        ASSERT_TRUE(a);
        EXPECT_EQ(s.result, result(a)) << a->str();
        if (s.result == 0) {
            ASSERT_TRUE(args(a));
            EXPECT_EQ(Element::fromJSON(s.answer)->str(), args(a)->str());
        } else {
            EXPECT_EQ(s.answer, text(a));
        }
    }
}

TEST_F(CommandTest, IdentifyAppliesReservationPins) {
    loadCopy();
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "3c:22:fb:01:02:03", "hostname": "p",
         "user-context": {"phoneprov": {"vendor": "snom", "model": "D785"}}}]}]})");
    ConstElementPtr a = command("phoneprov-identify", R"({"mac": "3c:22:fb:01:02:03"})");
    ASSERT_EQ(0, result(a)) << a->str();
    EXPECT_EQ("snom", args(a)->get("vendor")->stringValue());
    EXPECT_EQ("pinned", args(a)->get("confidence")->stringValue());
}

/// @brief A phoneprov-render call and its answer.
struct RenderScenario {
    int line_;
    std::string args;
    int result;
    std::string text;  ///< the exact text, or its start when it ends in '('
};

TEST_F(CommandTest, RenderQueuesOnePhoneOrAll) {
    loadCopy();
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "ip-address": "192.0.2.10",
         "user-context": {"phoneprov": {"accounts": [{"user": "1001", "password": "x"}]}}},
        {"hw-address": "00:04:13:01:02:03", "hostname": "snom",
         "user-context": {"phoneprov": {"accounts": [{"user": "1002", "password": "y"}]}}},
        {"hw-address": "3c:22:fb:01:02:03", "hostname": "laptop"}]}]})");
    const std::vector<RenderScenario> scenarios = {
        {__LINE__, R"({"mac": "00:15:65:aa:bb:cc"})", 0, "1 renders queued"},
        {__LINE__, R"({"all": true})", 0, "2 renders queued"},
        // (followed by the identifier's reason)
        {__LINE__, R"({"mac": "3c:22:fb:01:02:03"})", 1,
         "phoneprov-render: 3c:22:fb:01:02:03: not identified as a phone ("},
        {__LINE__, "", 1, "phoneprov-render: missing 'arguments'"},
        {__LINE__, "{}", 1, "phoneprov-render: give either 'mac' or \"all\": true"},
        {__LINE__, R"({"all": false})", 1, "phoneprov-render: 'all' must be true when given"},
        {__LINE__, R"({"all": "yes"})", 1, "phoneprov-render: 'all' must be a boolean"},
        {__LINE__, R"({"all": true, "mac": "00:15:65:aa:bb:cc"})", 1,
         "phoneprov-render: give either 'mac' or \"all\": true"},
        {__LINE__, R"({"mac": "00:15:65:aa:bb"})", 1,
         "phoneprov-render: 'mac': '00:15:65:aa:bb' is not a MAC address"},
    };
    for (const auto& s : scenarios) {
        SCOPED_TRACE(s.line_);
        ConstElementPtr a = command("phoneprov-render", s.args);
        EXPECT_EQ(s.result, result(a)) << a->str();
        if (s.text.back() == '(') {
            EXPECT_EQ(0u, text(a).find(s.text)) << text(a);
        } else {
            EXPECT_EQ(s.text, text(a));
        }
    }
    waitRenders();
    EXPECT_TRUE(exists("yealink/001565aabbcc.cfg"));
    EXPECT_TRUE(exists("snom/000413010203.xml"));
    // One more render of each (renders queued back to back above may have merged);
    // the laptop's reservation was skipped and said why.
    auto renders = [](const std::string& vendor) {
        ConstElementPtr s = args(command("phoneprov-status"));
        return (s->get("vendors")->get(vendor)->get("renders")->intValue());
    };
    int64_t yealink = renders("yealink");
    int64_t snom = renders("snom");
    EXPECT_GE(yealink, 1);
    ConstElementPtr a = command("phoneprov-render", R"({"all": true})");
    ASSERT_TRUE(args(a)->get("skipped")->get("3c:22:fb:01:02:03")) << a->str();
    EXPECT_EQ(2, args(a)->get("queued")->intValue());
    waitRenders();
    EXPECT_EQ(yealink + 1, renders("yealink"));
    EXPECT_EQ(snom + 1, renders("snom"));
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_COMMAND_RENDER"));
}

TEST_F(CommandTest, RenderRefusedWhenRenderingIsOff) {
    loadCopy(false);
    ConstElementPtr a = command("phoneprov-render", R"({"mac": "00:15:65:aa:bb:cc"})");
    EXPECT_EQ(1, result(a));
    EXPECT_EQ("phoneprov-render: rendering is off (parameter 'render')", text(a));
}

TEST_F(CommandTest, ReloadReadsTheProfilesAgain) {
    loadCopy();
    exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    size_t before = countProfiles(profiles_);
    // Remove a vendor that sorts before Yealink: catalogue indices move.
    ASSERT_EQ(0, system(("rm -rf '" + profiles_ + "/avaya'").c_str()));
    ConstElementPtr a = command("phoneprov-reload");
    ASSERT_EQ(0, result(a)) << a->str();
    EXPECT_EQ("phoneprov reloaded " + std::to_string(before - 1) + " vendor profiles", text(a));
    EXPECT_EQ(1, args(a)->get("reloads")->intValue());
    EXPECT_NE(std::string::npos, logText().find("INFO  [kea-dhcp4.phoneprov-hooks"));
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_RELOAD_OK"));

    // Counted under the same vendor before and after the reload.
    Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    ASSERT_TRUE(rsp->getOption(66));
    EXPECT_EQ("http://127.0.0.1:8080/prov/yealink/", bytes(rsp->getOption(66)));
    ConstElementPtr s = args(command("phoneprov-status"));
    EXPECT_EQ(static_cast<int64_t>(before - 1), s->get("catalogue")->get("vendors")->intValue());
    EXPECT_EQ(2, s->get("vendors")->get("yealink")->get("phones-identified")->intValue());
    EXPECT_FALSE(s->get("vendors")->get("avaya")->get("loaded")->boolValue());
    EXPECT_EQ(2, stat("phoneprov.yealink.phones-identified"));
}

TEST_F(CommandTest, ReloadKeepsTheRunningSetOnError) {
    loadCopy();
    // A corrupt profile, then a template that does not compile.
    struct Breakage {
        int line_;
        std::string file;
        std::string content;
        std::string expected;  ///< part of the error text
    };
    std::string yealink = profiles_ + "/yealink/profile.json";
    std::ifstream in(yealink);
    std::stringstream good;
    good << in.rdbuf();
    const std::vector<Breakage> breakages = {
        {__LINE__, yealink, "{", "yealink/profile.json"},
        {__LINE__, yealink, R"({"id": "yealink"})", "yealink/profile.json"},
    };
    for (const auto& b : breakages) {
        SCOPED_TRACE(b.line_);
        writeFile(b.file, b.content);
        ConstElementPtr a = command("phoneprov-reload");
        EXPECT_EQ(1, result(a)) << a->str();
        EXPECT_EQ(0u, text(a).find("phoneprov-reload: ")) << text(a);
        EXPECT_NE(std::string::npos, text(a).find(b.expected)) << text(a);
        EXPECT_NE(std::string::npos, text(a).find("(the running profiles stay)")) << text(a);
        // The old set still serves: identification, options, commands.
        ConstElementPtr id = command("phoneprov-identify", R"({"mac": "00:15:65:aa:bb:cc"})");
        ASSERT_EQ(0, result(id));
        EXPECT_EQ("yealink", args(id)->get("vendor")->stringValue());
        Pkt4Ptr rsp = exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
        ASSERT_TRUE(rsp->getOption(66));
        EXPECT_EQ(0, args(command("phoneprov-status"))->get("catalogue")->get("reloads")->intValue());
    }
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_RELOAD_FAILED"));
    // Fixed: the reload goes through.
    writeFile(yealink, good.str());
    EXPECT_EQ(0, result(command("phoneprov-reload")));
}

TEST_F(CommandTest, RendersQueuedBeforeAReloadUseTheirOwnPlan) {
    loadCopy();
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "hostname": "p1",
         "user-context": {"phoneprov": {"accounts": [{"user": "1001", "password": "x"}]}}}]}]})");
    // Many reloads while renders run: no crash, every render done or failed cleanly.
    for (int i = 0; i < 5; ++i) {
        ASSERT_EQ(0, result(command("phoneprov-render", R"({"all": true})")));
        ASSERT_EQ(0, result(command("phoneprov-reload")));
        exchange(query(DHCPDISCOVER, kYealinkMac, "yealink"));
    }
    waitRenders();
    ConstElementPtr s = args(command("phoneprov-status"));
    EXPECT_EQ(0, s->get("totals")->get("render-failures")->intValue());
    EXPECT_GE(s->get("vendors")->get("yealink")->get("renders")->intValue(), 1);
    EXPECT_TRUE(exists("yealink/001565aabbcc.cfg"));
}

}  // namespace

namespace {

/// @brief Sends one datagram to a unix socket, as nginx's syslog output does.
void sendLine(const std::string& path, const std::string& line) {
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    sockaddr_un to{};
    to.sun_family = AF_UNIX;
    std::strncpy(to.sun_path, path.c_str(), sizeof(to.sun_path) - 1);
    ASSERT_GE(sendto(fd, line.data(), line.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof(to)),
              0);
    close(fd);
}

}  // namespace

// Issue 24: a reserved phone's record from its ACK, its render and its fetches
// (fed to the fetch socket as nginx sends them), through phoneprov-list and -get.
TEST_F(CommandTest, ListAndGetShowAPhoneFromAckToFetch) {
    ElementPtr p = goodParams();
    p->set("profiles-dir", Element::create(profiles_));
    const std::string sock = dir_ + "/fetch.sock";
    p->set("fetch-log-socket", Element::create(sock));
    ASSERT_TRUE(load(p));
    configured(R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
        {"hw-address": "00:15:65:aa:bb:cc", "user-context": {"phoneprov":
            {"accounts": [{"user": "1001", "password": "s3cret-in-no-record"}]}}}]}]})");
    waitRenders();
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink T46S 66.86.0.15"), DHCPACK, {},
             "192.0.2.100");
    waitRenders();
    ConstElementPtr a = command("phoneprov-get", R"({"mac": "00:15:65:AA:BB:CC"})");
    ASSERT_EQ(0, result(a)) << a->str();
    EXPECT_EQ("00:15:65:aa:bb:cc: rendered", text(a));
    ConstElementPtr r = args(a);
    EXPECT_EQ("yealink", r->get("vendor")->stringValue());
    EXPECT_EQ("T46S", r->get("model")->stringValue());
    EXPECT_EQ("option-60", r->get("identified-by")->stringValue());
    EXPECT_EQ("192.0.2.100", r->get("address")->stringValue());
    EXPECT_TRUE(r->get("reserved")->boolValue());
    EXPECT_EQ("ok", r->get("render")->get("outcome")->stringValue());
    // Yealink's per-device files: <mac>.boot and <mac>.cfg.
    ASSERT_EQ(2u, r->get("files")->size());
    int cfg = -1;
    for (int i = 0; i < 2; ++i) {
        if (r->get("files")->get(i)->get("path")->stringValue() == "yealink/001565aabbcc.cfg") {
            cfg = i;
        }
    }
    ASSERT_GE(cfg, 0) << r->str();

    sendLine(sock, "<190>Dec  8 00:00:01 nginx: phoneprov-fetch http 192.0.2.100 200 900 "
                   "/prov/yealink/001565aabbcc.cfg");
    std::string state;
    for (int i = 0; i < 500 && state != "fetched"; ++i) {
        a = command("phoneprov-get", R"({"mac": "00:15:65:aa:bb:cc"})");
        state = args(a)->get("state")->stringValue();
        if (state != "fetched") {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
    }
    ASSERT_EQ("fetched", state);
    ConstElementPtr fetch = args(a)->get("files")->get(cfg)->get("last-fetch");
    EXPECT_EQ("http", fetch->get("protocol")->stringValue());
    EXPECT_EQ("192.0.2.100", fetch->get("address")->stringValue());
    EXPECT_EQ(200, fetch->get("status")->intValue());
    EXPECT_EQ(900, fetch->get("bytes")->intValue());
    EXPECT_NE(std::string::npos, logText().find("PHONEPROV_PROVISIONED phoneprov: phone "
                                                "00:15:65:aa:bb:cc (yealink T46S) at 192.0.2.100"));
    EXPECT_EQ(std::string::npos, a->str().find("s3cret"));

    // Another address reads the phone's file: logged, counted.
    sendLine(sock, "phoneprov-fetch http 192.0.2.200 200 900 /prov/yealink/001565aabbcc.cfg");
    for (int i = 0; i < 500 && logText().find("PHONEPROV_FETCH_FOREIGN") == std::string::npos;
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_NE(std::string::npos,
              logText().find("PHONEPROV_FETCH_FOREIGN phoneprov: 192.0.2.200 fetched "
                             "yealink/001565aabbcc.cfg, the file of phone 00:15:65:aa:bb:cc "
                             "whose lease is 192.0.2.100"));
    command("phoneprov-status");  // pushes the statistics
    EXPECT_EQ(1, stat("phoneprov.fetch-foreign-address"));

    a = command("phoneprov-list", R"({"state": "fetched", "vendor": "yealink"})");
    ASSERT_EQ(0, result(a)) << a->str();
    EXPECT_EQ(1, args(a)->get("total")->intValue());
    EXPECT_TRUE(args(a)->get("persistent")->boolValue());
    EXPECT_EQ("00:15:65:aa:bb:cc",
              args(a)->get("phones")->get(0)->get("mac")->stringValue());
    EXPECT_FALSE(args(a)->get("phones")->get(0)->get("files"));  // -get has them
    a = command("phoneprov-list", R"({"state": "rendered"})");
    EXPECT_EQ(3, result(a)) << a->str();  // empty
    EXPECT_EQ(0, args(a)->get("total")->intValue());
    a = command("phoneprov-list", R"({"offset": 1})");
    EXPECT_EQ(1, args(a)->get("total")->intValue());
    EXPECT_EQ(0u, args(a)->get("phones")->size());
    a = command("phoneprov-get", R"({"mac": "00:15:65:00:00:01"})");
    EXPECT_EQ(3, result(a));
    EXPECT_EQ("phoneprov-get: no record of 00:15:65:00:00:01", text(a));
}

TEST_F(CommandTest, ListAndGetNameTheBadArgument) {
    loadCopy(false);
    struct Case {
        int line_;
        std::string command;
        std::string args;
        std::string text;
    };
    const std::vector<Case> cases = {
        {__LINE__, "phoneprov-list", R"({"colour": "red"})",
         "phoneprov-list: unknown argument 'colour'"},
        {__LINE__, "phoneprov-list", R"({"limit": "10"})", "phoneprov-list: 'limit' must be a integer"},
        {__LINE__, "phoneprov-list", R"({"limit": 0})",
         "phoneprov-list: 'limit' must be between 1 and 10000"},
        {__LINE__, "phoneprov-list", R"({"offset": -1})",
         "phoneprov-list: 'offset' must be between 0 and 4294967296"},
        {__LINE__, "phoneprov-list", R"({"state": "happy"})",
         "phoneprov-list: 'state' 'happy' must be seen, rendered, fetched, fetched-stale or failed"},
        {__LINE__, "phoneprov-list", R"({"seen-since": -5})",
         "phoneprov-list: 'seen-since' must be between 0 and 1099511627776"},
        {__LINE__, "phoneprov-list", R"([1])", "phoneprov-list: 'arguments' must be a map"},
        {__LINE__, "phoneprov-get", "", "phoneprov-get: missing 'arguments'"},
        {__LINE__, "phoneprov-get", R"({})", "phoneprov-get: missing 'mac'"},
        {__LINE__, "phoneprov-get", R"({"mac": "zz"})", "phoneprov-get: 'mac': 'zz' is not a MAC address"},
        {__LINE__, "phoneprov-get", R"({"mac": "00:15:65:aa:bb:cc", "all": true})",
         "phoneprov-get: unknown argument 'all'"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE("line " + std::to_string(c.line_));
        ConstElementPtr a = command(c.command, c.args);
        EXPECT_EQ(1, result(a));
        EXPECT_EQ(c.text, text(a));
    }
    ConstElementPtr a = command("phoneprov-list");
    EXPECT_EQ(3, result(a)) << a->str();
    EXPECT_EQ("0 of 0 phones", text(a));
}

// A state-db that cannot be opened does not fail the load: an ERROR names the file.
TEST_F(CommandTest, AStateDbThatCannotBeOpenedLoadsAnyway) {
    ElementPtr p = goodParams();
    p->set("state-db", Element::create(dir_ + "/no/such/folder/state.db"));
    ASSERT_TRUE(load(p));
    EXPECT_NE(std::string::npos,
              logText().find("PHONEPROV_RECORDS_OPEN_FAILED phoneprov cannot open its phone "
                             "records " + dir_ + "/no/such/folder/state.db"));
    exchange(query(DHCPREQUEST, kYealinkMac, "yealink"), DHCPACK);
    ConstElementPtr a = command("phoneprov-list");
    ASSERT_EQ(0, result(a)) << a->str();
    EXPECT_FALSE(args(a)->get("persistent")->boolValue());
    EXPECT_EQ(1, args(a)->get("total")->intValue());
}
