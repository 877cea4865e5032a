// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "safe_write.h"

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

std::string errText(const std::string& what) {
    return (what + ": " + std::strerror(errno));
}

WriteResult fail(const std::string& what) {
    WriteResult r;
    r.status = WriteStatus::Failed;
    r.error = errText(what);
    return (r);
}

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
    if (!safeFileName(name) || (!subdir.empty() && !safeFileName(subdir))) {
        WriteResult r;
        r.error = "refused unsafe file name";
        return (r);
    }
    std::string sub(subdir);
    std::string file(name);
    // Opened anew for every write, so that a replaced output folder is noticed.
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.fd < 0) {
        return (fail("open output-dir '" + root_ + "'"));
    }
    Fd dir(sub.empty() ? ::dup(root.fd) : openOrMakeDir(root.fd, sub.c_str(), 0750, gid_));
    if (dir.fd < 0) {
        return (fail("open folder '" + sub + "'"));
    }
    // Unchanged content, mode and group: nothing to do.
    {
        Fd old(::openat(dir.fd, file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        struct stat st;
        std::string current;
        if (old.fd >= 0 && ::fstat(old.fd, &st) == 0 && S_ISREG(st.st_mode) &&
            (st.st_mode & 07777) == mode_ &&
            (gid_ == static_cast<gid_t>(-1) || st.st_gid == gid_) &&
            static_cast<size_t>(st.st_size) == content.size() &&
            readAll(old.fd, current, content.size() + 1) && current == content) {
            WriteResult r;
            r.status = WriteStatus::Unchanged;
            return (r);
        }
    }
    Fd tmpDir(openOrMakeDir(root.fd, kTempDir, 0700, static_cast<gid_t>(-1)));
    if (tmpDir.fd < 0) {
        return (fail("open temp folder"));
    }
    std::string tmpName = file + "." + std::to_string(::getpid()) + "." +
                          std::to_string(tempCounter.fetch_add(1)) + ".tmp";
    Fd tmp(::openat(tmpDir.fd, tmpName.c_str(),
                    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (tmp.fd < 0) {
        return (fail("create temp file for '" + file + "'"));
    }
    bool ok = writeAll(tmp.fd, content);
    ok = ok && (gid_ == static_cast<gid_t>(-1) || ::fchown(tmp.fd, static_cast<uid_t>(-1), gid_) == 0);
    ok = ok && ::fchmod(tmp.fd, mode_) == 0;
    ok = ok && ::fsync(tmp.fd) == 0;
    ok = ok && ::renameat(tmpDir.fd, tmpName.c_str(), dir.fd, file.c_str()) == 0;
    if (!ok) {
        WriteResult r = fail("write '" + file + "'");
        (void)::unlinkat(tmpDir.fd, tmpName.c_str(), 0);
        return (r);
    }
    (void)::fsync(dir.fd);
    WriteResult r;
    r.status = WriteStatus::Written;
    return (r);
}

bool OutputDir::read(std::string_view subdir, std::string_view name, std::string& out) const {
    if (!safeFileName(name) || (!subdir.empty() && !safeFileName(subdir))) {
        return (false);
    }
    Fd root(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (root.fd < 0) {
        return (false);
    }
    std::string sub(subdir);
    Fd dir(sub.empty() ? ::dup(root.fd) : openDir(root.fd, sub.c_str()));
    if (dir.fd < 0) {
        return (false);
    }
    Fd f(::openat(dir.fd, std::string(name).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    return (f.fd >= 0 && readAll(f.fd, out, 64u << 20));
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
