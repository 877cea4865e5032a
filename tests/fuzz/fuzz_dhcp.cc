// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: raw bytes as a DHCPv4 packet through Kea's own Pkt4::unpack,
// then the hook's pkt4_receive and pkt4_send (the PhoneProv implementation the
// callouts delegate to), with a response as Kea would build it. Nothing is pinned:
// htype, hlen, chaddr, every option (60 included) come from the input.
//
// Input: byte 0 = control (bits 0-1: response type OFFER/ACK/NAK/OFFER with no
// yiaddr; bit 2: the response already holds a subnet option 66; bit 3: render the
// phone's files in memory), then the packet as it came off the wire.
//
// Invariants: nothing throws out of receive/send; a response gets options only
// for a packet identified as a phone; every rendered file name is one safe path
// component (or dir/name) and no per-device file is rendered without reservation
// data; an error text never holds a reservation value.
#include "fuzz_check.h"

#include <config.h>

#include "phoneprov.h"

#include <catalogue.h>
#include <identify.h>
#include <reservations.h>
#include <safe_write.h>

#include <cc/data.h>
#include <dhcp/dhcp4.h>
#include <dhcp/option_string.h>
#include <dhcp/pkt4.h>
#include <exceptions/exceptions.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <log/logger_support.h>
#include <process/daemon.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

using namespace isc::data;
using namespace isc::dhcp;
using namespace isc::hooks;

namespace {

using phoneprov_fuzz::check;

std::string outDir;

void cleanup() {
    if (!outDir.empty()) {
        std::string cmd = "rm -rf '" + outDir + "'";
        (void)std::system(cmd.c_str());
    }
}

// The reservations the fuzzer can reach with the seed MACs: one with device data
// (and a secret), one pinning a vendor, one with its own option 66.
const char* const kConfig = R"({"subnet4": [{"id": 1, "subnet": "192.0.2.0/24", "reservations": [
  {"hw-address": "00:15:65:aa:bb:cc", "hostname": "p1",
   "user-context": {"phoneprov": {"sip-server": "10.77.0.5",
     "accounts": [{"user": "1001", "password": "FUZZSECRETVALUE", "display-name": "A<l>i&ce"}]}}},
  {"hw-address": "3c:22:fb:01:02:03", "hostname": "p2",
   "user-context": {"phoneprov": {"vendor": "snom", "model": "D785"}}},
  {"hw-address": "00:04:f2:01:02:03", "hostname": "p3",
   "option-data": [{"code": 66, "data": "http://own.example/"}]}]}]})";

