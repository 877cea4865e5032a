// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "manifest.h"

#include "safe_write.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace phoneprov {

namespace {

const std::vector<ManifestItem> kNone;

std::string errText(const std::string& what) {
    return (what + ": " + std::strerror(errno));
}

bool readFile(int dir, const char* name, std::string& out) {
    out.clear();
    int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        return (errno == ENOENT);
    }
    struct stat st;
    bool ok = ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    char buf[65536];
    while (ok) {
        ssize_t n = ::read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            ok = n == 0;
            break;
        }
        out.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    return (ok);
}

/// The folder beneath rootFd that holds `path`'s last component (O_NOFOLLOW at
/// every step), or -1; `name` receives that component.
int openParent(int rootFd, const std::string& path, std::string& name) {
    int dir = ::dup(rootFd);
    size_t at = 0;
    for (size_t slash; dir >= 0 && (slash = path.find('/', at)) != std::string::npos;
         at = slash + 1) {
        int next = ::openat(dir, path.substr(at, slash - at).c_str(),
                            O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        ::close(dir);
        dir = next;
    }
    name = path.substr(at);
    return (dir);
}

std::string hex12(uint64_t mac) {
    char buf[13];
    snprintf(buf, sizeof(buf), "%012llx", static_cast<unsigned long long>(mac & 0xffffffffffffULL));
    return (buf);
}

}  // namespace

std::string_view folderOf(std::string_view path) {
    size_t slash = path.rfind('/');
    return (slash == std::string_view::npos ? std::string_view() : path.substr(0, slash));
}

bool safeRelativePath(std::string_view path) {
    size_t slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        return (safeFileName(path));
    }
    return (safeFileName(path.substr(slash + 1)) && safeSubdir(path.substr(0, slash)));
}

bool Manifest::add(uint64_t mac, const ManifestItem& item) {
    if (mac == 0) {
        if (!shared_.insert(item.path).second) {
            return (false);
        }
        byMac_[0].push_back(ManifestItem{item.path, false, false});
        ++size_;
        return (true);
    }
    std::vector<ManifestItem>& list = byMac_[mac];
    for (ManifestItem& i : list) {
        if (i.path == item.path) {
            if (i == item) {
                return (false);
            }
            i = item;
            return (true);
        }
    }
    list.push_back(item);
    ++size_;
    return (true);
}

bool Manifest::erase(uint64_t mac, const std::string& path) {
    auto it = byMac_.find(mac);
    if (it == byMac_.end()) {
        return (false);
    }
    std::vector<ManifestItem>& list = it->second;
    auto at = std::find_if(list.begin(), list.end(),
                           [&path](const ManifestItem& i) { return (i.path == path); });
    if (at == list.end()) {
        return (false);
    }
    if (mac == 0) {
        shared_.erase(path);
    }
    list.erase(at);
    --size_;
    if (list.empty()) {
        byMac_.erase(it);
    }
    return (true);
}

const std::vector<ManifestItem>& Manifest::of(uint64_t mac) const {
    auto it = byMac_.find(mac);
    return (it == byMac_.end() ? kNone : it->second);
}

std::vector<std::string> Manifest::supersededBy(uint64_t mac,
                                                const std::vector<std::string>& produced) const {
    std::vector<std::string> out;
    for (const ManifestItem& i : of(mac)) {
        if (std::find(produced.begin(), produced.end(), i.path) == produced.end()) {
            out.push_back(i.path);
        }
    }
    return (out);
}

