// kea-phoneprov: `phoneprov simulate`, DHCPv4 part.

#include "dhcp_client.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>

namespace phoneprov {
namespace sim {

const char* const DEFAULT_REQUEST_OPTIONS =
    "1,3,6,15,42,43,66,67,114,125,150,159,160,242";

namespace {

/// @brief The DHCP magic cookie.
const uint8_t MAGIC_COOKIE[4] = { 99, 130, 83, 99 };

/// @brief How an option's value is shown.
enum class Kind {
    RAW,        ///< text if printable, hex otherwise.
    TEXT,       ///< text if printable, hex otherwise.
    IPV4,       ///< list of IPv4 addresses.
    UINT8,      ///< 8-bit unsigned.
    UINT16,     ///< 16-bit unsigned.
    UINT32,     ///< 32-bit unsigned.
    INT32,      ///< 32-bit signed.
    MSG_TYPE,   ///< option 53.
    CODES,      ///< list of option codes (55).
    SUB_OPTS,   ///< code/length/value sub-options (43, 82).
    VIVCO,      ///< RFC 3925 vendor class (124).
    VIVSO       ///< RFC 3925 vendor-specific (125).
};

/// @brief A known option.
struct OptionInfo {
    uint8_t code_;       ///< the code.
    const char* name_;   ///< the name (Kea's where Kea has one).
    Kind kind_;          ///< how to show it.
};

/// @brief Options known by name.
const OptionInfo KNOWN_OPTIONS[] = {
    { 1, "subnet-mask", Kind::IPV4 },
    { 2, "time-offset", Kind::INT32 },
    { 3, "routers", Kind::IPV4 },
    { 4, "time-servers", Kind::IPV4 },
    { 6, "domain-name-servers", Kind::IPV4 },
    { 7, "log-servers", Kind::IPV4 },
    { 12, "host-name", Kind::TEXT },
    { 15, "domain-name", Kind::TEXT },
    { 26, "interface-mtu", Kind::UINT16 },
    { 28, "broadcast-address", Kind::IPV4 },
    { 42, "ntp-servers", Kind::IPV4 },
    { 43, "vendor-encapsulated-options", Kind::SUB_OPTS },
    { 44, "netbios-name-servers", Kind::IPV4 },
    { 50, "dhcp-requested-address", Kind::IPV4 },
    { 51, "dhcp-lease-time", Kind::UINT32 },
    { 52, "dhcp-option-overload", Kind::UINT8 },
    { 53, "dhcp-message-type", Kind::MSG_TYPE },
    { 54, "dhcp-server-identifier", Kind::IPV4 },
    { 55, "dhcp-parameter-request-list", Kind::CODES },
    { 56, "dhcp-message", Kind::TEXT },
    { 57, "dhcp-max-message-size", Kind::UINT16 },
    { 58, "dhcp-renewal-time", Kind::UINT32 },
    { 59, "dhcp-rebinding-time", Kind::UINT32 },
    { 60, "vendor-class-identifier", Kind::TEXT },
    { 61, "dhcp-client-identifier", Kind::RAW },
    { 66, "tftp-server-name", Kind::TEXT },
    { 67, "boot-file-name", Kind::TEXT },
    { 82, "dhcp-agent-options", Kind::SUB_OPTS },
    { 100, "pcode", Kind::TEXT },
    { 101, "tcode", Kind::TEXT },
    { 114, "v4-captive-portal", Kind::TEXT },
    { 118, "subnet-selection", Kind::IPV4 },
    { 119, "domain-search", Kind::RAW },
    { 120, "sip-server", Kind::RAW },
    { 121, "classless-static-route", Kind::RAW },
    { 124, "vivco-suboptions", Kind::VIVCO },
    { 125, "vivso-suboptions", Kind::VIVSO },
    { 150, "tftp-server-address", Kind::IPV4 },
    { 159, "v4-portparams", Kind::RAW },
    { 160, "provisioning-server", Kind::TEXT },
    { 242, "avaya-ip-phone", Kind::TEXT },
    { 252, "wpad", Kind::TEXT },
};

/// @brief Finds a known option.
///
/// @param code the code.
/// @return the entry, or null.
const OptionInfo* findInfo(uint8_t code) {
    for (const OptionInfo& info : KNOWN_OPTIONS) {
        if (info.code_ == code) {
            return (&info);
        }
    }
    return (nullptr);
}

/// @brief Value of one hex digit, -1 when not a digit.
int hexValue(char c) {
    if (c >= '0' && c <= '9') {
        return (c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return (c - 'A' + 10);
    }
    return (-1);
}

/// @brief Reads a big-endian 16-bit value.
uint16_t get16(const uint8_t* p) {
    return (static_cast<uint16_t>((p[0] << 8) | p[1]));
}

/// @brief Reads a big-endian 32-bit value.
uint32_t get32(const uint8_t* p) {
    return ((static_cast<uint32_t>(p[0]) << 24) |
            (static_cast<uint32_t>(p[1]) << 16) |
            (static_cast<uint32_t>(p[2]) << 8) | p[3]);
}

/// @brief Appends a big-endian 16-bit value.
void put16(Bytes& out, uint16_t v) {
    out.push_back(static_cast<uint8_t>(v >> 8));
    out.push_back(static_cast<uint8_t>(v));
}

/// @brief Appends a big-endian 32-bit value.
void put32(Bytes& out, uint32_t v) {
    put16(out, static_cast<uint16_t>(v >> 16));
    put16(out, static_cast<uint16_t>(v));
}

/// @brief Appends an option, split in 255-byte pieces if needed (RFC 3396).
void putOption(Bytes& out, uint8_t code, const Bytes& data) {
    size_t pos = 0;
    do {
        size_t n = std::min<size_t>(255, data.size() - pos);
        out.push_back(code);
        out.push_back(static_cast<uint8_t>(n));
        out.insert(out.end(), data.begin() + pos, data.begin() + pos + n);
        pos += n;
    } while (pos < data.size());
}

/// @brief Returns 4 bytes in network order.
Bytes ipBytes(uint32_t addr) {
    Bytes out;
    put32(out, addr);
    return (out);
}

/// @brief Appends the fixed header and the magic cookie of a relayed request.
void putHeader(Bytes& out, const ClientParams& params, uint32_t xid,
               uint16_t secs) {
    out.push_back(1);  // op: BOOTREQUEST
    out.push_back(1);  // htype: Ethernet
    out.push_back(6);  // hlen
    out.push_back(1);  // hops: we are a relay agent
    put32(out, xid);
    put16(out, secs);
    put16(out, 0);  // flags: unicast replies to the relay
    put32(out, 0);  // ciaddr
    put32(out, 0);  // yiaddr
    put32(out, 0);  // siaddr
    put32(out, params.giaddr_);
    out.insert(out.end(), params.mac_.begin(), params.mac_.end());
    out.resize(DHCP_HEADER_SIZE, 0);  // rest of chaddr, sname, file
    out.insert(out.end(), MAGIC_COOKIE, MAGIC_COOKIE + 4);
}

/// @brief Appends the options a phone sends in DISCOVER and REQUEST.
void putClientOptions(Bytes& out, const ClientParams& params) {
    if (!params.client_id_.empty()) {
        putOption(out, 61, params.client_id_);
    }
    if (!params.hostname_.empty()) {
        putOption(out, 12, Bytes(params.hostname_.begin(),
                                 params.hostname_.end()));
    }
    if (params.vendor_class_ && !params.vendor_class_->empty()) {
        putOption(out, 60, *params.vendor_class_);
    }
    if (!params.request_options_.empty()) {
        putOption(out, 55, params.request_options_);
    }
}

/// @brief Ends the options and pads to the BOOTP minimum size.
void finishPacket(Bytes& out) {
    out.push_back(255);
    if (out.size() < DHCP_MIN_PACKET_SIZE) {
        out.resize(DHCP_MIN_PACKET_SIZE, 0);
    }
}

/// @brief Returns a fixed-size field as text, up to its first NUL.
std::string fieldText(const uint8_t* p, size_t len) {
    size_t n = 0;
    while (n < len && p[n] != 0) {
        ++n;
    }
    return (std::string(reinterpret_cast<const char*>(p), n));
}

/// @brief Adds a warning to a packet.
void addWarning(DhcpPacket& pkt, const std::string& where,
                const std::string& error) {
    if (!pkt.warning_.empty()) {
        pkt.warning_ += "; ";
    }
    pkt.warning_ += where + ": " + error;
}

/// @brief Parses the sname/file fields as options when option 52 says so.
void parseOverload(const uint8_t* data, DhcpPacket& pkt) {
    std::optional<Bytes> overload = findOption(pkt.options_, 52);
    if (!overload || overload->size() != 1) {
        return;
    }
    uint8_t mode = (*overload)[0];
    std::string error;
    if (mode & 1) {
        pkt.file_.clear();
        if (!parseOptions(data + 108, 128, pkt.options_, error)) {
            addWarning(pkt, "file field", error);
        }
    }
    if (mode & 2) {
        pkt.sname_.clear();
        if (!parseOptions(data + 44, 64, pkt.options_, error)) {
            addWarning(pkt, "sname field", error);
        }
    }
}

/// @brief Decodes a list of IPv4 addresses ("a, b").
std::optional<std::string> decodeIpv4List(const Bytes& data) {
    if (data.empty() || data.size() % 4 != 0) {
        return (std::nullopt);
    }
    std::string out;
    for (size_t i = 0; i < data.size(); i += 4) {
        if (!out.empty()) {
            out += ", ";
        }
        out += formatIpv4(get32(&data[i]));
    }
    return (out);
}

/// @brief Decodes an unsigned or signed integer of the expected size.
std::optional<std::string> decodeInteger(const Bytes& data, Kind kind) {
    if (kind == Kind::UINT8 && data.size() == 1) {
        return (std::to_string(data[0]));
    }
    if (kind == Kind::UINT16 && data.size() == 2) {
        return (std::to_string(get16(&data[0])));
    }
    if (kind == Kind::UINT32 && data.size() == 4) {
        return (std::to_string(get32(&data[0])));
    }
    if (kind == Kind::INT32 && data.size() == 4) {
        return (std::to_string(static_cast<int32_t>(get32(&data[0]))));
    }
    return (std::nullopt);
}

/// @brief Text of a value: quoted text when printable, hex otherwise.
std::string quotedOrHex(const Bytes& data) {
    std::optional<std::string> text = printableText(data);
    if (text) {
        return ("\"" + *text + "\"");
    }
    if (data.empty()) {
        return ("\"\"");
    }
    return ("0x" + toHex(data));
}

/// @brief Decodes code/length/value sub-options: 1="a"; 2=0x0a0b.
std::optional<std::string> decodeSubOptions(const Bytes& data) {
    std::vector<DhcpOption> subs;
    std::string error;
    if (data.empty() || !parseOptions(data.data(), data.size(), subs, error) ||
        subs.empty()) {
        return (std::nullopt);
    }
    std::string out;
    for (const DhcpOption& sub : subs) {
        if (!out.empty()) {
            out += "; ";
        }
        out += std::to_string(sub.code_) + "=" + quotedOrHex(sub.data_);
    }
    return (out);
}

/// @brief Decodes RFC 3925 sub-options (no pad/end): 1="a"; 2="b".
std::optional<std::string> decodeVivsoData(const uint8_t* p, size_t len) {
    std::string out;
    size_t pos = 0;
    while (pos < len) {
        if (len - pos < 2 || len - pos - 2 < p[pos + 1]) {
            return (std::nullopt);
        }
        Bytes value(p + pos + 2, p + pos + 2 + p[pos + 1]);
        if (!out.empty()) {
            out += "; ";
        }
        out += std::to_string(p[pos]) + "=" + quotedOrHex(value);
        pos += 2 + p[pos + 1];
    }
    return (out);
}

/// @brief Decodes RFC 3925 vendor class data: "a", "b".
std::optional<std::string> decodeVivcoData(const uint8_t* p, size_t len) {
    std::string out;
    size_t pos = 0;
    while (pos < len) {
        if (len - pos - 1 < p[pos]) {
            return (std::nullopt);
        }
        Bytes value(p + pos + 1, p + pos + 1 + p[pos]);
        if (!out.empty()) {
            out += ", ";
        }
        out += quotedOrHex(value);
        pos += 1 + p[pos];
    }
    return (out);
}

/// @brief Decodes option 124 or 125: enterprise N: ...; | enterprise M: ...
std::optional<std::string> decodeEnterprises(const Bytes& data, bool vivso) {
    std::string out;
    size_t pos = 0;
    while (pos < data.size()) {
        if (data.size() - pos < 5 || data.size() - pos - 5 < data[pos + 4]) {
            return (std::nullopt);
        }
        uint32_t enterprise = get32(&data[pos]);
        const uint8_t* body = &data[pos] + 5;
        size_t body_len = data[pos + 4];
        std::optional<std::string> inner = vivso ?
            decodeVivsoData(body, body_len) : decodeVivcoData(body, body_len);
        if (!inner) {
            return (std::nullopt);
        }
        if (!out.empty()) {
            out += " | ";
        }
        out += "enterprise " + std::to_string(enterprise) + ": " + *inner;
        pos += 5 + body_len;
    }
    if (out.empty()) {
        return (std::nullopt);
    }
    return (out);
}

/// @brief Decodes option 55: "1,3,6".
std::optional<std::string> decodeCodes(const Bytes& data) {
    if (data.empty()) {
        return (std::nullopt);
    }
    std::string out;
    for (uint8_t code : data) {
        if (!out.empty()) {
            out += ",";
        }
        out += std::to_string(code);
    }
    return (out);
}

/// @brief Decodes by kind; nothing when the data does not fit the kind.
std::optional<std::string> decodeByKind(const Bytes& data, Kind kind) {
    switch (kind) {
    case Kind::IPV4:
        return (decodeIpv4List(data));
    case Kind::UINT8:
    case Kind::UINT16:
    case Kind::UINT32:
    case Kind::INT32:
        return (decodeInteger(data, kind));
    case Kind::MSG_TYPE:
        if (data.size() != 1) {
            return (std::nullopt);
        }
        return (messageTypeName(data[0]));
    case Kind::CODES:
        return (decodeCodes(data));
    case Kind::SUB_OPTS:
        return (decodeSubOptions(data));
    case Kind::VIVCO:
        return (decodeEnterprises(data, false));
    case Kind::VIVSO:
        return (decodeEnterprises(data, true));
    default:
        return (std::nullopt);
    }
}

/// @brief Options without option 53, for comparisons.
std::vector<DhcpOption> withoutType(const std::vector<DhcpOption>& options) {
    std::vector<DhcpOption> out;
    for (const DhcpOption& option : options) {
        if (option.code_ != 53) {
            out.push_back(option);
        }
    }
    return (out);
}

}  // namespace

bool parseMac(const std::string& text, Mac& mac) {
    // The separators must sit where one of the accepted forms puts them.
    std::string shape = text;
    std::string digits;
    for (char& c : shape) {
        if (hexValue(c) >= 0) {
            digits += c;
            c = 'x';
        }
    }
    const char* const forms[] = { "xx:xx:xx:xx:xx:xx", "xx-xx-xx-xx-xx-xx",
                                  "xxxxxxxxxxxx", "xxxx.xxxx.xxxx" };
    bool known = false;
    for (const char* form : forms) {
        known = known || shape == form;
    }
    if (!known) {
        return (false);
    }
    for (size_t i = 0; i < 6; ++i) {
        mac[i] = static_cast<uint8_t>(hexValue(digits[2 * i]) * 16 +
                                      hexValue(digits[2 * i + 1]));
    }
    return (true);
}

std::string formatMac(const Mac& mac, char separator, bool upper) {
    const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    std::string out;
    for (size_t i = 0; i < mac.size(); ++i) {
        if (i > 0 && separator != 0) {
            out += separator;
        }
        out += digits[mac[i] >> 4];
        out += digits[mac[i] & 0x0f];
    }
    return (out);
}

bool parseHex(const std::string& text, Bytes& out) {
    std::string s = text;
    if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s = s.substr(2);
    }
    std::string digits;
    for (char c : s) {
        if (c == ':' || c == '-' || c == ' ' || c == '.') {
            continue;
        }
        if (hexValue(c) < 0) {
            return (false);
        }
        digits += c;
    }
    if (digits.size() % 2 != 0) {
        return (false);
    }
    out.clear();
    for (size_t i = 0; i < digits.size(); i += 2) {
        out.push_back(static_cast<uint8_t>(hexValue(digits[i]) * 16 +
                                           hexValue(digits[i + 1])));
    }
    return (true);
}

std::string toHex(const Bytes& data) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(data.size() * 2);
    for (uint8_t b : data) {
        out += digits[b >> 4];
        out += digits[b & 0x0f];
    }
    return (out);
}

bool parseCodeList(const std::string& text, Bytes& out) {
    out.clear();
    size_t pos = 0;
    while (pos <= text.size()) {
        size_t comma = text.find(',', pos);
        if (comma == std::string::npos) {
            comma = text.size();
        }
        std::string item = text.substr(pos, comma - pos);
        item.erase(0, item.find_first_not_of(" \t"));
        item.erase(item.find_last_not_of(" \t") + 1);
        if (item.empty() || item.size() > 3 ||
            item.find_first_not_of("0123456789") != std::string::npos) {
            return (false);
        }
        int code = std::stoi(item);
        if (code < 1 || code > 254) {
            return (false);
        }
        out.push_back(static_cast<uint8_t>(code));
        pos = comma + 1;
    }
    return (!out.empty());
}

bool parseIpv4(const std::string& text, uint32_t& addr) {
    in_addr a;
    if (inet_pton(AF_INET, text.c_str(), &a) != 1) {
        return (false);
    }
    addr = ntohl(a.s_addr);
    return (true);
}

std::string formatIpv4(uint32_t addr) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%u.%u.%u.%u", (addr >> 24) & 0xff,
                  (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
    return (std::string(buf));
}

Bytes buildDiscover(const ClientParams& params, uint32_t xid, uint16_t secs) {
    Bytes out;
    putHeader(out, params, xid, secs);
    putOption(out, 53, Bytes{ DHCPDISCOVER });
    putClientOptions(out, params);
    finishPacket(out);
    return (out);
}

Bytes buildRequest(const ClientParams& params, uint32_t xid, uint16_t secs,
                   uint32_t requested, uint32_t server_id) {
    Bytes out;
    putHeader(out, params, xid, secs);
    putOption(out, 53, Bytes{ DHCPREQUEST });
    putOption(out, 50, ipBytes(requested));
    putOption(out, 54, ipBytes(server_id));
    putClientOptions(out, params);
    finishPacket(out);
    return (out);
}

bool parseOptions(const uint8_t* data, size_t len,
                  std::vector<DhcpOption>& out, std::string& error) {
    size_t pos = 0;
    while (pos < len) {
        uint8_t code = data[pos];
        if (code == 0) {
            ++pos;
            continue;
        }
        if (code == 255) {
            return (true);
        }
        if (len - pos < 2) {
            error = "option " + std::to_string(code) + " at offset " +
                std::to_string(pos) + " has no length byte";
            return (false);
        }
        size_t opt_len = data[pos + 1];
        if (len - pos - 2 < opt_len) {
            error = "option " + std::to_string(code) + " at offset " +
                std::to_string(pos) + " claims " + std::to_string(opt_len) +
                " bytes but only " + std::to_string(len - pos - 2) + " remain";
            return (false);
        }
        out.push_back(DhcpOption{ code, Bytes(data + pos + 2,
                                              data + pos + 2 + opt_len) });
        pos += 2 + opt_len;
    }
    return (true);
}

bool parsePacket(const uint8_t* data, size_t len, DhcpPacket& pkt,
                 std::string& error) {
    if (len < DHCP_OPTIONS_OFFSET) {
        error = "packet too short (" + std::to_string(len) + " bytes)";
        return (false);
    }
    if (std::memcmp(data + DHCP_HEADER_SIZE, MAGIC_COOKIE, 4) != 0) {
        error = "bad magic cookie";
        return (false);
    }
    pkt = DhcpPacket();
    pkt.op_ = data[0];
    pkt.htype_ = data[1];
    pkt.hlen_ = data[2];
    pkt.hops_ = data[3];
    pkt.xid_ = get32(data + 4);
    pkt.secs_ = get16(data + 8);
    pkt.flags_ = get16(data + 10);
    pkt.ciaddr_ = get32(data + 12);
    pkt.yiaddr_ = get32(data + 16);
    pkt.siaddr_ = get32(data + 20);
    pkt.giaddr_ = get32(data + 24);
    std::copy(data + 28, data + 44, pkt.chaddr_.begin());
    pkt.sname_ = fieldText(data + 44, 64);
    pkt.file_ = fieldText(data + 108, 128);
    std::string opt_error;
    if (!parseOptions(data + DHCP_OPTIONS_OFFSET, len - DHCP_OPTIONS_OFFSET,
                      pkt.options_, opt_error)) {
        addWarning(pkt, "options", opt_error);
    }
    parseOverload(data, pkt);
    return (true);
}

std::optional<Bytes> findOption(const std::vector<DhcpOption>& options,
                                uint8_t code) {
    std::optional<Bytes> out;
    for (const DhcpOption& option : options) {
        if (option.code_ != code) {
            continue;
        }
        if (!out) {
            out = Bytes();
        }
        out->insert(out->end(), option.data_.begin(), option.data_.end());
    }
    return (out);
}

uint8_t messageType(const DhcpPacket& pkt) {
    std::optional<Bytes> type = findOption(pkt.options_, 53);
    if (!type || type->size() != 1) {
        return (0);
    }
    return ((*type)[0]);
}

std::string messageTypeName(uint8_t type) {
    static const char* const names[] = { "DISCOVER", "OFFER", "REQUEST",
                                         "DECLINE", "ACK", "NAK", "RELEASE",
                                         "INFORM" };
    if (type >= 1 && type <= 8) {
        return (names[type - 1]);
    }
    return ("type-" + std::to_string(type));
}

std::string optionName(uint8_t code) {
    const OptionInfo* info = findInfo(code);
    if (!info) {
        return ("option-" + std::to_string(code));
    }
    return (info->name_);
}

std::optional<std::string> printableText(const Bytes& data) {
    size_t len = data.size();
    while (len > 0 && data[len - 1] == 0) {
        --len;
    }
    if (len == 0) {
        return (std::nullopt);
    }
    for (size_t i = 0; i < len; ++i) {
        if (data[i] < 0x20 || data[i] > 0x7e) {
            return (std::nullopt);
        }
    }
    return (std::string(data.begin(), data.begin() + len));
}

std::optional<Bytes> findSubOption(const Bytes& data, uint8_t code) {
    std::vector<DhcpOption> subs;
    std::string error;
    if (!parseOptions(data.data(), data.size(), subs, error)) {
        return (std::nullopt);
    }
    return (findOption(subs, code));
}

std::string decodeOption(const DhcpOption& option) {
    const OptionInfo* info = findInfo(option.code_);
    Kind kind = info ? info->kind_ : Kind::RAW;
    std::optional<std::string> decoded = decodeByKind(option.data_, kind);
    if (decoded) {
        return (*decoded);
    }
    std::optional<std::string> text = printableText(option.data_);
    if (text) {
        return (*text);
    }
    if (option.data_.empty()) {
        return ("(empty)");
    }
    return ("0x" + toHex(option.data_));
}

bool optionsDiffer(const std::vector<DhcpOption>& a,
                   const std::vector<DhcpOption>& b) {
    std::vector<DhcpOption> x = withoutType(a);
    std::vector<DhcpOption> y = withoutType(b);
    if (x.size() != y.size()) {
        return (true);
    }
    for (size_t i = 0; i < x.size(); ++i) {
        if (x[i].code_ != y[i].code_ || x[i].data_ != y[i].data_) {
            return (true);
        }
    }
    return (false);
}

FdGuard::~FdGuard() {
    if (fd_ >= 0) {
        close(fd_);
    }
}

int remainingMs(std::chrono::steady_clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
        return (0);
    }
    return (static_cast<int>(left));
}

