// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// A small fixture that loads the built libdhcp_phoneprov.so through Kea's
// HooksManager, as kea-dhcp4 does (Kea installs no test fixture of its own),
// and captures Kea's log in a file to assert messages.
#ifndef PHONEPROV_HOOK_FIXTURE_H
#define PHONEPROV_HOOK_FIXTURE_H

#include <config.h>

#include <cc/data.h>
#include <dhcp/dhcp4.h>
#include <dhcp/hwaddr.h>
#include <dhcp/option.h>
#include <dhcp/option_string.h>
#include <dhcp/pkt4.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <hooks/server_hooks.h>
#include <log/logger_manager.h>
#include <log/logger_specification.h>
#include <log/logger_support.h>
#include <log/output_option.h>
#include <process/daemon.h>

#include <gtest/gtest.h>

#include <dlfcn.h>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace phoneprov_test {

using namespace isc::data;
using namespace isc::dhcp;
using namespace isc::hooks;

/// @brief Loads the hook with parameters; captures the log; cleans up.
class HookFixture : public ::testing::Test {
protected:
    void SetUp() override {
        char tmpl[] = "/tmp/phoneprov-hook-XXXXXX";
        dir_ = mkdtemp(tmpl);
        out_ = dir_ + "/out";
        mkdir(out_.c_str(), 0750);
        log_ = dir_ + "/kea.log";
        setenv("KEA_LOCKFILE_DIR", dir_.c_str(), 1);
        isc::process::Daemon::setProcName("kea-dhcp4");
        isc::log::initLogger("kea-dhcp4", isc::log::DEBUG, 99, nullptr, false);
        logAt(isc::log::DEBUG);
        for (const char* hook : {"pkt4_receive", "pkt4_send", "leases4_committed",
                                 "dhcp4_srv_configured", "lease4_release", "lease4_decline",
                                 "lease4_expire"}) {
            hookIndex(hook);
        }
        forgetLastGood();
    }

    /// @brief Sends Kea's log to log_ at this severity (debug level 99), as a
    /// configuration's "loggers" entry would.
    void logAt(isc::log::Severity severity) const {
        isc::log::LoggerSpecification spec("kea-dhcp4", severity, 99);
        isc::log::OutputOption opt;
        opt.destination = isc::log::OutputOption::DEST_FILE;
        opt.filename = log_;
        spec.addOutputOption(opt);
        isc::log::LoggerManager manager;
        manager.process(spec);
    }

    /// @brief The library stays mapped across unload() (as in kea-dhcp4) and keeps
    /// the last good parameters: each test starts as a fresh process would.
    static void forgetLastGood() {
        void* lib = dlopen(PHONEPROV_HOOK_SO, RTLD_NOW | RTLD_NOLOAD);
        if (!lib) {
            return;
        }
        auto forget = reinterpret_cast<int (*)()>(dlsym(lib, "phoneprov_forget_last_good"));
        if (forget) {
            forget();
        }
        dlclose(lib);
    }

    void TearDown() override {
        HooksManager::prepareUnloadLibraries();
        HooksManager::unloadLibraries();
        std::string cmd = "rm -rf '" + dir_ + "'";
        (void)system(cmd.c_str());
    }

    /// @brief The index of a hook point, registered when new.
    static int hookIndex(const std::string& name) {
        ServerHooks& hooks = ServerHooks::getServerHooks();
        int index = hooks.findIndex(name);
        return (index >= 0 ? index : hooks.registerHook(name));
    }

    /// @brief Parameters that load: output in the temp dir, the source profiles.
    ElementPtr goodParams() const {
        ElementPtr p = Element::createMap();
        p->set("output-dir", Element::create(out_));
        p->set("base-url", Element::create("http://127.0.0.1:8080/prov"));
        p->set("profiles-dir", Element::create(std::string(PHONEPROV_SOURCE_DIR) + "/profiles"));
        p->set("tftp-server", Element::create("192.0.2.69"));
        p->set("render-wait-ms", Element::create(0));
        p->set("client-classes", Element::create("always"));
        p->set("state-db", Element::create(dir_ + "/state.db"));
        // Files at their MAC-derived names, which most tests read; per-device
        // folders have tests of their own (tokenParams()).
        p->set("device-tokens", Element::create(false));
        return (p);
    }

