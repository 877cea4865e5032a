// kea-phoneprov: `phoneprov simulate`, fetching the provisioning file.

#include "fetch.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>

namespace phoneprov {
namespace sim {

namespace {

/// @brief Largest HTTP response head accepted.
constexpr size_t HTTP_HEAD_LIMIT = 64 * 1024;

/// @brief Room for chunk framing on top of the body limit.
constexpr size_t CHUNK_SLACK = 1024 * 1024;

/// @brief Returns the text in lower case.
std::string lower(std::string text) {
    for (char& c : text) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return (text);
}

/// @brief Tells whether text starts with prefix, ignoring case.
bool startsWithNoCase(const std::string& text, const std::string& prefix) {
    return (text.size() >= prefix.size() &&
            lower(text.substr(0, prefix.size())) == prefix);
}

/// @brief Tells whether text ends with suffix.
bool endsWith(const std::string& text, const std::string& suffix) {
    return (text.size() >= suffix.size() &&
            text.compare(text.size() - suffix.size(), suffix.size(),
                         suffix) == 0);
}

/// @brief Removes leading and trailing spaces, tabs and line breaks.
std::string trim(const std::string& text) {
    size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string::npos) {
        return ("");
    }
    size_t last = text.find_last_not_of(" \t\r\n");
    return (text.substr(first, last - first + 1));
}

/// @brief Parses a decimal port (1..65535).
bool parsePort(const std::string& text, uint16_t& port) {
    if (text.empty() || text.size() > 5 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return (false);
    }
    unsigned long value = std::stoul(text);
    if (value == 0 || value > 65535) {
        return (false);
    }
    port = static_cast<uint16_t>(value);
    return (true);
}

/// @brief Tells whether text is a plausible host name or IPv4 address.
bool validHost(const std::string& host) {
    if (host.empty() || host.size() > 253) {
        return (false);
    }
    for (char c : host) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' &&
            c != '-' && c != '_') {
            return (false);
        }
    }
    return (true);
}

/// @brief Splits host[:port]; the port defaults to default_port.
bool splitHostPort(const std::string& authority, uint16_t default_port,
                   std::string& host, uint16_t& port, std::string& error) {
    if (authority.find('@') != std::string::npos) {
        error = "user name or password in the URL is not supported";
        return (false);
    }
    if (!authority.empty() && authority[0] == '[') {
        error = "IPv6 addresses are not supported";
        return (false);
    }
    size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    port = default_port;
    if (colon != std::string::npos &&
        !parsePort(authority.substr(colon + 1), port)) {
        error = "bad port in '" + authority + "'";
        return (false);
    }
    if (!validHost(host)) {
        error = "bad host '" + host + "'";
        return (false);
    }
    return (true);
}

/// @brief The option's payload as trimmed text, if printable.
std::optional<std::string> optionText(const std::vector<DhcpOption>& options,
                                      uint8_t code) {
    std::optional<Bytes> data = findOption(options, code);
    if (!data) {
        return (std::nullopt);
    }
    std::optional<std::string> text = printableText(*data);
    if (!text) {
        return (std::nullopt);
    }
    return (trim(*text));
}

/// @brief A target that cannot be fetched.
FetchTarget failedTarget(const std::string& source, const std::string& error) {
    FetchTarget target;
    target.source_ = source;
    target.error_ = error;
    return (target);
}

/// @brief Target from an http:// base URL plus the file.
FetchTarget httpTarget(const std::string& base, const std::string& file,
                       const std::string& source) {
    FetchTarget target;
    target.source_ = source;
    target.url_ = joinPath(base, file);
    Url url;
    if (!parseUrl(target.url_, 80, url, target.error_)) {
        target.error_ = source + ": " + target.error_;
        return (target);
    }
    target.protocol_ = "http";
    target.host_ = url.host_;
    target.port_ = url.port_;
    target.path_ = url.path_;
    return (target);
}

/// @brief The URL of a TFTP target, for people.
std::string tftpUrl(const std::string& host, uint16_t port,
                    const std::string& filename) {
    std::string url = "tftp://" + host;
    if (port != 69) {
        url += ":" + std::to_string(port);
    }
    return (url + "/" + filename);
}

