// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
#include "tz.h"

#include <cstdio>
#include <fstream>
#include <iterator>

namespace phoneprov {

namespace {

bool isDigit(char c) { return (c >= '0' && c <= '9'); }
bool isAlpha(char c) { return ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')); }

/// @brief A zone abbreviation: 3+ letters, or `<...>` of letters, digits, + and -.
bool parseName(std::string_view s, size_t& i, std::string& out) {
    if (i < s.size() && s[i] == '<') {
        size_t end = s.find('>', i + 1);
        if (end == std::string_view::npos || end - i - 1 < 3) {
            return (false);
        }
        for (size_t k = i + 1; k < end; ++k) {
            if (!isAlpha(s[k]) && !isDigit(s[k]) && s[k] != '+' && s[k] != '-') {
                return (false);
            }
        }
        out = std::string(s.substr(i + 1, end - i - 1));
        i = end + 1;
        return (true);
    }
    size_t start = i;
    while (i < s.size() && isAlpha(s[i])) {
        ++i;
    }
    out = std::string(s.substr(start, i - start));
    return (i - start >= 3);
}

/// @brief `[+-]hh[:mm[:ss]]` in seconds; hours up to `maxHours`.
bool parseTime(std::string_view s, size_t& i, int maxHours, bool sign, int& out) {
    int neg = 1;
    if (sign && i < s.size() && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-' ? -1 : 1;
        ++i;
    }
    int parts[3] = {0, 0, 0};
    for (int p = 0; p < 3; ++p) {
        if (p > 0) {
            if (i >= s.size() || s[i] != ':') {
                break;
            }
            ++i;
        }
        size_t start = i;
        int v = 0;
        while (i < s.size() && isDigit(s[i]) && i - start < 3) {
            v = v * 10 + (s[i] - '0');
            ++i;
        }
        if (i == start) {
            return (false);
        }
        parts[p] = v;
    }
    if (parts[0] > maxHours || parts[1] > 59 || parts[2] > 59) {
        return (false);
    }
    out = neg * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return (true);
}

bool parseNumber(std::string_view s, size_t& i, int lo, int hi, int& out) {
    size_t start = i;
    int v = 0;
    while (i < s.size() && isDigit(s[i]) && i - start < 3) {
        v = v * 10 + (s[i] - '0');
        ++i;
    }
    out = v;
    return (i > start && v >= lo && v <= hi);
}

bool parseRuleDate(std::string_view s, size_t& i, TzRuleDate& d) {
    if (i < s.size() && s[i] == 'M') {
        ++i;
        d.kind = TzRuleDate::Kind::MonthWeekDay;
        if (!parseNumber(s, i, 1, 12, d.month) || i >= s.size() || s[i++] != '.' ||
            !parseNumber(s, i, 1, 5, d.week) || i >= s.size() || s[i++] != '.' ||
            !parseNumber(s, i, 0, 6, d.weekday)) {
            return (false);
        }
    } else if (i < s.size() && s[i] == 'J') {
        ++i;
        d.kind = TzRuleDate::Kind::Julian1;
        if (!parseNumber(s, i, 1, 365, d.day)) {
            return (false);
        }
    } else {
        d.kind = TzRuleDate::Kind::Julian0;
        if (!parseNumber(s, i, 0, 365, d.day)) {
            return (false);
        }
    }
    d.time = 7200;
    if (i < s.size() && s[i] == '/') {
        ++i;
        // RFC 8536 3.3.1: the time may be negative and up to 167 hours.
        if (!parseTime(s, i, 167, true, d.time)) {
            return (false);
        }
    }
    return (true);
}

/// @brief `+1`, `+5:30`, `-3:30`, `0` (seconds dropped: no zone in use has them).
std::string shortOffset(int seconds) {
    if (seconds == 0) {
        return ("0");
    }
    int a = seconds < 0 ? -seconds : seconds;
    std::string out = (seconds < 0 ? "-" : "+") + std::to_string(a / 3600);
    int minutes = (a % 3600) / 60;
    if (minutes) {
        out += (minutes < 10 ? ":0" : ":") + std::to_string(minutes);
    }
    return (out);
}

/// @brief `+1:00`, `-3:30`, `0:00`.
std::string hourMinuteOffset(int seconds) {
    if (seconds == 0) {
        return ("0:00");
    }
    int a = seconds < 0 ? -seconds : seconds;
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%c%d:%02d", seconds < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
    return (buf);
}

/// @brief `+01:00`, `-03:30`, `+00:00`.
std::string isoOffset(int seconds) {
    int a = seconds < 0 ? -seconds : seconds;
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%c%02d:%02d", seconds < 0 ? '-' : '+', a / 3600,
                  (a % 3600) / 60);
    return (buf);
}

void ruleVariables(const TzRuleDate& d, const std::string& which, TzVariables& out) {
    const std::string p = "timezone-dst-" + which + "-";
    const char* parts[] = {"month", "week", "weekday", "weekday-iso", "hour"};
    if (d.kind != TzRuleDate::Kind::MonthWeekDay) {
        for (const char* part : parts) {
            out.missing[p + part] = "the daylight time " + which +
                                    " is a day of the year, not a month, week and weekday";
        }
        return;
    }
    out.values[p + "month"] = std::to_string(d.month);
    out.values[p + "week"] = std::to_string(d.week);
    out.values[p + "weekday"] = std::to_string(d.weekday);
    out.values[p + "weekday-iso"] = std::to_string(d.weekday == 0 ? 7 : d.weekday);
    if (d.time % 3600 == 0 && d.time >= 0 && d.time < 24 * 3600) {
        out.values[p + "hour"] = std::to_string(d.time / 3600);
    } else {
        out.missing[p + "hour"] = "the daylight time " + which + " is at " +
                                  shortOffset(d.time) + " h, not a whole hour 0-23";
    }
}

}  // namespace

std::optional<PosixTz> parsePosixTz(std::string_view s) {
    PosixTz tz;
    tz.text = std::string(s);
    size_t i = 0;
    int posixOffset = 0;
    if (!parseName(s, i, tz.stdName) || !parseTime(s, i, 24, true, posixOffset)) {
        return (std::nullopt);
    }
    tz.utcOffset = -posixOffset;
    if (i == s.size()) {
        return (tz);
    }
    if (!parseName(s, i, tz.dstName)) {
        return (std::nullopt);
    }
    tz.hasDst = true;
    tz.dstOffset = tz.utcOffset + 3600;
    if (i < s.size() && s[i] != ',') {
        if (!parseTime(s, i, 24, true, posixOffset)) {
            return (std::nullopt);
        }
        tz.dstOffset = -posixOffset;
    }
    if (i == s.size()) {
        return (tz);  // daylight time without a rule: no date can be derived
    }
    if (s[i++] != ',' || !parseRuleDate(s, i, tz.start) || i >= s.size() || s[i++] != ',' ||
        !parseRuleDate(s, i, tz.end) || i != s.size()) {
        return (std::nullopt);
    }
    tz.hasRule = true;
    return (tz);
}

bool validZoneName(std::string_view name) {
    if (name.empty() || name.size() > 64 || name.front() == '/' || name.back() == '/') {
        return (false);
    }
    size_t start = 0;
    while (start <= name.size()) {
        size_t end = name.find('/', start);
        if (end == std::string_view::npos) {
            end = name.size();
        }
        std::string_view part = name.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") {
            return (false);
        }
        for (char c : part) {
            if (!isAlpha(c) && !isDigit(c) && c != '_' && c != '+' && c != '-') {
                return (false);
            }
        }
        start = end + 1;
    }
    return (true);
}

