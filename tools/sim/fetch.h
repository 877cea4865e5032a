// kea-phoneprov: `phoneprov simulate`, fetching the provisioning file.
//
// Chooses the URL from the ACK's options as a phone would, and fetches it
// with a minimal HTTP/1.1 client or a TFTP (RFC 1350) client.

#ifndef PHONEPROV_TOOLS_SIM_FETCH_H
#define PHONEPROV_TOOLS_SIM_FETCH_H

#include "dhcp_client.h"

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace phoneprov {
namespace sim {

/// @brief Largest file fetched (HTTP body or TFTP file).
constexpr size_t FETCH_LIMIT = 16 * 1024 * 1024;

/// @brief TFTP block size (RFC 1350).
constexpr size_t TFTP_BLOCK_SIZE = 512;

/// @brief A parsed http:// or tftp:// URL.
struct Url {
    std::string scheme_;  ///< lower case: "http", "tftp", ...
    std::string host_;    ///< host name or IPv4 address.
    uint16_t port_ = 0;   ///< port (the scheme's default when absent).
    std::string path_;    ///< from the first '/' on ("/" when absent).
};

/// @brief Parses scheme://host[:port][/path].
///
/// @param text the URL.
/// @param default_port port used when the URL has none.
/// @param url set on success.
/// @param error set to a description when false is returned.
/// @return true on success.
bool parseUrl(const std::string& text, uint16_t default_port, Url& url,
              std::string& error);

/// @brief Appends a file name to a base, with one '/' between them.
///
/// @param base e.g. "http://h/prov/" or "http://h/prov".
/// @param file e.g. "001565aabbcc.cfg".
/// @return e.g. "http://h/prov/001565aabbcc.cfg".
std::string joinPath(const std::string& base, const std::string& file);

/// @brief What to fetch and how.
struct FetchTarget {
    std::string protocol_;  ///< "http" or "tftp"; empty when error_ is set.
    std::string url_;       ///< the URL, for people.
    std::string host_;      ///< server host name or address.
    uint16_t port_ = 0;     ///< server port.
    std::string path_;      ///< HTTP: path from '/'; TFTP: file name.
    std::string source_;    ///< where the URL came from ("option 66").
    std::string error_;     ///< why nothing can be fetched.
};

/// @brief Chooses what to fetch from the ACK's options, as a phone would.
///
/// Option 66 first: http:// (the file is appended), tftp://host[:port]/dir/,
/// or a bare host[/dir] (TFTP); https:// and other schemes are reported as
/// unsupported. Then option 150 (first IPv4 address, TFTP), then an http://
/// URL in option 160, then one in option 43 sub-option 2.
///
/// @param options the ACK's options.
/// @param file the file name to fetch.
/// @param tftp_port port for TFTP servers given without a port.
/// @return the target; error_ set when there is none.
FetchTarget chooseFetchTarget(const std::vector<DhcpOption>& options,
                              const std::string& file, uint16_t tftp_port);

/// @brief Result of parsing part of an HTTP response.
enum class ParseStatus {
    INCOMPLETE,  ///< more bytes are needed.
    COMPLETE,    ///< done.
    FAILED       ///< malformed.
};

/// @brief The status line and headers of an HTTP response.
struct HttpHead {
    std::string version_;   ///< "HTTP/1.1".
    int status_ = 0;        ///< e.g. 200.
    std::string reason_;    ///< e.g. "OK".
    std::vector<std::pair<std::string, std::string>> headers_;  ///< names
                                                               ///< lower case.
    size_t head_size_ = 0;  ///< bytes up to and with the empty line.
    std::optional<size_t> content_length_;  ///< Content-Length.
    bool chunked_ = false;  ///< Transfer-Encoding: chunked.
};

/// @brief Builds the GET request.
///
/// @param host Host header value.
/// @param path request target (bytes that are not allowed are %-encoded).
/// @return the request.
std::string buildHttpRequest(const std::string& host, const std::string& path);

/// @brief Parses the status line and headers.
///
/// @param raw the bytes received so far.
/// @param head set when COMPLETE is returned.
/// @param error set when FAILED is returned.
/// @return the status.
ParseStatus parseHttpHead(const std::string& raw, HttpHead& head,
                          std::string& error);

/// @brief Decodes a chunked body.
///
/// @param raw the body bytes received so far (after the head).
/// @param out set to the decoded body when COMPLETE is returned.
/// @param error set when FAILED is returned.
/// @return the status.
ParseStatus decodeChunked(const std::string& raw, std::string& out,
                          std::string& error);

/// @brief Extracts the body from a response whose head was parsed.
///
/// @param raw all bytes received so far.
/// @param head the parsed head.
/// @param eof the server closed the connection.
/// @param body set when COMPLETE is returned.
/// @param error set when FAILED is returned (e.g. truncated at eof).
/// @return the status.
ParseStatus extractHttpBody(const std::string& raw, const HttpHead& head,
                            bool eof, std::string& body, std::string& error);

/// @brief TFTP opcodes.
enum TftpOpcode : uint16_t {
    TFTP_RRQ = 1,
    TFTP_WRQ = 2,
    TFTP_DATA = 3,
    TFTP_ACK = 4,
    TFTP_ERROR = 5,
    TFTP_OACK = 6
};

/// @brief A parsed TFTP packet.
struct TftpPacket {
    uint16_t opcode_ = 0;       ///< opcode.
    uint16_t block_ = 0;        ///< DATA/ACK block number.
    Bytes data_;                ///< DATA payload.
    uint16_t error_code_ = 0;   ///< ERROR code.
    std::string error_message_;  ///< ERROR message.
};

/// @brief Builds a read request in octet mode.
///
/// @param filename the file.
/// @return the packet.
Bytes buildTftpRrq(const std::string& filename);

/// @brief Builds an ACK.
///
/// @param block block number.
/// @return the packet.
Bytes buildTftpAck(uint16_t block);

/// @brief Builds an ERROR.
///
/// @param code error code.
/// @param message error message.
/// @return the packet.
Bytes buildTftpError(uint16_t code, const std::string& message);

/// @brief Parses a TFTP packet.
///
/// @param data the packet.
/// @param len its length.
/// @param pkt set on success.
/// @param error set to a description when false is returned.
/// @return true on success.
bool parseTftpPacket(const uint8_t* data, size_t len, TftpPacket& pkt,
                     std::string& error);

/// @brief The receiving side of a TFTP read, without the network.
class TftpReceiver {
public:
    /// @brief What to do after a packet.
    enum class Action {
        ACK,     ///< acknowledge block ackBlock().
        DONE,    ///< the last block came: acknowledge it and stop.
        IGNORE,  ///< duplicate or stray packet: wait on.
        FAIL     ///< stop with error().
    };

    /// @brief Constructor.
    ///
    /// @param limit largest file accepted.
    explicit TftpReceiver(size_t limit = FETCH_LIMIT) : limit_(limit) {
    }

    /// @brief Handles a packet from the server.
    ///
    /// @param pkt the packet.
    /// @return what to do.
    Action onPacket(const TftpPacket& pkt);

    /// @brief Returns the block to acknowledge.
    uint16_t ackBlock() const {
        return (last_block_);
    }

    /// @brief Returns the data received so far.
    const std::string& data() const {
        return (data_);
    }

    /// @brief Returns the error after FAIL.
    const std::string& error() const {
        return (error_);
    }

    /// @brief Tells whether the FAIL came from the size limit.
    bool tooLarge() const {
        return (too_large_);
    }

private:
    size_t limit_;              ///< largest file accepted.
    uint16_t last_block_ = 0;   ///< last block received.
    std::string data_;          ///< file so far.
    std::string error_;         ///< error after FAIL.
    bool too_large_ = false;    ///< FAIL came from the limit.
};

/// @brief Result of a fetch.
struct FetchResult {
    bool ok_ = false;        ///< the file was fetched.
    std::string protocol_;   ///< "http" or "tftp".
    int status_ = 0;         ///< HTTP status (0 when none).
    std::string data_;       ///< the file.
    std::string error_;      ///< set on failure.
};

/// @brief Resolves a host name or IPv4 address to an IPv4 address.
///
/// @param host the name.
/// @param addr set in host byte order.
/// @param error set when false is returned.
/// @return true on success.
bool resolveIpv4(const std::string& host, uint32_t& addr, std::string& error);

/// @brief Fetches over HTTP.
///
/// @param target the target (protocol "http").
/// @param timeout_ms connect and idle timeout.
/// @param limit largest body accepted.
/// @return the result.
FetchResult fetchHttp(const FetchTarget& target, int timeout_ms,
                      size_t limit = FETCH_LIMIT);

/// @brief Fetches over TFTP.
///
/// @param target the target (protocol "tftp").
/// @param timeout_ms wait per try.
/// @param tries tries per packet.
/// @param limit largest file accepted.
/// @return the result.
FetchResult fetchTftp(const FetchTarget& target, int timeout_ms, int tries = 3,
                      size_t limit = FETCH_LIMIT);

/// @brief The address later fetches are sent from, as a phone fetches from the
/// address its ACK leased it (lease-binding serves per-device files to that address
/// only). 0: the system's choice. An address not on this host (EADDRNOTAVAIL) is
/// ignored: the fetch goes from the system's choice.
void setFetchSource(uint32_t addr);

/// @brief Fetches a target by its protocol.
///
/// @param target the target.
/// @param timeout_ms timeout per try.
/// @return the result.
FetchResult fetchFile(const FetchTarget& target, int timeout_ms);


// The `simulate` command itself (simulate.cc): its options, its report and
// the JSON it prints, split out for the tests.

/// @brief Options of `phoneprov simulate`.
struct SimOptions {
    Mac mac_ = {};             ///< --mac.
    RelayConfig relay_;        ///< --server, --bind, ports, --timeout.
    ClientParams params_;      ///< options 55, 60, 12, 61 (chaddr is mac_).
    std::string file_;         ///< --file, before {mac} expansion.
    bool no_fetch_ = false;    ///< --no-fetch.
    std::string output_;       ///< --output.
    bool json_ = false;        ///< --json.
    bool quiet_ = false;       ///< --quiet.
    uint16_t tftp_port_ = 69;  ///< --tftp-port.
    bool help_ = false;        ///< --help.
};

/// @brief Parses the command line (argv[0] is the command name).
///
/// @param argc number of arguments.
/// @param argv the arguments.
/// @param opts set on success.
/// @param error set to a description when false is returned.
/// @return true on success.
bool parseSimulateArgs(int argc, const char* const* argv, SimOptions& opts,
                       std::string& error);

/// @brief Returns the usage text.
std::string simulateUsage();

/// @brief Replaces {mac} (lower-case hex) and {MAC} (upper case).
///
/// @param pattern e.g. "{mac}.cfg".
/// @param mac the MAC address.
/// @return e.g. "001565aabbcc.cfg".
std::string expandFileName(const std::string& pattern, const Mac& mac);

/// @brief Returns text as a quoted JSON string.
///
/// Valid UTF-8 is kept; any other byte becomes \u00XX (as Latin-1).
///
/// @param text the text (any bytes).
/// @return the JSON string, quotes included.
std::string jsonString(const std::string& text);

/// @brief Returns bytes as a quoted JSON string, one code point per byte.
///
/// Bytes 0x80..0xff become \u0080..\u00ff, so that encoding the decoded
/// string as Latin-1 gives the bytes back.
///
/// @param data the bytes.
/// @return the JSON string, quotes included.
std::string jsonLatin1String(const std::string& data);

/// @brief Everything one run found out.
struct SimReport {
    Mac mac_ = {};                       ///< the phone.
    DhcpExchange exchange_;              ///< DHCP result.
    bool dhcp_ok_ = false;               ///< an ACK came.
    std::string file_;                   ///< expanded file name (or empty).
    std::optional<FetchTarget> target_;  ///< what was to be fetched.
    std::optional<FetchResult> fetch_;   ///< the fetch, when tried.
    std::string note_;                   ///< e.g. "no --file given".
    std::string error_;                  ///< the failure, if any.
};

/// @brief Returns the report as one JSON object (no newline).
///
/// @param report the report.
/// @return the JSON text.
std::string reportJson(const SimReport& report);

/// @brief Runs a parsed `simulate` command.
///
/// @param opts the options.
/// @param out standard output.
/// @param err standard error.
/// @return the exit code (0, 2 or 3).
int runSimulate(const SimOptions& opts, std::ostream& out, std::ostream& err);

}  // namespace sim
}  // namespace phoneprov

#endif  // PHONEPROV_TOOLS_SIM_FETCH_H
