// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "safe_write.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace phoneprov {

namespace {

/// @brief Closes a descriptor at scope exit.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    ~Fd() {
        if (fd >= 0) {
            ::close(fd);
        }
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
};

FileStamp stampOf(const struct stat& st) {
    FileStamp s;
    s.dev = st.st_dev;
    s.ino = st.st_ino;
    s.size = st.st_size;
    s.mtimeSec = static_cast<long>(st.st_mtim.tv_sec);
    s.mtimeNsec = static_cast<long>(st.st_mtim.tv_nsec);
    s.mode = st.st_mode & 07777;
    s.gid = st.st_gid;
    return (s);
}

std::string errText(const std::string& what) {
    return (what + ": " + std::strerror(errno));
}

bool readAll(int fd, std::string& out, size_t limit) {
    out.clear();
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return (false);
        }
        if (n == 0) {
            return (true);
        }
        out.append(buf, static_cast<size_t>(n));
        if (out.size() > limit) {
            return (false);
        }
    }
}

/// @brief "a FIFO", "a device"...: what a file that is not regular is.
std::string fileKind(mode_t mode) {
    if (S_ISFIFO(mode)) {
        return ("a FIFO");
    }
    if (S_ISCHR(mode) || S_ISBLK(mode)) {
        return ("a device");
    }
    if (S_ISSOCK(mode)) {
        return ("a socket");
    }
    if (S_ISDIR(mode)) {
        return ("a folder");
    }
    return ("not a regular file");
}

int openDir(int parent, const char* name) {
    return (::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

/// @brief Opens (creating when missing) a folder beneath parent.
int openOrMakeDir(int parent, const char* name, mode_t mode, gid_t gid) {
    int fd = openDir(parent, name);
    if (fd >= 0 || errno != ENOENT) {
        return (fd);
    }
    if (::mkdirat(parent, name, mode) != 0 && errno != EEXIST) {
        return (-1);
    }
    fd = openDir(parent, name);
    if (fd >= 0) {
        // mkdir applies the umask: set the mode and group we mean.
        if (gid != static_cast<gid_t>(-1)) {
            (void)::fchown(fd, static_cast<uid_t>(-1), gid);
        }
        (void)::fchmod(fd, mode);
    }
    return (fd);
}

std::atomic<unsigned long> tempCounter{0};

}  // namespace

bool writeAll(int fd, std::string_view data) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return (false);
        }
        done += static_cast<size_t>(n);
    }
    return (true);
}

bool safeSubdir(std::string_view subdir) {
    size_t parts = 0;
    for (size_t at = 0; at <= subdir.size(); ++parts) {
        size_t slash = std::min(subdir.find('/', at), subdir.size());
        if (parts >= 2 || !safeFileName(subdir.substr(at, slash - at))) {
            return (false);
        }
        at = slash + 1;
    }
    return (true);
}

bool safeFileName(std::string_view name) {
    if (name.empty() || name.size() > 128) {
        return (false);
    }
    char first = name[0];
    if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z') ||
          (first >= '0' && first <= '9'))) {
        return (false);
    }
    for (char c : name) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok) {
            return (false);
        }
    }
    return (true);
}

OutputDir::OutputDir(std::string root, mode_t mode, gid_t gid)
    : root_(std::move(root)), mode_(mode), gid_(gid) {}

std::string OutputDir::check() const {
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.fd < 0) {
        return (errText("output-dir '" + root_ + "'"));
    }
    return ("");
}

WriteResult OutputDir::write(std::string_view subdir, std::string_view name,
                             std::string_view content) const {
    Batch b = begin();
    size_t i = b.stage(subdir, name, content);
    b.commit();
    return (b.result(i));
}

OutputDir::Batch OutputDir::begin() const {
    return (Batch(*this));
}

OutputDir::Batch::Batch(const OutputDir& out) : out_(&out) {
    // Opened anew for every batch, so that a replaced output folder is noticed.
    root_ = ::open(out.root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root_ < 0) {
        rootError_ = errText("open output-dir '" + out.root_ + "'");
    }
}