/// @brief A TFTP target.
FetchTarget tftpTarget(const std::string& host, uint16_t port,
                       const std::string& filename,
                       const std::string& source) {
    FetchTarget target;
    target.source_ = source;
    if (filename.empty()) {
        target.error_ = source + ": no file name to fetch";
        return (target);
    }
    target.protocol_ = "tftp";
    target.host_ = host;
    target.port_ = port;
    target.path_ = filename;
    target.url_ = tftpUrl(host, port, filename);
    return (target);
}

/// @brief Target from a tftp:// base URL plus the file (RFC 3617).
FetchTarget tftpUrlTarget(const std::string& base, const std::string& file,
                          uint16_t tftp_port, const std::string& source) {
    Url url;
    std::string error;
    if (!parseUrl(joinPath(base, file), tftp_port, url, error)) {
        return (failedTarget(source, source + ": " + error));
    }
    // The '/' after the authority separates; it is not part of the name.
    return (tftpTarget(url.host_, url.port_, url.path_.substr(1), source));
}

/// @brief Target from option 66 holding a bare host[:port][/dir].
FetchTarget bareHostTarget(const std::string& text, const std::string& file,
                           uint16_t tftp_port, const std::string& source) {
    size_t slash = text.find('/');
    std::string host;
    uint16_t port = tftp_port;
    std::string error;
    if (!splitHostPort(text.substr(0, slash), tftp_port, host, port, error)) {
        return (failedTarget(source, source + " '" + text +
                             "' is neither a URL nor a host name: " + error));
    }
    std::string dir = slash == std::string::npos ? "" : text.substr(slash + 1);
    return (tftpTarget(host, port, joinPath(dir, file), source));
}

/// @brief Target from option 66.
FetchTarget option66Target(const std::string& text, const std::string& file,
                           uint16_t tftp_port) {
    const std::string source = "option 66";
    if (startsWithNoCase(text, "http://")) {
        return (httpTarget(text, file, source));
    }
    if (startsWithNoCase(text, "tftp://")) {
        return (tftpUrlTarget(text, file, tftp_port, source));
    }
    size_t sep = text.find("://");
    if (sep != std::string::npos) {
        std::string scheme = lower(text.substr(0, sep));
        return (failedTarget(source, source + " '" + text + "': " + scheme +
                             ":// is not supported (only http:// and "
                             "tftp://)"));
    }
    return (bareHostTarget(text, file, tftp_port, source));
}

/// @brief Target from an http:// URL in an option, if it holds one.
std::optional<FetchTarget> httpFallback(const std::optional<Bytes>& data,
                                        const std::string& file,
                                        const std::string& source) {
    if (!data) {
        return (std::nullopt);
    }
    std::optional<std::string> text = printableText(*data);
    if (!text || !startsWithNoCase(trim(*text), "http://")) {
        return (std::nullopt);
    }
    return (httpTarget(trim(*text), file, source));
}

/// @brief Appends a %XX escape.
void percentEncode(std::string& out, unsigned char c) {
    static const char digits[] = "0123456789ABCDEF";
    out += '%';
    out += digits[c >> 4];
    out += digits[c & 0x0f];
}

/// @brief Parses the status line "HTTP/1.1 200 OK".
bool parseStatusLine(const std::string& line, HttpHead& head,
                     std::string& error) {
    size_t sp = line.find(' ');
    if (line.compare(0, 5, "HTTP/") != 0 || sp == std::string::npos ||
        line.size() < sp + 4) {
        error = "bad HTTP status line '" + line.substr(0, 80) + "'";
        return (false);
    }
    std::string code = line.substr(sp + 1, 3);
    if (code.find_first_not_of("0123456789") != std::string::npos ||
        (line.size() > sp + 4 && line[sp + 4] != ' ')) {
        error = "bad HTTP status line '" + line.substr(0, 80) + "'";
        return (false);
    }
    head.version_ = line.substr(0, sp);
    head.status_ = std::stoi(code);
    head.reason_ = line.size() > sp + 5 ? line.substr(sp + 5) : "";
    return (true);
}

/// @brief Records the headers that frame the body.
bool noteFraming(const std::string& name, const std::string& value,
                 HttpHead& head, std::string& error) {
    if (name == "transfer-encoding") {
        head.chunked_ = head.chunked_ ||
            lower(value).find("chunked") != std::string::npos;
        return (true);
    }
    if (name != "content-length") {
        return (true);
    }
    if (value.empty() || value.size() > 18 ||
        value.find_first_not_of("0123456789") != std::string::npos) {
        error = "bad Content-Length '" + value.substr(0, 40) + "'";
        return (false);
    }
    size_t length = std::stoull(value);
    if (head.content_length_ && *head.content_length_ != length) {
        error = "conflicting Content-Length headers";
        return (false);
    }
    head.content_length_ = length;
    return (true);
}

