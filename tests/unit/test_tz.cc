// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// Time zones from the system tzdata: the POSIX TZ footer of a TZif v2+ file, parsed,
// and the template variables vendors need derived from it (core/tz.h).
#include <tz.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

using namespace phoneprov;

namespace {

struct VarCase {
    int line_;
    const char* posix;
    const char* offset;
    const char* minutes;
    const char* iso;
    const char* dst;         ///< timezone-dst or "" when absent
    const char* dstStart;    ///< month/week/weekday-iso/hour or "" when absent
    const char* dstEnd;
    const char* missing;     ///< one variable expected missing, or ""
};

std::string get(const TzVariables& v, const std::string& k) {
    auto it = v.values.find(k);
    return (it == v.values.end() ? "" : it->second);
}

std::string rule(const TzVariables& v, const std::string& which) {
    std::string p = "timezone-dst-" + which + "-";
    if (!v.values.count(p + "month")) {
        return ("");
    }
    return (get(v, p + "month") + "/" + get(v, p + "week") + "/" + get(v, p + "weekday-iso") +
            "/" + get(v, p + "hour"));
}

}  // namespace

TEST(PosixTz, derivedVariables) {
    const VarCase cases[] = {
        {__LINE__, "CET-1CEST,M3.5.0,M10.5.0/3", "+1", "60", "+01:00", "1", "3/5/7/2", "10/5/7/3", ""},
        {__LINE__, "EST5EDT,M3.2.0,M11.1.0", "-5", "-300", "-05:00", "1", "3/2/7/2", "11/1/7/2", ""},
        {__LINE__, "IST-5:30", "+5:30", "330", "+05:30", "", "", "", ""},
        {__LINE__, "<+0545>-5:45", "+5:45", "345", "+05:45", "", "", "", ""},
        {__LINE__, "NST3:30NDT,M3.2.0,M11.1.0", "-3:30", "-210", "-03:30", "1", "3/2/7/2", "11/1/7/2", ""},
        {__LINE__, "UTC0", "0", "0", "+00:00", "", "", "", ""},
        {__LINE__, "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "+10:30", "630", "+10:30", "1", "10/1/7/2", "4/1/7/2", ""},
        // Greenland: the change happens at -1:00 local time (RFC 8536 extension).
        {__LINE__, "<-02>2<-01>,M3.5.0/-1,M10.5.0/0", "-2", "-120", "-02:00", "1", "", "10/5/7/0",
         "timezone-dst-start-hour"},
        // A rule by day of the year gives no month/week/weekday.
        {__LINE__, "XXX3YYY,J60/2,J300/2", "-3", "-180", "-03:00", "1", "", "", "timezone-dst-start-month"},
        // A change at 2:30 is not a whole hour.
        {__LINE__, "AAA-2BBB,M3.5.0/2:30,M10.5.0/3", "+2", "120", "+02:00", "1", "", "10/5/7/3",
         "timezone-dst-start-hour"},
    };
    for (const VarCase& c : cases) {
        SCOPED_TRACE(c.line_);
        auto tz = parsePosixTz(c.posix);
        ASSERT_TRUE(tz);
        TzVariables v = tzVariables(*tz);
        EXPECT_EQ(get(v, "timezone-posix"), c.posix);
        EXPECT_EQ(get(v, "timezone-offset"), c.offset);
        EXPECT_EQ(get(v, "timezone-offset-minutes"), c.minutes);
        EXPECT_EQ(get(v, "timezone-utc-offset"), c.iso);
        std::string hmm = c.iso[1] == '0' ? std::string(1, c.iso[0]) + (c.iso + 2) : c.iso;
        EXPECT_EQ(get(v, "timezone-offset-hmm"), std::string(c.iso) == "+00:00" ? "0:00" : hmm);
        EXPECT_EQ(get(v, "timezone-dst"), c.dst);
        if (*c.missing == 0) {
            EXPECT_TRUE(v.missing.empty());
            EXPECT_EQ(rule(v, "start"), c.dstStart);
        } else {
            EXPECT_TRUE(v.missing.count(c.missing)) << c.missing;
            EXPECT_FALSE(v.values.count(c.missing));
        }
        if (*c.dstEnd) {
            EXPECT_EQ(rule(v, "end"), c.dstEnd);
        }
        for (const auto& kv : v.values) {
            EXPECT_NE(std::find(tzVariableNames().begin(), tzVariableNames().end(), kv.first),
                      tzVariableNames().end()) << kv.first;
        }
    }
}

TEST(PosixTz, refusesWhatIsNotATzString) {
    const char* bad[] = {"", "Europe/Berlin", "CE-1", "CET", "CET-1CEST,M13.5.0,M10.5.0",
                         "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,M3.5.7,M10.5.0",
                         "CET-1CEST,M3.5.0", "CET-1CEST,M3.5.0,M10.5.0,", "<+01-1", "CET-25",
                         "CET-1CEST,M3.5.0/200,M10.5.0"};
    for (const char* b : bad) {
        EXPECT_FALSE(parsePosixTz(b)) << b;
    }
}

TEST(ZoneName, onlyNamesBeneathTheFolder) {
    EXPECT_TRUE(validZoneName("Europe/Berlin"));
    EXPECT_TRUE(validZoneName("America/Argentina/Buenos_Aires"));
    EXPECT_TRUE(validZoneName("Etc/GMT+5"));
    EXPECT_TRUE(validZoneName("UTC"));
    const char* bad[] = {"", "/etc/passwd", "../etc/passwd", "Europe/../../etc", "Europe//Berlin",
                         "Europe/Berlin/", "Europe/./Berlin", "Europe/Ber lin", "Europe\\Berlin",
                         "Europe/Berlin\n"};
    for (const char* b : bad) {
        EXPECT_FALSE(validZoneName(b)) << b;
    }
}

TEST(Tzif, footerOfVersion2OrLater) {
    std::string header = "TZif2" + std::string(39, '\0');
    std::string error;
    auto f = tzifFooter(header + "\nCET-1CEST,M3.5.0,M10.5.0/3\n", error);
    ASSERT_TRUE(f);
    EXPECT_EQ(*f, "CET-1CEST,M3.5.0,M10.5.0/3");
    EXPECT_FALSE(tzifFooter("TZif" + std::string(40, '\0') + "\nCET-1\n", error));
    EXPECT_NE(error.find("version 1"), std::string::npos);
    EXPECT_FALSE(tzifFooter(header + "\n\n", error));
    EXPECT_FALSE(tzifFooter(header + "\nCET-1", error));
    EXPECT_FALSE(tzifFooter("NotTZif", error));
}

// The real tzdata of the system (Debian's tzdata package): the values come from the
// files, so they follow the zones' rules as they change.
TEST(ZoneVariables, fromTheSystemTzdata) {
    TzVariables berlin = zoneVariables("Europe/Berlin");
    ASSERT_EQ(berlin.error, "");
    EXPECT_EQ(get(berlin, "timezone-posix"), "CET-1CEST,M3.5.0,M10.5.0/3");
    EXPECT_EQ(get(berlin, "timezone-offset"), "+1");
    TzVariables kolkata = zoneVariables("Asia/Kolkata");
    ASSERT_EQ(kolkata.error, "");
    EXPECT_EQ(get(kolkata, "timezone-offset"), "+5:30");
    EXPECT_EQ(get(kolkata, "timezone-dst"), "");
    EXPECT_NE(zoneVariables("Mars/Olympus_Mons").error, "");
    EXPECT_NE(zoneVariables("../../etc/passwd").error, "");
    EXPECT_NE(zoneVariables("Europe/Berlin", "/nonexistent").error, "");
}