std::vector<std::pair<uint64_t, std::string>>
Manifest::staleForPlan(const std::function<Expected(uint64_t)>& expect,
                       const std::set<std::string>& vendorDirs) const {
    std::vector<std::pair<uint64_t, std::string>> out;
    for (const auto& m : byMac_) {
        const bool shared = m.first == 0;
        Expected e;
        if (!shared) {
            e = expect(m.first);
        }
        for (const ManifestItem& i : m.second) {
            std::string_view folder = folderOf(i.path);
            std::string_view vendorDir = i.tokenFolder ? folderOf(folder) : folder;
            std::string_view token =
                i.tokenFolder ? folder.substr(folder.rfind('/') == std::string_view::npos
                                                  ? 0
                                                  : folder.rfind('/') + 1)
                              : std::string_view();
            bool stale = !vendorDirs.count(std::string(vendorDir));
            if (!stale && !shared) {
                switch (e.kind) {
                case Expected::Kind::Unknown:
                    break;
                case Expected::Kind::NoData:
                    stale = i.data || i.tokenFolder;
                    break;
                case Expected::Kind::Data:
                    stale = (i.tokenFolder && token != e.token) ||
                            (e.vendorKnown &&
                             (vendorDir != e.vendorDir || (e.folder && !i.tokenFolder && i.data) ||
                              (!e.folder && i.tokenFolder)));
                    break;
                }
            }
            if (stale) {
                out.emplace_back(m.first, i.path);
            }
        }
    }
    std::sort(out.begin(), out.end());
    return (out);
}

std::string Manifest::line(bool add, uint64_t mac, const ManifestItem& item) {
    std::string flags;
    if (add) {
        flags += item.data ? "d" : "";
        flags += item.tokenFolder ? "t" : "";
    }
    return (std::string(add ? "+ " : "- ") + hex12(mac) + " " + (flags.empty() ? "-" : flags) +
            " " + item.path);
}

size_t Manifest::apply(std::string_view text) {
    size_t refused = 0;
    while (!text.empty()) {
        size_t nl = text.find('\n');
        std::string_view l = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
        if (l.empty()) {
            continue;
        }
        // "+ 001565aabbcc dt path": op, 12 hex digits, flags, path.
        if (l.size() < 19 || (l[0] != '+' && l[0] != '-') || l[1] != ' ' || l[14] != ' ') {
            ++refused;
            continue;
        }
        uint64_t mac = 0;
        bool hex = true;
        for (size_t k = 2; k < 14; ++k) {
            char c = l[k];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            hex = hex && d >= 0;
            mac = (mac << 4) | static_cast<uint64_t>(d < 0 ? 0 : d);
        }
        size_t sp = l.find(' ', 15);
        if (!hex || sp == std::string_view::npos) {
            ++refused;
            continue;
        }
        std::string_view flags = l.substr(15, sp - 15);
        ManifestItem item;
        item.path = std::string(l.substr(sp + 1));
        item.data = flags.find('d') != std::string_view::npos;
        item.tokenFolder = flags.find('t') != std::string_view::npos;
        if (!safeRelativePath(item.path) || (item.tokenFolder && folderOf(item.path).empty())) {
            ++refused;
            continue;
        }
        if (l[0] == '+') {
            add(mac, item);
        } else {
            erase(mac, item.path);
        }
    }
    return (refused);
}

std::string Manifest::snapshot() const {
    std::vector<std::string> lines;
    lines.reserve(size_);
    for (const auto& m : byMac_) {
        for (const ManifestItem& i : m.second) {
            lines.push_back(line(true, m.first, i));
        }
    }
    std::sort(lines.begin(), lines.end());
    std::string out;
    for (const std::string& l : lines) {
        out += l;
        out += '\n';
    }
    return (out);
}

ManifestStore::~ManifestStore() = default;

