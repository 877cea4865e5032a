// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The extern "C" entry points of libdhcp_phoneprov.so. Each one is thin: guard
// clauses, then a call into PhoneProv inside try; nothing escapes.
#include <config.h>

#include "kea_compat.h"
#include "phoneprov.h"
#include "phoneprov_command_callouts.h"
#include "phoneprov_commands.h"
#include "phoneprov_log.h"

#include <hooks/hooks.h>
#include <stats/stats_mgr.h>

#include <dlfcn.h>

using namespace isc::dhcp;
using namespace isc::hooks;
using namespace isc::phoneprov;
using isc::data::ConstElementPtr;
namespace core = ::phoneprov;

namespace isc {
namespace phoneprov {

/// @brief The implementation, set by load() and reset by unload().
PhoneProvPtr impl;

/// @brief The last parameters that loaded (not passthrough) in this process: the
/// fallback when a reconfiguration brings unusable ones. Main thread only.
nlohmann::json lastGoodParams;

/// @brief Whether our pkt4_receive callout is registered, and whether late (from
/// dhcp4_srv_configured rather than load()). Main thread only.
bool receive_registered = false;
bool receive_late = false;

}  // namespace phoneprov
}  // namespace isc

extern "C" {

int phoneprov_pkt4_receive(CalloutHandle& handle);

/// @brief dhcp4_srv_configured: the committed configuration, with its reservations.
/// pkt4_receive is registered only when phones must be put into classes before
/// Kea classifies (client-classes "always", or "auto" and the configuration names
/// them); otherwise pkt4_send identifies the client and Kea calls one callout less.
int dhcp4_srv_configured(CalloutHandle& handle) {
    refreshPacketTraces();  // the committed configuration's logging is in force now
    if (!impl) {
        return (0);
    }
    try {
        isc::data::ConstElementPtr config;
        handle.getArgument(configuredArgument(), config);
        bool classes = impl->configured(config);
        if (classes && !receive_registered) {
            registerLateCallout("pkt4_receive", phoneprov_pkt4_receive);
            receive_registered = receive_late = true;
        } else if (!classes && receive_registered && receive_late) {
            deregisterLateCallout("pkt4_receive", phoneprov_pkt4_receive);
            receive_registered = receive_late = false;
        }
        impl->identifyInSend(!receive_registered);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PACKET_ERROR).arg("configuration").arg(ex.what());
    }
    return (0);
}

/// @brief pkt4_receive: identify the client and put phones into classes.
/// Registered by load() or dhcp4_srv_configured, not by its name.
int phoneprov_pkt4_receive(CalloutHandle& handle) {
    CalloutHandle::CalloutNextStep status = handle.getStatus();
    if (status == CalloutHandle::NEXT_STEP_DROP || status == CalloutHandle::NEXT_STEP_SKIP) {
        return (0);
    }
    PhoneProvPtr p = impl;
    if (!p) {
        return (0);
    }
    Pkt4Ptr query;
    handle.getArgument("query4", query);
    if (!query) {
        return (0);
    }
    try {
        p->receive(handle, *query);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PACKET_ERROR).arg(query->getLabel()).arg(ex.what());
    }
    return (0);
}

/// @brief pkt4_send: put the vendor's options into the OFFER or ACK; queue the render;
/// hold the ACK (drop it from Kea's path, send it later) while the render is pending.
int pkt4_send(CalloutHandle& handle) {
    CalloutHandle::CalloutNextStep status = handle.getStatus();
    if (status == CalloutHandle::NEXT_STEP_DROP || status == CalloutHandle::NEXT_STEP_SKIP) {
        return (0);
    }
    PhoneProvPtr p = impl;
    if (!p) {
        return (0);
    }
    Pkt4Ptr query;
    Pkt4Ptr response;
    handle.getArgument("query4", query);
    handle.getArgument("response4", response);
    if (!query || !response) {
        return (0);
    }
    try {
        p->send(handle, *query, response);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PACKET_ERROR).arg(query->getLabel()).arg(ex.what());
    }
    return (0);
}

/// @brief lease4_release, lease4_decline, lease4_expire (lease-binding only): the
/// phone's per-address view goes (queued: no file I/O here). Registered by load().
int phoneprov_lease4_gone(CalloutHandle& handle) {
    PhoneProvPtr p = impl;
    if (!p) {
        return (0);
    }
    try {
        isc::dhcp::Lease4Ptr lease;
        handle.getArgument("lease4", lease);
        if (lease) {
            p->leaseGone(*lease);
        }
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PACKET_ERROR).arg("lease").arg(ex.what());
    }
    return (0);
}