    /// @brief goodParams() with per-device folders: a site key (bytes 0..31, 0600)
    /// in the temp folder.
    ElementPtr tokenParams() const {
        ElementPtr p = goodParams();
        p->set("device-tokens", Element::create(true));
        const std::string key = dir_ + "/site.key";
        std::ofstream out(key, std::ios::binary);
        for (int i = 0; i < 32; ++i) {
            out.put(static_cast<char>(i));
        }
        out.close();
        chmod(key.c_str(), 0600);
        p->set("key-file", Element::create(key));
        return (p);
    }

    /// @brief Loads the library with these parameters (Kea's loadLibraries).
    bool load(const ConstElementPtr& params) {
        HookLibsCollection libs;
        libs.push_back(std::make_pair(std::string(PHONEPROV_HOOK_SO), params));
        return (HooksManager::loadLibraries(libs));
    }

    /// @brief Holds the loaded library's render workers still, or lets them go (the
    /// library's test seam phoneprov_test_pause_renders). True when it was called.
    bool pauseRenders(bool paused) const {
        void* lib = dlopen(PHONEPROV_HOOK_SO, RTLD_NOW | RTLD_NOLOAD);
        if (!lib) {
            return (false);
        }
        auto fn = reinterpret_cast<int (*)(int)>(dlsym(lib, "phoneprov_test_pause_renders"));
        int rc = fn ? fn(paused ? 1 : 0) : 1;
        dlclose(lib);
        return (rc == 0);
    }

    /// @brief The captured log.
    std::string logText() const {
        std::ifstream in(log_);
        std::stringstream ss;
        ss << in.rdbuf();
        return (ss.str());
    }

    /// @brief A query from a MAC with an optional vendor class.
    static Pkt4Ptr query(uint8_t type, const std::vector<uint8_t>& mac, const std::string& vc,
                         uint8_t htype = HTYPE_ETHER) {
        Pkt4Ptr q(new Pkt4(type, 1234));
        q->setHWAddr(HWAddrPtr(new HWAddr(mac, htype)));
        if (!vc.empty()) {
            q->addOption(OptionPtr(new Option(Option::V4, DHO_VENDOR_CLASS_IDENTIFIER,
                                              OptionBuffer(vc.begin(), vc.end()))));
        }
        return (q);
    }

    /// @brief Runs pkt4_receive then pkt4_send (OFFER) on one callout handle.
    /// @return the response.
    Pkt4Ptr exchange(const Pkt4Ptr& q, uint8_t responseType = DHCPOFFER,
                     const std::vector<OptionPtr>& preset = {},
                     const std::string& yiaddr = "192.0.2.100") {
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("query4", q);
        HooksManager::callCallouts(hookIndex("pkt4_receive"), *handle);
        Pkt4Ptr rsp(new Pkt4(responseType, q->getTransid()));
        if (responseType == DHCPOFFER || responseType == DHCPACK) {
            rsp->setYiaddr(isc::asiolink::IOAddress(yiaddr));  // a NAK carries none
        }
        for (const auto& o : preset) {
            rsp->addOption(o);
        }
        handle->setArgument("response4", rsp);
        HooksManager::callCallouts(hookIndex("pkt4_send"), *handle);
        return (rsp);
    }

    /// @brief Calls dhcp4_srv_configured with a JSON configuration.
    void configured(const std::string& json) {
        CalloutHandlePtr handle = HooksManager::createCalloutHandle();
        handle->setArgument("json_config", ConstElementPtr(Element::fromJSON(json)));
        HooksManager::callCallouts(hookIndex("dhcp4_srv_configured"), *handle);
    }

    static std::string bytes(const OptionPtr& o) {
        const OptionBuffer& d = o->getData();
        return (std::string(d.begin(), d.end()));
    }

    std::string dir_;
    std::string out_;
    std::string log_;
};

}  // namespace phoneprov_test

#endif  // PHONEPROV_HOOK_FIXTURE_H
