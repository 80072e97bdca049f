#include "domain/normalize.h"

#include <gtest/gtest.h>

namespace reftrack {
namespace {

TEST(Normalize, EmailsAreTrimmedAndLowerCased) {
  EXPECT_EQ(NormalizeEmail("  Alice.Smith@Example.COM \t"), "alice.smith@example.com");
  EXPECT_EQ(NormalizeEmail("\xEF\xBB\xBF"), "\xEF\xBB\xBF");  // not ASCII: kept as is
}

TEST(Normalize, CodesAreTrimmedButKeepTheirCase) {
  EXPECT_EQ(NormalizeCode("  AbC-12 "), "AbC-12");
}

TEST(Normalize, ValidEmails) {
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.org", "x_y@d-e.io"}) {
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  }
  for (const char* bad : {"", "email", "a@", "@b.com", "a@b", "a@@b.com", "a@b@c.com",
                          "a b@c.com", "a@.com", "a@com.", "a@b..com", "a,b@c.com",
                          "a@b.com;Ann", "a;b@c.com"}) {
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  }
  // At most 254 bytes (RFC 5321).
  const std::string longest = std::string(248, 'a') + "@b.com";
  EXPECT_TRUE(IsValidEmail(longest));
  EXPECT_FALSE(IsValidEmail("a" + longest));
}

TEST(Normalize, ExcerptKeepsMessagesShort) {
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt(std::string(80, 'x')), std::string(80, 'x'));
  EXPECT_EQ(Excerpt(std::string(10'000'000, 'x')), std::string(64, 'x') + "… (10000000 bytes)");
  // Cut before a character that does not fit whole: "é" is 2 bytes, at bytes 63-64.
  EXPECT_EQ(Excerpt(std::string(63, 'x') + "\xc3\xa9" + std::string(100, 'y')),
            std::string(63, 'x') + "… (165 bytes)");
}

TEST(Normalize, ValidTextIsWellFormedUtf8WithoutNul) {
  for (std::string_view ok : {std::string_view(""), std::string_view("plain"),
                              std::string_view("Ren\xc3\xa9"), std::string_view("\xe2\x82\xac"),
                              std::string_view("\xf0\x9f\x98\x80"), std::string_view("\xf4\x8f\xbf\xbf")}) {
    EXPECT_TRUE(IsValidText(ok)) << ok;
  }
  for (std::string_view bad :
       {std::string_view("Ren\xe9"), std::string_view("a\0b", 3), std::string_view("\xc0\xaf"),
        std::string_view("\xe0\x80\xaf"), std::string_view("\xed\xa0\x80"),
        std::string_view("\xf4\x90\x80\x80"), std::string_view("\xc3"), std::string_view("\x80"),
        std::string_view("\xff"), std::string_view("\xe2\x82")}) {
    EXPECT_FALSE(IsValidText(bad)) << testing::PrintToString(std::string(bad));
  }
}

}  // namespace
}  // namespace reftrack