/// @brief Parses one "Name: value" line.
bool parseHeaderLine(const std::string& line, HttpHead& head,
                     std::string& error) {
    size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
        error = "bad HTTP header line '" + line.substr(0, 80) + "'";
        return (false);
    }
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value = trim(line.substr(colon + 1));
    head.headers_.emplace_back(name, value);
    return (noteFraming(name, value, head, error));
}

/// @brief Finds the end of the head; returns its size or 0.
size_t findHeadEnd(const std::string& raw) {
    size_t crlf = raw.find("\r\n\r\n");
    size_t lf = raw.find("\n\n");
    size_t end = 0;
    if (crlf != std::string::npos) {
        end = crlf + 4;
    }
    if (lf != std::string::npos && (end == 0 || lf + 2 < end)) {
        end = lf + 2;
    }
    return (end);
}

/// @brief Reads one line ending in LF (CR dropped) from pos.
bool readLine(const std::string& raw, size_t& pos, std::string& line) {
    size_t lf = raw.find('\n', pos);
    if (lf == std::string::npos) {
        return (false);
    }
    line = raw.substr(pos, lf - pos);
    if (!line.empty() && line.back() == '\r') {
        line.pop_back();
    }
    pos = lf + 1;
    return (true);
}

/// @brief Parses a chunk-size line "1a;ext".
bool parseChunkSize(const std::string& line, size_t& size) {
    std::string hex = trim(line.substr(0, line.find(';')));
    if (hex.empty() || hex.size() > 8 ||
        hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
        return (false);
    }
    size = std::stoul(hex, nullptr, 16);
    return (true);
}

/// @brief Skips the trailer section after the last chunk.
ParseStatus skipTrailers(const std::string& raw, size_t pos) {
    std::string line;
    while (readLine(raw, pos, line)) {
        if (line.empty()) {
            return (ParseStatus::COMPLETE);
        }
    }
    return (ParseStatus::INCOMPLETE);
}

/// @brief Tells whether a response may now hold its whole body.
bool bodyMayBeComplete(const std::string& raw, const HttpHead& head) {
    if (head.chunked_) {
        return (endsWith(raw, "\n\r\n") || endsWith(raw, "\n\n"));
    }
    if (head.content_length_) {
        return (raw.size() >= head.head_size_ + *head.content_length_);
    }
    return (false);
}

/// @brief A failed fetch.
FetchResult failed(const std::string& protocol, const std::string& error,
                   int status = 0) {
    FetchResult result;
    result.protocol_ = protocol;
    result.error_ = error;
    result.status_ = status;
    return (result);
}

/// @brief Fills an IPv4 socket address (host byte order inputs).
sockaddr_in makeAddr(uint32_t addr, uint16_t port) {
    sockaddr_in sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr);
    sa.sin_port = htons(port);
    return (sa);
}

/// @brief Waits for events on a descriptor.
///
/// @return true when ready, false on timeout or error.
bool waitFor(int fd, short events, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() +
        std::chrono::milliseconds(timeout_ms);
    for (;;) {
        pollfd pfd = { fd, events, 0 };
        int ready = poll(&pfd, 1, remainingMs(deadline));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        return (ready > 0);
    }
}

uint32_t fetchSource = 0;

/// @brief Binds a socket to the fetch source address (port 0), if any.
bool bindSource(int fd, std::string& error) {
    if (fetchSource == 0) {
        return (true);
    }
    sockaddr_in sa = makeAddr(fetchSource, 0);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0 ||
        errno == EADDRNOTAVAIL) {
        return (true);
    }
    error = "bind " + formatIpv4(fetchSource) + ": " + std::strerror(errno);
    return (false);
}

