// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// libFuzzer target: core/fetch_log.h on any datagram (anyone who can write to the
// hook's fetch-log-socket sends them). Invariants: nothing crashes; what parses
// has a path of at most 1024 printable bytes without "..", an HTTP status 100-999
// and a TFTP line no status; the relative path is never absolute and never longer.
#include "fuzz_check.h"

#include <fetch_log.h>

#include <cstdint>
#include <string>
#include <string_view>

using namespace phoneprov;
using phoneprov_fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    auto line = parseFetchLine(in);
    if (!line) {
        return (0);
    }
    check(!line->path.empty() && line->path.size() <= 1024, "path length");
    check(("/" + line->path + "/").find("/../") == std::string::npos, "no .. component");
    for (char c : line->path) {
        check(c > ' ' && c < 0x7f && c != '\\', "printable path");
    }
    if (line->protocol == FetchLine::Protocol::Http) {
        check(line->status >= 100 && line->status <= 999, "http status");
        check(line->bytes >= 0, "http bytes");
    } else {
        check(line->status == 0 && line->bytes == -1, "tftp fields");
    }
    std::string rel = relativeFetchPath(*line, "/prov/");
    check(rel.empty() || rel[0] != '/', "relative path");
    check(rel.size() <= line->path.size(), "relative path length");
    return (0);
}
