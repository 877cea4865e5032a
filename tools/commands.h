// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TOOLS_COMMANDS_H
#define PHONEPROV_TOOLS_COMMANDS_H

/// @brief `phoneprov identify`: the verdict for a MAC and a vendor class.
int cmdIdentify(int argc, char** argv);
/// @brief `phoneprov render`: render one MAC or a whole inventory offline.
int cmdRender(int argc, char** argv);
/// @brief `phoneprov keygen`: write a new site key (core/token.h).
int cmdKeygen(int argc, char** argv);
/// @brief `phoneprov validate`: check every profile and template with sample data.
int cmdValidate(int argc, char** argv);
/// @brief `phoneprov simulate`: a booting phone (tools/sim).
int cmdSimulate(int argc, char** argv);
/// @brief `phoneprov pnp`: the SIP PnP responder (tools/pnp.cc).
int cmdPnp(int argc, char** argv);
/// @brief `phoneprov resync`: the vendors' re-sync NOTIFY to leased phones (tools/resync.cc).
int cmdResync(int argc, char** argv);

/// @brief `phoneprov list`: the running server's phone records (tools/fleet.cc).
int cmdList(int argc, char** argv);
/// @brief `phoneprov get`: one phone's record from the running server (tools/fleet.cc).
int cmdGet(int argc, char** argv);
/// @brief `phoneprov metrics`: the hook's statistics as Prometheus text (tools/fleet.cc).
int cmdMetrics(int argc, char** argv);
/// @brief `phoneprov fleet`: the fleet page with the running server's records (tools/fleet.cc).
int cmdFleet(int argc, char** argv);

#endif  // PHONEPROV_TOOLS_COMMANDS_H