/// @brief Connects a non-blocking TCP socket with a timeout.
int connectTcp(uint32_t addr, uint16_t port, int timeout_ms,
               std::string& error) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return (-1);
    }
    if (!bindSource(fd, error)) {
        close(fd);
        return (-1);
    }
    sockaddr_in sa = makeAddr(addr, port);
    std::string where = formatIpv4(addr) + ":" + std::to_string(port);
    int rc = connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
    if (rc < 0 && errno != EINPROGRESS) {
        error = "cannot connect to " + where + ": " + std::strerror(errno);
        close(fd);
        return (-1);
    }
    if (rc < 0 && !waitFor(fd, POLLOUT, timeout_ms)) {
        error = "timed out connecting to " + where;
        close(fd);
        return (-1);
    }
    int so_error = 0;
    socklen_t len = sizeof(so_error);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    if (so_error != 0) {
        error = "cannot connect to " + where + ": " + std::strerror(so_error);
        close(fd);
        return (-1);
    }
    return (fd);
}

/// @brief Sends all of a buffer on a non-blocking socket.
bool sendAll(int fd, const std::string& data, int timeout_ms,
             std::string& error) {
    size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = send(fd, data.data() + sent, data.size() - sent,
                         MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EINTR) {
            error = std::string("send: ") + std::strerror(errno);
            return (false);
        }
        if (!waitFor(fd, POLLOUT, timeout_ms)) {
            error = "timed out sending the request";
            return (false);
        }
    }
    return (true);
}

/// @brief Receives what is there; 0 at eof, -1 on error or timeout.
ssize_t receiveSome(int fd, std::string& raw, int timeout_ms,
                    std::string& error) {
    char buf[65536];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n >= 0) {
            raw.append(buf, static_cast<size_t>(n));
            return (n);
        }
        if (errno != EAGAIN && errno != EINTR) {
            error = std::string("recv: ") + std::strerror(errno);
            return (-1);
        }
        if (!waitFor(fd, POLLIN, timeout_ms)) {
            error = "timed out waiting for the server (" +
                std::to_string(timeout_ms) + " ms)";
            return (-1);
        }
    }
}

/// @brief Checks the head once parsed: status and announced size.
bool checkHead(const HttpHead& head, size_t limit, std::string& error) {
    if (head.status_ != 200) {
        error = "HTTP status " + std::to_string(head.status_) +
            (head.reason_.empty() ? "" : " " + head.reason_);
        return (false);
    }
    if (head.content_length_ && *head.content_length_ > limit) {
        error = "file too large (Content-Length " +
            std::to_string(*head.content_length_) + ", limit " +
            std::to_string(limit) + ")";
        return (false);
    }
    return (true);
}

/// @brief Reads and parses the response.
FetchResult readHttpResponse(int fd, int timeout_ms, size_t limit) {
    std::string raw;
    HttpHead head;
    bool have_head = false;
    std::string error;
    for (;;) {
        ssize_t n = receiveSome(fd, raw, timeout_ms, error);
        if (n < 0) {
            return (failed("http", error, head.status_));
        }
        bool eof = n == 0;
        if (!have_head) {
            ParseStatus st = parseHttpHead(raw, head, error);
            if (st == ParseStatus::FAILED) {
                return (failed("http", error));
            }
            if (st == ParseStatus::INCOMPLETE) {
                if (eof) {
                    return (failed("http", "connection closed before the "
                                   "end of the response header"));
                }
                continue;
            }
            have_head = true;
            if (!checkHead(head, limit, error)) {
                return (failed("http", error, head.status_));
            }
        }
        size_t slack = head.chunked_ ? CHUNK_SLACK : 0;
        if (raw.size() - head.head_size_ > limit + slack) {
            return (failed("http", "file larger than the limit of " +
                           std::to_string(limit) + " bytes", head.status_));
        }
        if (!eof && !bodyMayBeComplete(raw, head)) {
            continue;
        }
        FetchResult result;
        ParseStatus st = extractHttpBody(raw, head, eof, result.data_, error);
        if (st == ParseStatus::INCOMPLETE) {
            continue;
        }
        if (st == ParseStatus::FAILED) {
            return (failed("http", error, head.status_));
        }
        if (result.data_.size() > limit) {
            return (failed("http", "file larger than the limit of " +
                           std::to_string(limit) + " bytes", head.status_));
        }
        result.ok_ = true;
        result.protocol_ = "http";
        result.status_ = head.status_;
        return (result);
    }
}

/// @brief Opens a UDP socket bound to an ephemeral port.
int openUdp(std::string& error) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return (-1);
    }
    sockaddr_in sa = makeAddr(fetchSource, 0);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
        sa = makeAddr(INADDR_ANY, 0);
        if (errno != EADDRNOTAVAIL || bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
            error = std::string("bind: ") + std::strerror(errno);
            close(fd);
            return (-1);
        }
    }
    return (fd);
}

