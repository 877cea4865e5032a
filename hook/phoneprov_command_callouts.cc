// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The command callouts of libdhcp_phoneprov.so (registered by load()) and the
// statistics' lifetime. Each callout is thin: read the command, call Commands,
// set "response"; nothing escapes. Kea runs them on its main thread.
#include <config.h>

#include "phoneprov_command_callouts.h"

#include "phoneprov_commands.h"
#include "phoneprov_log.h"
#include "phoneprov_stats.h"

#include <cc/command_interpreter.h>
#include <hooks/server_hooks.h>

#include <functional>
#include <memory>

using namespace isc::config;
using namespace isc::data;
using namespace isc::hooks;

namespace isc {
namespace phoneprov {

extern PhoneProvPtr impl;

LoadHealth loadHealth;

namespace {

using Handler = std::function<ConstElementPtr(PhoneProv&, const ConstElementPtr&)>;

/// @param passthrough the answer when the hook runs no implementation (passthrough).
int runCommand(CalloutHandle& handle, const Handler& handler,
               const std::function<ConstElementPtr()>& passthrough = nullptr) {
    ConstElementPtr response;
    std::string name = "phoneprov command";
    try {
        ConstElementPtr command;
        handle.getArgument("command", command);
        ConstElementPtr args;
        name = parseCommand(args, command);
        PhoneProvPtr p = impl;
        if (p) {
            response = handler(*p, args);
        } else {
            response = passthrough ? passthrough() : Commands::notLoaded(name);
        }
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_COMMAND_ERROR).arg(name).arg(ex.what());
        response = createAnswer(CONTROL_RESULT_ERROR, name + ": " + ex.what());
    }
    handle.setArgument("response", response);
    return (0);
}

int statusCommand(CalloutHandle& handle) {
    return (runCommand(
        handle, [](PhoneProv& p, const ConstElementPtr&) { return (Commands::status(p)); },
        &Commands::passthroughStatus));
}

int identifyCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::identify));
}

int renderCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::render));
}

int listCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::list));
}

int getCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::get));
}

int reloadCommand(CalloutHandle& handle) {
    return (runCommand(handle, [](PhoneProv& p, const ConstElementPtr&) {
        return (Commands::reload(p));
    }));
}

/// @brief command_processed (after Kea ran one of its own commands): brings the
/// statistics up to date in the answer of statistic-get and statistic-get-all.
int commandProcessed(CalloutHandle& handle) {
    PhoneProvPtr p = impl;
    if (!p) {
        return (0);
    }
    std::string name;
    try {
        handle.getArgument("name", name);
        ConstElementPtr args;
        handle.getArgument("arguments", args);
        ConstElementPtr response;
        handle.getArgument("response", response);
        ConstElementPtr before = response;
        refreshStatisticAnswer(*p, name, args, response);
        if (response != before) {
            handle.setArgument("response", response);
        }
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_COMMAND_ERROR).arg(name).arg(ex.what());
    }
    return (0);
}

}  // namespace

void registerCommands(LibraryHandle& handle, const PhoneProvPtr& p) {
    handle.registerCommandCallout("phoneprov-status", statusCommand);
    handle.registerCommandCallout("phoneprov-identify", identifyCommand);
    handle.registerCommandCallout("phoneprov-render", renderCommand);
    handle.registerCommandCallout("phoneprov-reload", reloadCommand);
    handle.registerCommandCallout("phoneprov-list", listCommand);
    handle.registerCommandCallout("phoneprov-get", getCommand);
    // Kea's command manager registers this hook point (libkea-cfgclient); Kea calls
    // it after its own commands, never on the DHCP path.
    if (ServerHooks::getServerHooks().findIndex("command_processed") >= 0) {
        handle.registerCallout("command_processed", commandProcessed);
    }
    if (p) {
        pushStatistics(*p);  // the totals exist, at 0, from the start
    }
}

void stopCommands() {
    removeStatistics();
}

}  // namespace phoneprov
}  // namespace isc
