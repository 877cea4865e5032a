// kea-phoneprov: `phoneprov simulate`, the command.

#include "dhcp_client.h"
#include "fetch.h"

#include <cstdio>
#include <exception>
#include <fstream>
#include <iostream>
#include <map>
#include <random>

namespace phoneprov {
namespace sim {

namespace {

/// @brief Options that take a value.
const char* const VALUE_OPTIONS[] = {
    "mac", "vendor-class", "vendor-class-hex", "server", "server-port",
    "bind", "bind-port", "request-options", "hostname", "client-id",
    "timeout", "file", "output", "tftp-port"
};

/// @brief Options without a value.
const char* const FLAG_OPTIONS[] = { "no-fetch", "json", "quiet", "help" };

/// @brief Tells whether name is in a list.
template <size_t N>
bool listed(const char* const (&list)[N], const std::string& name) {
    for (const char* item : list) {
        if (name == item) {
            return (true);
        }
    }
    return (false);
}

/// @brief Parses a decimal number within [min, max].
bool parseNumber(const std::string& text, long min, long max, long& value) {
    if (text.empty() || text.size() > 9 ||
        text.find_first_not_of("0123456789") != std::string::npos) {
        return (false);
    }
    value = std::stol(text);
    return (value >= min && value <= max);
}

/// @brief Splits argv into name -> value (flags get "").
bool collectArgs(int argc, const char* const* argv,
                 std::map<std::string, std::string>& values,
                 std::string& error) {
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "-h") {
            arg = "--help";
        }
        if (arg.compare(0, 2, "--") != 0) {
            error = "unexpected argument '" + arg + "'";
            return (false);
        }
        size_t eq = arg.find('=');
        std::string name = arg.substr(2, eq == std::string::npos ?
                                      std::string::npos : eq - 2);
        if (listed(FLAG_OPTIONS, name) && eq == std::string::npos) {
            values[name] = "";
            continue;
        }
        if (!listed(VALUE_OPTIONS, name)) {
            error = "unknown option '" + arg + "'";
            return (false);
        }
        if (eq != std::string::npos) {
            values[name] = arg.substr(eq + 1);
            continue;
        }
        if (i + 1 >= argc) {
            error = "--" + name + " needs a value";
            return (false);
        }
        values[name] = argv[++i];
    }
    return (true);
}

/// @brief Parses an IPv4 option that must not be 0.0.0.0.
bool addressArg(const std::map<std::string, std::string>& values,
                const std::string& name, uint32_t& addr, std::string& error) {
    auto it = values.find(name);
    if (it == values.end()) {
        return (true);
    }
    if (!parseIpv4(it->second, addr) || addr == 0) {
        error = "--" + name + ": '" + it->second +
            "' is not a usable IPv4 address";
        return (false);
    }
    return (true);
}

/// @brief Parses a numeric option within [min, max].
template <typename T>
bool numberArg(const std::map<std::string, std::string>& values,
               const std::string& name, long min, long max, T& out,
               std::string& error) {
    auto it = values.find(name);
    if (it == values.end()) {
        return (true);
    }
    long value = 0;
    if (!parseNumber(it->second, min, max, value)) {
        error = "--" + name + ": '" + it->second + "' is not a number in " +
            std::to_string(min) + ".." + std::to_string(max);
        return (false);
    }
    out = static_cast<T>(value);
    return (true);
}

/// @brief Parses --mac.
bool macArg(const std::map<std::string, std::string>& values, Mac& mac,
            std::string& error) {
    auto it = values.find("mac");
    if (it == values.end()) {
        error = "--mac is required";
        return (false);
    }
    if (!parseMac(it->second, mac)) {
        error = "--mac: '" + it->second + "' is not a MAC address (use "
            "00:15:65:aa:bb:cc, 00-15-65-AA-BB-CC, 001565aabbcc or "
            "0015.65aa.bbcc)";
        return (false);
    }
    return (true);
}

/// @brief Parses --vendor-class / --vendor-class-hex.
bool vendorArg(const std::map<std::string, std::string>& values,
               ClientParams& params, std::string& error) {
    auto text = values.find("vendor-class");
    auto hex = values.find("vendor-class-hex");
    if (text != values.end() && hex != values.end()) {
        error = "give --vendor-class or --vendor-class-hex, not both";
        return (false);
    }
    if (text != values.end()) {
        params.vendor_class_ = Bytes(text->second.begin(), text->second.end());
    }
    if (hex != values.end()) {
        Bytes bytes;
        if (!parseHex(hex->second, bytes)) {
            error = "--vendor-class-hex: '" + hex->second + "' is not hex";
            return (false);
        }
        params.vendor_class_ = bytes;
    }
    if (params.vendor_class_ && params.vendor_class_->empty()) {
        error = "the vendor class is empty";
        return (false);
    }
    return (true);
}

/// @brief Parses --request-options, --hostname and --client-id.
bool requestArgs(const std::map<std::string, std::string>& values,
                 ClientParams& params, std::string& error) {
    auto it = values.find("request-options");
    std::string list = it == values.end() ? DEFAULT_REQUEST_OPTIONS :
        it->second;
    if (!list.empty() && !parseCodeList(list, params.request_options_)) {
        error = "--request-options: '" + list + "' is not a list of option "
            "codes 1..254 such as 1,3,6,66";
        return (false);
    }
    it = values.find("hostname");
    if (it != values.end()) {
        params.hostname_ = it->second;
    }
    it = values.find("client-id");
    if (it != values.end() &&
        (!parseHex(it->second, params.client_id_) ||
         params.client_id_.empty())) {
        error = "--client-id: '" + it->second + "' is not hex";
        return (false);
    }
    return (true);
}

/// @brief Parses the network options.
bool networkArgs(const std::map<std::string, std::string>& values,
                 SimOptions& opts, std::string& error) {
    RelayConfig& relay = opts.relay_;
    return (addressArg(values, "server", relay.server_, error) &&
            addressArg(values, "bind", relay.bind_, error) &&
            numberArg(values, "server-port", 1, 65535, relay.server_port_,
                      error) &&
            numberArg(values, "bind-port", 0, 65535, relay.bind_port_,
                      error) &&
            numberArg(values, "timeout", 1, 600000, relay.timeout_ms_,
                      error) &&
            numberArg(values, "tftp-port", 1, 65535, opts.tftp_port_, error));
}

/// @brief Parses --file, --no-fetch, --output, --json, --quiet.
bool outputArgs(const std::map<std::string, std::string>& values,
                SimOptions& opts, std::string& error) {
    opts.no_fetch_ = values.count("no-fetch") > 0;
    opts.json_ = values.count("json") > 0;
    opts.quiet_ = values.count("quiet") > 0;
    auto it = values.find("file");
    if (it != values.end()) {
        opts.file_ = it->second;
        if (opts.file_.empty()) {
            error = "--file is empty";
            return (false);
        }
    }
    it = values.find("output");
    if (it != values.end()) {
        opts.output_ = it->second;
    }
    if (!opts.output_.empty() && (opts.file_.empty() || opts.no_fetch_)) {
        error = "--output needs --file (and no --no-fetch)";
        return (false);
    }
    return (true);
}

/// @brief Returns a random transaction id.
uint32_t randomXid() {
    std::random_device device;
    std::uniform_int_distribution<uint32_t> dist;
    return (dist(device));
}

/// @brief Formats a 32-bit value as 0x%08x.
std::string hex32(uint32_t value) {
    char buf[11];
    std::snprintf(buf, sizeof(buf), "0x%08x", value);
    return (std::string(buf));
}

/// @brief Length of the valid UTF-8 sequence at i, 0 when invalid.
size_t utf8Length(const std::string& s, size_t i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >= 0xc2 && c <= 0xdf) ? 2 :
        (c >= 0xe0 && c <= 0xef) ? 3 : (c >= 0xf0 && c <= 0xf4) ? 4 : 0;
    if (len <= 1 || s.size() - i < len) {
        return (len == 1 ? 1 : 0);
    }
    for (size_t k = 1; k < len; ++k) {
        if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) {
            return (0);
        }
    }
    unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF.
    if ((c == 0xe0 && c1 < 0xa0) || (c == 0xed && c1 > 0x9f) ||
        (c == 0xf0 && c1 < 0x90) || (c == 0xf4 && c1 > 0x8f)) {
        return (0);
    }
    return (len);
}