int ManifestStore::openRoot() const {
    return (::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

int ManifestStore::openState(std::string& error) {
    int root = openRoot();
    if (root < 0) {
        error = errText("open output-dir '" + root_ + "'");
        return (-1);
    }
    if (::mkdirat(root, kStateDir, 0700) != 0 && errno != EEXIST) {
        error = errText("create '" + std::string(kStateDir) + "'");
        ::close(root);
        return (-1);
    }
    int fd = ::openat(root, kStateDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    ::close(root);
    if (fd < 0) {
        error = errText("open '" + std::string(kStateDir) + "'");
        return (-1);
    }
    (void)::fchmod(fd, 0700);
    return (fd);
}

std::string ManifestStore::load(Manifest& m, size_t& refused) {
    std::string error;
    int state = openState(error);
    if (state < 0) {
        return (error);
    }
    std::string snap;
    std::string log;
    if (!readFile(state, "manifest", snap) || !readFile(state, "manifest.log", log)) {
        error = errText("read the manifest in '" + root_ + "/" + kStateDir + "'");
        ::close(state);
        return (error);
    }
    ::close(state);
    refused = m.apply(snap) + m.apply(log);
    // Entries whose file is gone (a render that failed after its line was written,
    // or a file deleted by hand): forgotten, so that a file put there later is not ours.
    int root = openRoot();
    if (root >= 0) {
        std::vector<std::pair<uint64_t, std::string>> gone;
        for (const auto& e : m.all()) {
            for (const ManifestItem& i : e.second) {
                std::string name;
                int dir = openParent(root, i.path, name);
                struct stat st;
                if (dir < 0 || ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
                    !S_ISREG(st.st_mode)) {
                    gone.emplace_back(e.first, i.path);
                }
                if (dir >= 0) {
                    ::close(dir);
                }
            }
        }
        ::close(root);
        for (const auto& g : gone) {
            m.erase(g.first, g.second);
        }
    }
    return (compact(m));
}

std::string ManifestStore::compact(const Manifest& m) {
    std::string error;
    int state = openState(error);
    if (state < 0) {
        return (error);
    }
    const std::string text = m.snapshot();
    const std::string tmp = "manifest." + std::to_string(::getpid()) + ".tmp";
    int fd = ::openat(state, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
                      0600);
    bool ok = fd >= 0 && writeAll(fd, text) && ::fsync(fd) == 0;
    if (fd >= 0) {
        ::close(fd);
    }
    ok = ok && ::renameat(state, tmp.c_str(), state, "manifest") == 0;
    if (!ok) {
        error = errText("write the manifest in '" + root_ + "/" + kStateDir + "'");
        (void)::unlinkat(state, tmp.c_str(), 0);
        ::close(state);
        return (error);
    }
    (void)::fsync(state);
    // The journal's lines are in the snapshot now.
    int log = ::openat(state, "manifest.log", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (log < 0) {
        error = errText("empty the manifest journal in '" + root_ + "/" + kStateDir + "'");
    } else {
        ::close(log);
    }
    (void)::fsync(state);
    ::close(state);
    return (error);
}

std::string ManifestStore::append(const std::string& lines) {
    if (lines.empty()) {
        return ("");
    }
    // Opened for each batch, never held: a file held open for writing would keep the
    // output folder's file system from being remounted read-only, and would keep
    // writing into an output-dir replaced since (both in test_fault_injection).
    std::string error;
    int state = openState(error);
    if (state < 0) {
        return (error);
    }
    int log = ::openat(state, "manifest.log", O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0600);
    bool ok = log >= 0 && writeAll(log, lines) && ::fdatasync(log) == 0;
    if (!ok) {
        error = errText("append to the manifest journal in '" + root_ + "/" + kStateDir + "'");
    }
    if (log >= 0) {
        ::close(log);
    }
    ::close(state);
    return (error);
}

bool ManifestStore::removeFile(int rootFd, const std::string& path) {
    if (!safeRelativePath(path)) {
        return (false);
    }
    std::string name;
    int dir = openParent(rootFd, path, name);
    if (dir < 0) {
        return (errno == ENOENT);
    }
    struct stat st;
    bool gone = false;
    if (::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        gone = errno == ENOENT;
    } else if (S_ISREG(st.st_mode)) {
        // A regular file only: anything else there is not what the hook wrote.
        gone = ::unlinkat(dir, name.c_str(), 0) == 0 || errno == ENOENT;
    }
    ::close(dir);
    return (gone);
}

void ManifestStore::removeEmptyFolder(int rootFd, const std::string& folder) {
    if (folder.empty() || !safeSubdir(folder)) {
        return;
    }
    std::string name;
    int dir = openParent(rootFd, folder, name);
    if (dir < 0) {
        return;
    }
    // rmdir removes only an empty folder, and never follows a symlink.
    (void)::unlinkat(dir, name.c_str(), AT_REMOVEDIR);
    ::close(dir);
}

}  // namespace phoneprov