/// @brief Sends a datagram.
bool sendDatagram(int fd, const Bytes& pkt, const sockaddr_in& dst,
                  std::string& error) {
    ssize_t n = sendto(fd, pkt.data(), pkt.size(), 0,
                       reinterpret_cast<const sockaddr*>(&dst), sizeof(dst));
    if (n < 0) {
        error = std::string("sendto: ") + std::strerror(errno);
        return (false);
    }
    return (true);
}

/// @brief State of a TFTP transfer on the network.
struct TftpSession {
    int fd_;                    ///< the socket.
    uint32_t server_;           ///< server address.
    sockaddr_in peer_;          ///< where to send (learnt TID port).
    bool peer_known_ = false;   ///< the server's TID port is known.
    Bytes last_sent_;           ///< packet resent on timeout.
    TftpReceiver receiver_;     ///< the transfer.
};

/// @brief Receives one datagram from the server's TID.
///
/// @return 1 got a packet, 0 deadline passed, -1 error.
int receiveTftp(TftpSession& session,
                std::chrono::steady_clock::time_point deadline,
                TftpPacket& pkt, std::string& error) {
    std::vector<uint8_t> buf(TFTP_BLOCK_SIZE + 64);
    for (;;) {
        int left = remainingMs(deadline);
        if (left == 0 || !waitFor(session.fd_, POLLIN, left)) {
            return (0);
        }
        sockaddr_in src;
        socklen_t src_len = sizeof(src);
        ssize_t n = recvfrom(session.fd_, buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&src), &src_len);
        if (n < 0 || ntohl(src.sin_addr.s_addr) != session.server_) {
            continue;
        }
        if (!session.peer_known_) {
            session.peer_.sin_port = src.sin_port;
            session.peer_known_ = true;
        } else if (src.sin_port != session.peer_.sin_port) {
            // RFC 1350: a packet from another TID gets an error, the
            // transfer goes on.
            sendDatagram(session.fd_, buildTftpError(5, "Unknown transfer ID"),
                         src, error);
            continue;
        }
        std::string parse_error;
        if (parseTftpPacket(buf.data(), static_cast<size_t>(n), pkt,
                            parse_error)) {
            return (1);
        }
    }
}

/// @brief Runs the transfer after the RRQ was sent.
FetchResult runTftp(TftpSession& session, int timeout_ms, int tries) {
    std::string error;
    int attempt = 1;
    auto deadline = std::chrono::steady_clock::now() +
        std::chrono::milliseconds(timeout_ms);
    for (;;) {
        TftpPacket pkt;
        int got = receiveTftp(session, deadline, pkt, error);
        if (got == 0) {
            if (attempt >= tries) {
                size_t got_bytes = session.receiver_.data().size();
                return (failed("tftp", "timed out after " +
                               std::to_string(tries) + " tries of " +
                               std::to_string(timeout_ms) + " ms (" +
                               std::to_string(got_bytes) +
                               " bytes received)"));
            }
            ++attempt;
            if (!sendDatagram(session.fd_, session.last_sent_, session.peer_,
                              error)) {
                return (failed("tftp", error));
            }
            deadline = std::chrono::steady_clock::now() +
                std::chrono::milliseconds(timeout_ms);
            continue;
        }
        TftpReceiver::Action action = session.receiver_.onPacket(pkt);
        if (action == TftpReceiver::Action::IGNORE) {
            continue;
        }
        if (action == TftpReceiver::Action::FAIL) {
            if (session.receiver_.tooLarge()) {
                sendDatagram(session.fd_, buildTftpError(3, "File too large"),
                             session.peer_, error);
            }
            return (failed("tftp", session.receiver_.error()));
        }
        session.last_sent_ = buildTftpAck(session.receiver_.ackBlock());
        if (!sendDatagram(session.fd_, session.last_sent_, session.peer_,
                          error)) {
            return (failed("tftp", error));
        }
        if (action == TftpReceiver::Action::DONE) {
            FetchResult result;
            result.ok_ = true;
            result.protocol_ = "tftp";
            result.data_ = session.receiver_.data();
            return (result);
        }
        attempt = 1;
        deadline = std::chrono::steady_clock::now() +
            std::chrono::milliseconds(timeout_ms);
    }
}

}  // namespace

