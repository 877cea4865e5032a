// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_PROVISIONER_H
#define PHONEPROV_PROVISIONER_H

#include "catalogue.h"
#include "manifest.h"
#include "params.h"
#include "mac.h"
#include "options.h"
#include "render.h"
#include "safe_write.h"
#include "token.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace phoneprov {

struct TzVariables;

/// @brief What one render of one phone did.
struct RenderOutcome {
    int written = 0;
    int unchanged = 0;
    int failed = 0;
    int skipped = 0;   ///< per-device files not rendered: no reservation data
    int notRegular = 0;  ///< files refused: the target is a FIFO, device, socket or folder
    std::vector<std::string> files;   ///< paths relative to output-dir, rendered or unchanged
    /// The per-device files among them whose stamp is known (path, stamp): what a
    /// later check compares with the disk.
    std::vector<std::pair<std::string, FileStamp>> deviceStamps;
    std::vector<std::string> errors;  ///< never holds a value from the data
    bool ok() const { return (failed == 0); }
};

class Provisioning;

/// @brief A phone's files staged in an OutputDir::Batch, awaiting its commit.
struct StagedRender {
    /// The batch index of a common file found already on disk as rendered (not staged).
    static constexpr size_t kOnDisk = static_cast<size_t>(-1);
    RenderOutcome outcome;  ///< rendering errors and skips so far
    std::vector<std::pair<size_t, std::string>> files;  ///< batch index (or kOnDisk), path
    std::vector<size_t> device;  ///< the per-device files: positions in `files`
    /// A common file staged, remembered (path, content hash, stamp) once committed.
    struct Common {
        size_t index;
        std::string path;
        size_t hash;
    };
    std::vector<Common> commons;
    /// For the manifest (core/manifest.h): the phone's own files, and the shared
    /// common files, staged or found on disk as rendered.
    std::vector<ManifestItem> ownFiles;
    std::vector<std::string> sharedFiles;
    const Provisioning* owner = nullptr;
    /// @brief The outcome once the batch is committed.
    RenderOutcome finish(const OutputDir::Batch& batch) const;
};

/// @brief A rendered file, before it is written.
struct RenderedFile {
    std::string dir;
    std::string name;
    std::string content;
    bool perDevice = false;
    size_t hash = 0;  ///< a common file's std::hash of content (0: not computed)
};

/// @brief Everything needed to provision phones, built once at load from the
/// catalogue and the hook parameters: option bytes per vendor and model,
/// compiled templates, merged variables. Immutable and thread-safe.
class Provisioning {
public:
    /// @brief Builds the plan. Options whose variables are unset (a vendor that needs
    /// `tftp-server` when none is given) are left out with a warning.
    /// @throw ConfigError naming the key (unknown vendor, bad template...).
    /// @param key the site key for per-device folders (device-tokens); nullptr or
    /// an invalid key: no token anywhere, and the per-device files of vendors whose
    /// options name `device-url` or `device-dir` are rendered without secrets
    /// (tokensDegraded()).
    static std::shared_ptr<const Provisioning> build(CataloguePtr catalogue, const Config& config,
                                                     std::vector<std::string>& warnings,
                                                     const SiteKey* key = nullptr);

    const Catalogue& catalogue() const { return (*catalogue_); }
    const CataloguePtr& cataloguePtr() const { return (catalogue_); }
    const Config& config() const { return (config_); }

    /// @brief The options for a vendor and model (the model's own when it has them).
    /// @param token the list for a phone with a per-device folder: `device-url` and
    /// `device-dir` hold a placeholder at EncodedOption::tokenAt (the phone's token
    /// goes there); else they name the vendor's folder.
    const std::vector<EncodedOption>& options(int vendor, const std::string& model,
                                              bool token = false) const;
    /// @brief Whether this vendor's phones with reservation data get a per-device
    /// folder: device-tokens on, a site key, and options naming `device-url` or
    /// `device-dir` (a vendor reading fixed names at the TFTP root has none).
    bool deviceFolder(int vendor) const { return (plans_[vendor].deviceFolder); }
    /// @brief device-tokens is on but the site key could not be read: vendors that
    /// would have per-device folders get their per-device files without secrets.
    bool tokensDegraded() const { return (degraded_); }
    /// @brief The token of a MAC ("" without a site key).
    std::string token(const Mac& mac) const { return (key_.token(mac)); }
    /// @brief Whether the vendor's options replace ones already in a response.
    bool overrideSubnet(int vendor) const { return (plans_[vendor].overrideSubnet); }
    /// @brief Whether the admin left this vendor enabled.
    bool enabled(int vendor) const { return (plans_[vendor].enabled); }
    /// @brief The URL this vendor's phones are given: base-url/dir/.
    const std::string& vendorUrl(int vendor) const { return (plans_[vendor].vendorUrl); }
    /// @brief Whether the phone's address can change this vendor's files: a
    /// template or file name of the vendor (any model) names `ip`, or a value map
    /// derives from it.
    bool usesAddress(int vendor) const { return (plans_[vendor].usesAddress); }