std::optional<std::string> tzifFooter(std::string_view bytes, std::string& error) {
    if (bytes.size() < 44 || bytes.substr(0, 4) != "TZif") {
        error = "not a TZif file";
        return (std::nullopt);
    }
    if (bytes[4] < '2') {
        error = "a TZif version 1 file has no POSIX TZ footer";
        return (std::nullopt);
    }
    // RFC 8536 3.3: the footer is NL, the TZ string, NL, at the very end.
    if (bytes.back() != '\n') {
        error = "no POSIX TZ footer";
        return (std::nullopt);
    }
    size_t nl = bytes.rfind('\n', bytes.size() - 2);
    if (nl == std::string_view::npos) {
        error = "no POSIX TZ footer";
        return (std::nullopt);
    }
    std::string footer(bytes.substr(nl + 1, bytes.size() - nl - 2));
    if (footer.empty()) {
        error = "an empty POSIX TZ footer (no rule for times after the table)";
        return (std::nullopt);
    }
    return (footer);
}

TzVariables tzVariables(const PosixTz& tz) {
    TzVariables out;
    out.values["timezone-posix"] = tz.text;
    out.values["timezone-offset"] = shortOffset(tz.utcOffset);
    out.values["timezone-offset-minutes"] = std::to_string(tz.utcOffset / 60);
    out.values["timezone-utc-offset"] = isoOffset(tz.utcOffset);
    out.values["timezone-offset-hmm"] = hourMinuteOffset(tz.utcOffset);
    if (!tz.hasDst) {
        return (out);
    }
    out.values["timezone-dst"] = "1";
    out.values["timezone-dst-minutes"] = std::to_string((tz.dstOffset - tz.utcOffset) / 60);
    if (!tz.hasRule) {
        for (const char* which : {"start", "end"}) {
            for (const char* part : {"month", "week", "weekday", "weekday-iso", "hour"}) {
                out.missing[std::string("timezone-dst-") + which + "-" + part] =
                    "the daylight time has no rule";
            }
        }
        return (out);
    }
    ruleVariables(tz.start, "start", out);
    ruleVariables(tz.end, "end", out);
    return (out);
}

TzVariables zoneVariables(const std::string& name, const std::string& zoneinfo) {
    TzVariables out;
    if (!validZoneName(name)) {
        out.error = "is not a zone name of the tz database";
        return (out);
    }
    std::ifstream in(zoneinfo + "/" + name, std::ios::binary);
    if (!in) {
        out.error = "is not in the system tzdata (" + zoneinfo + ")";
        return (out);
    }
    std::string bytes;
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::string error;
    auto footer = tzifFooter(bytes, error);
    if (!footer) {
        out.error = "has " + error;
        return (out);
    }
    auto tz = parsePosixTz(*footer);
    if (!tz) {
        out.error = "has a POSIX TZ footer this parser does not read";
        return (out);
    }
    return (tzVariables(*tz));
}

const std::vector<std::string>& tzVariableNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> n = {"timezone-posix", "timezone-offset", "timezone-offset-minutes",
                                      "timezone-utc-offset", "timezone-offset-hmm", "timezone-dst",
                                      "timezone-dst-minutes"};
        for (const char* which : {"start", "end"}) {
            for (const char* part : {"month", "week", "weekday", "weekday-iso", "hour"}) {
                n.push_back(std::string("timezone-dst-") + which + "-" + part);
            }
        }
        return (n);
    }();
    return (names);
}

}  // namespace phoneprov