bool parseUrl(const std::string& text, uint16_t default_port, Url& url,
              std::string& error) {
    size_t sep = text.find("://");
    if (sep == std::string::npos || sep == 0) {
        error = "'" + text + "' is not a URL";
        return (false);
    }
    url = Url();
    url.scheme_ = lower(text.substr(0, sep));
    std::string rest = text.substr(sep + 3);
    size_t path_start = rest.find_first_of("/?#");
    std::string authority = rest.substr(0, path_start);
    if (!splitHostPort(authority, default_port, url.host_, url.port_, error)) {
        error = "'" + text + "': " + error;
        return (false);
    }
    url.path_ = "/";
    if (path_start != std::string::npos) {
        url.path_ = rest[path_start] == '/' ? rest.substr(path_start) :
            "/" + rest.substr(path_start);
    }
    for (char c : url.path_) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            error = "'" + text + "': control character in the path";
            return (false);
        }
    }
    return (true);
}

std::string joinPath(const std::string& base, const std::string& file) {
    if (base.empty()) {
        return (file);
    }
    if (file.empty()) {
        return (base);
    }
    bool base_slash = base.back() == '/';
    bool file_slash = file.front() == '/';
    if (base_slash && file_slash) {
        return (base + file.substr(1));
    }
    if (base_slash || file_slash) {
        return (base + file);
    }
    return (base + "/" + file);
}

FetchTarget chooseFetchTarget(const std::vector<DhcpOption>& options,
                              const std::string& file, uint16_t tftp_port) {
    std::optional<Bytes> opt66 = findOption(options, 66);
    bool empty66 = !opt66 || std::all_of(opt66->begin(), opt66->end(),
                                         [](uint8_t b) { return (b == 0); });
    if (!empty66 && !printableText(*opt66)) {
        return (failedTarget("option 66", "option 66 is not text (0x" +
                             toHex(*opt66) + ")"));
    }
    std::optional<std::string> text66 = optionText(options, 66);
    if (text66 && !text66->empty()) {
        return (option66Target(*text66, file, tftp_port));
    }
    std::optional<Bytes> opt150 = findOption(options, 150);
    if (opt150 && opt150->size() >= 4) {
        uint32_t addr = (static_cast<uint32_t>((*opt150)[0]) << 24) |
            ((*opt150)[1] << 16) | ((*opt150)[2] << 8) | (*opt150)[3];
        return (tftpTarget(formatIpv4(addr), tftp_port, file, "option 150"));
    }
    std::optional<FetchTarget> target =
        httpFallback(findOption(options, 160), file, "option 160");
    if (target) {
        return (*target);
    }
    std::optional<Bytes> opt43 = findOption(options, 43);
    if (opt43) {
        target = httpFallback(findSubOption(*opt43, 2), file,
                              "option 43 sub-option 2");
        if (target) {
            return (*target);
        }
    }
    return (failedTarget("", "no provisioning server in the ACK (looked at "
                         "options 66, 150, 160 and 43 sub-option 2)"));
}

std::string buildHttpRequest(const std::string& host,
                             const std::string& path) {
    std::string target;
    for (char c : path) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '"' || c == '<' || c == '>' ||
            c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' ||
            c == '}') {
            percentEncode(target, u);
        } else {
            target += c;
        }
    }
    return ("GET " + target + " HTTP/1.1\r\n"
            "Host: " + host + "\r\n"
            "User-Agent: kea-phoneprov-simulate\r\n"
            "Accept: */*\r\n"
            "Connection: close\r\n"
            "\r\n");
}

ParseStatus parseHttpHead(const std::string& raw, HttpHead& head,
                          std::string& error) {
    size_t end = findHeadEnd(raw);
    if (end == 0 || end > HTTP_HEAD_LIMIT) {
        if (end > HTTP_HEAD_LIMIT || raw.size() > HTTP_HEAD_LIMIT) {
            error = "HTTP response header larger than " +
                std::to_string(HTTP_HEAD_LIMIT) + " bytes";
            return (ParseStatus::FAILED);
        }
        return (ParseStatus::INCOMPLETE);
    }
    head = HttpHead();
    head.head_size_ = end;
    size_t pos = 0;
    std::string line;
    readLine(raw, pos, line);
    if (!parseStatusLine(line, head, error)) {
        return (ParseStatus::FAILED);
    }
    while (readLine(raw, pos, line) && pos <= end && !line.empty()) {
        if (!parseHeaderLine(line, head, error)) {
            return (ParseStatus::FAILED);
        }
    }
    return (ParseStatus::COMPLETE);
}

