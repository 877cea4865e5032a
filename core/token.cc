// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "token.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <sys/random.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace phoneprov {

namespace {

std::string errnoText(int e) {
    return (std::strerror(e));
}

}  // namespace

bool SiteKey::load(const std::string& path, std::string& error) {
    valid_ = false;
    key_.clear();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        error = "key-file '" + path + "': " + errnoText(errno);
        return (false);
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        error = "key-file '" + path + "': not a regular file";
        return (false);
    }
    if ((st.st_mode & 077) != 0) {
        ::close(fd);
        error = "key-file '" + path + "': readable or writable by others than its owner (mode " +
                std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
                std::to_string(st.st_mode & 7) + "; want 0600)";
        return (false);
    }
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof(buf));
    int e = errno;
    ::close(fd);
    if (n < 0) {
        error = "key-file '" + path + "': " + errnoText(e);
        return (false);
    }
    if (n < 16) {
        error = "key-file '" + path + "': " + std::to_string(n) +
                " bytes, at least 16 needed (phoneprov keygen writes 32)";
        return (false);
    }
    key_.assign(buf, static_cast<size_t>(n));
    ::explicit_bzero(buf, sizeof(buf));
    valid_ = true;
    return (true);
}

void SiteKey::set(const std::string& bytes) {
    key_ = bytes;
    valid_ = !bytes.empty();
}

std::string SiteKey::token(const Mac& mac) const {
    if (!valid_) {
        return ("");
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), mac.bytes.data(),
              mac.bytes.size(), md, &len) ||
        len < kTokenChars / 2) {
        return ("");
    }
    static const char kHex[] = "0123456789abcdef";
    std::string out(kTokenChars, '0');
    for (size_t i = 0; i < kTokenChars / 2; ++i) {
        out[2 * i] = kHex[md[i] >> 4];
        out[2 * i + 1] = kHex[md[i] & 15];
    }
    return (out);
}

std::string writeSiteKey(const std::string& path, bool force) {
    unsigned char key[kSiteKeyBytes];
    size_t got = 0;
    while (got < sizeof(key)) {
        ssize_t n = ::getrandom(key + got, sizeof(key) - got, 0);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return ("getrandom: " + errnoText(errno));
        }
        got += static_cast<size_t>(n);
    }
    if (!force && ::access(path.c_str(), F_OK) == 0) {
        ::explicit_bzero(key, sizeof(key));
        return ("'" + path + "' exists (--force replaces it)");
    }
    std::string tmp = path + ".tmp." + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        ::explicit_bzero(key, sizeof(key));
        return ("'" + tmp + "': " + errnoText(errno));
    }
    bool ok = ::fchmod(fd, 0600) == 0 &&
              ::write(fd, key, sizeof(key)) == static_cast<ssize_t>(sizeof(key)) &&
              ::fsync(fd) == 0;
    int e = errno;
    ::explicit_bzero(key, sizeof(key));
    ok = (::close(fd) == 0) && ok;
    if (!ok) {
        ::unlink(tmp.c_str());
        return ("'" + tmp + "': " + errnoText(e));
    }
    if (force) {
        if (::rename(tmp.c_str(), path.c_str()) != 0) {
            e = errno;
            ::unlink(tmp.c_str());
            return ("'" + path + "': " + errnoText(e));
        }
    } else {
        // link() fails when the name exists: no race with another keygen.
        if (::link(tmp.c_str(), path.c_str()) != 0) {
            e = errno;
            ::unlink(tmp.c_str());
            return (e == EEXIST ? "'" + path + "' exists (--force replaces it)"
                                : "'" + path + "': " + errnoText(e));
        }
        ::unlink(tmp.c_str());
    }
    return ("");
}

}  // namespace phoneprov