/// @brief Appends a \\u00XX escape.
void unicodeEscape(std::string& out, unsigned char c) {
    char buf[7];
    std::snprintf(buf, sizeof(buf), "\\u%04x", c);
    out += buf;
}

/// @brief Appends one ASCII character, escaped as JSON needs.
void jsonChar(std::string& out, unsigned char c) {
    switch (c) {
    case '"': out += "\\\""; return;
    case '\\': out += "\\\\"; return;
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
        unicodeEscape(out, c);
        return;
    }
    out += static_cast<char>(c);
}

/// @brief Tells whether data is valid UTF-8.
bool isValidUtf8(const std::string& data) {
    for (size_t i = 0; i < data.size();) {
        size_t len = utf8Length(data, i);
        if (len == 0) {
            return (false);
        }
        i += len;
    }
    return (true);
}

/// @brief JSON array of options.
std::string optionsJson(const std::vector<DhcpOption>& options) {
    std::string out = "[";
    for (const DhcpOption& option : options) {
        if (out.size() > 1) {
            out += ", ";
        }
        out += "{\"code\": " + std::to_string(option.code_) +
            ", \"name\": " + jsonString(optionName(option.code_)) +
            ", \"hex\": " + jsonString(toHex(option.data_)) +
            ", \"text\": " + jsonString(decodeOption(option)) + "}";
    }
    return (out + "]");
}

