// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Issue 21, point 2: a per-device file is served only to the address leased to its
// phone. The per-address view `output-dir/by-address/<ip>/` holds, for the phone that
// holds the lease of <ip>, a symlink at each of its per-device files' paths (relative
// to output-dir) to that file; nginx serves per-device names from
// `by-address/$remote_addr/`, tftpd-hpa from `by-address/\i/` (its remap file). No Kea
// headers.
#ifndef PHONEPROV_LEASE_VIEW_H
#define PHONEPROV_LEASE_VIEW_H

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace phoneprov {

/// @brief The per-address views beneath one output folder. Every folder is opened
/// beneath output-dir with O_NOFOLLOW; a view is replaced atomically (built aside,
/// then exchanged with renameat2(RENAME_EXCHANGE)). Thread-compatible: one caller
/// at a time (the hook's binder thread).
class LeaseViews {
public:
    /// @param gid the group of the folders (file-group), or -1.
    LeaseViews(std::string root, gid_t gid) : root_(std::move(root)), gid_(gid) {}

    /// @brief Makes `by-address/<ip>/` hold exactly a symlink at each of `paths`
    /// (safe paths relative to output-dir, at most three components) to that file.
    /// @return "" or what failed.
    std::string bind(uint32_t ip, const std::vector<std::string>& paths) const;
    /// @brief Removes `by-address/<ip>/` (it holds only symlinks and folders the hook
    /// made; nothing is followed). @return "" or what failed.
    std::string unbind(uint32_t ip) const;
    /// @brief The symlink target for a path: as many "../" as the link is deep.
    static std::string linkTarget(const std::string& path);
    /// @brief Dotted quad of an address (host order).
    static std::string ipText(uint32_t ip);

    static constexpr const char* kDir = "by-address";

private:
    std::string root_;
    gid_t gid_;
};

}  // namespace phoneprov

#endif  // PHONEPROV_LEASE_VIEW_H
