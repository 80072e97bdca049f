// The write queue on real stores: jobs that arrive together share one commit, a job
// that fails undoes only its own writes, and a database failure retries each job of
// the group alone. Also the nested write transactions (savepoints) it stands on.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <latch>

#include "http/write_queue.h"
#include "support/test_db.h"

namespace reftrack::http {
namespace {

using reftrack::testing::FreshDatabaseUrl;
using reftrack::testing::QueryRows;
using reftrack::testing::StoreKinds;
using reftrack::testing::TempDir;

class WriteQueueTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    url_ = FreshDatabaseUrl(GetParam(), dir_);
    auto store = Store::Open(url_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    store_ = std::move(*store);
    engine_ = std::make_unique<Engine>(*store_);
    ASSERT_TRUE(engine_->AddCampaign("Spring").has_value());
  }

  int64_t Count(const std::string& sql) { return std::stoll(QueryRows(url_, sql)[0][0]); }

  // A job that adds a referral to Spring, answered 201.
  static WriteQueue::Job AddJob(std::string email) {
    return [email](Engine& engine) -> Result<Response> {
      auto r = engine.AddReferral(ReferralInput{"Spring", email});
      if (!r) return std::unexpected(r.error());
      return Json(201, "{}");
    };
  }

  std::unique_ptr<WriteQueue> Queue(int writers = 1) {
    std::vector<std::unique_ptr<Engine>> engines;
    for (int i = 0; i < writers; ++i) engines.push_back(std::move(*Engine::Open(url_)));
    return std::make_unique<WriteQueue>(std::move(engines));
  }

  TempDir dir_;
  std::string url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Engine> engine_;
};

TEST_P(WriteQueueTest, ANestedTransactionRolledBackUndoesOnlyItself) {
  {
    auto outer = store_->BeginWrite();
    ASSERT_TRUE(outer.has_value());
    ASSERT_TRUE(store_->CreateCampaign("Kept", 1).has_value());
    {
      auto inner = store_->BeginWrite();
      ASSERT_TRUE(inner.has_value());
      ASSERT_TRUE(store_->CreateCampaign("Undone", 2).has_value());
    }  // rolled back
    {
      auto inner = store_->BeginWrite();
      ASSERT_TRUE(inner.has_value());
      ASSERT_TRUE(store_->CreateCampaign("Also kept", 3).has_value());
      ASSERT_TRUE(inner->Commit().has_value());
    }
    ASSERT_TRUE(outer->Commit().has_value());
  }
  EXPECT_EQ(QueryRows(url_, "SELECT name FROM campaigns ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"Spring"}, {"Kept"}, {"Also kept"}}));
}

TEST_P(WriteQueueTest, ConcurrentJobsAreAllAnsweredAfterTheirCommit) {
  auto queue = Queue();
  constexpr int kJobs = 200;
  std::vector<std::promise<Response>> answers(kJobs);
  std::latch start(1);
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      start.wait();
      for (int i = t; i < kJobs; i += 4) {
        queue->Submit(
            [i](Engine& engine) -> Result<Response> {
              ReferralInput in{"Spring", "r" + std::to_string(i) + "@example.com"};
              auto r = engine.AddReferral(in);
              if (!r) return std::unexpected(r.error());
              return Json(201, std::to_string(r->id));
            },
            [&answers, i](Response r) { answers[i].set_value(std::move(r)); });
      }
    });
  }
  start.count_down();
  for (std::thread& t : clients) t.join();
  std::set<std::string> ids;
  for (auto& a : answers) {
    Response r = a.get_future().get();
    EXPECT_EQ(r.status, 201);
    ids.insert(r.body);
  }
  EXPECT_EQ(ids.size(), size_t{kJobs});
  // Answered means committed: another connection sees every row.
  EXPECT_EQ(Count("SELECT count(*) FROM referrals"), kJobs);
  EXPECT_GE(queue->grouped_jobs(), uint64_t{kJobs});
}

