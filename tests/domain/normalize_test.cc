#include "domain/normalize.h"

#include <gtest/gtest.h>

namespace reftrack {
namespace {

TEST(Normalize, EmailsAreTrimmedAndLowerCased) {
  EXPECT_EQ(NormalizeEmail("  Alice.Smith@Example.COM \t"), "alice.smith@example.com");
}

// Spreadsheet exports leave U+00A0 (no-break space), U+200B and a byte order mark
// around values; each is white space to trim, or "x@y.com\u00a0" would be a second
// referral beside "x@y.com".
TEST(Normalize, UnicodeWhiteSpaceIsTrimmed) {
  EXPECT_EQ(NormalizeEmail("X@y.com\xC2\xA0"), "x@y.com");
  EXPECT_EQ(NormalizeEmail("\xEF\xBB\xBFx@y.com"), "x@y.com");
  EXPECT_EQ(NormalizeEmail("\xEF\xBB\xBF"), "");
  EXPECT_EQ(NormalizeCode("\xE2\x80\x8B"
                          "AbC\xE3\x80\x80 \xC2\xA0"),
            "AbC");
  std::string out;
  NormalizeEmail("\xC2\xA0 A@B.co\xE2\x80\xAF", out);
  EXPECT_EQ(out, "a@b.co");
  NormalizeCode(
      "\xE2\x80\xA8"
      "c1\xE2\x80\xA9",
      out);
  EXPECT_EQ(out, "c1");
  // Every code point of the set, alone and at both ends.
  for (const char* space :
       {"\t", "\n", "\v", "\f", "\r", " ", "\xC2\x85", "\xC2\xA0", "\xE1\x9A\x80", "\xE2\x80\x80",
        "\xE2\x80\x85", "\xE2\x80\x8A", "\xE2\x80\x8B", "\xE2\x80\xA8", "\xE2\x80\xA9",
        "\xE2\x80\xAF", "\xE2\x81\x9F", "\xE3\x80\x80", "\xEF\xBB\xBF"}) {
    std::string s = space;
    EXPECT_EQ(Trim(s), "") << testing::PrintToString(s);
    EXPECT_EQ(Trim(s + "a" + s + "b" + s), "a" + s + "b") << testing::PrintToString(s);
  }
}

TEST(Normalize, TrimKeepsWhatIsNotWhiteSpace) {
  // Letters that share bytes with white space: é (C3 A9), U+2010 hyphen (E2 80 90),
  // U+1681 (E1 9A 81), a lone continuation byte, a cut-off NBSP.
  for (std::string_view kept :
       {"\xC3\xA9", "\xE2\x80\x90", "\xE1\x9A\x81", "a\x80", "a\xC2", "\xA0", "\xE2\x80",
        "\xE2\x80"
        "A"}) {
    EXPECT_EQ(Trim(kept), kept) << testing::PrintToString(std::string(kept));
  }
  EXPECT_EQ(Trim("\xC2\xA0\xC3\xA9\xC2\xA0"), "\xC3\xA9");
  EXPECT_EQ(Trim(""), "");
  EXPECT_EQ(Trim("plain"), "plain");
}

TEST(Normalize, CodesAreTrimmedButKeepTheirCase) {
  EXPECT_EQ(NormalizeCode("  AbC-12 "), "AbC-12");
}

TEST(Normalize, ValidEmails) {
  for (const char* ok : {"a@b.co", "first.last+tag@sub.example.org", "x_y@d-e.io"}) {
    EXPECT_TRUE(IsValidEmail(ok)) << ok;
  }
  for (const char* bad :
       {"", "email", "a@", "@b.com", "a@b", "a@@b.com", "a@b@c.com", "a b@c.com", "a@.com",
        "a@com.", "a@b..com", "a,b@c.com", "a@b.com;Ann", "a;b@c.com"}) {
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
  for (std::string_view ok :
       {std::string_view(""), std::string_view("plain"), std::string_view("Ren\xc3\xa9"),
        std::string_view("\xe2\x82\xac"), std::string_view("\xf0\x9f\x98\x80"),
        std::string_view("\xf4\x8f\xbf\xbf")}) {
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
