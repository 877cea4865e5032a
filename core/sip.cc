// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "sip.h"

#include <algorithm>
#include <cstring>

namespace phoneprov {
namespace sip {

namespace {

char lower(char c) {
    return (c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return (false);
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (lower(a[i]) != lower(b[i])) {
            return (false);
        }
    }
    return (true);
}

bool istarts(std::string_view s, std::string_view prefix) {
    return (s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix));
}

std::string lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        c = lower(c);
    }
    return (out);
}

bool isLws(char c) {
    return (c == ' ' || c == '\t');
}

bool isDigit(char c) {
    return (c >= '0' && c <= '9');
}

bool isAlnum(char c) {
    return (isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
}

/// @brief RFC 3261 token characters.
bool isTokenChar(char c) {
    return (isAlnum(c) || (c != 0 && std::strchr("-.!%*_+`'~", c) != nullptr));
}

bool isToken(std::string_view s) {
    return (!s.empty() && std::all_of(s.begin(), s.end(), isTokenChar));
}

/// @brief A control character other than HT (refused in the start line and headers).
bool isCtl(char c) {
    unsigned char u = static_cast<unsigned char>(c);
    return ((u < 0x20 && c != '\t') || u == 0x7f);
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && isLws(s.front())) {
        s.remove_prefix(1);
    }
    while (!s.empty() && isLws(s.back())) {
        s.remove_suffix(1);
    }
    return (s);
}

void skipLws(std::string_view s, size_t& i) {
    while (i < s.size() && isLws(s[i])) {
        ++i;
    }
}

/// @brief A decimal number of at most `maxDigits` digits, in [lo, hi].
bool parseNumber(std::string_view s, int maxDigits, long lo, long hi, long& out) {
    if (s.empty() || s.size() > static_cast<size_t>(maxDigits)) {
        return (false);
    }
    long v = 0;
    for (char c : s) {
        if (!isDigit(c)) {
            return (false);
        }
        v = v * 10 + (c - '0');
    }
    if (v < lo || v > hi) {
        return (false);
    }
    out = v;
    return (true);
}

/// @brief Reads a quoted string starting at s[i] == '"'; i ends after the closing quote.
bool readQuoted(std::string_view s, size_t& i, std::string& out) {
    ++i;
    out.clear();
    while (i < s.size()) {
        char c = s[i++];
        if (c == '"') {
            return (true);
        }
        if (c == '\\') {
            if (i >= s.size()) {
                return (false);
            }
            c = s[i++];
        }
        out.push_back(c);
    }
    return (false);
}

std::string quote(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
        }
        out.push_back(c);
    }
    out.push_back('"');
    return (out);
}

/// @brief Characters a parameter value may hold unquoted: token characters and
/// those of hosts and URIs (IPv6 addresses, URI parameters).
bool isBareValueChar(char c) {
    return (isTokenChar(c) || (c != 0 && std::strchr(":[]/@&=+$", c) != nullptr));
}

struct Compact {
    char letter;
    const char* name;
};

// RFC 3261 7.3.3 and the IANA registry of compact forms.
const Compact kCompact[] = {
    {'a', "Accept-Contact"}, {'b', "Referred-By"},   {'c', "Content-Type"},
    {'d', "Request-Disposition"}, {'e', "Content-Encoding"}, {'f', "From"},
    {'i', "Call-ID"},        {'j', "Reject-Contact"}, {'k', "Supported"},
    {'l', "Content-Length"}, {'m', "Contact"},        {'n', "Identity-Info"},
    {'o', "Event"},          {'r', "Refer-To"},       {'s', "Subject"},
    {'t', "To"},             {'u', "Allow-Events"},   {'v', "Via"},
    {'x', "Session-Expires"}, {'y', "Identity"},
};

