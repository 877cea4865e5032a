// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_SAFE_WRITE_H
#define PHONEPROV_SAFE_WRITE_H

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace phoneprov {

/// @brief What a write did.
enum class WriteStatus { Written, Unchanged, Failed };

/// @brief What identifies one version of a file on disk: a file replaced
/// (renamed over), rewritten, deleted or given another mode or group no longer
/// matches its stamp.
struct FileStamp {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = -1;
    long mtimeSec = 0;
    long mtimeNsec = 0;
    mode_t mode = 0;
    gid_t gid = 0;
    bool operator==(const FileStamp& o) const {
        return (dev == o.dev && ino == o.ino && size == o.size && mtimeSec == o.mtimeSec &&
                mtimeNsec == o.mtimeNsec && mode == o.mode && gid == o.gid);
    }
};

/// @brief The outcome of a write.
struct WriteResult {
    WriteStatus status = WriteStatus::Failed;
    std::string error;  ///< when Failed: what failed, with errno text
    /// Written or Unchanged: the file as it is on disk now (stamped = false when
    /// unknown).
    FileStamp stamp;
    bool stamped = false;
    /// Failed because the target is no regular file (a FIFO, a device, a socket,
    /// a folder): left alone, never opened.
    bool notRegular = false;
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
///
/// Group commit: a Batch stages many files (temp file written, no fsync), then
/// commit() makes their data durable with one sync (syncfs of the file system,
/// or fdatasync of each temp), renames each temp over its target and fsyncs
/// each touched folder once. write() is a batch of one file.
class OutputDir {
public:
    /// @brief How Batch::commit() makes staged data durable before renaming.
    enum class BatchSync {
        SyncFs,   ///< one syncfs() of the output folder's file system (default)
        PerFile,  ///< write-back started at stage(), one fdatasync() per temp at commit
    };

    class Batch;

    /// @brief Starts a batch (opens the root once). Never throws; a root that
    /// cannot be opened makes every stage() fail.
    Batch begin() const;

    /// @brief The durability step of every later batch (default SyncFs: measured
    /// fastest, 10,000 phones on ext4 in 2.0 s against 3.5 s with PerFile, one run).
    void setBatchSync(BatchSync s) { sync_ = s; }
    BatchSync batchSync() const { return (sync_); }

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

    /// @brief How many times a target was found to be no regular file (FIFO,
    /// device, socket, folder) and refused, since this OutputDir was made.
    uint64_t notRegularCount() const { return (notRegular_->load(std::memory_order_relaxed)); }

    /// @brief The temp folder's name under the root.
    static constexpr const char* kTempDir = ".phoneprov-tmp";

private:
    std::string root_;
    mode_t mode_;
    gid_t gid_;
    BatchSync sync_ = BatchSync::SyncFs;
    /// Shared so that the OutputDir stays copyable; counted from any thread.
    std::shared_ptr<std::atomic<uint64_t>> notRegular_ =
        std::make_shared<std::atomic<uint64_t>>(0);
};

/// @brief Files staged for one group commit beneath an OutputDir.
///
/// stage() writes the content to a temp file (no fsync) unless the target
/// already holds it (Unchanged, decided at once) or it fails (Failed, the old
/// file stays). commit() syncs, renames every staged temp over its target
/// and fsyncs each touched folder once; a file that fails keeps its old
/// content and does not stop the others. Nothing is visible before commit().
/// Temps not committed are removed by the destructor. One thread per batch.
class OutputDir::Batch {
public:
    ~Batch();
    Batch(Batch&& other) noexcept;
    Batch& operator=(Batch&& other) noexcept;
    Batch(const Batch&) = delete;
    Batch& operator=(const Batch&) = delete;

    /// @brief Stages `content` for `<root>/<subdir>/<name>` (subdir may be "").
    /// The same path staged twice: the same content is Unchanged the second
    /// time; new content supersedes the earlier staging.
    /// @return the file's index, for result().
    size_t stage(std::string_view subdir, std::string_view name, std::string_view content);

    /// @brief Makes every staged file durable and visible. Once per batch.
    void commit();

    /// @brief What happened to staged file `i` (Written only after commit()).
    WriteResult result(size_t i) const;

    /// @brief Whether `<root>/<subdir>/<name>` is still the very file `stamp` was
    /// taken of (one fstatat, no read): a regular file, not a symlink, same
    /// inode, size, modification time, mode and group.
    bool unchangedSince(std::string_view subdir, std::string_view name, const FileStamp& stamp);

    /// @brief Files staged (every stage() call).
    size_t size() const { return (entries_.size()); }
    /// @brief Files waiting for commit() (temps written).
    size_t pendingCount() const;

private:
    friend class OutputDir;
    explicit Batch(const OutputDir& out);
    int dirFor(const std::string& sub, std::string& error);
    void discard(size_t i);
    void release();

    enum class State { Pending, Done, SameAs, Superseded };
    struct Entry {
        std::string sub;
        std::string file;
        std::string tmpName;
        std::string content;  ///< kept while pending, to spot a repeated path
        int dir = -1;         ///< descriptor of the target folder (owned by dirs_)
        State state = State::Done;
        size_t other = 0;     ///< SameAs/Superseded: the entry that decides
        WriteResult result;
    };
    const OutputDir* out_;
    int root_ = -1;
    int tmp_ = -1;
    std::string rootError_;
    bool committed_ = false;
    std::vector<Entry> entries_;
    std::map<std::string, int> dirs_;             ///< subdir -> descriptor
    std::map<std::string, size_t> byPath_;        ///< sub/name -> latest entry
};

/// @brief True when `name` is one safe path component.
bool safeFileName(std::string_view name);

/// @brief Writes all of `data` to `fd` (retrying short writes and EINTR); false with
/// errno set on an error.
bool writeAll(int fd, std::string_view data);

/// @brief Whether a folder beneath the output folder is one or two safe names
/// joined by '/' (a vendor's folder, or a phone's token folder inside it).
bool safeSubdir(std::string_view subdir);

}  // namespace phoneprov

#endif  // PHONEPROV_SAFE_WRITE_H
