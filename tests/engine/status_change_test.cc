// Every (from, to) pair through the engine and a real store, from both kinds of
// denied: the write, the history row, the timestamps, and the refusals.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

// How a referral reaches a starting point, by allowed steps only.
struct Start {
  const char* name;
  std::vector<Status> path;
  Status status;
  bool ever_qualified;
};

const std::vector<Start>& Starts() {
  static const std::vector<Start> starts = {
      {"pending", {}, Status::kPending, false},
      {"qualified", {Status::kQualified}, Status::kQualified, true},
      {"approved", {Status::kApproved}, Status::kApproved, true},
      {"denied never qualified", {Status::kDenied}, Status::kDenied, false},
      {"denied qualified before", {Status::kQualified, Status::kDenied}, Status::kDenied, true},
  };
  return starts;
}

class StatusChangeTest : public EngineTest {};

TEST_P(StatusChangeTest, EveryPairFromEveryStart) {
  AddCampaign("Spring");
  int n = 0;
  for (const Start& start : Starts()) {
    for (Status to : kAllStatuses) {
      SCOPED_TRACE(std::string(start.name) + " -> " + std::string(StatusName(to)));
      int64_t id = AddReferral("Spring", "r" + std::to_string(++n) + "@example.com");
      for (Status step : start.path) ASSERT_TRUE(Change(id, step).has_value());
      Referral before = Get(id);
      ASSERT_EQ(before.status, start.status);
      ASSERT_EQ(before.ever_qualified(), start.ever_qualified);
      size_t history_before = HistoryOf(id).size();

      auto outcome = Change(id, to);
      Referral after = Get(id);
      std::vector<StatusChange> history = HistoryOf(id);

      bool refused = start.status == Status::kApproved && to != Status::kApproved;
      refused |= start.status == Status::kDenied && to == Status::kQualified && start.ever_qualified;
      if (refused) {
        ASSERT_FALSE(outcome.has_value());
        EXPECT_EQ(outcome.error().code, ErrorCode::kRefused);
        EXPECT_NE(outcome.error().message.find("referral " + std::to_string(id)),
                  std::string::npos);
        EXPECT_EQ(after.status, start.status);
        EXPECT_EQ(after.status_changed_at, before.status_changed_at);
        EXPECT_EQ(history.size(), history_before);
      } else if (to == start.status) {
        ASSERT_TRUE(outcome.has_value());
        EXPECT_FALSE(outcome->changed);
        EXPECT_EQ(after.status_changed_at, before.status_changed_at);
        EXPECT_EQ(history.size(), history_before) << "unchanged writes no history";
      } else {
        ASSERT_TRUE(outcome.has_value()) << outcome.error().message;
        EXPECT_TRUE(outcome->changed);
        EXPECT_EQ(after.status, to);
        EXPECT_EQ(after.status_changed_at, now_);
        ASSERT_EQ(history.size(), history_before + 1);
        const StatusChange& row = history.back();
        EXPECT_EQ(row.from, start.status);
        EXPECT_EQ(row.to, to);
        EXPECT_EQ(row.at, now_);
        EXPECT_EQ(row.source, ChangeSource::kManual);
        EXPECT_EQ(row.actor, "test");
      }
    }
  }
}

TEST_P(StatusChangeTest, QualifiedAtIsSetOnceAndKeptThroughLaterChanges) {
  AddCampaign("Spring");
  int64_t id = AddReferral("Spring", "a@example.com");
  ASSERT_TRUE(Change(id, Status::kQualified));
  const Micros first = now_;
  for (Status s : {Status::kPending, Status::kQualified, Status::kDenied, Status::kPending,
                   Status::kQualified, Status::kApproved}) {
    ASSERT_TRUE(Change(id, s)) << StatusName(s);
    EXPECT_EQ(Get(id).qualified_at, first);
  }
  EXPECT_EQ(Get(id).approved_at, now_);
}

TEST_P(StatusChangeTest, PendingToApprovedSetsQualifiedAtInOneHistoryRow) {
  AddCampaign("Spring");
  int64_t id = AddReferral("Spring", "a@example.com");
  ASSERT_TRUE(Change(id, Status::kApproved));
  Referral r = Get(id);
  EXPECT_EQ(r.qualified_at, now_);
  EXPECT_EQ(r.approved_at, now_);
  auto history = HistoryOf(id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].from, Status::kPending);
  EXPECT_EQ(history[0].to, Status::kApproved);
}

TEST_P(StatusChangeTest, DeniedNeverQualifiedMayBeQualifiedOnlyOnce) {
  AddCampaign("Spring");
  int64_t id = AddReferral("Spring", "a@example.com");
  ASSERT_TRUE(Change(id, Status::kDenied));
  ASSERT_TRUE(Change(id, Status::kQualified));
  ASSERT_TRUE(Change(id, Status::kDenied));
  auto again = Change(id, Status::kQualified);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().message, "referral " + std::to_string(id) +
                                       " was qualified before; it cannot be qualified again "
                                       "from denied");
  // The way back through pending stays open.
  ASSERT_TRUE(Change(id, Status::kPending));
  ASSERT_TRUE(Change(id, Status::kQualified));
}

TEST_P(StatusChangeTest, UnknownReferralIsNotFound) {
  auto r = Change(12345, Status::kQualified);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

INSTANTIATE_TEST_SUITE_P(Stores, StatusChangeTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing

namespace reftrack::testing {
namespace {

// `referral show` (Engine::Details) reads the referral, its history and its rewards as
// of one moment while another connection keeps changing them: the status shown is
// always the last change shown, and every qualification shown has its reward.
class DetailsSnapshotTest : public EngineTest {};

TEST_P(DetailsSnapshotTest, ShowsOneMomentWhileAnotherWriterChangesIt) {
  AddCampaign("Spring");
  ASSERT_TRUE(engine_->AddRewardRule({"Spring", "qualified", "referred", "5", "", ""}));
  const int64_t id = AddReferral("Spring", "a@x.com");
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    auto store = Store::Open(url_);
    ASSERT_TRUE(store.has_value()) << store.error().message;
    Engine engine(**store);
    ChangeContext context{ChangeSource::kApi, "writer", {}};
    for (int i = 0; !stop && i < 2000; ++i) {
      auto done = engine.ChangeStatus(id, i % 2 == 0 ? Status::kQualified : Status::kPending,
                                      context);
      if (done) ++writes;
    }
  });
  int reads = 0;
  ReferralKey key{ReferralKey::Kind::kEmail, 0, "a@x.com", "Spring"};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < deadline && (reads < 200 || writes < 50)) {
    auto details = engine_->Details(key);
    ASSERT_TRUE(details.has_value()) << details.error().message;
    const Status last = details->history.empty() ? Status::kPending : details->history.back().to;
    ASSERT_EQ(details->referral.status, last) << "after " << details->history.size() << " changes";
    ASSERT_EQ(details->rewards.size(), details->referral.ever_qualified() ? 1u : 0u);
    ++reads;
  }
  stop = true;
  writer.join();
  EXPECT_GT(writes.load(), 0);
  EXPECT_GT(reads, 0);
}

INSTANTIATE_TEST_SUITE_P(Stores, DetailsSnapshotTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