const char* const kKnown[] = {
    "Accept", "Accept-Encoding", "Accept-Language", "Alert-Info", "Allow", "Allow-Events",
    "Authorization", "Call-ID", "Call-Info", "Contact", "Content-Disposition",
    "Content-Encoding", "Content-Language", "Content-Length", "Content-Type", "CSeq", "Date",
    "Event", "Expires", "From", "Max-Forwards", "Min-Expires", "Organization",
    "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Require", "Record-Route", "Require",
    "Route", "Server", "Subject", "Subscription-State", "Supported", "Timestamp", "To",
    "Unsupported", "User-Agent", "Via", "Warning", "WWW-Authenticate",
};

/// @brief Reads the host (IPv6 in brackets, else [A-Za-z0-9.-_]) and optional port.
bool readHostPort(std::string_view s, size_t& i, std::string& host, int& port) {
    host.clear();
    port = 0;
    if (i < s.size() && s[i] == '[') {
        size_t close = s.find(']', i);
        if (close == std::string_view::npos || close == i + 1) {
            return (false);
        }
        for (size_t k = i + 1; k < close; ++k) {
            char c = s[k];
            if (!(isAlnum(c) || c == ':' || c == '.')) {
                return (false);
            }
        }
        host = std::string(s.substr(i + 1, close - i - 1));
        i = close + 1;
    } else {
        size_t start = i;
        while (i < s.size() && (isAlnum(s[i]) || s[i] == '.' || s[i] == '-' || s[i] == '_')) {
            ++i;
        }
        if (i == start) {
            return (false);
        }
        host = std::string(s.substr(start, i - start));
    }
    if (i < s.size() && s[i] == ':') {
        size_t start = ++i;
        while (i < s.size() && isDigit(s[i])) {
            ++i;
        }
        long p = 0;
        if (!parseNumber(s.substr(start, i - start), 5, 1, 65535, p)) {
            return (false);
        }
        port = static_cast<int>(p);
    }
    return (true);
}

std::string paramOr(const Params& params, std::string_view name, std::string_view def = "") {
    const Param* p = findParam(params, name);
    return (p ? p->value : std::string(def));
}

/// @brief A header value with a tag added when it has none (From/To raw values:
/// a parameter appended to either form of name-addr is a header parameter).
std::string withTag(const std::string& value, const std::string& tag) {
    NameAddr na;
    if (parseNameAddr(value, na) && findParam(na.params, "tag")) {
        return (value);
    }
    return (value + ";tag=" + tag);
}

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return (out);
}

}  // namespace

const Param* findParam(const Params& params, std::string_view name) {
    for (const Param& p : params) {
        if (iequals(p.name, name)) {
            return (&p);
        }
    }
    return (nullptr);
}

void setParam(Params& params, std::string_view name, std::string value) {
    for (Param& p : params) {
        if (iequals(p.name, name)) {
            p.value = std::move(value);
            p.hasValue = true;
            p.quoted = false;
            return;
        }
    }
    Param p;
    p.name = std::string(name);
    p.value = std::move(value);
    p.hasValue = true;
    params.push_back(std::move(p));
}

std::string formatParams(const Params& params) {
    std::string out;
    for (const Param& p : params) {
        out += ';';
        out += p.name;
        if (!p.hasValue) {
            continue;
        }
        out += '=';
        bool bare = !p.quoted && !p.value.empty() &&
                    std::all_of(p.value.begin(), p.value.end(), isBareValueChar);
        out += bare ? p.value : quote(p.value);
    }
    return (out);
}

bool parseParams(std::string_view s, Params& out) {
    out.clear();
    size_t i = 0;
    skipLws(s, i);
    while (i < s.size()) {
        if (s[i] != ';') {
            return (false);
        }
        ++i;
        skipLws(s, i);
        size_t start = i;
        while (i < s.size() && isTokenChar(s[i])) {
            ++i;
        }
        if (i == start) {
            return (false);
        }
        Param p;
        p.name = std::string(s.substr(start, i - start));
        skipLws(s, i);
        if (i < s.size() && s[i] == '=') {
            ++i;
            skipLws(s, i);
            p.hasValue = true;
            if (i < s.size() && s[i] == '"') {
                p.quoted = true;
                if (!readQuoted(s, i, p.value)) {
                    return (false);
                }
            } else {
                start = i;
                while (i < s.size() && isBareValueChar(s[i])) {
                    ++i;
                }
                p.value = std::string(s.substr(start, i - start));
            }
            skipLws(s, i);
        }
        out.push_back(std::move(p));
    }
    return (true);
}

