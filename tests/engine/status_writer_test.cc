// The one status writer on every store: a batch of steps is checked against the rules
// and written whole (statuses, timestamps, history in order, rewards) or not at all;
// a single change is a batch of one; creations issue pending rewards.
#include "engine/status_writer.h"

#include <gtest/gtest.h>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class StatusWriterTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    campaign_ = AddCampaign("Spring");
    ASSERT_TRUE(engine_->AddMember(MemberInput{"Spring", "adv@x.com", "Ada", ""}).has_value());
  }

  int64_t Referred(const std::string& email) {
    ReferralInput in;
    in.campaign = "Spring";
    in.email = email;
    in.referrer_email = "adv@x.com";
    auto r = engine_->AddReferral(in);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->id : 0;
  }

  void Rule(const std::string& on) {
    auto rule = engine_->AddRewardRule(RewardRuleInput{"Spring", on, "both", "5", "USD", ""});
    ASSERT_TRUE(rule.has_value()) << rule.error().message;
  }

  StatusStep Step(int64_t id, Status from, Status to, bool was_ever_qualified) {
    return {id, Get(id).referrer_id.value_or(0), static_cast<int32_t>(campaign_), from, to,
            was_ever_qualified};
  }

  // Writes `steps` in one transaction, committed only when the write succeeds.
  Result<void> WriteInTransaction(std::vector<StatusStep> steps) {
    auto tx = store_->BeginWrite();
    EXPECT_TRUE(tx.has_value());
    StatusWriter writer(*store_, Tick(), ChangeContext{ChangeSource::kImport, "t", 7});
    auto ok = writer.Write(steps);
    if (ok) {
      EXPECT_TRUE(tx->Commit().has_value());
    }
    return ok;
  }

  size_t RewardCount() {
    auto rewards = engine_->Rewards({});
    EXPECT_TRUE(rewards.has_value());
    return rewards ? rewards->size() : 0;
  }

  int64_t campaign_ = 0;
};

TEST_P(StatusWriterTest, StepsOfManyReferralsWrittenByReferralInTheirOrder) {
  Rule("qualified");
  Rule("approved");
  int64_t a = Referred("a@x.com"), b = Referred("b@x.com");
  // Interleaved: b's step comes between a's two; a goes through qualified to approved.
  ASSERT_TRUE(WriteInTransaction({Step(a, Status::kPending, Status::kQualified, false),
                                  Step(b, Status::kPending, Status::kDenied, false),
                                  Step(a, Status::kQualified, Status::kApproved, true)})
                  .has_value());
  Referral ra = Get(a), rb = Get(b);
  EXPECT_EQ(ra.status, Status::kApproved);
  EXPECT_EQ(ra.qualified_at, now_);
  EXPECT_EQ(ra.approved_at, now_);
  EXPECT_EQ(ra.status_changed_at, now_);
  EXPECT_EQ(rb.status, Status::kDenied);
  EXPECT_EQ(rb.denied_at, now_);
  EXPECT_FALSE(rb.qualified_at.has_value());
  auto history = HistoryOf(a);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].from, Status::kPending);
  EXPECT_EQ(history[0].to, Status::kQualified);
  EXPECT_EQ(history[1].to, Status::kApproved);
  EXPECT_EQ(history[1].source, ChangeSource::kImport);
  EXPECT_EQ(history[1].actor, "t");
  EXPECT_EQ(history[1].batch_id, 7);
  EXPECT_EQ(HistoryOf(b).size(), 1u);
  // a entered qualified and approved: two rules, two recipients each; b nothing.
  EXPECT_EQ(RewardCount(), 4u);
  auto stats = engine_->CountReferrals("");
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->all.by_status[static_cast<int>(Status::kApproved)], 1);
  EXPECT_EQ(stats->all.by_status[static_cast<int>(Status::kDenied)], 1);
  EXPECT_EQ(stats->all.by_status[static_cast<int>(Status::kPending)], 0);
}

