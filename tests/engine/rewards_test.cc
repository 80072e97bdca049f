// Rewards (SPEC §3) on every store: each trigger, both recipients, the pass-through
// of approved, at most once per (rule, referral, recipient) whatever path re-enters a
// status (single changes, imports, qualify uploads, loads), rules on denied refused.
#include <gtest/gtest.h>

#include <map>
#include <tuple>

#include "engine/bulk_update.h"
#include "engine/qualify_upload.h"
#include "engine/referral_loader.h"
#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class RewardsTest : public EngineTest {
 protected:
  void SetUp() override {
    EngineTest::SetUp();
    AddCampaign("Spring");
    MemberInput advocate{"Spring", "adv@x.com", "Ada", ""};
    ASSERT_TRUE(engine_->AddMember(advocate).has_value());
  }

  int64_t Rule(const std::string& on, const std::string& to,
               const std::string& campaign = "Spring") {
    auto rule = engine_->AddRewardRule(RewardRuleInput{campaign, on, to, "10", "USD", ""});
    EXPECT_TRUE(rule.has_value()) << (rule ? "" : rule.error().message);
    return rule ? rule->id : 0;
  }

  int64_t Referred(const std::string& email, bool with_referrer = true) {
    ReferralInput in;
    in.campaign = "Spring";
    in.email = email;
    if (with_referrer) in.referrer_email = "adv@x.com";
    auto r = engine_->AddReferral(in);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? r->id : 0;
  }

  // (rule, recipient) -> how many rewards the referral has.
  std::map<std::pair<int64_t, std::string>, int> RewardsOf(int64_t referral_id) {
    auto rewards = store_->ListRewards(RewardFilter{std::nullopt, referral_id, std::nullopt});
    EXPECT_TRUE(rewards.has_value());
    std::map<std::pair<int64_t, std::string>, int> out;
    for (const Reward& w : rewards.value_or(std::vector<Reward>{})) {
      ++out[{w.rule_id, std::string(RecipientName(w.recipient))}];
    }
    return out;
  }

  void Walk(int64_t id, std::initializer_list<Status> steps) {
    for (Status s : steps) ASSERT_TRUE(Change(id, s).has_value()) << StatusName(s);
  }
};

using Got = std::map<std::pair<int64_t, std::string>, int>;

TEST_P(RewardsTest, EveryTriggerToBothRecipients) {
  const int64_t pending = Rule("pending", "both");
  const int64_t qualified = Rule("qualified", "referrer");
  const int64_t approved = Rule("approved", "referred");
  const int64_t id = Referred("a@x.com");
  EXPECT_EQ(RewardsOf(id), (Got{{{pending, "referrer"}, 1}, {{pending, "referred"}, 1}}))
      << "creating a referral enters pending";
  Walk(id, {Status::kQualified});
  EXPECT_EQ(RewardsOf(id).count({qualified, "referrer"}), 1u);
  EXPECT_EQ(RewardsOf(id).size(), 3u);
  Walk(id, {Status::kApproved});
  EXPECT_EQ(RewardsOf(id), (Got{{{pending, "referrer"}, 1},
                                {{pending, "referred"}, 1},
                                {{qualified, "referrer"}, 1},
                                {{approved, "referred"}, 1}}));
  // The reward carries the rule's terms and who gets it.
  auto rewards = engine_->Rewards(RewardQuery{"Spring", id, std::nullopt});
  ASSERT_TRUE(rewards.has_value());
  for (const Reward& w : *rewards) {
    EXPECT_EQ(w.amount, "10");
    EXPECT_EQ(w.currency, "USD");
    EXPECT_EQ(w.state, RewardState::kIssued);
    EXPECT_EQ(w.recipient_email, w.recipient == Recipient::kReferrer ? "adv@x.com" : "a@x.com");
    EXPECT_EQ(w.campaign, "Spring");
  }
}

TEST_P(RewardsTest, ApprovedPassesThroughQualifiedOnlyTheFirstTime) {
  const int64_t qualified = Rule("qualified", "referred");
  const int64_t approved = Rule("approved", "referred");
  const int64_t direct = Referred("direct@x.com");
  Walk(direct, {Status::kApproved});
  EXPECT_EQ(RewardsOf(direct), (Got{{{qualified, "referred"}, 1}, {{approved, "referred"}, 1}}));
  // Denied, never qualified, then approved: passes through qualified too.
  const int64_t denied = Referred("denied@x.com");
  Walk(denied, {Status::kDenied, Status::kApproved});
  EXPECT_EQ(RewardsOf(denied), (Got{{{qualified, "referred"}, 1}, {{approved, "referred"}, 1}}));
  // Qualified long ago, back to pending, then approved: the qualified reward is not
  // issued again.
  const int64_t again = Referred("again@x.com");
  Walk(again, {Status::kQualified, Status::kPending, Status::kApproved});
  EXPECT_EQ(RewardsOf(again), (Got{{{qualified, "referred"}, 1}, {{approved, "referred"}, 1}}));
}

