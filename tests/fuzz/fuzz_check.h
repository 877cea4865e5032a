// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// The fuzz targets' invariant check: a broken invariant is a finding, reported by
// name and turned into a crash that libFuzzer saves as an artifact.
#ifndef PHONEPROV_FUZZ_CHECK_H
#define PHONEPROV_FUZZ_CHECK_H

#include <cstdio>
#include <cstdlib>

namespace phoneprov_fuzz {

inline void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "invariant broken: %s\n", what);
        std::abort();
    }
}

}  // namespace phoneprov_fuzz

#endif  // PHONEPROV_FUZZ_CHECK_H