TEST_P(StatusWriterTest, ApprovedWithoutQualificationSetsQualifiedAtAndIssuesBoth) {
  Rule("qualified");
  int64_t a = Referred("a@x.com");
  ASSERT_TRUE(WriteInTransaction({Step(a, Status::kPending, Status::kApproved, false)}));
  EXPECT_EQ(Get(a).qualified_at, now_);
  EXPECT_EQ(RewardCount(), 2u);  // approved passes through qualified
}

TEST_P(StatusWriterTest, ARefusedStepFailsTheWholeWrite) {
  int64_t a = Referred("a@x.com"), b = Referred("b@x.com");
  ASSERT_TRUE(WriteInTransaction({Step(a, Status::kPending, Status::kApproved, false)}));
  const Micros before = now_;
  struct Bad {
    std::vector<StatusStep> steps;
    std::string message;
  };
  for (const Bad& bad : std::vector<Bad>{
           {{Step(b, Status::kPending, Status::kQualified, false),
             Step(a, Status::kApproved, Status::kPending, true)},
            "approved"},
           {{Step(b, Status::kPending, Status::kPending, false)}, "already"},
           {{Step(b, Status::kPending, Status::kQualified, false),
             Step(b, Status::kPending, Status::kDenied, false)},
            "does not follow"},
           {{Step(b, Status::kPending, Status::kQualified, false),
             Step(b, Status::kQualified, Status::kDenied, true),
             Step(b, Status::kDenied, Status::kQualified, true)},
            "qualified before"}}) {
    auto ok = WriteInTransaction(bad.steps);
    ASSERT_FALSE(ok.has_value());
    EXPECT_EQ(ok.error().code, ErrorCode::kRefused);
    EXPECT_NE(ok.error().message.find(bad.message), std::string::npos) << ok.error().message;
  }
  EXPECT_EQ(Get(a).status, Status::kApproved);
  EXPECT_EQ(Get(a).status_changed_at, before);
  EXPECT_EQ(Get(b).status, Status::kPending);
  EXPECT_TRUE(HistoryOf(b).empty());
}

TEST_P(StatusWriterTest, ASingleChangeIsABatchOfOne) {
  Rule("qualified");
  int64_t a = Referred("a@x.com");
  auto tx = store_->BeginWrite();
  ASSERT_TRUE(tx.has_value());
  auto referral = store_->LockReferral(a);
  ASSERT_TRUE(referral.has_value() && referral->has_value());
  StatusWriter writer(*store_, Tick(), ChangeContext{ChangeSource::kApi, "k", {}});
  auto same = writer.Change(**referral, Status::kPending);
  ASSERT_TRUE(same.has_value());
  EXPECT_FALSE(same->changed);
  auto changed = writer.Change(**referral, Status::kQualified);
  ASSERT_TRUE(changed.has_value());
  EXPECT_TRUE(changed->changed);
  EXPECT_EQ((*referral)->status, Status::kQualified);  // updated to what was written
  auto refused = writer.Change(**referral, Status::kQualified);
  ASSERT_TRUE(refused.has_value());
  EXPECT_FALSE(refused->changed);
  ASSERT_TRUE(tx->Commit().has_value());
  EXPECT_EQ(Get(a).qualified_at, now_);
  EXPECT_EQ(HistoryOf(a).size(), 1u);
  EXPECT_EQ(RewardCount(), 2u);
}

TEST_P(StatusWriterTest, CreatedReferralsGetThePendingRulesRewardsOnce) {
  Rule("pending");
  int64_t a = Referred("a@x.com");  // AddReferral issues through the writer
  EXPECT_EQ(RewardCount(), 2u);
  auto tx = store_->BeginWrite();
  ASSERT_TRUE(tx.has_value());
  StatusWriter writer(*store_, Tick(), {});
  auto on = writer.RewardsOnCreation(campaign_);
  ASSERT_TRUE(on.has_value());
  EXPECT_TRUE(*on);
  CreatedReferral again{a, campaign_, Get(a).referrer_id};
  ASSERT_TRUE(writer.Created({&again, 1}).has_value());
  ASSERT_TRUE(tx->Commit().has_value());
  EXPECT_EQ(RewardCount(), 2u);  // at most once per (rule, referral, recipient)
}

INSTANTIATE_TEST_SUITE_P(Stores, StatusWriterTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
