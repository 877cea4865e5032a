// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_METRICS_H
#define PHONEPROV_METRICS_H

#include <nlohmann/json.hpp>

#include <string>

namespace phoneprov {

/// @brief The hook's statistics in Prometheus' text exposition format (version 0.0.4).
///
/// @param stats the arguments of Kea's `statistic-get-all` answer: a map from a
/// statistic's name to its samples, newest first (`[[value, "time"], ...]`). Only the
/// `phoneprov.` statistics are kept, newest sample each:
/// - `phoneprov.<vendor>.<counter>` -> `phoneprov_<counter>_total{vendor="<vendor>"}`
///   (counter); the totals over vendors, `phoneprov.<counter>`, are left out: they are
///   the sum of the series, and a vendor not seen yet has none;
/// - `phoneprov.phones.<state>` -> `phoneprov_phones{state="<state>"}` (gauge);
/// - `phoneprov.fetch-foreign-address` -> `phoneprov_fetch_foreign_address_total`;
/// - `phoneprov.config-errors`, `phoneprov.profiles-broken` -> gauges;
/// - any other `phoneprov.` name -> an untyped metric of the same name, `-` and `.` as `_`.
/// Each metric has one `# HELP` and one `# TYPE` line; series are sorted by name and label.
std::string prometheusText(const nlohmann::json& stats);

}  // namespace phoneprov

#endif  // PHONEPROV_METRICS_H