const std::string* Message::get(std::string_view name) const {
    std::string want = canonicalName(name);
    for (const Header& h : headers) {
        if (iequals(h.name, want)) {
            return (&h.value);
        }
    }
    return (nullptr);
}

std::vector<std::string> Message::list(std::string_view name) const {
    std::string want = canonicalName(name);
    std::vector<std::string> out;
    for (const Header& h : headers) {
        if (iequals(h.name, want)) {
            for (std::string& e : splitList(h.value)) {
                out.push_back(std::move(e));
            }
        }
    }
    return (out);
}

void Message::add(std::string_view name, std::string value) {
    headers.push_back(Header{canonicalName(name), std::move(value)});
}

std::string canonicalName(std::string_view name) {
    if (name.size() == 1) {
        for (const Compact& c : kCompact) {
            if (lower(name[0]) == c.letter) {
                return (c.name);
            }
        }
    }
    for (const char* k : kKnown) {
        if (iequals(name, k)) {
            return (k);
        }
    }
    return (std::string(name));
}

std::vector<std::string> splitList(std::string_view value) {
    std::vector<std::string> out;
    auto push = [&out](std::string_view e) {
        e = trim(e);
        if (!e.empty()) {
            out.emplace_back(e);
        }
    };
    bool inQuotes = false;
    bool inAngle = false;
    size_t start = 0;
    for (size_t i = 0; i < value.size(); ++i) {
        char c = value[i];
        if (inQuotes) {
            if (c == '\\') {
                ++i;
            } else if (c == '"') {
                inQuotes = false;
            }
            continue;
        }
        if (c == '"') {
            inQuotes = true;
        } else if (c == '<') {
            inAngle = true;
        } else if (c == '>') {
            inAngle = false;
        } else if (c == ',' && !inAngle) {
            push(value.substr(start, i - start));
            start = i + 1;
        }
    }
    push(value.substr(std::min(start, value.size())));
    return (out);
}

