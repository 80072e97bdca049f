// The checker behind `reftrack check`, fed by hand: what the replay accepts and
// what it reports, without a database.
#include "engine/check.h"

#include <gtest/gtest.h>

namespace reftrack {
namespace {

using Change = Store::StoredChange;

Store::StoredReferral Ref(int64_t id, std::string status, std::optional<Micros> qualified_at,
                          std::vector<Change> history) {
  Store::StoredReferral r;
  r.id = id;
  r.campaign_id = 1;
  r.status = std::move(status);
  r.qualified_at = qualified_at;
  r.email = "r" + std::to_string(id) + "@x.com";
  r.history = std::move(history);
  return r;
}

std::string Kinds(const CheckReport& report) {
  std::string out;
  for (const CheckProblem& p : report.problems)
    out += p.kind + ":" + std::to_string(p.referral) + " ";
  return out;
}

TEST(Checker, AcceptsWhatTheRulesAllow) {
  Checker c;
  c.AddReferral(Ref(1, "pending", std::nullopt, {}));
  // Straight to approved: qualified_at is that moment.
  c.AddReferral(Ref(2, "approved", 5, {{1, "pending", "approved", "api", 5}}));
  // Denied -> qualified when never qualified; pending -> qualified again after.
  c.AddReferral(Ref(3, "qualified", 2,
                    {{2, "pending", "denied", "import", 1},
                     {3, "denied", "qualified", "manual", 2},
                     {4, "qualified", "pending", "qualify_upload", 3},
                     {5, "pending", "qualified", "manual", 4}}));
  // A support override (SPEC §10) may reopen an approved referral.
  c.AddReferral(
      Ref(4, "pending", 1,
          {{6, "pending", "approved", "manual", 1}, {7, "approved", "pending", "override", 2}}));
  CheckReport r = c.Finish();
  EXPECT_TRUE(r.ok()) << Kinds(r) << (r.problems.empty() ? "" : r.problems[0].message);
  EXPECT_EQ(r.referrals_checked, 4);
  EXPECT_EQ(r.history_rows_checked, 7);
}

TEST(Checker, ReportsEachBrokenRule) {
  Checker c;
  // Qualified again from denied after an earlier qualification.
  c.AddReferral(Ref(1, "qualified", 1,
                    {{1, "pending", "qualified", "manual", 1},
                     {2, "qualified", "denied", "manual", 2},
                     {3, "denied", "qualified", "manual", 3}}));
  // A row that does not start where the one before ended (a lost update).
  c.AddReferral(Ref(2, "denied", std::nullopt,
                    {{4, "pending", "denied", "manual", 1}, {5, "pending", "denied", "api", 2}}));
  // Status and qualified_at that the history does not lead to.
  c.AddReferral(Ref(3, "approved", 9, {{6, "pending", "qualified", "manual", 4}}));
  // A status no rule knows, and a row that changes nothing.
  c.AddReferral(Ref(4, "pending", std::nullopt,
                    {{7, "pending", "lost", "manual", 1}, {8, "pending", "pending", "manual", 2}}));
  CheckReport r = c.Finish();
  EXPECT_EQ(r.counts["history"], 4) << Kinds(r);
  EXPECT_EQ(r.counts["status"], 1) << Kinds(r);
  EXPECT_EQ(r.counts["qualified_at"], 1) << Kinds(r);
  EXPECT_EQ(r.problem_count, 6) << Kinds(r);
  EXPECT_NE(r.problems[0].message.find("was qualified before"), std::string::npos)
      << r.problems[0].message;
  EXPECT_NE(r.problems[1].message.find("expected a change from denied"), std::string::npos)
      << r.problems[1].message;
}

TEST(Checker, DuplicateRewardsAndTheListCap) {
  Checker c(2);
  c.AddReward({10, 1, 1, "referrer"});
  c.AddReward({11, 1, 1, "referred"});
  c.AddReward({99, 1, 1, "referred"});
  c.AddReward({12, 2, 1, "referred"});
  for (int i = 0; i < 5; ++i) c.AddReferral(Ref(10 + i, "denied", std::nullopt, {}));
  CheckReport r = c.Finish();
  EXPECT_EQ(r.counts["duplicate_reward"], 1);
  EXPECT_EQ(r.counts["status"], 5);
  EXPECT_EQ(r.problem_count, 6);
  EXPECT_EQ(r.problems.size(), 2u) << "listed at most 2; all counted";
  EXPECT_NE(r.problems[0].message.find("rewards 11 and 99"), std::string::npos)
      << r.problems[0].message;
}

TEST(Checker, KeysNotNormalized) {
  Checker c;
  Store::StoredReferral r = Ref(1, "pending", std::nullopt, {});
  r.email = "X@y.com\xC2\xA0";
  r.referral_code =
      "\xE2\x80\x8B"
      "RC";
  r.coupon_code = "CP";
  c.AddReferral(r);
  ASSERT_EQ(c.unnormalized().size(), 2u);
  EXPECT_EQ(c.unnormalized()[0].normalized, "x@y.com");
  EXPECT_EQ(c.unnormalized()[1].normalized, "RC");
  CheckReport report = c.Finish();
  EXPECT_EQ(report.counts["not_normalized"], 2);
  EXPECT_NE(report.problems[0].message.find("found \"X@y.com\\u00a0\""), std::string::npos)
      << report.problems[0].message;
}

}  // namespace
}  // namespace reftrack
