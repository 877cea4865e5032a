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

#include <functional>
#include <memory>

using namespace isc::config;
using namespace isc::data;
using namespace isc::hooks;

namespace isc {
namespace phoneprov {

extern PhoneProvPtr impl;

namespace {

std::unique_ptr<StatsPusher> pusher;

using Handler = std::function<ConstElementPtr(PhoneProv&, const ConstElementPtr&)>;

int runCommand(CalloutHandle& handle, const Handler& handler) {
    ConstElementPtr response;
    std::string name = "phoneprov command";
    try {
        ConstElementPtr command;
        handle.getArgument("command", command);
        ConstElementPtr args;
        name = parseCommand(args, command);
        PhoneProvPtr p = impl;
        response = p ? handler(*p, args) : Commands::notLoaded(name);
    } catch (const std::exception& ex) {
        LOG_ERROR(phoneprov_logger, PHONEPROV_COMMAND_ERROR).arg(name).arg(ex.what());
        response = createAnswer(CONTROL_RESULT_ERROR, name + ": " + ex.what());
    }
    handle.setArgument("response", response);
    return (0);
}

int statusCommand(CalloutHandle& handle) {
    return (runCommand(handle, [](PhoneProv& p, const ConstElementPtr&) {
        return (Commands::status(p));
    }));
}

int identifyCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::identify));
}

int renderCommand(CalloutHandle& handle) {
    return (runCommand(handle, &Commands::render));
}

int reloadCommand(CalloutHandle& handle) {
    return (runCommand(handle, [](PhoneProv& p, const ConstElementPtr&) {
        return (Commands::reload(p));
    }));
}

}  // namespace

void registerCommands(LibraryHandle& handle, const PhoneProvPtr& p) {
    handle.registerCommandCallout("phoneprov-status", statusCommand);
    handle.registerCommandCallout("phoneprov-identify", identifyCommand);
    handle.registerCommandCallout("phoneprov-render", renderCommand);
    handle.registerCommandCallout("phoneprov-reload", reloadCommand);
    pushStatistics(*p);  // every statistic exists, at 0, from the start
    pusher.reset(new StatsPusher(p));
}

void stopCommands() {
    pusher.reset();
    removeStatistics();
}

}  // namespace phoneprov
}  // namespace isc
