// Copyright (C) 2026 kea-phoneprov authors. MPL-2.0.
// core/metrics.h: the hook's statistics as Prometheus text (`phoneprov metrics`).
#include <metrics.h>

#include <gtest/gtest.h>

using namespace phoneprov;

namespace {

nlohmann::json samples(long long newest, long long older = 0) {
    return (nlohmann::json::array({{newest, "2026-12-08 03:00:01.000000"}, {older, "2026-12-08 02:00:00.000000"}}));
}

struct Case {
    const char* what;
    nlohmann::json stats;
    std::string text;
};

TEST(PrometheusText, mapsEachKindOfStatistic) {
    const Case cases[] = {
        {"nothing", nlohmann::json::object(), ""},
        {"not an object", nlohmann::json::array(), ""},
        {"Kea's own statistics are left out", {{"pkt4-received", samples(5)}}, ""},
        {"a per-vendor counter: labelled, newest sample",
         {{"phoneprov.yealink.renders", samples(7, 3)}},
         "# HELP phoneprov_renders_total renders of a phone's files that succeeded, per vendor, since the hook was loaded\n"
         "# TYPE phoneprov_renders_total counter\n"
         "phoneprov_renders_total{vendor=\"yealink\"} 7\n"},
        {"two vendors: one HELP and TYPE, series sorted; the total left out",
         {{"phoneprov.snom.options-injected", samples(2)},
          {"phoneprov.cisco-mpp.options-injected", samples(1)},
          {"phoneprov.options-injected", samples(3)}},
         "# HELP phoneprov_options_injected_total OFFERs and ACKs the hook added a vendor's options to, per vendor, since the hook was loaded\n"
         "# TYPE phoneprov_options_injected_total counter\n"
         "phoneprov_options_injected_total{vendor=\"cisco-mpp\"} 1\n"
         "phoneprov_options_injected_total{vendor=\"snom\"} 2\n"},
        {"phones by state: a gauge labelled by state",
         {{"phoneprov.phones.fetched", samples(40)}, {"phoneprov.phones.fetched-stale", samples(2)}},
         "# HELP phoneprov_phones phones in each provisioning state (seen, rendered, fetched, fetched-stale, failed)\n"
         "# TYPE phoneprov_phones gauge\n"
         "phoneprov_phones{state=\"fetched\"} 40\n"
         "phoneprov_phones{state=\"fetched-stale\"} 2\n"},
        {"global counter and gauges",
         {{"phoneprov.fetch-foreign-address", samples(4)}, {"phoneprov.config-errors", samples(0)}},
         "# HELP phoneprov_config_errors configuration errors of the last load\n"
         "# TYPE phoneprov_config_errors gauge\n"
         "phoneprov_config_errors 0\n"
         "# HELP phoneprov_fetch_foreign_address_total fetches of a phone's per-device file from another address than its lease\n"
         "# TYPE phoneprov_fetch_foreign_address_total counter\n"
         "phoneprov_fetch_foreign_address_total 4\n"},
        {"an unknown statistic: untyped, name made safe",
         {{"phoneprov.new-thing", samples(9)}},
         "# HELP phoneprov_new_thing the hook's statistic phoneprov.new-thing\n"
         "# TYPE phoneprov_new_thing untyped\n"
         "phoneprov_new_thing 9\n"},
        {"a vendor id with a quote is escaped in its label",
         {{"phoneprov.a\"b.renders", samples(1)}},
         "# HELP phoneprov_renders_total renders of a phone's files that succeeded, per vendor, since the hook was loaded\n"
         "# TYPE phoneprov_renders_total counter\n"
         "phoneprov_renders_total{vendor=\"a\\\"b\"} 1\n"},
        {"no sample, or not a number: left out",
         {{"phoneprov.renders", nlohmann::json::array()}, {"phoneprov.config-errors", {{"x", "t"}}}},
         ""},
    };
    for (const Case& c : cases) {
        EXPECT_EQ(c.text, prometheusText(c.stats)) << c.what;
    }
}

}  // namespace
