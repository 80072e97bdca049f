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
                          "a b@c.com", "a@.com", "a@com.", "a@b..com", "a,b@c.com"}) {
    EXPECT_FALSE(IsValidEmail(bad)) << bad;
  }
}

}  // namespace
}  // namespace reftrack