bool parse(std::string_view data, Message& out, std::string& error) {
    out = Message();
    if (data.size() > kMaxMessage) {
        error = "datagram larger than " + std::to_string(kMaxMessage) + " bytes";
        return (false);
    }
    size_t pos = 0;
    // RFC 3261 7.5: CRLFs before the start line are ignored (keep-alives).
    while (pos < data.size() && (data[pos] == '\r' || data[pos] == '\n')) {
        ++pos;
    }
    if (pos == data.size()) {
        error = "empty datagram or keep-alive";
        return (false);
    }
    bool first = true;
    bool ended = false;
    size_t fields = 0;
    while (pos < data.size()) {
        size_t nl = data.find('\n', pos);
        if (nl == std::string_view::npos) {
            break;
        }
        std::string_view line = data.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        if (line.empty()) {
            ended = true;
            break;
        }
        if (std::any_of(line.begin(), line.end(), isCtl)) {
            error = "control character in the headers";
            return (false);
        }
        if (first) {
            first = false;
            size_t sp1 = line.find(' ');
            if (sp1 == std::string_view::npos) {
                error = "bad start line";
                return (false);
            }
            if (istarts(line, "SIP/2.0 ")) {
                std::string_view rest = line.substr(8);
                long status = 0;
                size_t sp = rest.find(' ');
                std::string_view code = rest.substr(0, sp);
                if (!parseNumber(code, 3, 100, 699, status)) {
                    error = "bad status code";
                    return (false);
                }
                out.status = static_cast<int>(status);
                out.reason = sp == std::string_view::npos ? "" : std::string(rest.substr(sp + 1));
                continue;
            }
            size_t sp2 = line.find(' ', sp1 + 1);
            if (sp2 == std::string_view::npos) {
                error = "bad start line";
                return (false);
            }
            std::string_view method = line.substr(0, sp1);
            std::string_view uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
            std::string_view version = line.substr(sp2 + 1);
            if (!isToken(method) || uri.empty() || !iequals(version, "SIP/2.0") ||
                std::any_of(uri.begin(), uri.end(), isLws)) {
                error = "bad request line";
                return (false);
            }
            out.request = true;
            out.method = std::string(method);
            out.uri = std::string(uri);
            continue;
        }
        if (isLws(line.front())) {
            if (out.headers.empty()) {
                error = "continuation line before any header";
                return (false);
            }
            std::string_view more = trim(line);
            std::string& v = out.headers.back().value;
            if (!more.empty()) {
                v += v.empty() ? "" : " ";
                v += more;
            }
            continue;
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            error = "header line without ':'";
            return (false);
        }
        std::string_view name = trim(line.substr(0, colon));
        if (!isToken(name)) {
            error = "bad header name";
            return (false);
        }
        Header h{canonicalName(name), std::string(trim(line.substr(colon + 1)))};
        // Content-Length does not count: serialize() writes its own.
        if (h.name != "Content-Length" && ++fields > kMaxHeaders) {
            error = "more than " + std::to_string(kMaxHeaders) + " headers";
            return (false);
        }
        out.headers.push_back(std::move(h));
    }
    if (first) {
        error = "no start line";
        return (false);
    }
    if (!ended) {
        error = "headers not terminated by a blank line";
        return (false);
    }
    std::string_view rest = data.substr(pos);
    long length = -1;
    for (const Header& h : out.headers) {
        if (h.name != "Content-Length") {
            continue;
        }
        long v = 0;
        if (!parseNumber(h.value, 6, 0, static_cast<long>(kMaxMessage), v) ||
            (length >= 0 && v != length)) {
            error = "bad Content-Length";
            return (false);
        }
        length = v;
    }
    if (length > static_cast<long>(rest.size())) {
        error = "truncated: Content-Length beyond the datagram";
        return (false);
    }
    // Over UDP a missing Content-Length means the rest of the datagram (RFC 3261 18.3).
    out.body = std::string(length < 0 ? rest : rest.substr(0, static_cast<size_t>(length)));
    return (true);
}

std::string serialize(const Message& m) {
    std::string out;
    out.reserve(256 + m.body.size());
    if (m.request) {
        out += m.method + " " + m.uri + " SIP/2.0\r\n";
    } else {
        out += "SIP/2.0 " + std::to_string(m.status) + " " + m.reason + "\r\n";
    }
    for (const Header& h : m.headers) {
        if (iequals(h.name, "Content-Length")) {
            continue;
        }
        out += h.name + ": " + h.value + "\r\n";
    }
    out += "Content-Length: " + std::to_string(m.body.size()) + "\r\n\r\n";
    out += m.body;
    return (out);
}

bool percentDecode(std::string_view in, std::string& out) {
    out.clear();
    auto hex = [](char c) -> int {
        if (isDigit(c)) {
            return (c - '0');
        }
        c = lower(c);
        return (c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1);
    };
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out.push_back(in[i]);
            continue;
        }
        if (i + 2 >= in.size()) {
            return (false);
        }
        int h = hex(in[i + 1]);
        int l = hex(in[i + 2]);
        if (h < 0 || l < 0) {
            return (false);
        }
        out.push_back(static_cast<char>(h * 16 + l));
        i += 2;
    }
    return (true);
}

