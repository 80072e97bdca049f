#include "util/time.h"

#include <gtest/gtest.h>

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

TEST(Timestamps, TextSortsLikeTime) {
  EXPECT_LT(FormatTimestamp(999'999), FormatTimestamp(1'000'000));
  EXPECT_LT(FormatTimestamp(1'700'000'000'000'000), FormatTimestamp(1'700'000'000'000'001));
}

TEST(Timestamps, RejectsOtherForms) {
  for (const char* bad : {"", "2023-11-14", "2023-11-14 22:13:20.123456Z",
                          "2023-11-14T22:13:20.123456", "2023-11-14T22:13:20.12345xZ",
                          "2023-11-14T22:13:20Z"}) {
    EXPECT_EQ(ParseTimestamp(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace reftrack