namespace {

/// @brief Fills a socket address (host byte order inputs).
sockaddr_in makeAddr(uint32_t addr, uint16_t port) {
    sockaddr_in sa;
    std::memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(addr);
    sa.sin_port = htons(port);
    return (sa);
}

/// @brief Opens the relay socket bound to bind:bind_port.
int openRelaySocket(const RelayConfig& relay, std::string& error) {
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        error = std::string("socket: ") + std::strerror(errno);
        return (-1);
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    sockaddr_in sa = makeAddr(relay.bind_, relay.bind_port_);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) < 0) {
        error = "cannot bind " + formatIpv4(relay.bind_) + ":" +
            std::to_string(relay.bind_port_) + ": " + std::strerror(errno);
        close(fd);
        return (-1);
    }
    return (fd);
}

/// @brief What a step waits for.
struct StepWait {
    uint32_t xid_;              ///< transaction id.
    Mac mac_;                   ///< chaddr.
    std::vector<uint8_t> types_;  ///< accepted message types.
};

/// @brief Tells whether a reply belongs to this client and step.
bool replyMatches(const DhcpPacket& pkt, const StepWait& wait) {
    if (pkt.op_ != 2 || pkt.xid_ != wait.xid_) {
        return (false);
    }
    if (!std::equal(wait.mac_.begin(), wait.mac_.end(), pkt.chaddr_.begin())) {
        return (false);
    }
    uint8_t type = messageType(pkt);
    return (std::find(wait.types_.begin(), wait.types_.end(), type) !=
            wait.types_.end());
}