    /// @brief The template variables for a phone, merged by precedence.
    /// @param device the reservation's `user-context.phoneprov` (nullptr: none).
    /// @param forCommon strip secrets (secretVariable()) for a common file or a phone
    /// without reservation data.
    nlohmann::json variables(int vendor, const std::string& model, const Mac& mac,
                             const std::string& ip, const nlohmann::json* device,
                             bool forCommon) const;

    /// @brief Renders a phone's files in memory (no I/O). A phone with reservation
    /// data of a vendor with per-device folders gets its per-device files, and a copy
    /// of each common file (with `vendor-url` naming the folder), in `<dir>/<token>`.
    /// @param errors receives one line per failed file.
    /// @param foreign the vendor contradicts the one that owns the phone (its
    /// reservation's pin, or its MAC's registry entry): no per-device file at all.
    std::vector<RenderedFile> renderFiles(int vendor, const std::string& model, const Mac& mac,
                                          const std::string& ip, const nlohmann::json* device,
                                          std::vector<std::string>& errors, int& skipped,
                                          bool foreign = false) const;

    /// @brief Renders and writes a phone's files beneath `out`.
    RenderOutcome render(const OutputDir& out, int vendor, const std::string& model,
                         const Mac& mac, const std::string& ip,
                         const nlohmann::json* device) const;

    /// @brief Renders a phone's files and stages them in `batch` (group commit:
    /// nothing is visible until batch.commit(); then StagedRender::finish()).
    StagedRender stage(OutputDir::Batch& batch, int vendor, const std::string& model,
                       const Mac& mac, const std::string& ip,
                       const nlohmann::json* device, bool foreign = false) const;

    /// @brief Whether a model is one of the vendor's known models (its profile's
    /// `models`, or the hook's `vendors.<v>.models`).
    bool knownModel(int vendor, const std::string& model) const {
        return (plans_[vendor].modelVariables.count(model) > 0);
    }
    /// @brief The model file names are built from: the model when known, else ""
    /// (the generic names; a file that `requires` the model is not made). The model
    /// comes from option 60 or a SUBSCRIBE, so anyone can send new ones: file names
    /// come from a bounded set. The model still reaches the templates' text.
    const std::string& fileModel(int vendor, const std::string& model) const;

    /// @brief The per-device file names (relative to output-dir) of a phone.
    std::vector<std::string> deviceFiles(int vendor, const std::string& model,
                                         const Mac& mac) const;

    /// @brief Most (vendor, model) pairs whose common files are kept rendered; the
    /// model comes from option 60, so anyone can send new ones: beyond this they
    /// are rendered each time, as before.
    static constexpr size_t kMaxCommonKeys = 1024;
    /// @brief Most common files remembered as written (path, content, stamp).
    static constexpr size_t kMaxCommonOnDisk = 4096;

    /// @brief Records that a common file with this content is on disk with this
    /// stamp (StagedRender::finish, after the commit).
    void rememberCommon(const std::string& path, size_t hash, const FileStamp& stamp) const;

    /// @brief Most time zones whose derived variables are kept (zones come from
    /// reservations too); beyond this each is read again.
    static constexpr size_t kMaxTimeZones = 512;
    /// @brief The variables derived from an IANA zone name (core/tz.h), read once.
    std::shared_ptr<const TzVariables> timeZone(const std::string& name) const;

private:
    /// A common file of one (vendor, model), rendered once per plan: its content
    /// depends on the plan, the vendor and the model only, never on the phone.
    struct CommonFile {
        enum class Kind { Skip, File, Error } kind = Kind::Skip;
        RenderedFile file;  ///< file.hash set
        std::string error;  ///< the message after "<vendor> <mac>: "
    };
    using CommonFiles = std::vector<CommonFile>;  ///< parallel to filesFor(vendor, model)
    /// Renders one file's name and body (Skip: its `requires` variable is unset).
    /// `nameVars`: the variables for the file's name and its `requires` (those of
    /// fileModel()); nullptr: `vars`.
    CommonFile::Kind renderOne(const VendorProfile& v, const FileSpec& f,
                               const nlohmann::json& vars, Escaping escaping, RenderedFile& out,
                               std::string& error,
                               const nlohmann::json* nameVars = nullptr) const;
    std::shared_ptr<const CommonFiles> commonFiles(int vendor, const std::string& model) const;
    /// @param deviceUrl "" for the shared files; else the URL of a phone's folder,
    /// given to the templates as `vendor-url` and `device-url`.
    std::shared_ptr<const CommonFiles> renderCommon(int vendor, const std::string& model,
                                                    const std::string& deviceUrl = "") const;

    struct VendorPlan {
        bool enabled = true;
        bool overrideSubnet = true;
        bool usesAddress = false;
        bool deviceFolder = false;
        /// Would have per-device folders but the site key is missing: its per-device
        /// files are rendered without secrets (at their MAC-derived names).
        bool withhold = false;
        std::string vendorUrl;
        std::vector<EncodedOption> options;
        std::unordered_map<std::string, std::vector<EncodedOption>> modelOptions;
        /// With the token placeholder (deviceFolder only).
        std::vector<EncodedOption> tokenOptions;
        std::unordered_map<std::string, std::vector<EncodedOption>> modelTokenOptions;
        nlohmann::json variables;  ///< profile variables then hook vendor variables
        /// Per known model: profile, profile model, hook vendor, hook model variables.
        std::map<std::string, nlohmann::json> modelVariables;
    };
    const std::vector<FileSpec>& filesFor(int vendor, const std::string& model) const;
    /// Warns about every zone the configuration gives this vendor that its files
    /// cannot express (a derived variable they read cannot be had from the zone).
    void warnTimeZones(size_t vendor, std::vector<std::string>& warnings) const;
    const Template& templateFor(const VendorProfile& v, const FileSpec& f) const;

    CataloguePtr catalogue_;
    Config config_;
    SiteKey key_;
    bool degraded_ = false;
    std::vector<VendorPlan> plans_;
    std::map<std::string, std::unique_ptr<Template>> templates_;  ///< by folder/template path

    // Caches, so that a storm of one model renders and checks its common files once
    // rather than once per phone. Behind a mutex: render workers share the plan.
    struct OnDisk {
        size_t hash = 0;
        FileStamp stamp;
    };
    mutable std::mutex commonMutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const CommonFiles>> common_;
    mutable std::unordered_map<std::string, OnDisk> onDisk_;  ///< by path under output-dir
    mutable std::mutex tzMutex_;
    mutable std::map<std::string, std::shared_ptr<const TzVariables>> tz_;
};

using ProvisioningPtr = std::shared_ptr<const Provisioning>;

/// @brief Whether a variable is secret: `accounts`, any name holding `password`,
/// `passwd`, `secret` or `credential`, or the word `key`, `pin` or `token`
/// (`aes-key`, `admin-pin`). Secrets reach only the per-device files of a phone
/// with reservation data: never a common file, never a provision-unknown file.
bool secretVariable(const std::string& name);

/// @brief Checks reservation data (`user-context.phoneprov`).
/// @return "" when usable, else what is wrong (names the key, never a value).
std::string checkDeviceData(const nlohmann::json& device);

/// @brief Whether a Mustache text has a tag naming `name` (`{{name}}`,
/// `{{#name}}`, `{{^name}}`, `{{/name}}`, `{{ name }}`). Templates cannot change
/// their delimiters (Template refuses it), so this finds every use.
bool templateNames(std::string_view text, std::string_view name);

}  // namespace phoneprov

#endif  // PHONEPROV_PROVISIONER_H