/// @brief Appends "key": value to a JSON object under construction.
void member(std::string& out, const std::string& key,
            const std::string& json_value) {
    if (out.size() > 1) {
        out += ", ";
    }
    out += jsonString(key) + ": " + json_value;
}

/// @brief The DHCP members of the JSON report.
void dhcpJson(std::string& out, const SimReport& report) {
    const DhcpExchange& ex = report.exchange_;
    if (ex.offer_) {
        member(out, "offered", jsonString(formatIpv4(ex.offered_)));
        member(out, "server-id", jsonString(formatIpv4(ex.server_id_)));
        member(out, "offer-options", optionsJson(ex.offer_->options_));
    }
    if (ex.ack_) {
        member(out, "ack-type", jsonString(messageTypeName(
            messageType(*ex.ack_))));
        member(out, "assigned", jsonString(formatIpv4(ex.ack_->yiaddr_)));
        member(out, "ack-options", optionsJson(ex.ack_->options_));
    }
}

/// @brief The fetch members of the JSON report.
void fetchJson(std::string& out, const SimReport& report) {
    if (!report.file_.empty()) {
        member(out, "file-name", jsonString(report.file_));
    }
    if (report.target_ && !report.target_->url_.empty()) {
        member(out, "url", jsonString(report.target_->url_));
        member(out, "url-source", jsonString(report.target_->source_));
    }
    if (!report.fetch_) {
        return;
    }
    const FetchResult& fetch = *report.fetch_;
    std::string obj = "{";
    member(obj, "protocol", jsonString(fetch.protocol_));
    if (fetch.status_ != 0) {
        member(obj, "status", std::to_string(fetch.status_));
    }
    member(obj, "bytes", std::to_string(fetch.data_.size()));
    member(out, "fetch", obj + "}");
    if (!fetch.ok_) {
        return;
    }
    // Text stays readable; other bytes map one to one to U+0000..U+00FF.
    bool utf8 = isValidUtf8(fetch.data_);
    member(out, "file", utf8 ? jsonString(fetch.data_) :
           jsonLatin1String(fetch.data_));
    member(out, "file-encoding", jsonString(utf8 ? "utf-8" : "latin1"));
}

