// The engine's retry policy of writes (Engine::InWriteTransaction, RetryingWrites):
// a conflict (Error::conflict, what PostgreSQL's deadlocks and serialization failures
// become) is run again with nothing of the failed try kept; anything else is final.
// tests/process/deadlock_retry_test.cc shows it on a real deadlock.
#include <gtest/gtest.h>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class RetryTest : public EngineTest {
 protected:
  int64_t Campaigns() {
    auto all = engine_->Campaigns();
    EXPECT_TRUE(all.has_value());
    return all ? static_cast<int64_t>(all->size()) : -1;
  }
};

Error Conflict() { return Error{ErrorCode::kStorage, "deadlock detected", true}; }

TEST(RetryPolicy, OnlyStorageConflictsAreRetryable) {
  EXPECT_TRUE(Engine::IsRetryable(Conflict()));
  EXPECT_FALSE(Engine::IsRetryable(Error{ErrorCode::kStorage, "disk full"}));
  EXPECT_FALSE(Engine::IsRetryable(Error{ErrorCode::kRefused, "no", true}));
}

TEST_P(RetryTest, AConflictIsRunAgainWithNothingOfTheFailedTryKept) {
  int calls = 0;
  auto made = engine_->InWriteTransaction([&]() -> Result<Campaign> {
    auto c = engine_->AddCampaign("Try " + std::to_string(++calls));
    if (!c) return c;
    if (calls < 3) return std::unexpected(Conflict());
    return c;
  });
  ASSERT_TRUE(made.has_value()) << made.error().message;
  EXPECT_EQ(made->name, "Try 3");
  EXPECT_EQ(calls, 3);
  auto all = engine_->Campaigns();
  ASSERT_TRUE(all.has_value());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().name, "Try 3");
}

TEST_P(RetryTest, ConflictsAreRetriedAFewTimesOnly) {
  int calls = 0;
  auto done = engine_->InWriteTransaction([&]() -> Result<void> {
    ++calls;
    (void)engine_->AddCampaign("Try " + std::to_string(calls));
    return std::unexpected(Conflict());
  });
  ASSERT_FALSE(done.has_value());
  EXPECT_TRUE(done.error().conflict);
  EXPECT_EQ(calls, Engine::kWriteTries);
  EXPECT_EQ(Campaigns(), 0);
}

TEST_P(RetryTest, OtherErrorsAreFinalAndUndoTheirWrites) {
  for (ErrorCode code : {ErrorCode::kStorage, ErrorCode::kRefused}) {
    int calls = 0;
    auto done = engine_->InWriteTransaction([&]() -> Result<int> {
      ++calls;
      (void)engine_->AddCampaign("Undone");
      return Fail(code, "final");
    });
    ASSERT_FALSE(done.has_value());
    EXPECT_EQ(done.error().message, "final");
    EXPECT_EQ(calls, 1);
  }
  EXPECT_EQ(Campaigns(), 0);
}

TEST_P(RetryTest, WritesInsideCommitTogether) {
  auto done = engine_->InWriteTransaction([&]() -> Result<int> {
    for (const char* name : {"A", "B"}) {
      if (auto c = engine_->AddCampaign(name); !c) return std::unexpected(c.error());
    }
    return 2;
  });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(*done, 2);
  EXPECT_EQ(Campaigns(), 2);
}

TEST_P(RetryTest, ANestedTransactionIsTriedOnceAndTheOuterOneAgain) {
  int outer = 0, inner = 0;
  auto done = engine_->InWriteTransaction([&]() -> Result<void> {
    ++outer;
    return engine_->InWriteTransaction([&]() -> Result<void> {
      if (++inner == 1) return std::unexpected(Conflict());
      return {};
    });
  });
  EXPECT_TRUE(done.has_value());
  EXPECT_EQ(outer, 2);
  EXPECT_EQ(inner, 2);
}

TEST_P(RetryTest, RetryingWritesRunsWorkWithTransactionsOfItsOwnAgain) {
  int calls = 0;
  auto done = engine_->RetryingWrites([&]() -> Result<int64_t> {
    ++calls;
    if (calls == 1) return std::unexpected(Conflict());
    return AddCampaign("Once");
  });
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(Campaigns(), 1);
  calls = 0;
  auto tried_once = engine_->RetryingWrites(
      [&]() -> Result<void> {
        ++calls;
        return std::unexpected(Conflict());
      },
      1);
  EXPECT_FALSE(tried_once.has_value());
  EXPECT_EQ(calls, 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, RetryTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
