// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Fetch lines from the servers that hand phones their files: nginx's access log
// (our log_format, sent over syslog to a unix socket) and tftpd-hpa's --verbose
// "RRQ from" lines (forwarded by rsyslog). Pure: no Kea headers, no I/O. Every
// byte is treated as hostile (anyone who can write to the socket sends them).
#ifndef PHONEPROV_FETCH_LOG_H
#define PHONEPROV_FETCH_LOG_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace phoneprov {

/// @brief The marker that starts our nginx log_format (docs/guide.md):
/// `phoneprov-fetch http $remote_addr $status $body_bytes_sent $uri`.
constexpr std::string_view kFetchMarker = "phoneprov-fetch http ";

/// @brief Longest datagram looked at; longer ones are refused.
constexpr size_t kMaxFetchLine = 4096;

/// @brief One request for a file, as a server logged it.
struct FetchLine {
    enum class Protocol : uint8_t { Http, Tftp };
    Protocol protocol = Protocol::Http;
    uint32_t address = 0;  ///< the client's IPv4 address (host order)
    /// The path as requested: the URI path for HTTP, the file name for TFTP
    /// (checked: printable, no "..", no backslash, at most 1024 bytes).
    std::string path;
    int status = 0;        ///< HTTP status; 0 for TFTP (tftpd logs no outcome)
    int64_t bytes = -1;    ///< body bytes sent; -1 when not logged (TFTP)
};

/// @brief Parses one syslog datagram (with its `<PRI>` header or without).
/// @return nothing when it is neither of our nginx lines nor a tftpd RRQ line, or
/// when any field is malformed.
std::optional<FetchLine> parseFetchLine(std::string_view datagram);

/// @brief The path part of a base URL, with a trailing '/' ("http://h:8080/prov" ->
/// "/prov/", "http://h" -> "/").
std::string basePathOf(std::string_view baseUrl);

/// @brief A fetched path relative to output-dir: an HTTP path must start with
/// `basePath` (from basePathOf), which is taken off; a TFTP path loses its
/// leading '/'. Empty when the path is outside the served tree.
std::string relativeFetchPath(const FetchLine& line, std::string_view basePath);

/// @brief "http" or "tftp".
const char* protocolText(FetchLine::Protocol p);

}  // namespace phoneprov

#endif  // PHONEPROV_FETCH_LOG_H