/// @brief leases4_committed (ack-hold parking-lot only): park the REQUEST in Kea's
/// parking lot while that phone's render is pending. Registered by load().
int phoneprov_leases4_committed(CalloutHandle& handle) {
    if (handle.getStatus() != CalloutHandle::NEXT_STEP_CONTINUE) {
        return (0);
    }
    PhoneProvPtr p = impl;
    if (!p) {
        return (0);
    }
    Pkt4Ptr query;
    handle.getArgument("query4", query);
    if (!query) {
        return (0);
    }
    try {
        p->committed(handle, query);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_PACKET_ERROR).arg(query->getLabel()).arg(ex.what());
    }
    return (0);
}

namespace {

/// @brief Keeps this library mapped after Kea's dlclose (RTLD_NODELETE), so that
/// lastGoodParams outlives unload(): Kea 2.2 dlcloses every hook library at each
/// config-set and config-reload. (g++'s STB_GNU_UNIQUE symbols in this library make
/// glibc keep it anyway; this does not depend on that.) A new build of the library
/// therefore takes effect at a restart of kea-dhcp4, not at a reconfiguration.
void pinLibrary() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&pinLibrary), &info) && info.dli_fname) {
        // The reference this takes is never released: the library stays.
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
    }
}

/// @brief Logs the configuration errors and records them for phoneprov-status
/// and the statistics.
void report(const core::CheckedConfig& checked, const std::vector<std::string>& refused,
            const std::string& parameters) {
    loadHealth = LoadHealth();
    loadHealth.parameters = parameters;
    for (const std::string& r : refused) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_CONFIG_ERROR)
            .arg(r)
            .arg("parameters refused: the previous parameters stay in force");
        loadHealth.errors.push_back(r);
    }
    for (const auto& e : checked.errors) {
        std::string effect = !e.vendor.empty()
                                 ? "vendor '" + e.vendor + "' left out"
                                 : "passthrough: DHCP packets pass untouched, nothing is rendered";
        LOG_ERROR(phoneprov_logger, PHONEPROV_CONFIG_ERROR).arg(e.message).arg(effect);
        loadHealth.errors.push_back(e.message);
    }
    loadHealth.leftOut = checked.brokenProfiles;
    loadHealth.state = checked.state;
    if (!refused.empty() && checked.state == core::LoadState::Ok) {
        loadHealth.state = core::LoadState::Degraded;
    }
    for (const std::string& missing : checked.registryMissing) {
        LOG_WARN(phoneprov_logger, PHONEPROV_REGISTRY_MISSING).arg(missing);
    }
    isc::stats::StatsMgr& stats = isc::stats::StatsMgr::instance();
    stats.setValue("phoneprov.config-errors", static_cast<int64_t>(loadHealth.errors.size()));
    stats.setValue("phoneprov.profiles-broken",
                   static_cast<int64_t>(checked.brokenProfiles.size()));
}

}  // namespace