TEST_P(RewardsTest, ReenteringAStatusIssuesNothingMore) {
  const int64_t pending = Rule("pending", "referred");
  const int64_t qualified = Rule("qualified", "both");
  const int64_t id = Referred("a@x.com");
  Walk(id, {Status::kDenied, Status::kPending, Status::kQualified, Status::kPending,
            Status::kQualified, Status::kDenied, Status::kPending});
  EXPECT_EQ(RewardsOf(id), (Got{{{pending, "referred"}, 1},
                                {{qualified, "referrer"}, 1},
                                {{qualified, "referred"}, 1}}));
}

TEST_P(RewardsTest, NoReferrerNoReferrerReward) {
  const int64_t rule = Rule("qualified", "both");
  const int64_t id = Referred("alone@x.com", /*with_referrer=*/false);
  Walk(id, {Status::kQualified});
  EXPECT_EQ(RewardsOf(id), (Got{{{rule, "referred"}, 1}}));
}

TEST_P(RewardsTest, BadRulesAreRefusedAndRemovedRulesIssueNothing) {
  auto denied = engine_->AddRewardRule(RewardRuleInput{"Spring", "denied", "both", "5", "USD", ""});
  ASSERT_FALSE(denied.has_value());
  EXPECT_EQ(denied.error().code, ErrorCode::kInvalidInput);
  EXPECT_NE(denied.error().message.find("cannot be on denied"), std::string::npos);
  struct Bad {
    RewardRuleInput input;
    const char* says;
  } bad[] = {
      {{"Spring", "qualified", "both", "", "", ""}, "needs an amount"},
      {{"Spring", "qualified", "both", "10", "US", ""}, "is not a currency"},
      {{"Spring", "qualified", "both", "10", "dollars", ""}, "is not a currency"},
      {{"Spring", "qualified", "both", "ten", "USD", ""}, "is not a decimal"},
      {{"Spring", "qualified", "both", "", "USD", "x"}, "a currency needs an amount"},
      {{"Spring", "soon", "both", "10", "USD", ""}, "is not a status"},
      {{"Spring", "qualified", "nobody", "10", "USD", ""}, "is not a recipient"},
      {{"Nope", "qualified", "both", "10", "USD", ""}, "does not exist"},
  };
  for (const Bad& b : bad) {
    auto r = engine_->AddRewardRule(b.input);
    ASSERT_FALSE(r.has_value()) << b.says;
    EXPECT_NE(r.error().message.find(b.says), std::string::npos) << r.error().message;
  }
  auto rules = engine_->RewardRules("Spring");
  ASSERT_TRUE(rules.has_value());
  EXPECT_TRUE(rules->empty()) << "a refused rule was stored";

  const int64_t kept = Rule("qualified", "referred");
  const int64_t removed = Rule("qualified", "referrer");
  ASSERT_TRUE(engine_->RemoveRewardRule(removed).has_value());
  EXPECT_FALSE(engine_->RemoveRewardRule(removed).has_value()) << "removed twice";
  const int64_t id = Referred("a@x.com");
  Walk(id, {Status::kQualified});
  EXPECT_EQ(RewardsOf(id), (Got{{{kept, "referred"}, 1}}));
}

TEST_P(RewardsTest, AnAmountWithoutCurrencyIsInTheCampaignsCurrency) {
  auto usd = engine_->AddRewardRule(RewardRuleInput{"Spring", "qualified", "both", "50", "", ""});
  ASSERT_TRUE(usd.has_value()) << usd.error().message;
  EXPECT_EQ(usd->currency, "USD") << "a new campaign's currency";

  auto set = engine_->SetCampaignCurrency(" Spring ", "eur");
  ASSERT_TRUE(set.has_value()) << set.error().message;
  EXPECT_EQ(set->currency, "EUR");
  auto eur = engine_->AddRewardRule(RewardRuleInput{"Spring", "approved", "referrer", "5", "", ""});
  ASSERT_TRUE(eur.has_value()) << eur.error().message;
  EXPECT_EQ(eur->currency, "EUR");
  auto named = engine_->AddRewardRule(RewardRuleInput{"Spring", "approved", "referred", "5", "gbp", ""});
  ASSERT_TRUE(named.has_value()) << named.error().message;
  EXPECT_EQ(named->currency, "GBP") << "a rule's own currency wins";

  auto bad = engine_->SetCampaignCurrency("Spring", "euro");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().message.find("is not a currency"), std::string::npos);
  auto unknown = engine_->SetCampaignCurrency("Nope", "EUR");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  auto campaign = store_->FindCampaign("Spring");
  ASSERT_TRUE(campaign.has_value() && campaign->has_value());
  EXPECT_EQ((*campaign)->currency, "EUR") << "a refused currency changed the campaign";
}