/// @brief Waits until a matching reply arrives or the deadline passes.
///
/// @return 1 got one, 0 deadline passed, -1 socket error (error set).
int receiveMatching(int fd, const StepWait& wait,
                    std::chrono::steady_clock::time_point deadline,
                    DhcpPacket& reply, uint32_t& from, std::string& error) {
    std::vector<uint8_t> buf(DHCP_MAX_PACKET_SIZE);
    for (;;) {
        pollfd pfd = { fd, POLLIN, 0 };
        int ready = poll(&pfd, 1, remainingMs(deadline));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready < 0) {
            error = std::string("poll: ") + std::strerror(errno);
            return (-1);
        }
        if (ready == 0) {
            return (0);
        }
        sockaddr_in src;
        socklen_t src_len = sizeof(src);
        ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0,
                             reinterpret_cast<sockaddr*>(&src), &src_len);
        if (n < 0) {
            continue;  // e.g. ICMP port unreachable reported on the socket
        }
        std::string parse_error;
        if (parsePacket(buf.data(), static_cast<size_t>(n), reply,
                        parse_error) && replyMatches(reply, wait)) {
            from = ntohl(src.sin_addr.s_addr);
            return (1);
        }
    }
}

/// @brief Sends a packet to the server.
bool sendToServer(int fd, const RelayConfig& relay, const Bytes& pkt,
                  std::string& error) {
    sockaddr_in dst = makeAddr(relay.server_, relay.server_port_);
    ssize_t n = sendto(fd, pkt.data(), pkt.size(), 0,
                       reinterpret_cast<sockaddr*>(&dst), sizeof(dst));
    if (n < 0) {
        error = "cannot send to " + formatIpv4(relay.server_) + ":" +
            std::to_string(relay.server_port_) + ": " + std::strerror(errno);
        return (false);
    }
    return (true);
}

