// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The extern "C" entry points of libdhcp_phoneprov.so. Each one is thin: guard
// clauses, then a call into PhoneProv inside try; nothing escapes.
#include <config.h>

#include "kea_compat.h"
#include "phoneprov.h"
#include "phoneprov_command_callouts.h"
#include "phoneprov_log.h"

#include <hooks/hooks.h>

using namespace isc::dhcp;
using namespace isc::hooks;
using namespace isc::phoneprov;

namespace isc {
namespace phoneprov {

/// @brief The implementation, set by load() and reset by unload().
PhoneProvPtr impl;

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

/// @brief Loads and checks the configuration; any error refuses it.
int load(LibraryHandle& handle) {
    try {
        std::string proc = processName();
        if (proc != "kea-dhcp4") {
            LOG_ERROR(phoneprov_logger, PHONEPROV_NOT_DHCP4).arg(proc);
            return (1);
        }
        PhoneProvPtr p = std::make_shared<PhoneProv>(handle.getParameters());
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
        impl = p;
        registerCommands(handle, p);
        LOG_INFO(phoneprov_logger, PHONEPROV_LOAD_OK)
            .arg(p->identifier().catalogue().vendors().size())
            .arg(p->vendorPrefixes())
            .arg(p->registryRows())
            .arg(p->config().outputDir)
            .arg(p->config().baseUrl);
    } catch (const std::exception& ex) {
        stopCommands();
        impl.reset();
        LOG_ERROR(phoneprov_logger, PHONEPROV_LOAD_FAILED).arg(ex.what());
        return (1);
    }
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