/// @brief Tells whether data can be shown on a terminal.
bool isShowableText(const std::string& data) {
    for (size_t i = 0; i < data.size();) {
        unsigned char c = static_cast<unsigned char>(data[i]);
        size_t len = utf8Length(data, i);
        if (len == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t') ||
            c == 0x7f) {
            return (false);
        }
        i += len;
    }
    return (true);
}

/// @brief Prints options as a table.
void printOptions(std::ostream& out, const std::string& title,
                  const std::vector<DhcpOption>& options) {
    out << title << ":\n";
    for (const DhcpOption& option : options) {
        char head[48];
        std::snprintf(head, sizeof(head), "  %3u %-28s ", option.code_,
                      optionName(option.code_).c_str());
        out << head << decodeOption(option) << "  [" << toHex(option.data_)
            << "]\n";
    }
}

/// @brief Prints the DHCP part of the text report.
void printDhcp(std::ostream& out, const SimReport& report) {
    const DhcpExchange& ex = report.exchange_;
    if (ex.offer_) {
        out << "OFFER from " << formatIpv4(ex.offer_from_) << ": "
            << formatIpv4(ex.offered_) << " (server-id "
            << formatIpv4(ex.server_id_) << ")\n";
    }
    if (!ex.ack_) {
        return;
    }
    out << messageTypeName(messageType(*ex.ack_)) << ": "
        << formatIpv4(ex.ack_->yiaddr_) << "\n";
    printOptions(out, messageTypeName(messageType(*ex.ack_)) + " options",
                 ex.ack_->options_);
    if (ex.offer_ && optionsDiffer(ex.offer_->options_, ex.ack_->options_)) {
        printOptions(out, "OFFER options (they differ from the ACK's)",
                     ex.offer_->options_);
    }
}

/// @brief Prints the fetch part of the text report.
void printFetch(std::ostream& out, const SimReport& report,
                const SimOptions& opts) {
    if (!report.note_.empty()) {
        out << report.note_ << "\n";
    }
    if (report.target_ && !report.target_->url_.empty()) {
        out << "fetch " << report.target_->url_ << " (from "
            << report.target_->source_ << ")\n";
    }
    if (!report.fetch_ || !report.fetch_->ok_) {
        return;
    }
    const FetchResult& fetch = *report.fetch_;
    out << "fetched " << fetch.data_.size() << " bytes over "
        << fetch.protocol_;
    if (fetch.status_ != 0) {
        out << " (HTTP " << fetch.status_ << ")";
    }
    out << "\n";
    if (!opts.output_.empty()) {
        out << "wrote " << opts.output_ << "\n";
    } else if (isShowableText(fetch.data_)) {
        out << "----- " << report.file_ << " -----\n" << fetch.data_;
        if (!fetch.data_.empty() && fetch.data_.back() != '\n') {
            out << "\n";
        }
        out << "----- end of " << report.file_ << " -----\n";
    } else {
        out << "(binary content: use --output to save it)\n";
    }
}

/// @brief Prints the report, text or JSON.
void printReport(std::ostream& out, const SimReport& report,
                 const SimOptions& opts) {
    if (opts.json_) {
        out << reportJson(report) << "\n";
        return;
    }
    if (opts.quiet_) {
        return;
    }
    printDhcp(out, report);
    printFetch(out, report, opts);
}

/// @brief Prints the warnings of the received packets.
void printWarnings(std::ostream& err, const DhcpExchange& ex) {
    if (ex.offer_ && !ex.offer_->warning_.empty()) {
        err << "simulate: warning: malformed OFFER: " << ex.offer_->warning_
            << "\n";
    }
    if (ex.ack_ && !ex.ack_->warning_.empty()) {
        err << "simulate: warning: malformed ACK: " << ex.ack_->warning_
            << "\n";
    }
}

