// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#ifndef PHONEPROV_TZ_H
#define PHONEPROV_TZ_H

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace phoneprov {

/// @brief A POSIX TZ rule date: `Mm.w.d` (month, week 1-5 with 5 the last, weekday
/// 0 = Sunday), `Jn` (day 1-365, no leap day) or `n` (day 0-365), and the local time
/// of the change in seconds (may be negative or beyond 24 h: RFC 8536 extension).
struct TzRuleDate {
    enum class Kind { MonthWeekDay, Julian1, Julian0 } kind = Kind::MonthWeekDay;
    int month = 0;
    int week = 0;
    int weekday = 0;
    int day = 0;
    int time = 7200;  ///< seconds after local midnight (POSIX default 02:00)
};

/// @brief A POSIX TZ string (the footer of a TZif v2+ file), parsed.
struct PosixTz {
    std::string text;
    std::string stdName;
    int utcOffset = 0;  ///< seconds east of UTC in standard time (the sign POSIX uses, flipped)
    bool hasDst = false;
    std::string dstName;
    int dstOffset = 0;  ///< seconds east of UTC in daylight time
    bool hasRule = false;
    TzRuleDate start;
    TzRuleDate end;
};

/// @brief Parses a POSIX TZ string (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+0330>-3:30`).
/// @return nothing when the text is not one.
std::optional<PosixTz> parsePosixTz(std::string_view text);

/// @brief Whether an IANA zone name is safe to look up beneath the zoneinfo folder:
/// 1-64 of [A-Za-z0-9/_+-], no empty, `.` or `..` component, no leading `/`.
bool validZoneName(std::string_view name);

/// @brief The POSIX TZ footer of a TZif file's bytes (version 2 or later).
/// @param error receives why there is none.
std::optional<std::string> tzifFooter(std::string_view bytes, std::string& error);

/// @brief Template variables derived from a zone: the values and, for those a
/// zone's rule cannot give, why not (a vendor whose templates need one of those
/// cannot express this zone).
struct TzVariables {
    std::map<std::string, std::string> values;
    std::map<std::string, std::string> missing;  ///< variable -> reason
    std::string error;  ///< set when the zone itself is unusable (then values is empty)
};

/// @brief The derived variables of a parsed POSIX TZ rule:
/// `timezone-posix` (the rule), `timezone-offset` (`+1`, `+5:30`, `-3:30`, `0`),
/// `timezone-offset-minutes` (`60`), `timezone-utc-offset` (`+01:00`), `timezone-offset-hmm`
/// (`+1:00`, `-3:30`, `0:00`), and with
/// daylight time `timezone-dst` (`1`), `timezone-dst-minutes` (`60`) and, for a
/// `Mm.w.d` rule, `timezone-dst-{start,end}-{month,week,weekday,weekday-iso,hour}`
/// (weekday 0 = Sunday; weekday-iso 1 = Monday .. 7 = Sunday; week 5 = last; hour
/// only for a change on a whole hour 0-23).
TzVariables tzVariables(const PosixTz& tz);

/// @brief Reads /<zoneinfo>/<name> and derives its variables (pure but for the read).
TzVariables zoneVariables(const std::string& name,
                          const std::string& zoneinfo = "/usr/share/zoneinfo");

/// @brief The names of every variable tzVariables() may give.
const std::vector<std::string>& tzVariableNames();

}  // namespace phoneprov

#endif  // PHONEPROV_TZ_H