ParseStatus decodeChunked(const std::string& raw, std::string& out,
                          std::string& error) {
    std::string body;
    size_t pos = 0;
    std::string line;
    for (;;) {
        if (!readLine(raw, pos, line)) {
            return (ParseStatus::INCOMPLETE);
        }
        size_t size = 0;
        if (!parseChunkSize(line, size)) {
            error = "bad chunk size line '" + line.substr(0, 40) + "'";
            return (ParseStatus::FAILED);
        }
        if (size == 0) {
            ParseStatus st = skipTrailers(raw, pos);
            if (st == ParseStatus::COMPLETE) {
                out.swap(body);
            }
            return (st);
        }
        if (raw.size() - pos < size) {
            return (ParseStatus::INCOMPLETE);
        }
        body.append(raw, pos, size);
        pos += size;
        if (!readLine(raw, pos, line)) {
            return (ParseStatus::INCOMPLETE);
        }
        if (!line.empty()) {
            error = "chunk not followed by CRLF";
            return (ParseStatus::FAILED);
        }
    }
}

ParseStatus extractHttpBody(const std::string& raw, const HttpHead& head,
                            bool eof, std::string& body, std::string& error) {
    if ((head.status_ >= 100 && head.status_ < 200) || head.status_ == 204 ||
        head.status_ == 304) {
        body.clear();
        return (ParseStatus::COMPLETE);
    }
    size_t avail = raw.size() - std::min(raw.size(), head.head_size_);
    if (head.chunked_) {
        ParseStatus st = decodeChunked(raw.substr(raw.size() - avail), body,
                                       error);
        if (st == ParseStatus::INCOMPLETE && eof) {
            error = "connection closed inside the chunked body";
            return (ParseStatus::FAILED);
        }
        return (st);
    }
    if (head.content_length_) {
        size_t want = *head.content_length_;
        if (avail >= want) {
            body = raw.substr(head.head_size_, want);
            return (ParseStatus::COMPLETE);
        }
        if (eof) {
            error = "connection closed after " + std::to_string(avail) +
                " of " + std::to_string(want) + " body bytes";
            return (ParseStatus::FAILED);
        }
        return (ParseStatus::INCOMPLETE);
    }
    if (!eof) {
        return (ParseStatus::INCOMPLETE);
    }
    body = raw.substr(raw.size() - avail);
    return (ParseStatus::COMPLETE);
}

Bytes buildTftpRrq(const std::string& filename) {
    Bytes out;
    out.reserve(filename.size() + 10);
    out.push_back(0);
    out.push_back(TFTP_RRQ);
    out.insert(out.end(), filename.begin(), filename.end());
    out.push_back(0);
    const std::string mode = "octet";
    out.insert(out.end(), mode.begin(), mode.end());
    out.push_back(0);
    return (out);
}

Bytes buildTftpAck(uint16_t block) {
    return (Bytes{ 0, TFTP_ACK, static_cast<uint8_t>(block >> 8),
                   static_cast<uint8_t>(block) });
}

Bytes buildTftpError(uint16_t code, const std::string& message) {
    Bytes out;
    out.reserve(message.size() + 5);
    out.push_back(0);
    out.push_back(TFTP_ERROR);
    out.push_back(static_cast<uint8_t>(code >> 8));
    out.push_back(static_cast<uint8_t>(code));
    out.insert(out.end(), message.begin(), message.end());
    out.push_back(0);
    return (out);
}

bool parseTftpPacket(const uint8_t* data, size_t len, TftpPacket& pkt,
                     std::string& error) {
    if (len < 4) {
        error = "TFTP packet too short (" + std::to_string(len) + " bytes)";
        return (false);
    }
    pkt = TftpPacket();
    pkt.opcode_ = static_cast<uint16_t>((data[0] << 8) | data[1]);
    uint16_t word = static_cast<uint16_t>((data[2] << 8) | data[3]);
    if (pkt.opcode_ == TFTP_DATA) {
        if (len - 4 > TFTP_BLOCK_SIZE) {
            error = "TFTP DATA larger than " +
                std::to_string(TFTP_BLOCK_SIZE) + " bytes";
            return (false);
        }
        pkt.block_ = word;
        pkt.data_.assign(data + 4, data + len);
        return (true);
    }
    if (pkt.opcode_ == TFTP_ACK) {
        pkt.block_ = word;
        return (true);
    }
    if (pkt.opcode_ == TFTP_ERROR) {
        pkt.error_code_ = word;
        const uint8_t* end = std::find(data + 4, data + len, 0);
        pkt.error_message_.assign(data + 4, end);
        return (true);
    }
    if (pkt.opcode_ >= TFTP_RRQ && pkt.opcode_ <= TFTP_OACK) {
        return (true);
    }
    error = "unknown TFTP opcode " + std::to_string(pkt.opcode_);
    return (false);
}