isc::phoneprov::PhoneProv& impl() {
    static isc::phoneprov::PhoneProv* p = [] {
        isc::process::Daemon::setProcName("kea-dhcp4");
        // The hook logs through Kea's logger: errors only, to stderr.
        isc::log::initLogger("kea-dhcp4", isc::log::ERROR, 0, nullptr, false);
        char tmpl[] = "/tmp/phoneprov-fuzz-dhcp-XXXXXX";
        char* d = mkdtemp(tmpl);
        if (!d) {
            std::abort();
        }
        outDir = d;
        std::atexit(cleanup);
        const char* profiles = std::getenv("PHONEPROV_PROFILES");
        ElementPtr params = Element::createMap();
        params->set("output-dir", Element::create(outDir));
        params->set("base-url", Element::create("http://192.0.2.1/prov"));
        params->set("tftp-server", Element::create("192.0.2.69"));
        params->set("profiles-dir",
                    Element::create(std::string(profiles ? profiles : PHONEPROV_SOURCE_DIR "/profiles")));
        params->set("client-classes", Element::create("always"));
        // Files are rendered in memory by the target (no disk I/O per input).
        params->set("render", Element::create(false));
        params->set("render-wait-ms", Element::create(0));
        auto* pp = new isc::phoneprov::PhoneProv(params);
        pp->start();
        pp->configured(Element::fromJSON(kConfig));
        return (pp);
    }();
    return (*p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    isc::phoneprov::PhoneProv& p = impl();
    if (size < 1) {
        return (0);
    }
    uint8_t control = data[0];
    Pkt4Ptr query;
    try {
        query.reset(new Pkt4(data + 1, size - 1));  // throws below 236 bytes
        query->unpack();
    } catch (const std::exception&) {
        return (0);  // Kea drops the packet before any callout
    }
    CalloutHandlePtr handle = HooksManager::createCalloutHandle();
    handle->setArgument("query4", query);
    // Any exception here escapes and is reported: the DHCP path never throws.
    p.receive(*handle, *query);

    static const uint8_t kTypes[] = {DHCPOFFER, DHCPACK, DHCPNAK, DHCPOFFER};
    uint8_t type = kTypes[control & 3];
    Pkt4Ptr rsp(new Pkt4(type, query->getTransid()));
    if ((control & 3) < 2) {
        rsp->setYiaddr(isc::asiolink::IOAddress("192.0.2.100"));
    }
    if (control & 4) {
        rsp->addOption(OptionPtr(new OptionString(Option::V4, 66, "tftp.subnet.example")));
    }
    size_t before = rsp->options_.size();
    handle->setArgument("response4", rsp);
    p.send(*handle, *query, rsp);

    // Which vendor, if any: the class the hook gave the query.
    int vendor = -1;
    const auto& vendors = p.identifier().catalogue().vendors();
    for (size_t i = 0; i < vendors.size(); ++i) {
        if (query->inClass(vendors[i].className)) {
            check(vendor < 0, "two vendor classes");
            vendor = static_cast<int>(i);
        }
    }
    check((vendor >= 0) == query->inClass("PHONEPROV"), "PHONEPROV without a vendor class");
    if (vendor < 0 || (control & 3) >= 2) {
        check(rsp->options_.size() == before, "options added for a non-phone or a NAK");
    }
    // Packs as Kea would send it.
    rsp->pack();

    if (vendor >= 0 && (control & 8)) {
        // The same verdict the hook reached, then the phone's files in memory.
        HWAddrPtr hw = query->getHWAddr();
        OptionPtr vc = query->getOption(DHO_VENDOR_CLASS_IDENTIFIER);
        std::string vcText;
        if (vc) {
            vcText.assign(vc->getData().begin(), vc->getData().end());
        }
        ::phoneprov::Verdict v = p.identifier().identify(
            hw ? static_cast<uint8_t>(hw->htype_) : 0, hw && !hw->hwaddr_.empty() ? hw->hwaddr_.data() : nullptr,
            hw ? hw->hwaddr_.size() : 0, vcText);
        if (!v.phone || v.vendor != vendor) {
            return (0);  // a reservation pinned the vendor
        }
        static const ::phoneprov::HostIndexPtr hosts = [] {
            std::vector<std::string> problems;
            return (::phoneprov::HostIndex::build(nlohmann::json::parse(kConfig), problems));
        }();
        const ::phoneprov::HostEntry* host = hosts->find(v.mac);
        nlohmann::json deviceData = host ? host->data() : nlohmann::json();
        const nlohmann::json* device = host && host->hasData ? &deviceData : nullptr;
        std::vector<std::string> errors;
        int skipped = 0;
        auto files = p.provisioning().renderFiles(v.vendor, v.model, v.mac, "192.0.2.100", device,
                                                  errors, skipped);
        for (const auto& f : files) {
            check(::phoneprov::safeFileName(f.name), "unsafe file name");
            check(f.dir.empty() || ::phoneprov::safeFileName(f.dir), "unsafe folder name");
            check(!f.perDevice || device, "per-device file without reservation data");
            check(f.perDevice || f.content.find("FUZZSECRETVALUE") == std::string::npos,
                  "secret in a common file");
        }
        for (const auto& e : errors) {
            check(e.find("FUZZSECRETVALUE") == std::string::npos, "secret in an error");
        }
    }
    return (0);
}