bool parseUri(std::string_view text, Uri& out) {
    out = Uri();
    size_t colon = text.find(':');
    if (colon == std::string_view::npos) {
        return (false);
    }
    out.scheme = lowered(text.substr(0, colon));
    if (out.scheme != "sip" && out.scheme != "sips") {
        return (false);
    }
    std::string_view rest = text.substr(colon + 1);
    size_t q = rest.find('?');
    if (q != std::string_view::npos) {
        rest = rest.substr(0, q);  // URI headers: not used
    }
    size_t at = rest.find('@');
    if (at != std::string_view::npos) {
        std::string_view userinfo = rest.substr(0, at);
        size_t pw = userinfo.find(':');
        std::string_view user = userinfo.substr(0, pw);
        // A ':' in a percent-encoded user is fine; a raw one starts the password.
        if (!percentDecode(user, out.user)) {
            return (false);
        }
        rest = rest.substr(at + 1);
    }
    size_t i = 0;
    if (!readHostPort(rest, i, out.host, out.port)) {
        return (false);
    }
    return (parseParams(rest.substr(i), out.params));
}

bool parseNameAddr(std::string_view text, NameAddr& out) {
    out = NameAddr();
    std::string_view s = trim(text);
    size_t i = 0;
    if (!s.empty() && s[0] == '"') {
        if (!readQuoted(s, i, out.display)) {
            return (false);
        }
        skipLws(s, i);
        if (i >= s.size() || s[i] != '<') {
            return (false);
        }
    } else {
        size_t lt = s.find('<');
        if (lt != std::string_view::npos) {
            std::string_view display = trim(s.substr(0, lt));
            for (char c : display) {
                if (!isTokenChar(c) && !isLws(c)) {
                    return (false);
                }
            }
            out.display = std::string(display);
            i = lt;
        }
    }
    std::string_view params;
    if (i < s.size() && s[i] == '<') {
        size_t gt = s.find('>', i);
        if (gt == std::string_view::npos) {
            return (false);
        }
        out.uri = std::string(trim(s.substr(i + 1, gt - i - 1)));
        params = s.substr(gt + 1);
    } else {
        // addr-spec: parameters after the URI belong to the header (RFC 3261 20.10).
        size_t semi = s.find(';');
        out.uri = std::string(trim(s.substr(0, semi)));
        params = semi == std::string_view::npos ? std::string_view() : s.substr(semi);
        if (out.uri.find_first_of(",?") != std::string::npos) {
            return (false);
        }
    }
    // No URI holds whitespace, quotes or brackets (RFC 3261 25.1).
    if (out.uri.empty() || out.uri.find(':') == std::string::npos ||
        out.uri.find_first_of("<>\" \t") != std::string::npos) {
        return (false);
    }
    return (parseParams(params, out.params));
}

bool parseVia(std::string_view text, Via& out) {
    out = Via();
    std::string_view s = trim(text);
    size_t i = 0;
    // sent-protocol: name / version / transport, LWS allowed around the slashes.
    std::string parts[3];
    for (int k = 0; k < 3; ++k) {
        skipLws(s, i);
        size_t start = i;
        while (i < s.size() && isTokenChar(s[i])) {
            ++i;
        }
        if (i == start) {
            return (false);
        }
        parts[k] = std::string(s.substr(start, i - start));
        skipLws(s, i);
        if (k < 2) {
            if (i >= s.size() || s[i] != '/') {
                return (false);
            }
            ++i;
        }
    }
    if (!iequals(parts[0], "SIP") || parts[1] != "2.0" || i == 0 || !isLws(s[i - 1])) {
        return (false);
    }
    out.transport = parts[2];
    if (!readHostPort(s, i, out.host, out.port)) {
        return (false);
    }
    return (parseParams(s.substr(i), out.params));
}

std::string formatVia(const Via& v) {
    return ("SIP/2.0/" + v.transport + " " + hostPort(Endpoint{v.host, v.port}) +
            formatParams(v.params));
}

std::string hostPort(const Endpoint& e) {
    std::string host = e.address.find(':') != std::string::npos ? "[" + e.address + "]" : e.address;
    return (e.port > 0 ? host + ":" + std::to_string(e.port) : host);
}