/// @brief Writes the file to --output.
bool writeOutput(const std::string& path, const std::string& data,
                 std::string& error) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    if (file) {
        file.write(data.data(), static_cast<std::streamsize>(data.size()));
    }
    if (!file || !file.flush()) {
        error = "cannot write " + path;
        return (false);
    }
    return (true);
}

/// @brief Fetches the file after the ACK; returns the exit code.
int fetchStep(const SimOptions& opts, SimReport& report) {
    if (opts.no_fetch_) {
        return (0);
    }
    if (opts.file_.empty()) {
        report.note_ = "no --file given: nothing fetched";
        return (0);
    }
    report.file_ = expandFileName(opts.file_, opts.mac_);
    report.target_ = chooseFetchTarget(report.exchange_.ack_->options_,
                                       report.file_, opts.tftp_port_);
    if (!report.target_->error_.empty()) {
        report.error_ = "cannot fetch " + report.file_ + ": " +
            report.target_->error_;
        return (3);
    }
    // From the leased address when it is on this host (any 127/8 address is), as
    // the phone would: lease-binding serves its per-device files to that address only.
    setFetchSource(report.exchange_.ack_->yiaddr_);
    report.fetch_ = fetchFile(*report.target_, opts.relay_.timeout_ms_);
    if (!report.fetch_->ok_) {
        report.error_ = "fetching " + report.target_->url_ + " failed: " +
            report.fetch_->error_;
        return (3);
    }
    if (!opts.output_.empty() &&
        !writeOutput(opts.output_, report.fetch_->data_, report.error_)) {
        return (3);
    }
    return (0);
}

}  // namespace

bool parseSimulateArgs(int argc, const char* const* argv, SimOptions& opts,
                       std::string& error) {
    opts = SimOptions();
    std::map<std::string, std::string> values;
    if (!collectArgs(argc, argv, values, error)) {
        return (false);
    }
    if (values.count("help")) {
        opts.help_ = true;
        return (true);
    }
    return (macArg(values, opts.mac_, error) &&
            vendorArg(values, opts.params_, error) &&
            requestArgs(values, opts.params_, error) &&
            networkArgs(values, opts, error) &&
            outputArgs(values, opts, error));
}

std::string simulateUsage() {
    return (
        "usage: phoneprov simulate --mac MAC [options]\n"
        "Boots a simulated IP phone: DISCOVER/OFFER/REQUEST/ACK sent as a\n"
        "DHCP relay agent (giaddr = --bind), then fetches its file the way a\n"
        "phone does (option 66 http:// or tftp:// or host, 150, 160, 43.2).\n"
        "\n"
        "  --mac MAC               the phone: 00:15:65:aa:bb:cc,\n"
        "                          001565aabbcc, 00-15-65-AA-BB-CC or\n"
        "                          0015.65aa.bbcc\n"
        "  --vendor-class TEXT     option 60\n"
        "  --vendor-class-hex HEX  option 60 as raw bytes\n"
        "  --hostname NAME         option 12\n"
        "  --client-id HEX         option 61\n"
        "  --request-options LIST  option 55 (default " +
        std::string(DEFAULT_REQUEST_OPTIONS) + ")\n"
        "  --server IP             DHCP server (default 127.0.0.1)\n"
        "  --server-port N         its port (default 67)\n"
        "  --bind IP               relay address and giaddr (default "
        "127.0.0.1)\n"
        "  --bind-port N           relay port, where replies come (default "
        "68;\n"
        "                          0 picks a free port, for servers that\n"
        "                          answer the sender's port)\n"
        "  --timeout MS            wait per try, 3 tries a step (default "
        "2000)\n"
        "  --file NAME             file to fetch after the ACK; {mac} and\n"
        "                          {MAC} become the hex MAC (001565aabbcc)\n"
        "  --no-fetch              fetch nothing\n"
        "  --tftp-port N           TFTP port when none is given (default 69)\n"
        "  --output PATH           write the fetched file to PATH\n"
        "  --json                  print one JSON object\n"
        "  --quiet                 print nothing but errors (and --json)\n"
        "\n"
        "Exit: 0 ok, 1 usage error, 2 no OFFER/ACK or NAK, 3 fetch failed.\n");
}

