// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_PARAMS_H
#define PHONEPROV_PARAMS_H

#include "catalogue.h"

#include <nlohmann/json.hpp>

#include <sys/types.h>

#include <map>
#include <string>
#include <utility>
#include <vector>

#ifndef PHONEPROV_PROFILES_DIR
#define PHONEPROV_PROFILES_DIR "/usr/share/kea-phoneprov/profiles"
#endif

namespace phoneprov {

/// @brief Per-model overrides from the hook parameters.
struct ModelOverride {
    nlohmann::json variables = nlohmann::json::object();
    bool hasOptions = false;
    std::vector<OptionSpec> options;
};

/// @brief Per-vendor overrides from the hook parameters (`vendors.<id>`).
struct VendorOverride {
    bool enabled = true;
    nlohmann::json variables = nlohmann::json::object();
    bool hasOptions = false;
    std::vector<OptionSpec> options;     ///< replace the profile's
    std::vector<OptionSpec> addOptions;  ///< added to them (e.g. Yealink's custom option)
    int overrideSubnetOptions = -1;      ///< -1: the profile's choice
    std::map<std::string, ModelOverride> models;
};

/// @brief The hook's parameters, checked. Immutable after load.
struct Config {
    std::string outputDir;
    std::string baseUrl;       ///< without a trailing '/'
    std::string tftpServer;    ///< IPv4, may be empty
    std::string profilesDir = PHONEPROV_PROFILES_DIR;
    std::string registryDir = "/usr/share/ieee-data";
    /// The system tzdata (Debian's tzdata package), for time zone values; not a
    /// hook parameter.
    std::string zoneinfoDir = "/usr/share/zoneinfo";
    nlohmann::json defaults = nlohmann::json::object();
    std::map<std::string, VendorOverride> vendors;
    std::vector<std::pair<std::string, std::string>> ouiPrefixes;  ///< prefix -> vendor id
    bool provisionUnknown = false;
    /// Per-device files under base-url/<dir>/<token>/ (token: HMAC of the MAC under
    /// the site key), the token given to the phone in its DHCP options only.
    bool deviceTokens = true;
    /// Issue 21, point 2: a phone's per-device files are served only to the address
    /// leased to it, through the per-address view `output-dir/by-address/<ip>/`.
    bool leaseBinding = false;
    /// The site key (0600, `phoneprov keygen`); shared by HA peers.
    std::string keyFile = "/var/lib/kea-phoneprov/site.key";
    std::string fileGroup;
    int renderThreads = 2;
    int renderNice = 10;       ///< the render workers' nice value (0: the packet thread's)
    int queueSize = 65536;
    int renderWaitMs = 2000;   ///< how long an ACK may wait for its phone's render (0: never)
    /// How an ACK waits: "pkt4-send" (the hook keeps it and sends it; no callout on
    /// every REQUEST) or "parking-lot" (Kea's parking lot, from leases4_committed).
    std::string ackHold = "pkt4-send";
    int renderInterval = 60;   ///< seconds before the same MAC is rendered again
    bool render = true;        ///< rendering on (off: options only)
    /// Render every phone with reservation data at start-up and after each
    /// reconfiguration or reload, in the background, before it boots.
    bool renderReserved = true;
    bool resyncOnChange = false;  ///< send the vendor's re-sync NOTIFY when a phone's file changed
    int resyncPort = 5060;        ///< the phones' SIP port for that NOTIFY
    int resyncMinInterval = 300;  ///< seconds: at most one such NOTIFY per phone in this time
    /// Whether phones are put into PHONEPROV and PHONEPROV_<VENDOR>: "always", "never",
    /// or "auto" (when the Kea configuration refers to those classes).
    std::string clientClasses = "auto";
    /// The phone records (SQLite; "" keeps none).
    std::string stateDb = "/var/lib/kea-phoneprov/state.db";
    /// Seconds a phone without reservation data is kept after it was last seen.
    int64_t recordRetention = 30 * 86400;
    /// The unix datagram socket nginx and rsyslog send fetch lines to ("" none).
    std::string fetchLogSocket;
};

/// @brief Parses and checks the hook parameters (a JSON map).
/// @throw ConfigError with a message that names the key and the bad value.
Config parseConfig(const nlohmann::json& params);

/// @brief The profiles folder next to an installed file: `dir(file)/relative` when it
/// is a folder, else the compiled-in default (PHONEPROV_PROFILES_DIR).
/// @param file the hook library or the tool's executable.
/// @param relative the path from that file's folder to the installed profiles.
std::string installedProfilesDir(const std::string& file, const std::string& relative);

/// @brief The group id of `file-group` ("" gives -1: keep the group).
/// @throw ConfigError naming the key when no such group exists.
gid_t fileGroupId(const std::string& name);

/// @brief Whether a Kea DHCPv4 configuration refers to the classes PHONEPROV or
/// PHONEPROV_<VENDOR> anywhere but in the hook parameters (client-classes "auto").
bool configUsesPhoneClasses(const nlohmann::json& config);

/// @brief The keywords the hook takes at top level (for docs and tests).
std::vector<std::string> configKeywords();

}  // namespace phoneprov

#endif  // PHONEPROV_PARAMS_H