bool parseCSeq(std::string_view text, CSeq& out) {
    std::string_view s = trim(text);
    size_t i = 0;
    while (i < s.size() && isDigit(s[i])) {
        ++i;
    }
    long n = 0;
    // RFC 3261: the number is below 2**31.
    if (!parseNumber(s.substr(0, i), 10, 0, 2147483647L, n)) {
        return (false);
    }
    std::string_view method = trim(s.substr(i));
    if (i >= s.size() || !isLws(s[i]) || !isToken(method)) {
        return (false);
    }
    out.number = static_cast<uint32_t>(n);
    out.method = std::string(method);
    return (true);
}

bool parseEvent(std::string_view text, Event& out) {
    out = Event();
    std::string_view s = trim(text);
    size_t semi = s.find(';');
    std::string_view package = trim(s.substr(0, semi));
    if (!isToken(package)) {
        return (false);
    }
    out.package = lowered(package);
    return (semi == std::string_view::npos || parseParams(s.substr(semi), out.params));
}

std::optional<Message> makeResponse(const Message& request, int status, std::string_view reason,
                                    const std::string& toTag, const Endpoint& source) {
    std::vector<std::string> vias = request.list("Via");
    const std::string* from = request.get("From");
    const std::string* to = request.get("To");
    const std::string* callId = request.get("Call-ID");
    const std::string* cseq = request.get("CSeq");
    Via top;
    if (vias.empty() || !from || !to || !callId || !cseq || !parseVia(vias[0], top)) {
        return (std::nullopt);
    }
    // RFC 3261 18.2.1 and RFC 3581 4.
    // received= always names the source when the request names any address in it
    // (a `received` of its own included): a response never carries an address the
    // request chose.
    const Param* rport = findParam(top.params, "rport");
    if (top.host != source.address || rport || findParam(top.params, "received")) {
        setParam(top.params, "received", source.address);
    }
    if (rport) {
        setParam(top.params, "rport", std::to_string(source.port));
    }
    Message m;
    m.status = status;
    m.reason = std::string(reason);
    m.add("Via", formatVia(top));
    // The others in one field (RFC 3261 7.3.1): one line per value could take the
    // response past the header limit its own parser has, and a phone's (found by
    // fuzz_sip: a request whose Via lines held many values each).
    std::string rest;
    for (size_t i = 1; i < vias.size(); ++i) {
        rest += (i > 1 ? ", " : "") + vias[i];
    }
    if (!rest.empty()) {
        m.add("Via", std::move(rest));
    }
    m.add("From", *from);
    m.add("To", status == 100 ? *to : withTag(*to, toTag));
    m.add("Call-ID", *callId);
    m.add("CSeq", *cseq);
    return (m);
}

bool viaTarget(const Message& m, Endpoint& out) {
    std::vector<std::string> vias = m.list("Via");
    Via top;
    if (vias.empty() || !parseVia(vias[0], top)) {
        return (false);
    }
    std::string received = paramOr(top.params, "received");
    out.address = received.empty() ? top.host : received;
    long port = 0;
    std::string rport = paramOr(top.params, "rport");
    if (!rport.empty() && parseNumber(rport, 5, 1, 65535, port)) {
        out.port = static_cast<int>(port);
    } else {
        out.port = top.port > 0 ? top.port : 5060;
    }
    return (true);
}

std::string transactionKey(const Message& request) {
    std::vector<std::string> vias = request.list("Via");
    Via top;
    bool haveVia = !vias.empty() && parseVia(vias[0], top);
    std::string branch = haveVia ? paramOr(top.params, "branch") : "";
    std::string method = request.method == "ACK" ? "INVITE" : request.method;
    if (branch.compare(0, kBranchCookie.size(), kBranchCookie) == 0) {
        return (branch + "|" + hostPort(Endpoint{lowered(top.host), top.port}) + "|" + method);
    }
    // RFC 2543 peers: match on the dialog and sequence identifiers.
    const std::string* callId = request.get("Call-ID");
    const std::string* cseq = request.get("CSeq");
    NameAddr from;
    std::string fromTag;
    if (const std::string* f = request.get("From"); f && parseNameAddr(*f, from)) {
        fromTag = paramOr(from.params, "tag");
    }
    return ("2543|" + (callId ? *callId : "") + "|" + (cseq ? *cseq : "") + "|" + fromTag + "|" +
            (vias.empty() ? "" : vias[0]) + "|" + request.uri);
}

