// People who sign in to the web page, on every store: passwords kept only as argon2id
// hashes, sessions that end when their time is up or at sign-out, and old sessions
// cleared as new ones start.
#include <gtest/gtest.h>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

using UsersTest = EngineTest;

constexpr const char* kPassword = "correct-horse-battery";

TEST_P(UsersTest, PasswordIsCheckedAgainstItsArgon2idHash) {
  auto user = engine_->AddUser(" Ada@Example.com ", kPassword);
  ASSERT_TRUE(user.has_value()) << user.error().message;
  EXPECT_EQ(user->email, "ada@example.com");
  EXPECT_TRUE(user->password_hash.starts_with("$argon2id$")) << user->password_hash;
  auto checked = engine_->CheckPassword("ADA@example.com", kPassword);
  ASSERT_TRUE(checked.has_value());
  EXPECT_EQ(checked->id, user->id);
  for (const char* wrong : {"correct-horse-batterY", "", "correct-horse-battery "}) {
    auto refused = engine_->CheckPassword("ada@example.com", wrong);
    ASSERT_FALSE(refused.has_value()) << wrong;
    EXPECT_EQ(refused.error().code, ErrorCode::kUnauthenticated);
  }
  auto unknown = engine_->CheckPassword("bob@example.com", kPassword);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().message, "wrong email or password");
  EXPECT_EQ(engine_->UserCount().value_or(-1), 1);
}

TEST_P(UsersTest, AddUserRefusesBadInputAndChangesNothing) {
  EXPECT_EQ(engine_->AddUser("ada@example.com", "nine char").error().code,
            ErrorCode::kInvalidInput);
  for (const char* email : {"ada", "@example.com", "ada@", "a b@example.com", "a@b@c"}) {
    EXPECT_EQ(engine_->AddUser(email, kPassword).error().code, ErrorCode::kInvalidInput) << email;
  }
  EXPECT_EQ(engine_->UserCount().value_or(-1), 0);
  ASSERT_TRUE(engine_->AddUser("admin@localhost", kPassword).has_value());
  EXPECT_EQ(engine_->AddUser("ADMIN@localhost", kPassword).error().code, ErrorCode::kDuplicate);
  EXPECT_EQ(engine_->UserCount().value_or(-1), 1);
}

TEST_P(UsersTest, SessionLastsItsLifetimeAndEndsAtSignOut) {
  auto user = engine_->AddUser("ada@example.com", kPassword);
  ASSERT_TRUE(user.has_value());
  auto made = engine_->StartSession(*user);
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(made->token.size(), 64u);
  EXPECT_NE(made->session.token_hash, made->token);
  auto found = engine_->SessionFor(made->token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->email, "ada@example.com");
  EXPECT_EQ(found->csrf_token, made->session.csrf_token);
  EXPECT_FALSE(engine_->SessionFor(made->session.token_hash).has_value());

  Tick(kSessionLifetime);  // the last moment it lasts
  EXPECT_TRUE(engine_->SessionFor(made->token).has_value());
  Tick(1);
  auto ended = engine_->SessionFor(made->token);
  ASSERT_FALSE(ended.has_value());
  EXPECT_EQ(ended.error().code, ErrorCode::kUnauthenticated);

  auto second = engine_->StartSession(*user);
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(second->token, made->token);
  EXPECT_NE(second->session.csrf_token, made->session.csrf_token);
  ASSERT_TRUE(engine_->SignOut(second->token).has_value());
  EXPECT_FALSE(engine_->SessionFor(second->token).has_value());
}

TEST_P(UsersTest, StartingASessionClearsExpiredOnes) {
  auto user = engine_->AddUser("ada@example.com", kPassword);
  ASSERT_TRUE(user.has_value());
  auto old = engine_->StartSession(*user);
  ASSERT_TRUE(old.has_value());
  Tick(kSessionLifetime + 1);
  auto fresh = engine_->StartSession(*user);
  ASSERT_TRUE(fresh.has_value());
  EXPECT_FALSE(store_->FindSession(old->session.token_hash, 0).value().has_value());
  EXPECT_TRUE(store_->FindSession(fresh->session.token_hash, 0).value().has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, UsersTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