OutputDir::Batch::Batch(Batch&& o) noexcept
    : out_(o.out_), root_(o.root_), tmp_(o.tmp_), rootError_(std::move(o.rootError_)),
      committed_(o.committed_), entries_(std::move(o.entries_)), dirs_(std::move(o.dirs_)),
      byPath_(std::move(o.byPath_)) {
    o.root_ = -1;
    o.tmp_ = -1;
    o.entries_.clear();
    o.dirs_.clear();
    o.byPath_.clear();
}

OutputDir::Batch::~Batch() {
    release();
}

OutputDir::Batch& OutputDir::Batch::operator=(Batch&& o) noexcept {
    if (this != &o) {
        release();
        out_ = o.out_;
        root_ = o.root_;
        tmp_ = o.tmp_;
        rootError_ = std::move(o.rootError_);
        committed_ = o.committed_;
        entries_ = std::move(o.entries_);
        dirs_ = std::move(o.dirs_);
        byPath_ = std::move(o.byPath_);
        o.root_ = -1;
        o.tmp_ = -1;
        o.entries_.clear();
        o.dirs_.clear();
        o.byPath_.clear();
    }
    return (*this);
}

void OutputDir::Batch::release() {
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].state == State::Pending) {
            discard(i);
        }
    }
    for (auto& d : dirs_) {
        ::close(d.second);
    }
    if (tmp_ >= 0) {
        ::close(tmp_);
    }
    if (root_ >= 0) {
        ::close(root_);
    }
    root_ = -1;
    tmp_ = -1;
    entries_.clear();
    dirs_.clear();
    byPath_.clear();
}

void OutputDir::Batch::discard(size_t i) {
    Entry& e = entries_[i];
    if (e.state == State::Pending && tmp_ >= 0) {
        (void)::unlinkat(tmp_, e.tmpName.c_str(), 0);
    }
    e.content.clear();
    e.content.shrink_to_fit();
}

int OutputDir::Batch::dirFor(const std::string& sub, std::string& error) {
    auto it = dirs_.find(sub);
    if (it != dirs_.end()) {
        return (it->second);
    }
    int fd = -1;
    size_t slash = sub.rfind('/');
    if (sub.empty()) {
        fd = ::dup(root_);
    } else if (slash == std::string::npos) {
        fd = openOrMakeDir(root_, sub.c_str(), 0750, out_->gid_);
    } else {
        // A per-device folder (<dir>/<token>): its parent first, kept open here too.
        int parent = dirFor(sub.substr(0, slash), error);
        if (parent < 0) {
            return (-1);
        }
        fd = openOrMakeDir(parent, sub.c_str() + slash + 1, 0750, out_->gid_);
    }
    if (fd < 0) {
        error = errText("open folder '" + sub + "'");
        return (-1);
    }
    dirs_.emplace(sub, fd);
    return (fd);
}