bool macFromUser(std::string_view user, Mac& out) {
    std::string_view s = trim(user);
    if (istarts(s, "mac")) {
        s.remove_prefix(3);
        if (!s.empty() && (s[0] == ':' || s[0] == '-' || s[0] == '=' || s[0] == '_')) {
            s.remove_prefix(1);
        }
    }
    auto mac = parseMac(s);
    if (!mac) {
        return (false);
    }
    out = *mac;
    return (true);
}

bool parsePnpSubscribe(const Message& m, PnpSubscribe& out, std::string& why) {
    out = PnpSubscribe();
    if (!m.request || m.method != "SUBSCRIBE") {
        why = "not a SUBSCRIBE";
        return (false);
    }
    for (const char* h : {"Via", "From", "To", "Call-ID", "CSeq", "Event"}) {
        if (!m.get(h)) {
            why = std::string("no ") + h + " header";
            return (false);
        }
    }
    std::vector<std::string> vias = m.list("Via");
    Via via;
    CSeq cseq;
    NameAddr from;
    NameAddr to;
    if (vias.empty() || !parseVia(vias[0], via)) {
        why = "bad Via";
        return (false);
    }
    if (!parseCSeq(*m.get("CSeq"), cseq) || cseq.method != "SUBSCRIBE") {
        why = "bad CSeq";
        return (false);
    }
    if (!parseNameAddr(*m.get("From"), from) || !parseNameAddr(*m.get("To"), to)) {
        why = "bad From or To";
        return (false);
    }
    Event event;
    if (!parseEvent(*m.get("Event"), event)) {
        why = "bad Event";
        return (false);
    }
    if (event.package != "ua-profile") {
        why = "Event is not ua-profile";
        return (false);
    }
    const Param* type = findParam(event.params, "profile-type");
    if (type && !iequals(type->value, "device")) {
        why = "profile-type is not device";
        return (false);
    }
    std::vector<std::string> accept = m.list("Accept");
    if (!accept.empty()) {
        bool ok = false;
        for (const std::string& a : accept) {
            std::string media = lowered(trim(std::string_view(a).substr(0, a.find(';'))));
            ok = ok || media == "application/url" || media == "application/*" || media == "*/*";
        }
        if (!ok) {
            why = "Accept does not take application/url";
            return (false);
        }
    }
    bool found = false;
    Uri uri;
    for (std::string_view text : {std::string_view(m.uri), std::string_view(to.uri),
                                  std::string_view(from.uri)}) {
        if (parseUri(text, uri) && macFromUser(uri.user, out.mac)) {
            found = true;
            break;
        }
    }
    if (!found) {
        why = "no MAC in the request URI";
        return (false);
    }
    out.vendor = paramOr(event.params, "vendor");
    out.model = paramOr(event.params, "model");
    out.version = paramOr(event.params, "version");
    const std::string* ua = m.get("User-Agent");
    out.userAgent = ua ? *ua : "";
    out.event = *m.get("Event");
    return (true);
}

int pnpVendor(const Catalogue& catalogue, std::string_view vendor) {
    std::string_view v = trim(vendor);
    if (v.empty()) {
        return (-1);
    }
    const auto& vendors = catalogue.vendors();
    for (size_t i = 0; i < vendors.size(); ++i) {
        if (iequals(vendors[i].id, v)) {
            return (static_cast<int>(i));
        }
    }
    for (size_t i = 0; i < vendors.size(); ++i) {
        if (!vendors[i].name.empty() && iequals(vendors[i].name, v)) {
            return (static_cast<int>(i));
        }
    }
    std::string_view word = v.substr(0, v.find_first_of(" \t,"));
    for (size_t i = 0; i < vendors.size(); ++i) {
        if (iequals(vendors[i].id, word)) {
            return (static_cast<int>(i));
        }
    }
    return (-1);
}

