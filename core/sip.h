// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_SIP_H
#define PHONEPROV_SIP_H

#include "catalogue.h"
#include "mac.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phoneprov {

/// @brief SIP messages over UDP (RFC 3261), as far as SIP PnP (RFC 6080) and the
/// vendors' re-sync NOTIFY need them: a parser for untrusted datagrams, the
/// header values we read (Via, name-addr, CSeq, Event, URIs), and builders for
/// the messages we send. Pure: no sockets, no clock, no randomness (tags,
/// branches and Call-IDs are given by the caller).
///
/// Security posture: robust to untrusted input. Every datagram is checked
/// against its own length; control characters are refused in the start line
/// and the headers, so a value copied into a message we send can never carry a
/// line break. Nothing here throws on bad input.
namespace sip {

/// @brief The largest datagram parsed (no UDP payload is bigger).
constexpr size_t kMaxMessage = 65535;
/// @brief The most header fields (after unfolding) a message may carry.
constexpr size_t kMaxHeaders = 128;
/// @brief RFC 3261's branch magic cookie.
constexpr std::string_view kBranchCookie = "z9hG4bK";

/// @brief A `;name=value` parameter.
struct Param {
    std::string name;        ///< as received; compare with findParam (any case)
    std::string value;       ///< quotes removed, quoted-pairs undone
    bool hasValue = false;   ///< `;rport` has none
    bool quoted = false;     ///< the value was a quoted string
};
using Params = std::vector<Param>;

/// @brief The first parameter of that name (any case), or nullptr.
const Param* findParam(const Params& params, std::string_view name);
/// @brief Sets a parameter (replacing one of that name) .
void setParam(Params& params, std::string_view name, std::string value);
/// @brief `;a=b;c;d="x y"`: values quoted when they were, or must be.
std::string formatParams(const Params& params);
/// @brief Parses `;a=b;c` (each parameter after a ';'; LWS allowed around ';' and '=').
bool parseParams(std::string_view text, Params& out);

/// @brief A header field: name in its canonical long form (compact forms expanded,
/// known names in their usual case, others as received); value unfolded and trimmed.
struct Header {
    std::string name;
    std::string value;
};

/// @brief A parsed SIP request or response.
struct Message {
    bool request = false;
    std::string method;   ///< request: INVITE, SUBSCRIBE, ... (case-sensitive)
    std::string uri;      ///< request: the Request-URI
    int status = 0;       ///< response: 100-699
    std::string reason;   ///< response: the reason phrase
    std::vector<Header> headers;
    std::string body;

