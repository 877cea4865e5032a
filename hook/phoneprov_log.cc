// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include <config.h>

#include "phoneprov_log.h"

namespace isc {
namespace phoneprov {

isc::log::Logger phoneprov_logger("phoneprov-hooks");

}  // namespace phoneprov
}  // namespace isc