TEST_P(WriteQueueTest, AFailingJobUndoesItsWritesAndNotItsNeighbours) {
  auto queue = Queue();
  std::promise<void> hold;
  std::shared_future<void> held = hold.get_future().share();
  // The first job blocks the writer, so the next three queue up and form one group.
  std::promise<Response> first, good1, bad, good2;
  queue->SubmitAlone([held](Engine&) { held.wait(); return Json(200, "{}"); },
                     [&](Response r) { first.set_value(std::move(r)); });
  queue->Submit(AddJob("a@example.com"), [&](Response r) { good1.set_value(std::move(r)); });
  queue->Submit(
      [](Engine& engine) -> Result<Response> {
        // Writes, then fails as a refused change would: its write must not be kept.
        auto tx = engine.store().BeginWrite();
        if (!tx) return std::unexpected(tx.error());
        (void)engine.store().CreateCampaign("Written by a failing job", 5);
        return Fail(ErrorCode::kRefused, "refused on purpose");
      },
      [&](Response r) { bad.set_value(std::move(r)); });
  queue->Submit(AddJob("b@example.com"), [&](Response r) { good2.set_value(std::move(r)); });
  hold.set_value();
  EXPECT_EQ(first.get_future().get().status, 200);
  EXPECT_EQ(good1.get_future().get().status, 201);
  Response refused = bad.get_future().get();
  EXPECT_EQ(refused.status, 409);
  EXPECT_NE(refused.body.find("refused on purpose"), std::string::npos);
  EXPECT_EQ(good2.get_future().get().status, 201);
  EXPECT_EQ(Count("SELECT count(*) FROM referrals"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM campaigns WHERE name LIKE 'Written%'"), 0);
  EXPECT_EQ(queue->groups(), 1u) << "the three jobs should have shared one commit";
}

TEST_P(WriteQueueTest, ADatabaseFailureRetriesEachJobAlone) {
  auto queue = Queue();
  std::promise<void> hold;
  std::shared_future<void> held = hold.get_future().share();
  std::promise<Response> first, good, flaky, good2;
  queue->SubmitAlone([held](Engine&) { held.wait(); return Json(200, "{}"); },
                     [&](Response r) { first.set_value(std::move(r)); });
  // Fails with a storage error the first time only: in the group, then succeeds alone.
  auto calls = std::make_shared<std::atomic<int>>(0);
  queue->Submit(AddJob("a@example.com"), [&](Response r) { good.set_value(std::move(r)); });
  queue->Submit(
      [calls](Engine& engine) -> Result<Response> {
        if (calls->fetch_add(1) == 0) return Fail(ErrorCode::kStorage, "disk hiccup");
        auto r = engine.AddReferral(ReferralInput{"Spring", "flaky@example.com"});
        if (!r) return std::unexpected(r.error());
        return Json(201, "{}");
      },
      [&](Response r) { flaky.set_value(std::move(r)); });
  queue->Submit(AddJob("c@example.com"), [&](Response r) { good2.set_value(std::move(r)); });
  hold.set_value();
  first.get_future().get();
  EXPECT_EQ(good.get_future().get().status, 201);
  EXPECT_EQ(flaky.get_future().get().status, 201);
  EXPECT_EQ(good2.get_future().get().status, 201);
  EXPECT_EQ(calls->load(), 2);
  // Each row once: the group's first try was rolled back whole.
  EXPECT_EQ(Count("SELECT count(*) FROM referrals"), 3);
}

TEST_P(WriteQueueTest, AJobFailingAloneWithTheDatabaseIsAnswered503) {
  auto queue = Queue();
  std::promise<Response> answer;
  queue->Submit([](Engine&) -> Result<Response> { return Fail(ErrorCode::kStorage, "gone"); },
                [&](Response r) { answer.set_value(std::move(r)); });
  Response r = answer.get_future().get();
  EXPECT_EQ(r.status, 503);
  EXPECT_NE(r.body.find("gone"), std::string::npos);
}

// A job alone that loses a conflict (a deadlock on PostgreSQL) is run again, as the
// engine's retry policy says; a failure that is not a conflict is answered at once.
TEST_P(WriteQueueTest, AConflictAloneIsTriedAgain) {
  auto queue = Queue();
  auto calls = std::make_shared<std::atomic<int>>(0);
  std::promise<Response> answer;
  queue->Submit(
      [calls](Engine& engine) -> Result<Response> {
        auto r = engine.AddReferral(ReferralInput{"Spring", "retried@example.com"});
        if (!r) return std::unexpected(r.error());
        if (calls->fetch_add(1) < 2) {
          return std::unexpected(Error{ErrorCode::kStorage, "deadlock detected", true});
        }
        return Json(201, "{}");
      },
      [&](Response r) { answer.set_value(std::move(r)); });
  EXPECT_EQ(answer.get_future().get().status, 201);
  EXPECT_EQ(calls->load(), 3);
  EXPECT_EQ(Count("SELECT count(*) FROM referrals"), 1) << "the failed tries were rolled back";

  auto once = std::make_shared<std::atomic<int>>(0);
  std::promise<Response> failed;
  queue->Submit(
      [once](Engine&) -> Result<Response> {
        once->fetch_add(1);
        return Fail(ErrorCode::kStorage, "disk full");
      },
      [&](Response r) { failed.set_value(std::move(r)); });
  EXPECT_EQ(failed.get_future().get().status, 503);
  EXPECT_EQ(once->load(), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, WriteQueueTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::http
