// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TOKEN_H
#define PHONEPROV_TOKEN_H

#include "mac.h"

#include <array>
#include <cstdint>
#include <string>

namespace phoneprov {

/// @brief The per-device folder name: lower-case hex of the first 16 bytes (128
/// bits) of HMAC-SHA-256(site key, the MAC's six bytes). URL and TFTP safe.
constexpr size_t kTokenChars = 32;

/// @brief Bytes of a site key written by writeSiteKey().
constexpr size_t kSiteKeyBytes = 32;

/// @brief The site key: the secret that makes per-device folder names
/// unguessable. HA peers share its file, so their options and files agree.
class SiteKey {
public:
    /// @brief Reads a key file: at least 16 bytes (its first 64 are used).
    /// @param error receives why it cannot be used (names the file, never the key);
    /// a key file readable by others than its owner is refused.
    /// @return whether the key was read.
    bool load(const std::string& path, std::string& error);

    /// @brief A key from bytes (tests).
    void set(const std::string& bytes);

    /// @brief Whether a key is there.
    bool valid() const { return (valid_); }

    /// @brief The token of a MAC (kTokenChars lower-case hex digits); "" without a key.
    std::string token(const Mac& mac) const;

private:
    bool valid_ = false;
    std::string key_;
};

/// @brief Writes a new site key: kSiteKeyBytes bytes from getrandom(2), mode 0600,
/// atomically (a temporary file in the same folder, fsync, then link or rename).
/// @param force replace an existing file.
/// @return "" on success, else what went wrong (names the file).
std::string writeSiteKey(const std::string& path, bool force);

}  // namespace phoneprov

#endif  // PHONEPROV_TOKEN_H
