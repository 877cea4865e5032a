// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include <hooks/hooks.h>

extern "C" {

/// @brief The Kea hooks API version this library was built against.
int version() {
    return (KEA_HOOKS_VERSION);
}

}  // extern "C"
