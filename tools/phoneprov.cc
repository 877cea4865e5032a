// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The `phoneprov` command line: one binary, one subcommand per job.
#include "commands.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Command {
    const char* name;
    int (*run)(int, char**);
    const char* help;
};

const Command kCommands[] = {
    {"identify", cmdIdentify, "identify --mac MAC [--vendor-class S] [--json]: is it a phone?"},
    {"render", cmdRender, "render --config kea.json [--mac MAC] [--output DIR]: render offline"},
    {"keygen", cmdKeygen, "keygen [--out FILE] [--force]: write a new site key (0600)"},
    {"validate", cmdValidate, "validate [--profiles-dir D] [--config kea.json]: check profiles"},
    {"simulate", cmdSimulate, "simulate --mac MAC [--vendor-class S] ...: boot a phone"},
    {"pnp", cmdPnp, "pnp --config kea.json [--interface IF]...: SIP PnP responder (daemon)"},
    {"resync", cmdResync, "resync (--mac MAC | --all) --config kea.json: re-sync NOTIFY to phones"},
    {"list", cmdList, "list [--state S] [--vendor V] [--json]: phones the running server knows"},
    {"get", cmdGet, "get MAC [--json]: one phone's record, files and fetches, from the running server"},
    {"fleet", cmdFleet, "fleet --output FILE.html: the fleet page (an admin's view of every phone)"},
    {"metrics", cmdMetrics, "metrics [--output FILE.prom]: the hook's statistics for Prometheus"},
};

void usage(FILE* out) {
    std::fprintf(out, "usage: phoneprov COMMAND [options]\n\ncommands:\n");
    for (const Command& c : kCommands) {
        std::fprintf(out, "  %s\n", c.help);
    }
    std::fprintf(out, "\n'phoneprov COMMAND --help' shows a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        usage(stderr);
        return (1);
    }
    std::string cmd = argv[1];
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
        usage(stdout);
        return (0);
    }
    if (cmd == "--version") {
        std::printf("phoneprov %s\n", PHONEPROV_VERSION);
        return (0);
    }
    for (const Command& c : kCommands) {
        if (cmd == c.name) {
            return (c.run(argc - 1, argv + 1));
        }
    }
    std::fprintf(stderr, "phoneprov: unknown command '%s'\n", cmd.c_str());
    usage(stderr);
    return (1);
}