/// @brief Sends a packet and waits for a reply, relay.tries_ times.
///
/// @param build makes the packet of each try.
bool runStep(int fd, const RelayConfig& relay,
             const std::function<Bytes()>& build, const StepWait& wait,
             DhcpPacket& reply, uint32_t& from, std::string& error) {
    for (int attempt = 0; attempt < relay.tries_; ++attempt) {
        if (!sendToServer(fd, relay, build(), error)) {
            return (false);
        }
        auto deadline = std::chrono::steady_clock::now() +
            std::chrono::milliseconds(relay.timeout_ms_);
        int got = receiveMatching(fd, wait, deadline, reply, from, error);
        if (got != 0) {
            return (got > 0);
        }
    }
    error = "no reply after " + std::to_string(relay.tries_) + " tries of " +
        std::to_string(relay.timeout_ms_) + " ms";
    return (false);
}

/// @brief Server identifier of an OFFER, else its source address.
uint32_t serverIdOf(const DhcpPacket& offer, uint32_t from) {
    std::optional<Bytes> id = findOption(offer.options_, 54);
    if (id && id->size() == 4) {
        return (get32(id->data()));
    }
    return (from);
}

}  // namespace

bool runExchange(const RelayConfig& relay, ClientParams params, uint32_t xid,
                 DhcpExchange& exchange) {
    exchange = DhcpExchange();
    exchange.xid_ = xid;
    params.giaddr_ = relay.bind_;
    FdGuard fd(openRelaySocket(relay, exchange.error_));
    if (fd.get() < 0) {
        return (false);
    }
    // secs counts from the first DISCOVER (a phone that has just booted
    // reports 1); the REQUEST repeats the DISCOVER's value (RFC 2131 4.4.1).
    auto start = std::chrono::steady_clock::now();
    auto build_discover = [&]() {
        auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::steady_clock::now() - start).count();
        exchange.secs_ = static_cast<uint16_t>(
            std::min<long long>(1 + elapsed, 0xffff));
        return (buildDiscover(params, xid, exchange.secs_));
    };
    DhcpPacket offer;
    StepWait wait{ xid, params.mac_, { DHCPOFFER } };
    std::string error;
    if (!runStep(fd.get(), relay, build_discover, wait, offer,
                 exchange.offer_from_, error)) {
        exchange.error_ = "no DHCPOFFER from " + formatIpv4(relay.server_) +
            ":" + std::to_string(relay.server_port_) + ": " + error;
        return (false);
    }
    exchange.offer_ = offer;
    exchange.offered_ = offer.yiaddr_;
    exchange.server_id_ = serverIdOf(offer, exchange.offer_from_);
    DhcpPacket ack;
    uint32_t ack_from = 0;
    wait.types_ = { DHCPACK, DHCPNAK };
    auto build_request = [&]() {
        return (buildRequest(params, xid, exchange.secs_, exchange.offered_,
                             exchange.server_id_));
    };
    if (!runStep(fd.get(), relay, build_request, wait, ack, ack_from,
                 error)) {
        exchange.error_ = "no DHCPACK from " + formatIpv4(relay.server_) +
            ":" + std::to_string(relay.server_port_) + ": " + error;
        return (false);
    }
    exchange.ack_ = ack;
    if (messageType(ack) == DHCPNAK) {
        std::optional<Bytes> msg = findOption(ack.options_, 56);
        std::optional<std::string> text = msg ? printableText(*msg) :
            std::nullopt;
        exchange.error_ = "server answered DHCPNAK" +
            (text ? ": " + *text : std::string());
        return (false);
    }
    return (true);
}

}  // namespace sim
}  // namespace phoneprov