TEST_P(RewardsTest, ImportsQualifyUploadsAndLoadsIssueEachRewardOnce) {
  const int64_t pending = Rule("pending", "referred");
  const int64_t qualified = Rule("qualified", "both");
  const int64_t approved = Rule("approved", "referrer");
  AddCampaign("Fall");  // no rules
  const int64_t a = Referred("a@x.com");
  const int64_t b = Referred("b@x.com");

  // A load creates referrals: pending rules fire for Spring's, not for Fall's, and not
  // for a@x.com of Spring again.
  {
    csv::Reader reader(
        "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n"
        "Spring,c@x.com,,,,,adv@x.com\n"
        "Fall,a@x.com,,,,,\n"
        "Spring,a@x.com,,,,,\n");
    auto loaded = LoadReferrals(*engine_, reader, nullptr);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().message;
    EXPECT_EQ(loaded->created, 2);
  }
  const int64_t c =
      engine_->Resolve(ReferralKey{ReferralKey::Kind::kEmail, 0, "c@x.com", "Spring"})->id;
  const int64_t fall_a =
      engine_->Resolve(ReferralKey{ReferralKey::Kind::kEmail, 0, "a@x.com", "Fall"})->id;
  EXPECT_EQ(RewardsOf(c), (Got{{{pending, "referred"}, 1}}));
  EXPECT_EQ(RewardsOf(fall_a), Got{});
  EXPECT_EQ(RewardsOf(a), (Got{{{pending, "referred"}, 1}}));

  // An import walks a through qualified, pending and approved, and b to approved.
  Tick();
  const std::string updates = "referralkey_id,status\n" + std::to_string(a) + ",qualified\n" +
                              std::to_string(a) + ",pending\n" + std::to_string(a) + ",approved\n" +
                              std::to_string(b) + ",approved\n";
  for (int run = 0; run < 2; ++run) {  // the second run changes nothing
    csv::Reader reader(updates);
    auto imported = ApplyImport(*engine_, reader, ImportSource{"u.csv", "test", nullptr}, nullptr);
    ASSERT_TRUE(imported.has_value()) << imported.error().message;
  }
  const Got walked{{{pending, "referred"}, 1},
                   {{qualified, "referrer"}, 1},
                   {{qualified, "referred"}, 1},
                   {{approved, "referrer"}, 1}};
  EXPECT_EQ(RewardsOf(a), walked);
  EXPECT_EQ(RewardsOf(b), walked) << "approved from pending passes through qualified";

  // A qualify upload qualifies c (and the Fall referral, whose campaign has no rules).
  for (int run = 0; run < 2; ++run) {
    csv::Reader reader("c@x.com\na@x.com\n");
    auto applied = ApplyQualify(*engine_, reader, QualifyRequest{QualifyBy::kEmail, "Spring"},
                                ImportSource{"q.csv", "test", nullptr}, nullptr);
    ASSERT_TRUE(applied.has_value()) << applied.error().message;
    EXPECT_EQ(applied->qualified, run == 0 ? 1 : 0);
  }
  EXPECT_EQ(RewardsOf(c), (Got{{{pending, "referred"}, 1},
                               {{qualified, "referrer"}, 1},
                               {{qualified, "referred"}, 1}}));
}

TEST_P(RewardsTest, MarkPaidTurnsIssuedIntoAPayoutState) {
  Rule("qualified", "both");
  const int64_t id = Referred("a@x.com");
  Walk(id, {Status::kQualified});
  auto rewards = engine_->Rewards(RewardQuery{"", id, RewardState::kIssued});
  ASSERT_TRUE(rewards.has_value());
  ASSERT_EQ(rewards->size(), 2u);
  Tick();
  std::vector<int64_t> ids = {(*rewards)[0].id, 9999};
  auto marked = engine_->MarkRewardsPaid(ids);
  ASSERT_TRUE(marked.has_value());
  EXPECT_EQ(*marked, 1);
  EXPECT_EQ(*engine_->MarkRewardsPaid(ids), 0) << "paid twice";
  auto paid = engine_->Rewards(RewardQuery{"", id, RewardState::kPaid});
  ASSERT_TRUE(paid.has_value());
  ASSERT_EQ(paid->size(), 1u);
  EXPECT_EQ(paid->front().paid_at, now_);
  EXPECT_EQ(engine_->Rewards(RewardQuery{"", id, RewardState::kIssued})->size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, RewardsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
