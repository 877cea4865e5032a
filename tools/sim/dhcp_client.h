// kea-phoneprov: `phoneprov simulate`, a booting IP phone.
//
// DHCPv4 part: packet building and parsing, option decoding, and a client
// that talks to the server as a DHCP relay agent (giaddr = bind address).

#ifndef PHONEPROV_TOOLS_SIM_DHCP_CLIENT_H
#define PHONEPROV_TOOLS_SIM_DHCP_CLIENT_H

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

/// @brief Entry point of `phoneprov simulate`.
///
/// Never throws. Exit codes: 0 success, 1 usage error, 2 no OFFER/ACK or a
/// NAK, 3 the file could not be fetched (or written with --output).
///
/// @param argc number of arguments, argv[0] being "simulate".
/// @param argv the arguments.
/// @return the process exit code.
int cmdSimulate(int argc, char** argv);

namespace phoneprov {
namespace sim {

/// @brief A byte buffer.
typedef std::vector<uint8_t> Bytes;

/// @brief A 48-bit hardware address.
typedef std::array<uint8_t, 6> Mac;

/// @brief DHCP message types (option 53).
enum DhcpMessageType : uint8_t {
    DHCPDISCOVER = 1,
    DHCPOFFER = 2,
    DHCPREQUEST = 3,
    DHCPDECLINE = 4,
    DHCPACK = 5,
    DHCPNAK = 6,
    DHCPRELEASE = 7,
    DHCPINFORM = 8
};

/// @brief Size of the fixed BOOTP header, without the magic cookie.
constexpr size_t DHCP_HEADER_SIZE = 236;

/// @brief Offset of the options: header plus the magic cookie.
constexpr size_t DHCP_OPTIONS_OFFSET = 240;

/// @brief Smallest packet a BOOTP relay or server must accept.
constexpr size_t DHCP_MIN_PACKET_SIZE = 300;

/// @brief Largest DHCP packet the client accepts.
constexpr size_t DHCP_MAX_PACKET_SIZE = 65535;

/// @brief Default parameter request list (option 55).
extern const char* const DEFAULT_REQUEST_OPTIONS;

/// @brief One DHCP option, as it appeared on the wire.
struct DhcpOption {
    uint8_t code_;  ///< option code (1..254).
    Bytes data_;    ///< option payload.
};

/// @brief What the client puts in its DISCOVER and REQUEST.
struct ClientParams {
    Mac mac_ = {};                ///< chaddr.
    uint32_t giaddr_ = 0;         ///< relay address (host byte order).
    Bytes request_options_;       ///< option 55 (empty: not sent).
    std::optional<Bytes> vendor_class_;  ///< option 60.
    std::string hostname_;        ///< option 12 (empty: not sent).
    Bytes client_id_;             ///< option 61 (empty: not sent).
};

/// @brief A parsed DHCP packet.
struct DhcpPacket {
    uint8_t op_ = 0;              ///< 1 BOOTREQUEST, 2 BOOTREPLY.
    uint8_t htype_ = 0;           ///< hardware type.
    uint8_t hlen_ = 0;            ///< hardware address length.
    uint8_t hops_ = 0;            ///< relay hops.
    uint32_t xid_ = 0;            ///< transaction id.
    uint16_t secs_ = 0;           ///< seconds since the client started.
    uint16_t flags_ = 0;          ///< flags (broadcast bit).
    uint32_t ciaddr_ = 0;         ///< client address (host byte order).
    uint32_t yiaddr_ = 0;         ///< "your" address (host byte order).
    uint32_t siaddr_ = 0;         ///< next server (host byte order).
    uint32_t giaddr_ = 0;         ///< relay address (host byte order).
    std::array<uint8_t, 16> chaddr_ = {};  ///< client hardware address.
    std::string sname_;           ///< server name field (up to the NUL).
    std::string file_;            ///< boot file field (up to the NUL).
    std::vector<DhcpOption> options_;  ///< options in wire order.
    std::string warning_;         ///< set when options were malformed.
};

/// @brief Parses a MAC address.
///
/// Accepts 00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC, 001565aabbcc and
/// 0015.65aa.bbcc.
///
/// @param text the address.
/// @param mac set to the address on success.
/// @return true on success.
bool parseMac(const std::string& text, Mac& mac);

/// @brief Formats a MAC address.
///
/// @param mac the address.
/// @param separator put between the bytes (0 for none).
/// @param upper use upper-case hex digits.
/// @return the text.
std::string formatMac(const Mac& mac, char separator, bool upper);

/// @brief Parses hex digits, optionally separated by ':', '-', ' ' or '.'.
///
/// An optional "0x" prefix is accepted.
///
/// @param text the hex text.
/// @param out set to the bytes on success.
/// @return true on success (false on an odd count or a bad digit).
bool parseHex(const std::string& text, Bytes& out);

/// @brief Formats bytes as lower-case hex without separators.
///
/// @param data the bytes.
/// @return the hex text.
std::string toHex(const Bytes& data);

/// @brief Parses a comma-separated list of option codes (1..254).
///
/// @param text e.g. "1,3,6".
/// @param out set to the codes on success.
/// @return true on success.
bool parseCodeList(const std::string& text, Bytes& out);

/// @brief Parses a dotted-quad IPv4 address.
///
/// @param text the address.
/// @param addr set to the address in host byte order.
/// @return true on success.
bool parseIpv4(const std::string& text, uint32_t& addr);

/// @brief Formats an IPv4 address given in host byte order.
///
/// @param addr the address.
/// @return dotted-quad text.
std::string formatIpv4(uint32_t addr);

/// @brief Builds a relayed DHCPDISCOVER.
///
/// @param params what to put in the packet.
/// @param xid transaction id.
/// @param secs secs field.
/// @return the packet, padded to 300 bytes.
Bytes buildDiscover(const ClientParams& params, uint32_t xid, uint16_t secs);

/// @brief Builds a relayed DHCPREQUEST (SELECTING state).
///
/// @param params what to put in the packet.
/// @param xid transaction id (the one of the DISCOVER).
/// @param secs secs field (the one of the DISCOVER).
/// @param requested option 50, the offered address (host byte order).
/// @param server_id option 54 (host byte order).
/// @return the packet, padded to 300 bytes.
Bytes buildRequest(const ClientParams& params, uint32_t xid, uint16_t secs,
                   uint32_t requested, uint32_t server_id);

/// @brief Parses an options area (pad 0, end 255).
///
/// Every length is checked against what remains. On a malformed area the
/// options before the fault are kept in @c out.
///
/// @param data start of the area.
/// @param len its length.
/// @param out options are appended here.
/// @param error set to a description when false is returned.
/// @return true when the area is well formed.
bool parseOptions(const uint8_t* data, size_t len,
                  std::vector<DhcpOption>& out, std::string& error);

/// @brief Parses a DHCP packet.
///
/// Fails on a short packet or a bad magic cookie; malformed options only
/// set @c DhcpPacket::warning_. Honours option 52 (overload of the file and
/// sname fields).
///
/// @param data the packet.
/// @param len its length.
/// @param pkt set to the packet.
/// @param error set to a description when false is returned.
/// @return true when the packet could be used.
bool parsePacket(const uint8_t* data, size_t len, DhcpPacket& pkt,
                 std::string& error);

/// @brief Returns the payload of an option, instances concatenated (RFC 3396).
///
/// @param options the options.
/// @param code the code.
/// @return the payload, or nothing when the option is absent.
std::optional<Bytes> findOption(const std::vector<DhcpOption>& options,
                                uint8_t code);

/// @brief Returns the message type (option 53) of a packet, 0 if none.
///
/// @param pkt the packet.
/// @return the message type.
uint8_t messageType(const DhcpPacket& pkt);

/// @brief Returns the name of a message type ("OFFER").
///
/// @param type the type.
/// @return the name.
std::string messageTypeName(uint8_t type);

/// @brief Returns a known name for an option code ("option-N" otherwise).
///
/// @param code the code.
/// @return the name.
std::string optionName(uint8_t code);

/// @brief Returns the bytes as text when they are printable ASCII.
///
/// Trailing NULs are dropped first.
///
/// @param data the bytes.
/// @return the text, or nothing when a byte is not printable or the data is
/// empty.
std::optional<std::string> printableText(const Bytes& data);

/// @brief Returns a sub-option of a code/length/value area (option 43, 82).
///
/// @param data the area.
/// @param code the sub-option code.
/// @return the payload, or nothing when absent or the area is malformed.
std::optional<Bytes> findSubOption(const Bytes& data, uint8_t code);

/// @brief Decodes an option's value for people.
///
/// IPv4 lists for 1/3/6/54/150/..., sub-options for 43 and 82, RFC 3925 for
/// 124/125, integers for 51/58/59, the type for 53, codes for 55; text when
/// printable; hex otherwise.
///
/// @param option the option.
/// @return the decoded value.
std::string decodeOption(const DhcpOption& option);

/// @brief Tells whether two option lists differ, ignoring option 53.
///
/// @param a first list.
/// @param b second list.
/// @return true when they differ.
bool optionsDiffer(const std::vector<DhcpOption>& a,
                   const std::vector<DhcpOption>& b);

/// @brief Owns a file descriptor and closes it.
class FdGuard {
public:
    /// @brief Constructor.
    ///
    /// @param fd the descriptor (-1 for none).
    explicit FdGuard(int fd = -1) : fd_(fd) {
    }

    /// @brief Destructor: closes the descriptor.
    ~FdGuard();

    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;

    /// @brief Returns the descriptor.
    int get() const {
        return (fd_);
    }

private:
    int fd_;  ///< the descriptor.
};

/// @brief Milliseconds left until a deadline (0 when passed).
///
/// @param deadline the deadline.
/// @return the milliseconds left.
int remainingMs(std::chrono::steady_clock::time_point deadline);

/// @brief Result of a DISCOVER/REQUEST exchange.
struct DhcpExchange {
    uint32_t xid_ = 0;            ///< transaction id used.
    uint16_t secs_ = 0;           ///< secs field used.
    uint32_t offered_ = 0;        ///< yiaddr of the OFFER.
    uint32_t server_id_ = 0;      ///< server identifier used in REQUEST.
    uint32_t offer_from_ = 0;     ///< source address of the OFFER.
    std::optional<DhcpPacket> offer_;  ///< the OFFER.
    std::optional<DhcpPacket> ack_;    ///< the ACK (or NAK).
    std::string error_;           ///< set on failure.
};

/// @brief Where and how the relay client talks.
struct RelayConfig {
    uint32_t server_ = 0x7f000001;    ///< server address (host byte order).
    uint16_t server_port_ = 67;       ///< server port.
    uint32_t bind_ = 0x7f000001;      ///< relay address, also giaddr.
    uint16_t bind_port_ = 68;         ///< relay port (0: any, for tests).
    int timeout_ms_ = 2000;           ///< wait per try.
    int tries_ = 3;                   ///< tries per step.
};

/// @brief Runs DISCOVER -> OFFER -> REQUEST -> ACK as a relay agent.
///
/// @param relay where to send from and to.
/// @param params packet contents (giaddr is taken from relay.bind_).
/// @param xid transaction id.
/// @param exchange filled with the result.
/// @return true when an ACK was received.
bool runExchange(const RelayConfig& relay, ClientParams params, uint32_t xid,
                 DhcpExchange& exchange);

}  // namespace sim
}  // namespace phoneprov

#endif  // PHONEPROV_TOOLS_SIM_DHCP_CLIENT_H
