// Two real processes racing on the same referrals in one database (one SQLite file,
// or one PostgreSQL database) never produce a history that breaks the table of
// SPEC §2, nor a reward that SPEC §3 does not give, or gives twice.
//
// Two reftrack_race_worker processes (race_worker.cc) change the statuses of the
// same few referrals at random, at the same time, through Engine::ChangeStatus.
// Afterwards every referral's history is replayed from the database and checked
// against the rules as SPEC §2 and §3 state them (process/history_check.h), and so
// are its rewards.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "process/child_process.h"
#include "process/history_check.h"
#include "store/store.h"
#include "support/test_db.h"

namespace reftrack {
namespace {

using testing::CheckRewards;
using testing::FreshDatabaseUrl;
using testing::JoinLines;
using testing::QueryRows;
using testing::ReadWholeFile;
using testing::ReplayHistory;
using testing::SpawnChild;
using testing::StoreKinds;
using testing::StatusText;
using testing::TempDir;

// Referrals raced on, and status changes each worker attempts. Every committed change
// is an fsync (synchronous = FULL), which sets the run time.
constexpr int64_t kReferrals = 20;
constexpr int kIterations = 1000;
constexpr uint64_t kSeeds[2] = {1101, 2203};
// Upper bound of the random pause of a worker between two changes (race_worker.cc).
constexpr int kPauseMicros = 2000;

// The replay (process/history_check.h) as the checker's tests below call it.
std::vector<std::string> CheckHistory(const Referral& final_row,
                                      const std::vector<StatusChange>& history) {
  return ReplayHistory(final_row, history).problems;
}

// The checker itself must see forbidden histories, or the race test proves nothing.
TEST(RaceChecker, RejectsForbiddenHistories) {
  auto change = [](Status from, Status to, Micros at) {
    return StatusChange{1, from, to, at, ChangeSource::kManual, "t", std::nullopt};
  };
  Referral r;
  r.id = 1;
  using S = Status;

  // A legal walk, including pending->qualified after an earlier qualification.
  r.status = S::kApproved;
  r.qualified_at = 1;
  r.approved_at = 5;
  r.denied_at = 2;
  EXPECT_EQ(
      CheckHistory(r, {change(S::kPending, S::kQualified, 1), change(S::kQualified, S::kDenied, 2),
                       change(S::kDenied, S::kPending, 3), change(S::kPending, S::kQualified, 4),
                       change(S::kQualified, S::kApproved, 5)}),
      std::vector<std::string>{});
  // Approved straight from pending qualifies it at the same moment.
  Referral direct;
  direct.id = 1;
  direct.status = S::kApproved;
  direct.qualified_at = 7;
  direct.approved_at = 7;
  EXPECT_EQ(CheckHistory(direct, {change(S::kPending, S::kApproved, 7)}),
            std::vector<std::string>{});
  // denied -> qualified after an earlier qualification.
  Referral requalified;
  requalified.id = 1;
  requalified.status = S::kQualified;
  requalified.qualified_at = 1;
  requalified.denied_at = 2;
  EXPECT_FALSE(CheckHistory(requalified, {change(S::kPending, S::kQualified, 1),
                                          change(S::kQualified, S::kDenied, 2),
                                          change(S::kDenied, S::kQualified, 3)})
                   .empty());
  // denied -> qualified when never qualified is fine.
  EXPECT_EQ(
      CheckHistory(Referral{.id = 1, .status = S::kQualified, .qualified_at = 3, .denied_at = 2},
                   {change(S::kPending, S::kDenied, 2), change(S::kDenied, S::kQualified, 3)}),
      std::vector<std::string>{});
  // Anything after approved.
  Referral reopened;
  reopened.id = 1;
  reopened.status = S::kPending;
  reopened.qualified_at = 1;
  reopened.approved_at = 1;
  EXPECT_FALSE(CheckHistory(reopened, {change(S::kPending, S::kApproved, 1),
                                       change(S::kApproved, S::kPending, 2)})
                   .empty());
  // A lost update: the second row starts from a status the first did not leave.
  Referral lost;
  lost.id = 1;
  lost.status = S::kDenied;
  lost.denied_at = 2;
  lost.qualified_at = 1;
  EXPECT_FALSE(CheckHistory(lost, {change(S::kPending, S::kQualified, 1),
                                   change(S::kPending, S::kDenied, 2)})
                   .empty());
  // A same-status row.
  EXPECT_FALSE(CheckHistory(Referral{.id = 1}, {change(S::kPending, S::kPending, 1)}).empty());
  // The stored row disagreeing with its history.
  EXPECT_FALSE(CheckHistory(Referral{.id = 1, .status = S::kDenied}, {}).empty());
  EXPECT_FALSE(CheckHistory(Referral{.id = 1, .qualified_at = 1}, {}).empty());
}

// And it must see a reward missing, given twice, given without cause or at the
// wrong time.
TEST(RaceChecker, RejectsWrongRewards) {
  using S = Status;
  auto change = [](Status from, Status to, Micros at) {
    return StatusChange{1, from, to, at, ChangeSource::kManual, "t", std::nullopt};
  };
  const std::vector<RewardRule> rules = {
      {.id = 1, .campaign_id = 9, .on = S::kQualified, .to = RuleRecipients::kBoth},
      {.id = 2, .campaign_id = 9, .on = S::kApproved, .to = RuleRecipients::kReferred},
      {.id = 3, .campaign_id = 8, .on = S::kPending, .to = RuleRecipients::kBoth}};  // elsewhere
  auto reward = [](int64_t id, int64_t rule, Recipient to, Micros at) {
    Reward w;
    w.id = id;
    w.rule_id = rule;
    w.referral_id = 1;
    w.recipient = to;
    w.member_id = to == Recipient::kReferrer ? std::optional<int64_t>(5) : std::nullopt;
    w.issued_at = at;
    return w;
  };
  // Approved straight from pending: the qualified rule's rewards too, at that moment.
  Referral direct{.id = 1, .campaign_id = 9, .referrer_id = 5, .status = S::kApproved,
                  .qualified_at = 7, .approved_at = 7};
  auto replay = ReplayHistory(direct, {change(S::kPending, S::kApproved, 7)});
  ASSERT_EQ(replay.problems, std::vector<std::string>{});
  const std::vector<Reward> right = {reward(1, 1, Recipient::kReferrer, 7),
                                     reward(2, 1, Recipient::kReferred, 7),
                                     reward(3, 2, Recipient::kReferred, 7)};
  EXPECT_EQ(CheckRewards(direct, replay, rules, right), std::vector<std::string>{});
  // The qualified rule's reward missing for the referrer.
  EXPECT_FALSE(CheckRewards(direct, replay, rules, {right[1], right[2]}).empty());
  // A reward given twice.
  auto twice = right;
  twice.push_back(reward(4, 1, Recipient::kReferred, 7));
  EXPECT_FALSE(CheckRewards(direct, replay, rules, twice).empty());
  // Issued at another moment than when the status was first entered.
  auto late = right;
  late[0].issued_at = 8;
  EXPECT_FALSE(CheckRewards(direct, replay, rules, late).empty());
  // The referrer's reward to someone else.
  auto stranger = right;
  stranger[0].member_id = 6;
  EXPECT_FALSE(CheckRewards(direct, replay, rules, stranger).empty());
  // No referrer: nothing for a referrer.
  Referral alone = direct;
  alone.referrer_id.reset();
  EXPECT_FALSE(CheckRewards(alone, replay, rules, right).empty());
  EXPECT_EQ(CheckRewards(alone, replay, rules, {right[1], right[2]}), std::vector<std::string>{});
  // Qualified then denied: the qualified rule's rewards, none of approved's.
  Referral denied{.id = 1, .campaign_id = 9, .referrer_id = 5, .status = S::kDenied,
                  .qualified_at = 3, .denied_at = 4};
  auto denied_replay = ReplayHistory(
      denied, {change(S::kPending, S::kQualified, 3), change(S::kQualified, S::kDenied, 4)});
  ASSERT_EQ(denied_replay.problems, std::vector<std::string>{});
  EXPECT_EQ(CheckRewards(denied, denied_replay, rules,
                         {reward(1, 1, Recipient::kReferrer, 3), reward(2, 1, Recipient::kReferred, 3)}),
            std::vector<std::string>{});
  EXPECT_FALSE(CheckRewards(denied, denied_replay, rules,
                            {reward(1, 1, Recipient::kReferrer, 3),
                             reward(2, 1, Recipient::kReferred, 3),
                             reward(3, 2, Recipient::kReferred, 4)})
                   .empty());
}

struct WorkerReport {
  std::string actor;
  long changed = -1, unchanged = -1, refused = -1;
};

std::optional<WorkerReport> ParseReport(const std::string& out) {
  std::smatch m;
  static const std::regex kLine(R"(actor=(\S+) changed=(\d+) unchanged=(\d+) refused=(\d+))");
  if (!std::regex_search(out, m, kLine)) return std::nullopt;
  return WorkerReport{m[1], std::stol(m[2]), std::stol(m[3]), std::stol(m[4])};
}

// Two processes on one database: one SQLite file, or one PostgreSQL database as two
// servers would share it.
class ProcessRace : public ::testing::TestWithParam<std::string> {};

TEST_P(ProcessRace, TwoProcessesRacingOnOneDatabaseKeepEveryHistoryLegal) {
  TempDir dir;
  const std::string url = FreshDatabaseUrl(GetParam(), dir);

  // The referrals, created in-process through the engine; ids 1..kReferrals.
  {
    auto store = Store::Open(url);
    ASSERT_TRUE(store) << store.error().message;
    Engine engine(**store);
    ASSERT_TRUE(engine.AddCampaign("race"));
    auto member = engine.AddMember(MemberInput{.campaign = "race", .email = "coach@example.com"});
    ASSERT_TRUE(member) << member.error().message;
    // A rule on each status a reward may be on, qualified and approved to both the
    // referrer and the referred: the race must issue each reward once.
    for (auto [on, to] : {std::pair{"pending", "referred"}, std::pair{"qualified", "both"},
                          std::pair{"approved", "both"}}) {
      auto rule = engine.AddRewardRule(RewardRuleInput{
          .campaign = "race", .on = on, .to = to, .amount = "10", .currency = "USD"});
      ASSERT_TRUE(rule) << rule.error().message;
    }
    // Every other referral has a referrer.
    for (int64_t i = 1; i <= kReferrals; ++i) {
      auto r = engine.AddReferral(
          ReferralInput{.campaign = "race",
                        .email = "racer" + std::to_string(i) + "@example.com",
                        .name = "Racer " + std::to_string(i),
                        .referrer_email = i % 2 == 0 ? "coach@example.com" : ""});
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_EQ(r->id, i);
    }
  }

  // Both workers open the store, say they are ready, and start together when the
  // go pipe closes.
  int ready[2], go[2];
  ASSERT_EQ(pipe(ready), 0);
  ASSERT_EQ(pipe(go), 0);
  auto started = std::chrono::steady_clock::now();
  pid_t pids[2];
  std::string outs[2], errs[2];
  for (int w = 0; w < 2; ++w) {
    outs[w] = dir.File("worker" + std::to_string(w) + ".out");
    errs[w] = dir.File("worker" + std::to_string(w) + ".err");
    pids[w] = SpawnChild(
        RACE_WORKER_BIN,
        {url, std::to_string(kSeeds[w]), std::to_string(kIterations), std::to_string(kReferrals),
         std::to_string(kPauseMicros), std::to_string(ready[1]), std::to_string(go[0])},
        outs[w], errs[w], {ready[0], go[1]});
  }
  close(ready[1]);
  close(go[0]);
  int ready_count = 0;
  while (ready_count < 2) {
    pollfd p{ready[0], POLLIN, 0};
    if (poll(&p, 1, 30'000) <= 0) break;
    char byte;
    ssize_t n = read(ready[0], &byte, 1);
    if (n <= 0) break;  // a worker died before it was ready
    ++ready_count;
  }
  close(ready[0]);
  close(go[1]);  // go

  std::optional<int> status[2];
  for (int w = 0; w < 2; ++w) status[w] = testing::WaitChild(pids[w], std::chrono::seconds(100));
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  WorkerReport reports[2];
  for (int w = 0; w < 2; ++w) {
    ASSERT_TRUE(status[w]) << "worker " << w << " did not finish within 100 s\nstderr:\n"
                           << ReadWholeFile(errs[w]);
    ASSERT_TRUE(WIFEXITED(*status[w]) && WEXITSTATUS(*status[w]) == 0)
        << "worker " << w << " (seed " << kSeeds[w] << ") "
        << testing::DescribeWaitStatus(*status[w]) << "\nstderr:\n"
        << ReadWholeFile(errs[w]);
    auto report = ParseReport(ReadWholeFile(outs[w]));
    ASSERT_TRUE(report) << "worker " << w << " printed: " << ReadWholeFile(outs[w]);
    reports[w] = *report;
  }
  ASSERT_EQ(ready_count, 2) << "a worker never reported ready";
  std::printf(
      "race: %.2f s; %s changed=%ld unchanged=%ld refused=%ld; %s changed=%ld "
      "unchanged=%ld refused=%ld\n",
      seconds, reports[0].actor.c_str(), reports[0].changed, reports[0].unchanged,
      reports[0].refused, reports[1].actor.c_str(), reports[1].changed, reports[1].unchanged,
      reports[1].refused);

  // Not vacuous: both workers changed statuses, and both were refused sometimes.
  for (const WorkerReport& r : reports) {
    EXPECT_EQ(r.changed + r.unchanged + r.refused, kIterations) << r.actor;
    EXPECT_GE(r.changed, kIterations / 5) << r.actor << " made too few changes to race";
    EXPECT_GT(r.refused, 0) << r.actor << " was never refused";
  }

  // Replay every referral's history through the engine's store.
  auto store = Store::Open(url);
  ASSERT_TRUE(store) << store.error().message;
  auto rules = (*store)->ListRewardRules(std::nullopt, true);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 3u);
  std::vector<std::string> problems;
  size_t rows = 0, rewards_seen = 0;
  std::map<std::string, long> rows_by_actor;
  int contested = 0;  // rows that undo or follow the other worker's change of the same referral
  int approved = 0, ever_qualified = 0, approved_unqualified = 0;
  for (int64_t id = 1; id <= kReferrals; ++id) {
    auto referral = (*store)->GetReferral(id);
    ASSERT_TRUE(referral) << referral.error().message;
    ASSERT_TRUE(referral->has_value()) << "referral " << id << " is gone";
    auto history = (*store)->History(id);
    ASSERT_TRUE(history) << history.error().message;
    rows += history->size();
    for (size_t i = 0; i < history->size(); ++i) {
      const StatusChange& c = (*history)[i];
      ++rows_by_actor[c.actor];
      contested += i > 0 && c.actor != (*history)[i - 1].actor;
      if (c.source != ChangeSource::kManual) {
        problems.push_back("referral " + std::to_string(id) + ", history row " +
                           std::to_string(i + 1) + ": source is not manual");
      }
      if (id % 5 == 0 && c.to == Status::kQualified) {  // race_worker.cc never asks for it
        problems.push_back("referral " + std::to_string(id) + ", history row " +
                           std::to_string(i + 1) + ": qualified, which no worker asked for");
      }
    }
    auto replay = ReplayHistory(**referral, *history);
    problems.insert(problems.end(), replay.problems.begin(), replay.problems.end());
    approved += (*referral)->status == Status::kApproved;
    ever_qualified += replay.ever_qualified;
    approved_unqualified += replay.approved_at && replay.qualified_at == replay.approved_at;
    // Each reward exactly once: pending at creation, qualified once ever qualified,
    // approved once approved; however often the race re-entered those statuses.
    auto rewards = (*store)->ListRewards(RewardFilter{std::nullopt, id, std::nullopt});
    ASSERT_TRUE(rewards) << rewards.error().message;
    rewards_seen += rewards->size();
    auto wrong = CheckRewards(**referral, replay, *rules, *rewards);
    problems.insert(problems.end(), wrong.begin(), wrong.end());
  }
  std::printf(
      "race: %zu history rows (%d follow the other worker's change of the same "
      "referral); %d of %lld referrals approved (%d straight from never qualified), %d ever "
      "qualified; %zu rewards\n",
      rows, contested, approved, static_cast<long long>(kReferrals), approved_unqualified,
      ever_qualified, rewards_seen);
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems in the histories and rewards:\n"
                                << JoinLines(problems, 40);

  // Every change a worker saw committed is in the history, and nothing else is.
  EXPECT_EQ(rows, static_cast<size_t>(reports[0].changed + reports[1].changed));
  EXPECT_EQ(rows_by_actor.size(), 2u);
  for (const WorkerReport& r : reports) {
    EXPECT_EQ(rows_by_actor[r.actor], r.changed) << "history rows of " << r.actor;
  }
  EXPECT_GE(rows, static_cast<size_t>(2 * kIterations / 5));
  EXPECT_GE(contested, 20) << "the workers seldom changed the same referral one after the other";

  // Straight from the database: the history holds only known statuses, only these
  // referrals, and the two workers' changes interleave (they really raced).
  auto bad =
      QueryRows(url,
                "SELECT count(*) FROM status_changes WHERE from_status NOT IN "
                "('pending','qualified','approved','denied') OR to_status NOT IN "
                "('pending','qualified','approved','denied') OR referral_id NOT BETWEEN 1 AND " +
                    std::to_string(kReferrals));
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0][0], "0") << "history rows with unknown statuses or referrals";
  auto actors = QueryRows(url, "SELECT actor FROM status_changes ORDER BY id");
  int switches = 0;
  for (size_t i = 1; i < actors.size(); ++i) switches += actors[i][0] != actors[i - 1][0];
  std::printf("race: the writer changed %d times along the history\n", switches);
  EXPECT_GE(switches, 10) << "the workers barely overlapped; the race did not happen";

  // And `reftrack check` (SPEC §13), which replays every history through the domain's
  // own rules table, finds nothing either.
  testing::CommandResult checked = testing::RunReftrack("--db '" + url + "' check");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
}

INSTANTIATE_TEST_SUITE_P(Stores, ProcessRace, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack
