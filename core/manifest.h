// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Issue 21, point 5: the served tree holds only what the current plan produces.
// The manifest lists every file the hook wrote beneath output-dir (and whose it
// is); what the current plan no longer produces is deleted from that list, never
// anything else. No Kea headers.
#ifndef PHONEPROV_MANIFEST_H
#define PHONEPROV_MANIFEST_H

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace phoneprov {

/// @brief One file the hook wrote, relative to output-dir.
struct ManifestItem {
    std::string path;
    /// Written from reservation data (it may hold secrets).
    bool data = false;
    /// In a phone's token folder (`<dir>/<token>/<name>`, or `<token>/<name>`).
    bool tokenFolder = false;
    bool operator==(const ManifestItem& o) const {
        return (path == o.path && data == o.data && tokenFolder == o.tokenFolder);
    }
};

/// @brief What the current plan produces for one MAC found in the manifest.
struct Expected {
    enum class Kind {
        Unknown,  ///< cannot tell (a host database may hold its data): keep all
        NoData,   ///< no reservation data: no file written from data stays
        Data,     ///< reservation data: only files in `vendorDir` (when known) and in
                  ///< the token folder `token` ("" no token folder) stay
    };
    Kind kind = Kind::Unknown;
    /// Data: the MAC's token now ("" when device-tokens is off or no site key).
    std::string token;
    /// Data: whether its vendor is known from its MAC or its reservation's pin
    /// (else option 60 decides at its next packet).
    bool vendorKnown = false;
    std::string vendorDir;  ///< vendorKnown: its vendor's folder
    bool folder = false;    ///< vendorKnown: its files go in a token folder
};

/// @brief The in-memory manifest: per MAC (0: the shared common files) the files
/// written for it. Not thread-safe (the hook guards it).
class Manifest {
public:
    /// @brief Records a file written for `mac` (0: a shared common file).
    /// @return whether it is new (an entry to persist).
    bool add(uint64_t mac, const ManifestItem& item);
    /// @brief Forgets a file. @return whether it was there.
    bool erase(uint64_t mac, const std::string& path);
    /// @brief The files of a MAC (empty when none).
    const std::vector<ManifestItem>& of(uint64_t mac) const;
    size_t size() const { return (size_); }
    const std::unordered_map<uint64_t, std::vector<ManifestItem>>& all() const { return (byMac_); }
    void clear() {
        byMac_.clear();
        shared_.clear();
        size_ = 0;
    }

    /// @brief The files of `mac` that a render just made without (`produced`: the
    /// paths it rendered, relative to output-dir). Pure.
    std::vector<std::string> supersededBy(uint64_t mac, const std::vector<std::string>& produced) const;

    /// @brief The (mac, path) pairs that the current plan no longer produces.
    /// @param expect what the plan produces for a MAC (never called with 0).
    /// @param vendorDirs the folders of the enabled vendors: a file outside them
    /// (shared or not) is dropped; "" stands for output-dir itself.
    std::vector<std::pair<uint64_t, std::string>>
    staleForPlan(const std::function<Expected(uint64_t)>& expect,
                 const std::set<std::string>& vendorDirs) const;

    /// @brief One line of the manifest's text form (no newline): `+ <mac> <flags>
    /// <path>` to add, `- <mac> - <path>` to remove; mac as 12 hex digits.
    static std::string line(bool add, uint64_t mac, const ManifestItem& item);
    /// @brief Applies the lines of a manifest file (snapshot then journal).
    /// @return how many lines were refused (bad syntax, unsafe path).
    size_t apply(std::string_view text);
    /// @brief The whole manifest as `+` lines, sorted (a snapshot).
    std::string snapshot() const;

private:
    std::unordered_map<uint64_t, std::vector<ManifestItem>> byMac_;
    /// The shared common files' paths (MAC 0 has thousands: no linear search).
    std::unordered_set<std::string> shared_;
    size_t size_ = 0;
};

/// @brief The folder of an item's path ("" at output-dir's top).
std::string_view folderOf(std::string_view path);

/// @brief Whether a path relative to output-dir is one the writer may have made:
/// at most three safe components (`[<dir>/][<token>/]<name>`).
bool safeRelativePath(std::string_view path);

/// @brief The manifest on disk: `<output-dir>/.phoneprov-state/manifest` (a
/// snapshot) and `manifest.log` (lines appended since), in a 0700 folder with 0600
/// files that no web or TFTP server can read. Paths are opened beneath output-dir
/// with O_NOFOLLOW: no symlink is ever followed.
class ManifestStore {
public:
    explicit ManifestStore(std::string root) : root_(std::move(root)) {}
    ~ManifestStore();
    ManifestStore(const ManifestStore&) = delete;
    ManifestStore& operator=(const ManifestStore&) = delete;

    /// @brief Reads snapshot and journal into `m`, drops entries whose file is gone,
    /// writes a new snapshot (atomically: temp, fsync, rename, fsync) and empties
    /// the journal. @return "" or what failed (the manifest then stays in memory).
    std::string load(Manifest& m, size_t& refused);
    /// @brief Appends lines (each ending in '\n') to the journal and fdatasyncs it.
    std::string append(const std::string& lines);
    /// @brief Writes `m` as the snapshot and empties the journal.
    std::string compact(const Manifest& m);

    /// @brief Deletes a file the manifest names: beneath output-dir, no symlink
    /// followed, a regular file only. @return true when it is gone (or was).
    static bool removeFile(int rootFd, const std::string& path);
    /// @brief Removes a token folder when empty (never one holding anything).
    static void removeEmptyFolder(int rootFd, const std::string& folder);
    /// @brief Opens output-dir (O_NOFOLLOW); -1 on failure.
    int openRoot() const;

    static constexpr const char* kStateDir = ".phoneprov-state";

private:
    int openState(std::string& error);
    std::string root_;
};

}  // namespace phoneprov

#endif  // PHONEPROV_MANIFEST_H
