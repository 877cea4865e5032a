// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: MAC and option 60 normalisation and identification, with the
// real catalogue and IEEE registry. Input: byte 0 htype, byte 1 hlen (any value),
// then up to 16 chaddr bytes, then the vendor class (any bytes).
#include "fuzz_check.h"

#include <catalogue.h>
#include <identify.h>
#include <registry.h>

#include <cstdint>
#include <cstdlib>
#include <string_view>

using namespace phoneprov;

using phoneprov_fuzz::check;

namespace {

const Identifier& identifier() {
    static const Identifier id = [] {
        const char* profiles = std::getenv("PHONEPROV_PROFILES");
        CataloguePtr c = Catalogue::load(profiles ? profiles : PHONEPROV_SOURCE_DIR "/profiles");
        return (Identifier(c, OuiRegistry::build("/usr/share/ieee-data", *c)));
    }();
    return (id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) {
        return (0);
    }
    uint8_t htype = data[0];
    size_t hlen = data[1];
    size_t avail = size - 2;
    size_t take = std::min<size_t>(std::min<size_t>(hlen, 16), avail);
    const uint8_t* hw = data + 2;
    std::string_view vc(reinterpret_cast<const char*>(data + 2 + take), avail - take);
    // The length handed over: the claimed one when the bytes are there, else what is.
    size_t passed = hlen <= avail ? hlen : take;
    Verdict v = identifier().identify(htype, hw, passed, vc);
    // Invariants users rely on.
    if (v.phone) {
        check(v.vendor >= 0 && static_cast<size_t>(v.vendor) < identifier().catalogue().vendors().size(),
              "a vendor index outside the catalogue");
        check(htype == 1 && passed == 6 && v.macProblem == MacProblem::None,
              "a phone without a 6-byte Ethernet MAC");
        for (char c : v.model) {
            check((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-',
                  "a model with a character outside [A-Z0-9._-]");
        }
        check(v.model.size() <= 32, "a model longer than 32");
    }
    return (0);
}