size_t OutputDir::Batch::stage(std::string_view subdir, std::string_view name,
                               std::string_view content) {
    size_t index = entries_.size();
    entries_.emplace_back();
    Entry& e = entries_.back();
    e.state = State::Done;
    e.result.status = WriteStatus::Failed;
    if (!safeFileName(name) || (!subdir.empty() && !safeSubdir(subdir))) {
        e.result.error = "refused unsafe file name";
        return (index);
    }
    if (committed_) {
        e.result.error = "batch already committed";
        return (index);
    }
    if (root_ < 0) {
        e.result.error = rootError_;
        return (index);
    }
    e.sub = std::string(subdir);
    e.file = std::string(name);
    const std::string key = e.sub + "/" + e.file;
    auto seen = byPath_.find(key);
    if (seen != byPath_.end() && entries_[seen->second].state == State::Pending) {
        Entry& earlier = entries_[seen->second];
        if (earlier.content == content) {
            e.state = State::SameAs;
            e.other = seen->second;
            return (index);
        }
        // New content for a path staged earlier in this batch: the newer wins.
        discard(seen->second);
        earlier.state = State::Superseded;
        earlier.other = index;
    }
    byPath_[key] = index;
    e.dir = dirFor(e.sub, e.result.error);
    if (e.dir < 0) {
        return (index);
    }
    const mode_t mode = out_->mode_;
    const gid_t gid = out_->gid_;
    // No regular file at the target (a FIFO, a device, a socket, a folder): refused
    // before any open, which could block a worker forever (a FIFO without a writer)
    // or touch a device. A symlink is not followed: the rename replaces it.
    {
        struct stat st;
        if (::fstatat(e.dir, e.file.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
            e.result.error = "'" + key.substr(key[0] == '/' ? 1 : 0) + "' is " +
                             fileKind(st.st_mode) + ", not a regular file: left alone";
            e.result.notRegular = true;
            out_->notRegular_->fetch_add(1, std::memory_order_relaxed);
            return (index);
        }
    }
    // Unchanged content, mode and group: nothing to do. O_NONBLOCK: should a FIFO
    // appear between the check and the open, the open does not wait for a writer.
    {
        Fd old(::openat(e.dir, e.file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
        struct stat st;
        std::string current;
        if (old.fd >= 0 && ::fstat(old.fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 07777) == mode && (gid == static_cast<gid_t>(-1) || st.st_gid == gid) &&
            static_cast<size_t>(st.st_size) == content.size() &&
            readAll(old.fd, current, content.size() + 1) && current == content) {
            e.result.status = WriteStatus::Unchanged;
            e.result.stamp = stampOf(st);
            e.result.stamped = true;
            return (index);
        }
    }
    if (tmp_ < 0) {
        tmp_ = openOrMakeDir(root_, kTempDir, 0700, static_cast<gid_t>(-1));
        if (tmp_ < 0) {
            e.result.error = errText("open temp folder");
            return (index);
        }
    }
    e.tmpName = e.file + "." + std::to_string(::getpid()) + "." +
                std::to_string(tempCounter.fetch_add(1)) + ".tmp";
    Fd tmp(::openat(tmp_, e.tmpName.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    0600));
    if (tmp.fd < 0) {
        e.result.error = errText("create temp file for '" + e.file + "'");
        return (index);
    }
    bool ok = writeAll(tmp.fd, content);
    ok = ok && (gid == static_cast<gid_t>(-1) || ::fchown(tmp.fd, static_cast<uid_t>(-1), gid) == 0);
    ok = ok && ::fchmod(tmp.fd, mode) == 0;
    // The stamp the file keeps once renamed into place (a rename moves the
    // inode, its size and its modification time unchanged).
    struct stat written;
    ok = ok && ::fstat(tmp.fd, &written) == 0;
    if (ok) {
        e.result.stamp = stampOf(written);
        e.result.stamped = true;
    }
    if (ok && out_->sync_ == BatchSync::PerFile) {
        // Start the write-back now (overlapping the next renders): the blocks are
        // then allocated together, and commit()'s fdatasyncs share journal commits.
        (void)::sync_file_range(tmp.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
    }
    if (!ok) {
        e.result.error = errText("write '" + e.file + "'");
        (void)::unlinkat(tmp_, e.tmpName.c_str(), 0);
        return (index);
    }
    e.content = std::string(content);
    e.state = State::Pending;
    return (index);
}

size_t OutputDir::Batch::pendingCount() const {
    size_t n = 0;
    for (const Entry& e : entries_) {
        n += e.state == State::Pending ? 1 : 0;
    }
    return (n);
}

void OutputDir::Batch::commit() {
    if (committed_) {
        return;
    }
    committed_ = true;
    byPath_.clear();
    std::vector<size_t> pending;
    for (size_t i = 0; i < entries_.size(); ++i) {
        if (entries_[i].state == State::Pending) {
            pending.push_back(i);
        }
    }
    if (pending.empty()) {
        return;
    }
    auto failOne = [this](size_t i, const std::string& error) {
        discard(i);
        Entry& e = entries_[i];
        e.state = State::Done;
        e.result.status = WriteStatus::Failed;
        e.result.error = error;
        e.result.stamped = false;
    };
    // 1. Every temp's data on disk before any rename: a power loss then leaves
    //    the old file or the whole new one, never a short one.
    if (out_->sync_ == BatchSync::SyncFs) {
        if (::syncfs(tmp_) != 0) {
            std::string error = errText("syncfs");
            for (size_t i : pending) {
                failOne(i, error);
            }
            return;
        }
    } else {
        for (size_t i : pending) {
            Fd f(::openat(tmp_, entries_[i].tmpName.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
            if (f.fd < 0 || ::fdatasync(f.fd) != 0) {
                failOne(i, errText("sync '" + entries_[i].file + "'"));
            }
        }
    }
    // 2. Rename each over its target; 3. fsync each touched folder once.
    std::vector<int> touched;
    for (size_t i : pending) {
        Entry& e = entries_[i];
        if (e.state != State::Pending) {
            continue;
        }
        if (::renameat(tmp_, e.tmpName.c_str(), e.dir, e.file.c_str()) != 0) {
            failOne(i, errText("write '" + e.file + "'"));
            continue;
        }
        e.state = State::Done;
        e.result.status = WriteStatus::Written;
        e.content.clear();
        e.content.shrink_to_fit();
        if (std::find(touched.begin(), touched.end(), e.dir) == touched.end()) {
            touched.push_back(e.dir);
        }
    }
    for (int fd : touched) {
        (void)::fsync(fd);
    }
}

bool OutputDir::Batch::unchangedSince(std::string_view subdir, std::string_view name,
                                      const FileStamp& stamp) {
    if (!safeFileName(name) || (!subdir.empty() && !safeSubdir(subdir)) || root_ < 0) {
        return (false);
    }
    std::string error;
    int dir = dirFor(std::string(subdir), error);
    struct stat st;
    if (dir < 0 || ::fstatat(dir, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode)) {
        return (false);
    }
    return (stampOf(st) == stamp);
}

WriteResult OutputDir::Batch::result(size_t i) const {
    if (i >= entries_.size()) {
        WriteResult r;
        r.error = "no such staged file";
        return (r);
    }
    const Entry& e = entries_[i];
    switch (e.state) {
    case State::Done:
        return (e.result);
    case State::Pending: {
        WriteResult r;
        r.error = "not committed";
        return (r);
    }
    case State::SameAs: {
        // The same content was staged earlier in this batch: that staging wrote it.
        WriteResult r = result(e.other);
        if (r.status == WriteStatus::Written) {
            r.status = WriteStatus::Unchanged;
        }
        return (r);
    }
    case State::Superseded:
        return (result(e.other));
    }
    return (e.result);
}

bool OutputDir::read(std::string_view subdir, std::string_view name, std::string& out) const {
    if (!safeFileName(name) || (!subdir.empty() && !safeSubdir(subdir))) {
        return (false);
    }
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.fd < 0) {
        return (false);
    }
    std::string sub(subdir);
    Fd dir(::dup(root.fd));
    for (size_t at = 0; !sub.empty() && dir.fd >= 0 && at <= sub.size();) {
        size_t slash = std::min(sub.find('/', at), sub.size());
        Fd next(openDir(dir.fd, sub.substr(at, slash - at).c_str()));
        std::swap(dir.fd, next.fd);
        at = slash + 1;
    }
    if (dir.fd < 0) {
        return (false);
    }
    Fd f(::openat(dir.fd, std::string(name).c_str(),
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    struct stat st;
    return (f.fd >= 0 && ::fstat(f.fd, &st) == 0 && S_ISREG(st.st_mode) &&
            readAll(f.fd, out, 64u << 20));
}

size_t OutputDir::cleanStaleTemps() const {
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.fd < 0) {
        return (0);
    }
    int fd = openDir(root.fd, kTempDir);
    if (fd < 0) {
        return (0);
    }
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return (0);
    }
    size_t removed = 0;
    while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n == "." || n == "..") {
            continue;
        }
        if (::unlinkat(::dirfd(d), n.c_str(), 0) == 0) {
            ++removed;
        }
    }
    ::closedir(d);
    return (removed);
}

}  // namespace phoneprov
