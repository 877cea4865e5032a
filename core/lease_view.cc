// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "lease_view.h"

#include "manifest.h"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

namespace phoneprov {

namespace {

std::string errText(const std::string& what) {
    return (what + ": " + std::strerror(errno));
}

int openDir(int parent, const char* name) {
    return (::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

int openOrMakeDir(int parent, const char* name, gid_t gid) {
    int fd = openDir(parent, name);
    if (fd >= 0 || errno != ENOENT) {
        return (fd);
    }
    if (::mkdirat(parent, name, 0750) != 0 && errno != EEXIST) {
        return (-1);
    }
    fd = openDir(parent, name);
    if (fd >= 0) {
        if (gid != static_cast<gid_t>(-1)) {
            (void)::fchown(fd, static_cast<uid_t>(-1), gid);
        }
        (void)::fchmod(fd, 0750);
    }
    return (fd);
}

/// Removes a folder's content and the folder: folders are entered with O_NOFOLLOW,
/// anything else (the view's symlinks) is unlinked, never followed.
void removeTree(int parent, const char* name) {
    int fd = openDir(parent, name);
    if (fd >= 0) {
        DIR* d = ::fdopendir(fd);
        if (!d) {
            ::close(fd);
            return;
        }
        while (dirent* e = ::readdir(d)) {
            if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) {
                continue;
            }
            struct stat st;
            if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                S_ISDIR(st.st_mode)) {
                removeTree(::dirfd(d), e->d_name);
            } else {
                (void)::unlinkat(::dirfd(d), e->d_name, 0);
            }
        }
        ::closedir(d);
    }
    (void)::unlinkat(parent, name, AT_REMOVEDIR);
}

std::atomic<unsigned long> viewCounter{0};

}  // namespace

std::string LeaseViews::ipText(uint32_t ip) {
    return (std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
            std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff));
}

std::string LeaseViews::linkTarget(const std::string& path) {
    std::string up = "../../";  // out of <ip>/ and by-address/
    for (char c : path) {
        if (c == '/') {
            up += "../";
        }
    }
    return (up + path);
}

std::string LeaseViews::bind(uint32_t ip, const std::vector<std::string>& paths) const {
    int root = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root < 0) {
        return (errText("open output-dir '" + root_ + "'"));
    }
    int views = openOrMakeDir(root, kDir, gid_);
    ::close(root);
    if (views < 0) {
        return (errText("open '" + std::string(kDir) + "'"));
    }
    const std::string name = ipText(ip);
    // Built aside (a dot name: never an address), then swapped in at once.
    const std::string aside = "." + name + "." + std::to_string(::getpid()) + "." +
                              std::to_string(viewCounter.fetch_add(1));
    std::string error;
    int view = openOrMakeDir(views, aside.c_str(), gid_);
    if (view < 0) {
        error = errText("create the view of " + name);
    }
    for (size_t i = 0; view >= 0 && i < paths.size() && error.empty(); ++i) {
        const std::string& p = paths[i];
        if (!safeRelativePath(p)) {
            continue;
        }
        int dir = ::dup(view);
        size_t at = 0;
        for (size_t slash; dir >= 0 && (slash = p.find('/', at)) != std::string::npos;
             at = slash + 1) {
            int next = openOrMakeDir(dir, p.substr(at, slash - at).c_str(), gid_);
            ::close(dir);
            dir = next;
        }
        if (dir < 0 || (::symlinkat(linkTarget(p).c_str(), dir, p.substr(at).c_str()) != 0 &&
                        errno != EEXIST)) {
            error = errText("link '" + p + "' in the view of " + name);
        }
        if (dir >= 0) {
            ::close(dir);
        }
    }
    if (view >= 0) {
        ::close(view);
    }
    if (error.empty()) {
        if (::renameat2(views, aside.c_str(), views, name.c_str(), RENAME_EXCHANGE) != 0) {
            if (errno != ENOENT || ::renameat(views, aside.c_str(), views, name.c_str()) != 0) {
                error = errText("put the view of " + name + " in place");
            }
        }
    }
    removeTree(views, aside.c_str());  // the old view (or the failed new one)
    ::close(views);
    return (error);
}

std::string LeaseViews::unbind(uint32_t ip) const {
    int root = ::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (root < 0) {
        return (errText("open output-dir '" + root_ + "'"));
    }
    int views = openDir(root, kDir);
    ::close(root);
    if (views < 0) {
        return (errno == ENOENT ? "" : errText("open '" + std::string(kDir) + "'"));
    }
    removeTree(views, ipText(ip).c_str());
    ::close(views);
    return ("");
}

}  // namespace phoneprov
