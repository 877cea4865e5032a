// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_SAFE_WRITE_H
#define PHONEPROV_SAFE_WRITE_H

#include <sys/types.h>

#include <string>
#include <string_view>

namespace phoneprov {

/// @brief What a write did.
enum class WriteStatus { Written, Unchanged, Failed };

/// @brief The outcome of a write.
struct WriteResult {
    WriteStatus status = WriteStatus::Failed;
    std::string error;  ///< when Failed: what failed, with errno text
};

/// @brief Writes files beneath one output folder, atomically and safely.
///
/// - Every path is opened beneath a directory descriptor with O_NOFOLLOW: a
///   symlink anywhere below the root (or as the root) is refused.
/// - Names are single path components matching [A-Za-z0-9][A-Za-z0-9._-]*.
/// - Content goes to a temp file in `<root>/.phoneprov-tmp` (mode 0700, so no
///   web or TFTP server can read it), is fsync'ed, given its final mode and
///   group, and renamed over the target; the folder is then fsync'ed.
/// - A file whose content, mode and group are already right is not rewritten.
class OutputDir {
public:
    /// @param root the output folder (created by the admin or the package).
    /// @param mode file mode (0640 by default); @param gid group, or -1 to keep.
    OutputDir(std::string root, mode_t mode = 0640, gid_t gid = static_cast<gid_t>(-1));

    /// @brief Writes `content` to `<root>/<subdir>/<name>`; subdir may be "".
    /// Creates subdir (mode 0750) when missing.
    WriteResult write(std::string_view subdir, std::string_view name,
                      std::string_view content) const;

    /// @brief Reads `<root>/<subdir>/<name>` (no symlinks); false when absent.
    bool read(std::string_view subdir, std::string_view name, std::string& out) const;

    /// @brief Removes temp files left by a crash. @return how many were removed.
    size_t cleanStaleTemps() const;

    /// @brief Checks that the root exists, is a folder, is no symlink.
    /// @return "" when usable, else why not.
    std::string check() const;

    const std::string& root() const { return (root_); }

    /// @brief The temp folder's name under the root.
    static constexpr const char* kTempDir = ".phoneprov-tmp";

private:
    std::string root_;
    mode_t mode_;
    gid_t gid_;
};

/// @brief True when `name` is one safe path component.
bool safeFileName(std::string_view name);

}  // namespace phoneprov

#endif  // PHONEPROV_SAFE_WRITE_H
