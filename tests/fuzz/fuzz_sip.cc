// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: the SIP parser and the PnP path of core/sip.h on any datagram,
// with the real catalogue. Invariants: nothing crashes; whatever parses serializes
// to text that parses again to the same message; a SUBSCRIBE accepted as PnP
// always gets a response and a NOTIFY that parse again.
#include "fuzz_check.h"

#include <catalogue.h>
#include <sip.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

using namespace phoneprov;
using namespace phoneprov::sip;

using phoneprov_fuzz::check;

namespace {

const Catalogue& catalogue() {
    static const CataloguePtr c = [] {
        const char* profiles = std::getenv("PHONEPROV_PROFILES");
        return (Catalogue::load(profiles ? profiles : PHONEPROV_SOURCE_DIR "/profiles"));
    }();
    return (*c);
}


Message reparsed(const Message& m) {
    Message again;
    std::string error;
    check(parse(serialize(m), again, error), "a serialised message does not parse");
    return (again);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    Message m;
    std::string error;
    if (!parse(text, m, error)) {
        check(!error.empty(), "a refused message without a reason");
        return (0);
    }
    Message again = reparsed(m);
    check(serialize(again) == serialize(m), "serialise-parse-serialise is not stable");
    check(again.body == m.body && again.request == m.request && again.uri == m.uri &&
          again.status == m.status, "a reparsed message differs");

    // The value parsers see every header the daemon reads.
    for (const std::string& v : m.list("Via")) {
        Via via;
        if (parseVia(v, via)) {
            Via back;
            check(parseVia(formatVia(via), back), "a formatted Via does not parse");
            check(back.host == via.host && back.port == via.port &&
                  back.params.size() == via.params.size(), "a reparsed Via differs");
        }
    }
    for (const char* h : {"From", "To", "Contact"}) {
        if (const std::string* v = m.get(h)) {
            NameAddr na;
            Uri uri;
            if (parseNameAddr(*v, na)) {
                parseUri(na.uri, uri);
            }
        }
    }
    Uri uri;
    parseUri(m.uri, uri);
    transactionKey(m);

    PnpSubscribe p;
    std::string why;
    if (!parsePnpSubscribe(m, p, why)) {
        check(!why.empty(), "a refused SUBSCRIBE without a reason");
        return (0);
    }
    int vendor = pnpVendor(catalogue(), p.vendor);
    if (vendor >= 0) {
        std::string model = pnpModel(catalogue().vendors()[vendor], p.model);
        check(model.size() <= 32, "a model longer than 32");
    }
    auto ok = makeResponse(m, 200, "OK", "fuzztag", Endpoint{"192.0.2.1", 5060});
    check(ok.has_value(), "no 200 OK for a valid SUBSCRIBE");
    reparsed(*ok);
    Endpoint target;
    check(viaTarget(*ok, target), "a response with no Via target");
    check(target.address == "192.0.2.1" || target.port > 0, "a response target without a port");
    Local local{{"192.0.2.2", 5060}, "fuzztag", "z9hG4bKfuzz", "", 1};
    auto notify = makePnpNotify(m, "fuzztag", "http://192.0.2.2/prov/", local);
    check(notify.has_value(), "no NOTIFY for a valid SUBSCRIBE");
    Message n = reparsed(*notify);
    check(n.body == "http://192.0.2.2/prov/", "the NOTIFY body is not the URL");
    return (0);
}
