// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "fetch_log.h"

#include <arpa/inet.h>

namespace phoneprov {

namespace {

constexpr size_t kMaxPath = 1024;

/// @brief Takes the next space-separated token off `rest` ("" when none).
std::string_view token(std::string_view& rest) {
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        rest = {};
        return (std::string_view());
    }
    rest.remove_prefix(start);
    size_t end = rest.find(' ');
    std::string_view t = rest.substr(0, end);
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
    return (t);
}

bool parseIpv4(std::string_view text, uint32_t& out) {
    if (text.empty() || text.size() > 15) {
        return (false);
    }
    char buf[16];
    text.copy(buf, text.size());
    buf[text.size()] = 0;
    in_addr a{};
    if (inet_pton(AF_INET, buf, &a) != 1) {
        return (false);
    }
    out = ntohl(a.s_addr);
    return (true);
}

bool parseNumber(std::string_view text, int64_t max, int64_t& out) {
    if (text.empty() || text.size() > 18) {
        return (false);
    }
    int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') {
            return (false);
        }
        v = v * 10 + (c - '0');
    }
    if (v > max) {
        return (false);
    }
    out = v;
    return (true);
}

/// @brief A path we accept: printable ASCII without backslash (nginx escapes bytes
/// as \xHH), no "..", no empty path, bounded.
bool goodPath(std::string_view p) {
    if (p.empty() || p.size() > kMaxPath) {
        return (false);
    }
    for (char c : p) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '\\') {
            return (false);
        }
    }
    size_t pos = 0;
    while (pos <= p.size()) {
        size_t slash = p.find('/', pos);
        std::string_view part = p.substr(pos, slash == std::string_view::npos ? p.npos
                                                                             : slash - pos);
        if (part == "..") {
            return (false);
        }
        if (slash == std::string_view::npos) {
            break;
        }
        pos = slash + 1;
    }
    return (true);
}

std::string_view trimEnd(std::string_view s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' ||
                          s.back() == '\0')) {
        s.remove_suffix(1);
    }
    return (s);
}

std::optional<FetchLine> parseNginx(std::string_view rest) {
    FetchLine line;
    line.protocol = FetchLine::Protocol::Http;
    int64_t status = 0;
    int64_t bytes = 0;
    if (!parseIpv4(token(rest), line.address) || !parseNumber(token(rest), 999, status) ||
        status < 100 || !parseNumber(token(rest), INT64_C(1) << 50, bytes)) {
        return (std::nullopt);
    }
    // The path is the rest of the line ($uri is last: it may hold spaces, which
    // goodPath() then refuses).
    size_t start = rest.find_first_not_of(' ');
    if (start == std::string_view::npos) {
        return (std::nullopt);
    }
    std::string_view path = trimEnd(rest.substr(start));
    if (!goodPath(path) || path[0] != '/') {
        return (std::nullopt);
    }
    line.status = static_cast<int>(status);
    line.bytes = bytes;
    line.path.assign(path);
    return (line);
}

std::optional<FetchLine> parseTftp(std::string_view rest) {
    // tftpd-hpa: "RRQ from <addr> filename <file>[ remapped to <file>]"
    FetchLine line;
    line.protocol = FetchLine::Protocol::Tftp;
    if (!parseIpv4(token(rest), line.address) || token(rest) != "filename") {
        return (std::nullopt);
    }
    std::string_view file = trimEnd(token(rest));
    if (!goodPath(file)) {
        return (std::nullopt);
    }
    line.path.assign(file);
    return (line);
}

}  // namespace

std::optional<FetchLine> parseFetchLine(std::string_view datagram) {
    if (datagram.size() > kMaxFetchLine) {
        return (std::nullopt);
    }
    // The syslog header (priority, time, tag) is not ours to trust or need: the
    // fields follow our marker, wherever the header ends.
    size_t at = datagram.find(kFetchMarker);
    if (at != std::string_view::npos) {
        return (parseNginx(datagram.substr(at + kFetchMarker.size())));
    }
    constexpr std::string_view kRrq = "RRQ from ";
    at = datagram.find(kRrq);
    if (at != std::string_view::npos) {
        return (parseTftp(datagram.substr(at + kRrq.size())));
    }
    return (std::nullopt);
}

std::string basePathOf(std::string_view url) {
    size_t scheme = url.find("://");
    std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
    size_t slash = rest.find('/');
    std::string path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (path.back() != '/') {
        path += '/';
    }
    return (path);
}

std::string relativeFetchPath(const FetchLine& line, std::string_view basePath) {
    std::string_view p = line.path;
    if (line.protocol == FetchLine::Protocol::Http) {
        if (p.size() <= basePath.size() || p.substr(0, basePath.size()) != basePath) {
            return ("");
        }
        p.remove_prefix(basePath.size());
    }
    while (!p.empty() && p.front() == '/') {
        p.remove_prefix(1);
    }
    return (std::string(p));
}

const char* protocolText(FetchLine::Protocol p) {
    return (p == FetchLine::Protocol::Tftp ? "tftp" : "http");
}

}  // namespace phoneprov