std::string pnpModel(const VendorProfile& vendor, std::string_view model) {
    std::string m = normaliseModel(trim(model));
    if (m.empty()) {
        return ("");
    }
    std::string id = upper(vendor.id);
    if (m.size() > id.size() && m.compare(0, id.size(), id) == 0) {
        std::string rest = m.substr(id.size());
        rest.erase(0, rest.find_first_not_of("-_."));
        if (!rest.empty()) {
            return (rest);
        }
    }
    if (!vendor.models.count(m)) {
        for (const char* prefix : {"SIP-", "SIP"}) {
            std::string p = prefix;
            if (m.size() > p.size() && m.compare(0, p.size(), p) == 0 &&
                vendor.models.count(m.substr(p.size()))) {
                return (m.substr(p.size()));
            }
        }
    }
    return (m);
}

std::optional<Message> makePnpNotify(const Message& subscribe, const std::string& toTag,
                                     std::string_view url, const Local& local) {
    const std::string* from = subscribe.get("From");
    const std::string* to = subscribe.get("To");
    const std::string* callId = subscribe.get("Call-ID");
    const std::string* event = subscribe.get("Event");
    NameAddr fromAddr;
    if (!from || !to || !callId || !event || !parseNameAddr(*from, fromAddr)) {
        return (std::nullopt);
    }
    // The remote target is the SUBSCRIBE's Contact (RFC 6665 4.2.1), else its From.
    std::string target = fromAddr.uri;
    std::vector<std::string> contacts = subscribe.list("Contact");
    NameAddr contact;
    if (!contacts.empty() && parseNameAddr(contacts[0], contact)) {
        target = contact.uri;
    }
    Message m;
    m.request = true;
    m.method = "NOTIFY";
    m.uri = target;
    m.add("Via", "SIP/2.0/UDP " + hostPort(local.contact) + ";branch=" + local.branch + ";rport");
    m.add("Max-Forwards", "70");
    m.add("From", withTag(*to, toTag));
    m.add("To", *from);
    m.add("Call-ID", *callId);
    m.add("CSeq", std::to_string(local.cseq) + " NOTIFY");
    m.add("Contact", "<sip:" + hostPort(local.contact) + ">");
    m.add("Event", *event);
    m.add("Subscription-State", "terminated;reason=timeout");
    m.add("Content-Type", "application/url");
    m.body = std::string(url);
    return (m);
}

Message makeResyncNotify(const Endpoint& phone, std::string_view event, const Local& local) {
    Message m;
    m.request = true;
    m.method = "NOTIFY";
    m.uri = "sip:" + hostPort(phone);
    m.add("Via", "SIP/2.0/UDP " + hostPort(local.contact) + ";branch=" + local.branch + ";rport");
    m.add("Max-Forwards", "70");
    m.add("From", "<sip:phoneprov@" + hostPort(Endpoint{local.contact.address, 0}) + ">;tag=" +
                      local.tag);
    m.add("To", "<sip:" + hostPort(phone) + ">");
    m.add("Call-ID", local.callId);
    m.add("CSeq", std::to_string(local.cseq) + " NOTIFY");
    m.add("Contact", "<sip:phoneprov@" + hostPort(local.contact) + ">");
    m.add("Event", std::string(event));
    m.add("Subscription-State", "active");
    Event e;
    if (parseEvent(event, e) && e.package == "service-control") {
        // Cisco enterprise phones: re-read the configuration without a reboot.
        m.add("Content-Type", "text/plain");
        m.body = "action=restart\r\n";
    }
    return (m);
}

bool answers(const Message& response, std::string_view branch, std::string_view method) {
    if (response.request) {
        return (false);
    }
    std::vector<std::string> vias = response.list("Via");
    Via top;
    CSeq cseq;
    const std::string* cs = response.get("CSeq");
    return (!vias.empty() && parseVia(vias[0], top) && cs && parseCSeq(*cs, cseq) &&
            cseq.method == method && paramOr(top.params, "branch") == branch);
}

}  // namespace sip
}  // namespace phoneprov
