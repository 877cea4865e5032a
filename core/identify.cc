// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "identify.h"

namespace phoneprov {

const char* confidenceText(Confidence c) {
    switch (c) {
    case Confidence::None:
        return ("none");
    case Confidence::Prefix:
        return ("prefix");
    case Confidence::Class:
        return ("vendor-class");
    case Confidence::Sure:
        return ("sure");
    case Confidence::Pinned:
        return ("pinned");
    }
    return ("none");
}

nlohmann::json verdictJson(const Verdict& v, const Catalogue& catalogue) {
    nlohmann::json out = {{"phone", v.phone}};
    if (v.phone) {
        const VendorProfile& vendor = catalogue.vendors()[v.vendor];
        out["vendor"] = vendor.id;
        out["model"] = v.model;
        out["confidence"] = confidenceText(v.confidence);
        out["class"] = vendor.className;
    }
    return (out);
}

Verdict Identifier::identify(uint8_t htype, const uint8_t* hw, size_t hlen,
                             std::string_view vendorClass) const {
    Verdict v;
    v.macProblem = checkPacketMac(htype, hw, hlen, v.mac);
    if (v.macProblem != MacProblem::None) {
        v.reason = macProblemText(v.macProblem);
        return (v);
    }
    return (identify(v.mac, vendorClass));
}

Verdict Identifier::identify(const Mac& mac, std::string_view vendorClass) const {
    Verdict v;
    v.mac = mac;
    Mac scratch;
    v.macProblem = checkPacketMac(1, mac.bytes.data(), 6, scratch);
    if (v.macProblem != MacProblem::None) {
        v.reason = macProblemText(v.macProblem);
        return (v);
    }
    OuiRegistry::Hit hit = registry_->lookup(mac);
    v.prefixVendor = hit.vendor;
    VendorClassMatch m = catalogue_->matchVendorClass(vendorClass);
    v.classVendor = m.vendor;
    const auto& vendors = catalogue_->vendors();
    if (m.vendor >= 0) {
        v.phone = true;
        v.vendor = m.vendor;
        v.model = std::move(m.model);
        bool agree = hit.vendor >= 0 && vendors[hit.vendor].family == vendors[m.vendor].family;
        v.confidence = agree ? Confidence::Sure : Confidence::Class;
        v.reason = agree ? "vendor class and MAC prefix agree" : "vendor class names a phone";
        return (v);
    }
    if (hit.vendor >= 0 && vendors[hit.vendor].phonesOnly) {
        v.phone = true;
        v.vendor = hit.vendor;
        v.confidence = Confidence::Prefix;
        v.reason = "MAC prefix of a vendor that makes only phones";
        return (v);
    }
    v.reason = hit.vendor >= 0 ? "MAC prefix of a vendor that also makes other devices"
                               : "no phone vendor matched";
    return (v);
}

bool Identifier::pin(Verdict& v, std::string_view vendorId, std::string_view model) const {
    int idx = catalogue_->find(vendorId);
    if (idx < 0 || v.macProblem != MacProblem::None) {
        return (false);
    }
    v.phone = true;
    v.vendor = idx;
    if (!model.empty()) {
        v.model = normaliseModel(model);
    }
    v.confidence = Confidence::Pinned;
    v.reason = "pinned by the host reservation";
    return (true);
}

}  // namespace phoneprov