TftpReceiver::Action TftpReceiver::onPacket(const TftpPacket& pkt) {
    if (pkt.opcode_ == TFTP_ERROR) {
        error_ = "TFTP error " + std::to_string(pkt.error_code_) + ": " +
            pkt.error_message_;
        return (Action::FAIL);
    }
    if (pkt.opcode_ != TFTP_DATA) {
        error_ = "unexpected TFTP opcode " + std::to_string(pkt.opcode_);
        return (Action::FAIL);
    }
    // Duplicates (a lost ACK) are ignored: our timeout resends the ACK.
    // Answering each duplicate would start the Sorcerer's Apprentice.
    if (pkt.block_ != static_cast<uint16_t>(last_block_ + 1)) {
        return (Action::IGNORE);
    }
    if (data_.size() + pkt.data_.size() > limit_) {
        error_ = "file larger than the limit of " + std::to_string(limit_) +
            " bytes";
        too_large_ = true;
        return (Action::FAIL);
    }
    data_.append(pkt.data_.begin(), pkt.data_.end());
    last_block_ = pkt.block_;
    if (pkt.data_.size() < TFTP_BLOCK_SIZE) {
        return (Action::DONE);
    }
    return (Action::ACK);
}

bool resolveIpv4(const std::string& host, uint32_t& addr, std::string& error) {
    if (parseIpv4(host, addr)) {
        return (true);
    }
    addrinfo hints;
    std::memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
    if (rc != 0 || !res) {
        error = "cannot resolve '" + host + "': " + gai_strerror(rc);
        return (false);
    }
    const sockaddr_in* sa = reinterpret_cast<sockaddr_in*>(res->ai_addr);
    addr = ntohl(sa->sin_addr.s_addr);
    freeaddrinfo(res);
    return (true);
}

FetchResult fetchHttp(const FetchTarget& target, int timeout_ms,
                      size_t limit) {
    uint32_t addr = 0;
    std::string error;
    if (!resolveIpv4(target.host_, addr, error)) {
        return (failed("http", error));
    }
    FdGuard fd(connectTcp(addr, target.port_, timeout_ms, error));
    if (fd.get() < 0) {
        return (failed("http", error));
    }
    std::string host = target.host_;
    if (target.port_ != 80) {
        host += ":" + std::to_string(target.port_);
    }
    if (!sendAll(fd.get(), buildHttpRequest(host, target.path_), timeout_ms,
                 error)) {
        return (failed("http", error));
    }
    return (readHttpResponse(fd.get(), timeout_ms, limit));
}

FetchResult fetchTftp(const FetchTarget& target, int timeout_ms, int tries,
                      size_t limit) {
    uint32_t addr = 0;
    std::string error;
    if (!resolveIpv4(target.host_, addr, error)) {
        return (failed("tftp", error));
    }
    FdGuard fd(openUdp(error));
    if (fd.get() < 0) {
        return (failed("tftp", error));
    }
    TftpSession session{ fd.get(), addr, makeAddr(addr, target.port_), false,
                         buildTftpRrq(target.path_), TftpReceiver(limit) };
    if (!sendDatagram(fd.get(), session.last_sent_, session.peer_, error)) {
        return (failed("tftp", error));
    }
    return (runTftp(session, timeout_ms, tries));
}

void setFetchSource(uint32_t addr) {
    fetchSource = addr;
}

FetchResult fetchFile(const FetchTarget& target, int timeout_ms) {
    if (target.protocol_ == "http") {
        return (fetchHttp(target, timeout_ms));
    }
    if (target.protocol_ == "tftp") {
        return (fetchTftp(target, timeout_ms));
    }
    return (failed(target.protocol_, target.error_.empty() ?
                   "nothing to fetch" : target.error_));
}

}  // namespace sim
}  // namespace phoneprov