/// @brief Loads the configuration. Never fails for phoneprov's own configuration:
/// a broken vendor profile leaves that vendor out; unusable parameters fall back
/// to the last good ones loaded in this process, else to passthrough (packets
/// untouched, nothing rendered). Each error is logged (PHONEPROV_CONFIG_ERROR),
/// counted (phoneprov.config-errors) and listed by phoneprov-status. Only another
/// process than kea-dhcp4 fails it: in Kea 2.2 a failed load() during config-set or
/// config-reload unloads every hook library and stops DHCP for everyone.
int load(LibraryHandle& handle) {
    std::string proc = processName();
    if (proc != "kea-dhcp4") {
        LOG_ERROR(phoneprov_logger, PHONEPROV_NOT_DHCP4).arg(proc);
        return (1);
    }
    pinLibrary();
    refreshPacketTraces();  // a reconfiguration may have changed the debug level
    impl.reset();
    bool commands = false;
    try {
        ConstElementPtr params = handle.getParameters();
        nlohmann::json json = toJson(params);
        core::CheckedConfig checked = checkHookParameters(json, params);
        std::vector<std::string> refused;
        std::string parameters = "current";
        if (checked.state == core::LoadState::Passthrough && !lastGoodParams.is_null() &&
            lastGoodParams != json) {
            core::CheckedConfig previous = checkHookParameters(lastGoodParams, ConstElementPtr());
            if (previous.state != core::LoadState::Passthrough) {
                for (const auto& e : checked.errors) {
                    refused.push_back(e.message);
                }
                checked = std::move(previous);
                json = lastGoodParams;
                parameters = "previous";
            }
        }
        if (checked.state == core::LoadState::Passthrough) {
            parameters = "none";
        }
        report(checked, refused, parameters);
        if (checked.state == core::LoadState::Passthrough) {
            registerCommands(handle, PhoneProvPtr());
            commands = true;
            LOG_ERROR(phoneprov_logger, PHONEPROV_PASSTHROUGH).arg(loadHealth.errors.size());
            return (0);
        }
        PhoneProvPtr p = std::make_shared<PhoneProv>(checked, json);
        for (const std::string& w : p->warnings()) {
            LOG_WARN(phoneprov_logger, PHONEPROV_LOAD_WARNING).arg(w);
        }
        p->start();
        // Until the configuration says otherwise: classes only when always wanted.
        receive_registered = p->config().clientClasses == "always";
        receive_late = false;
        if (receive_registered) {
            handle.registerCallout("pkt4_receive", phoneprov_pkt4_receive);
        }
        p->identifyInSend(!receive_registered);
        if (p->usesParkingLot()) {
            handle.registerCallout("leases4_committed", phoneprov_leases4_committed);
        }
        if (p->leaseBinding()) {
            // The same three hook points, with a "lease4" argument, in Kea 2.2 and 2.6.
            for (const char* point : {"lease4_release", "lease4_decline", "lease4_expire"}) {
                handle.registerCallout(point, phoneprov_lease4_gone);
            }
        }
        impl = p;
        lastGoodParams = json;
        registerCommands(handle, p);
        commands = true;
        LOG_INFO(phoneprov_logger, PHONEPROV_LOAD_OK)
            .arg(p->identifier().catalogue().vendors().size())
            .arg(p->vendorPrefixes())
            .arg(p->registryRows())
            .arg(p->config().outputDir)
            .arg(p->config().baseUrl);
        if (loadHealth.state != core::LoadState::Ok) {
            LOG_ERROR(phoneprov_logger, PHONEPROV_DEGRADED)
                .arg(loadHealth.errors.size())
                .arg(loadHealth.parameters);
        }
    } catch (const std::exception& ex) {
        // Not the configuration (a pipe, a thread): still no reason to stop DHCP.
        if (impl) {
            impl->stop();
        }
        impl.reset();
        if (!commands) {
            try {
                registerCommands(handle, PhoneProvPtr());  // phoneprov-status tells why
            } catch (const std::exception&) {
            }
        }
        loadHealth.state = core::LoadState::Passthrough;
        loadHealth.parameters = "none";
        loadHealth.errors.push_back(ex.what());
        LOG_ERROR(phoneprov_logger, PHONEPROV_CONFIG_ERROR)
            .arg(ex.what())
            .arg("passthrough: DHCP packets pass untouched, nothing is rendered");
        isc::stats::StatsMgr::instance().setValue(
            "phoneprov.config-errors", static_cast<int64_t>(loadHealth.errors.size()));
        LOG_ERROR(phoneprov_logger, PHONEPROV_PASSTHROUGH).arg(loadHealth.errors.size());
    }
    return (0);
}

/// @brief Tests only: forgets the last good parameters (a fresh process).
int phoneprov_forget_last_good() {
    lastGoodParams = nlohmann::json();
    return (0);
}

/// @brief Stops the workers; queued renders are dropped.
int unload() {
    stopCommands();
    if (receive_late) {
        // Kea drops its callout manager after unloading; be tidy before dlclose.
        try {
            deregisterLateCallout("pkt4_receive", phoneprov_pkt4_receive);
        } catch (const std::exception&) {
        }
        receive_registered = receive_late = false;
    }
    if (impl) {
        impl->stop();
        impl.reset();
        LOG_INFO(phoneprov_logger, PHONEPROV_UNLOAD);
    }
    return (0);
}

/// @brief Test seam, not a hook point: holds the render workers still (1) or lets
/// them go (0), so that callout tests can hold a phone's render pending without a
/// render slow enough to outlast them. Found by the tests with dlsym(); Kea never
/// calls it, and it changes nothing unless called.
int phoneprov_test_pause_renders(int paused) {
    PhoneProvPtr p = impl;
    if (p) {
        p->pauseRenders(paused != 0);
    }
    return (p ? 0 : 1);
}

/// @brief The callouts are thread-safe: immutable configuration, locked queues.
int multi_threading_compatible() {
    return (1);
}

}  // extern "C"
