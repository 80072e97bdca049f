#include "util/time.h"

#include <gtest/gtest.h>

#include <ctime>

namespace reftrack {
namespace {

TEST(Timestamps, RoundTripWithMicroseconds) {
  for (Micros t : {Micros{0}, Micros{1}, Micros{1'700'000'000'123'456}, Micros{951'782'400'000'000},
                   Micros{4'102'444'799'999'999}}) {
    std::string text = FormatTimestamp(t);
    EXPECT_EQ(text.size(), 27u) << text;
    EXPECT_EQ(ParseTimestamp(text), t) << text;
  }
  EXPECT_EQ(FormatTimestamp(1'700'000'000'123'456), "2023-11-14T22:13:20.123456Z");
}

// The civil-date arithmetic agrees with libc's gmtime_r and timegm, every 7919 hours
// and some seconds from 1970 to 2100, leap days included.
TEST(Timestamps, AgreeWithLibc) {
  for (int64_t s = 0; s < 4'102'444'800; s += 7919 * 3600 + 17) {
    std::time_t seconds = static_cast<std::time_t>(s);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char want[64];
    std::snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.000042Z", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    Micros t = s * 1'000'000 + 42;
    ASSERT_EQ(FormatTimestamp(t), want);
    ASSERT_EQ(ParseTimestamp(want), static_cast<Micros>(timegm(&tm)) * 1'000'000 + 42) << want;
  }
  EXPECT_EQ(FormatTimestamp(951'782'400'000'000), "2000-02-29T00:00:00.000000Z");
}

TEST(Timestamps, TextSortsLikeTime) {
  EXPECT_LT(FormatTimestamp(999'999), FormatTimestamp(1'000'000));
  EXPECT_LT(FormatTimestamp(1'700'000'000'000'000), FormatTimestamp(1'700'000'000'000'001));
}

TEST(Timestamps, RejectsOtherForms) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14 22:13:20.123456Z",
                          "2023-11-14T22:13:20.123456", "2023-11-14T22:13:20.12345xZ",
                          "2023-11-14T22:13:20Z", "2023-13-14T22:13:20.123456Z",
                          "2023-11-14T24:13:20.123456Z"}) {
    EXPECT_EQ(ParseTimestamp(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace reftrack