std::string expandFileName(const std::string& pattern, const Mac& mac) {
    std::string out;
    for (size_t i = 0; i < pattern.size();) {
        if (pattern.compare(i, 5, "{mac}") == 0) {
            out += formatMac(mac, 0, false);
            i += 5;
        } else if (pattern.compare(i, 5, "{MAC}") == 0) {
            out += formatMac(mac, 0, true);
            i += 5;
        } else {
            out += pattern[i++];
        }
    }
    return (out);
}

std::string jsonString(const std::string& text) {
    std::string out = "\"";
    for (size_t i = 0; i < text.size();) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        size_t len = utf8Length(text, i);
        if (len == 0) {
            unicodeEscape(out, c);
            ++i;
        } else if (len == 1) {
            jsonChar(out, c);
            ++i;
        } else {
            out.append(text, i, len);
            i += len;
        }
    }
    return (out + "\"");
}

std::string jsonLatin1String(const std::string& data) {
    std::string out = "\"";
    for (char c : data) {
        unsigned char u = static_cast<unsigned char>(c);
        if (u >= 0x80) {
            unicodeEscape(out, u);
        } else {
            jsonChar(out, u);
        }
    }
    return (out + "\"");
}

std::string reportJson(const SimReport& report) {
    std::string out = "{";
    member(out, "mac", jsonString(formatMac(report.mac_, ':', false)));
    member(out, "xid", jsonString(hex32(report.exchange_.xid_)));
    dhcpJson(out, report);
    fetchJson(out, report);
    if (!report.note_.empty()) {
        member(out, "note", jsonString(report.note_));
    }
    if (!report.error_.empty()) {
        member(out, "error", jsonString(report.error_));
    }
    return (out + "}");
}

int runSimulate(const SimOptions& opts, std::ostream& out, std::ostream& err) {
    SimReport report;
    report.mac_ = opts.mac_;
    uint32_t xid = randomXid();
    if (!opts.json_ && !opts.quiet_) {
        out << "phone " << formatMac(opts.mac_, ':', false) << ", xid "
            << hex32(xid) << ": relay " << formatIpv4(opts.relay_.bind_)
            << ":" << opts.relay_.bind_port_ << " -> server "
            << formatIpv4(opts.relay_.server_) << ":"
            << opts.relay_.server_port_ << std::endl;
    }
    int code = 0;
    ClientParams params = opts.params_;
    params.mac_ = opts.mac_;
    report.dhcp_ok_ = runExchange(opts.relay_, params, xid, report.exchange_);
    if (!report.dhcp_ok_) {
        report.error_ = report.exchange_.error_;
        code = 2;
    } else {
        code = fetchStep(opts, report);
    }
    printWarnings(err, report.exchange_);
    printReport(out, report, opts);
    out.flush();
    if (!report.error_.empty()) {
        err << "simulate: error: " << report.error_ << "\n";
    }
    return (code);
}

}  // namespace sim
}  // namespace phoneprov

int cmdSimulate(int argc, char** argv) {
    using namespace phoneprov::sim;
    try {
        SimOptions opts;
        std::string error;
        if (!parseSimulateArgs(argc, argv, opts, error)) {
            std::cerr << "simulate: error: " << error
                      << " (see simulate --help)\n";
            return (1);
        }
        if (opts.help_) {
            std::cout << simulateUsage();
            return (0);
        }
        return (runSimulate(opts, std::cout, std::cerr));
    } catch (const std::exception& ex) {
        std::cerr << "simulate: error: " << ex.what() << "\n";
    } catch (...) {
        std::cerr << "simulate: error: unexpected exception\n";
    }
    return (2);
}
