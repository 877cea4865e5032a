// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Everything the hook's load() checks, in one function shared with
// `phoneprov validate`: the hook parameters, the output folder, every vendor
// profile with its templates, options and patterns, and the IEEE registry.
// It never throws: what is wrong is listed, and what is usable is built.
#ifndef PHONEPROV_CONFIG_CHECK_H
#define PHONEPROV_CONFIG_CHECK_H

#include "catalogue.h"
#include "params.h"
#include "provisioner.h"
#include "registry.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace phoneprov {

/// @brief How much of a configuration is in force.
enum class LoadState {
    Ok,          ///< everything
    Degraded,    ///< some vendors left out (broken profiles), or earlier parameters in force
    Passthrough  ///< nothing: packets pass untouched, nothing is rendered
};

/// @brief "ok", "degraded", "passthrough".
const char* loadStateText(LoadState s);

/// @brief What checkConfig needs besides the parameters.
struct CheckOptions {
    /// The profiles folder when the parameters name none (the one installed next to
    /// the hook or the tool).
    std::string defaultProfilesDir;
    /// Where a top-level parameter is in its file ("kea.json:12:9"), or "" when
    /// unknown. Appended to the message of an error about that parameter.
    std::function<std::string(const std::string& key)> locate;
};

/// @brief The result of checking the hook parameters and building what they name.
struct CheckedConfig {
    LoadState state = LoadState::Passthrough;
    /// @brief One error: the message names the key or the file (and line where known).
    struct Problem {
        std::string message;
        /// The vendor left out for it (its profile folder name), or "" when the
        /// parameters are at fault (then nothing runs).
        std::string vendor;
    };
    /// Logged by the hook as PHONEPROV_CONFIG_ERROR, printed by `phoneprov validate`.
    std::vector<Problem> errors;
    /// Legal but probably wrong (an option left out for want of tftp-server...).
    std::vector<std::string> warnings;
    /// Vendor ids (profile folder names) left out because their profile is broken.
    std::vector<std::string> brokenProfiles;
    /// The IEEE registry files that are missing (not an error).
    std::vector<std::string> registryMissing;
    // Built when state is not Passthrough:
    Config config;
    gid_t gid = static_cast<gid_t>(-1);
    CataloguePtr catalogue;
    OuiRegistryPtr registry;
    ProvisioningPtr provisioning;
    /// Why the site key (key-file) cannot be used, "" when it can or device-tokens is
    /// off. Not an error that leaves anything out: per-device files are then rendered
    /// without secrets and options carry no token (PHONEPROV_KEY_FILE_UNUSABLE).
    std::string keyError;
};

/// @brief Checks hook parameters and builds the catalogue, registry and plan from
/// the usable part: a broken vendor profile (JSON, keys, template syntax, option
/// encoding, patterns) leaves that vendor out; unusable parameters (an unknown key,
/// a wrong type or range, output-dir missing, an unknown vendor named) give
/// Passthrough. Never throws.
CheckedConfig checkConfig(const nlohmann::json& params, const CheckOptions& options);

/// @brief The top-level hook parameter an error message of parseConfig names
/// ("phoneprov: unknown parameter 'base_url'" -> "base_url"), or "".
std::string parameterOf(const std::string& message);

}  // namespace phoneprov

#endif  // PHONEPROV_CONFIG_CHECK_H