    /// @brief The first value of a header (any case, long or compact name), or nullptr.
    const std::string* get(std::string_view name) const;
    /// @brief Every element of a list header (Via, Contact, Accept...): all its
    /// fields, in order, each split at top-level commas.
    std::vector<std::string> list(std::string_view name) const;
    /// @brief Adds a header field at the end.
    void add(std::string_view name, std::string value);
};

/// @brief Parses one datagram.
/// @param error receives why the datagram is not a SIP message (no value from it).
/// @return false on anything malformed: bad start line, control characters, a
/// header line without a name, no blank line after the headers, a Content-Length
/// that is not a number or promises more bytes than the datagram holds,
/// more than kMaxHeaders fields, a datagram larger than kMaxMessage.
bool parse(std::string_view data, Message& out, std::string& error);

/// @brief The message as bytes, with a Content-Length computed from the body
/// (any Content-Length among the headers is left out).
std::string serialize(const Message& m);

/// @brief The canonical name of a header: "v" and "VIA" -> "Via", "i" -> "Call-ID".
std::string canonicalName(std::string_view name);

/// @brief Splits a header value at commas that are not inside quotes or <...>.
/// Elements are trimmed; empty elements are dropped.
std::vector<std::string> splitList(std::string_view value);

/// @brief Undoes %XX escapes. @return false on a bad escape.
bool percentDecode(std::string_view in, std::string& out);

/// @brief A sip: or sips: URI.
struct Uri {
    std::string scheme;   ///< lower case
    std::string user;     ///< percent-decoded; may be empty
    std::string host;     ///< IPv6 without brackets
    int port = 0;         ///< 0 when absent
    Params params;
};
/// @brief Parses `sip:user@host:port;params?headers`. @return false for another scheme.
bool parseUri(std::string_view text, Uri& out);

/// @brief `"Display" <uri>;params` or `uri;params` (From, To, Contact).
struct NameAddr {
    std::string display;
    std::string uri;
    Params params;  ///< header parameters (tag, expires...)
};
bool parseNameAddr(std::string_view text, NameAddr& out);

/// @brief One Via element: `SIP/2.0/UDP host:port;params`.
struct Via {
    std::string transport;  ///< as received (UDP, TCP...)
    std::string host;       ///< IPv6 without brackets
    int port = 0;           ///< 0 when absent
    Params params;
};
bool parseVia(std::string_view text, Via& out);
std::string formatVia(const Via& v);

/// @brief `CSeq: 1 SUBSCRIBE`.
struct CSeq {
    uint32_t number = 0;
    std::string method;
};
bool parseCSeq(std::string_view text, CSeq& out);

/// @brief `Event: ua-profile;profile-type="device";vendor="..."`.
struct Event {
    std::string package;  ///< lower case
    Params params;
};
bool parseEvent(std::string_view text, Event& out);

/// @brief An address and port; the address is an IP literal (IPv6 without brackets).
struct Endpoint {
    std::string address;
    int port = 0;
};
/// @brief `host:port`, with brackets around an IPv6 address.
std::string hostPort(const Endpoint& e);

/// @brief What we are, for the messages we build.
struct Local {
    Endpoint contact;      ///< our address and port, as the peer reaches us
    std::string tag;       ///< our dialog tag (To of our responses, From of our requests)
    std::string branch;    ///< Via branch of a request we send, starting with kBranchCookie
    std::string callId;    ///< Call-ID of an out-of-dialog request
    uint32_t cseq = 1;
};

/// @brief A response to a request (RFC 3261 8.2.6): every Via in order, the top
/// one with `received=` (when its host is not the source address, or when it
/// asks for `rport`) and `rport=` filled (RFC 3581); From, Call-ID and CSeq
/// copied; To copied, with `local.tag` when it has none.
/// @return nothing when the request lacks a Via, From, To, Call-ID or CSeq.
std::optional<Message> makeResponse(const Message& request, int status, std::string_view reason,
                                    const std::string& toTag, const Endpoint& source);

/// @brief Where a response goes (RFC 3261 18.2.2, RFC 3581): the top Via's
/// `received` (else its host), its `rport` value (else its port, else 5060).
/// @return false when the message has no usable top Via.
bool viaTarget(const Message& m, Endpoint& out);

/// @brief A key naming a request's server transaction (RFC 3261 17.2.3): the
/// top Via's branch and sent-by and the method when the branch has the magic
/// cookie; otherwise Call-ID, CSeq, From tag, top Via and Request-URI.
std::string transactionKey(const Message& request);

/// @brief What a SIP PnP SUBSCRIBE (RFC 6080 profile-type "device") says.
struct PnpSubscribe {
    Mac mac;
    std::string vendor;      ///< Event `vendor` parameter, as sent
    std::string model;       ///< Event `model` parameter, as sent
    std::string version;     ///< Event `version` parameter, as sent
    std::string userAgent;   ///< User-Agent, may be empty
    std::string event;       ///< the whole Event value, copied into the NOTIFY
};

/// @brief A MAC from the user part of a PnP URI (already percent-decoded):
/// `MAC:000B82273B89`, `mac:00-0b-82-27-3b-89`, `MAC000B82273B89`, `000b82273b89`.
bool macFromUser(std::string_view user, Mac& out);

/// @brief Reads a PnP SUBSCRIBE: method SUBSCRIBE, Via, From, To, Call-ID and a CSeq
/// for SUBSCRIBE present, Event `ua-profile` with profile-type "device" (or none),
/// an Accept (if any) that takes application/url, and a MAC in the Request-URI's
/// user part (else To's, else From's).
/// @param why receives why not (no value from the message).
bool parsePnpSubscribe(const Message& m, PnpSubscribe& out, std::string& why);

/// @brief The catalogue vendor named by an Event `vendor` parameter: its id in any
/// case ("Grandstream" -> grandstream), its display name, or its id as the first
/// word ("Yealink Network Technology"). @return the index, or -1.
int pnpVendor(const Catalogue& catalogue, std::string_view vendor);

/// @brief The model to render for an Event `model` parameter, normalised as the
/// DHCP path does (upper case, [A-Z0-9._-]): a leading vendor id is dropped
/// ("snom360" -> "360"), and "SIP-T46S" becomes "T46S" when that is a model of
/// the profile. "" when the text is unusable.
std::string pnpModel(const VendorProfile& vendor, std::string_view model);

/// @brief The NOTIFY that ends a PnP subscription (RFC 6080): to the SUBSCRIBE's
/// Contact (else From) URI, in its dialog (From: its To with our tag, To: its
/// From), Event copied, `Subscription-State: terminated;reason=timeout`,
/// `Content-Type: application/url`, the URL as the body.
/// @param toTag the tag of our 200 OK (used when the SUBSCRIBE's To has none).
std::optional<Message> makePnpNotify(const Message& subscribe, const std::string& toTag,
                                     std::string_view url, const Local& local);

/// @brief A vendor's re-sync NOTIFY to a phone (out of dialog):
/// `NOTIFY sip:ip:port`, the given Event, `Subscription-State: active`; for
/// Cisco's `service-control`, a text/plain body `action=restart`.
Message makeResyncNotify(const Endpoint& phone, std::string_view event, const Local& local);

/// @brief True when a response answers a request we sent with this branch and method.
bool answers(const Message& response, std::string_view branch, std::string_view method);

}  // namespace sip
}  // namespace phoneprov

#endif  // PHONEPROV_SIP_H
