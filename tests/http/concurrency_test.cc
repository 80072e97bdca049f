// Many clients changing the same few referrals at once (SPEC §2: the rules hold under
// concurrency). The writers group changes into one transaction (group commit); every
// answer must still match what was written, one history row per change.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <thread>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

using Concurrency = HttpApiTest;

struct Answer {
  int64_t id = 0;
  int status = 0;
  json body;
};

TEST_P(Concurrency, RacingPatchesKeepTheRulesAndEveryAnswerIsWritten) {
  constexpr int kThreads = 8;
  constexpr int kRequestsPerThread = 50;
  AddCampaign("spring");
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(AddReferral("spring", "r" + std::to_string(i) + "@x.com"));
  ASSERT_FALSE(HasFailure());

  std::vector<std::vector<Answer>> answers(kThreads);
  std::vector<std::string> failures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        HttpClient client(server_->port());
        std::mt19937 rng(1234 + t);
        // Approved is final: rare, so the referrals keep moving for most of the run.
        std::discrete_distribution<int> pick({32, 32, 1, 32});
        const char* kStatuses[] = {"pending", "qualified", "approved", "denied"};
        for (int i = 0; i < kRequestsPerThread; ++i) {
          const int64_t id = ids[rng() % ids.size()];
          HttpRequest request{"PATCH", "/api/v1/referrals/" + std::to_string(id)};
          request.headers = {{"Authorization", "Bearer " + write_key_},
                             {"Content-Type", "application/json"}};
          request.body = json({{"status", kStatuses[pick(rng)]}}).dump();
          HttpResponse r = client.Send(request);
          answers[t].push_back({id, r.status, json::parse(r.body, nullptr, false)});
        }
      } catch (const std::exception& e) {
        failures[t] = e.what();
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (const std::string& failure : failures) ASSERT_EQ(failure, "");

  // (referral, from, to) of every change the server said it made.
  std::multiset<std::tuple<int64_t, std::string, std::string>> answered;
  int changed_answers = 0;
  int deadlocks = 0;  // see the end
  for (const auto& per_thread : answers) {
    ASSERT_EQ(per_thread.size(), static_cast<size_t>(kRequestsPerThread));
    for (const Answer& a : per_thread) {
      if (a.status == 409) {
        const std::string detail = a.body.value("detail", "");
        EXPECT_TRUE(detail.find("approved is final") != std::string::npos ||
                    detail.find("cannot be qualified again from denied") != std::string::npos)
            << detail;
        continue;
      }
      if (a.status == 503 &&
          a.body.value("detail", "").find("deadlock detected") != std::string::npos) {
        ++deadlocks;
        continue;
      }
      ASSERT_EQ(a.status, 200) << a.body;
      EXPECT_EQ(a.body["id"], a.id);
      if (a.body["changed"] == true) {
        ++changed_answers;
        answered.emplace(a.id, a.body["from"], a.body["to"]);
      } else {
        EXPECT_EQ(a.body["from"], a.body["to"]);
      }
    }
  }

  // Each referral's history, in the order it was written, is a walk the table allows.
  std::multiset<std::tuple<int64_t, std::string, std::string>> written;
  std::map<int64_t, std::pair<std::string, bool>> state;  // status, ever qualified
  for (int64_t id : ids) state[id] = {"pending", false};
  for (const auto& row : Sql("SELECT referral_id, from_status, to_status, source "
                             "FROM status_changes ORDER BY id")) {
    const int64_t id = std::stoll(row[0]);
    const std::string &from = row[1], &to = row[2];
    auto& [status, ever_qualified] = state[id];
    EXPECT_EQ(row[3], "api");
    EXPECT_EQ(from, status) << "referral " << id << ": history does not chain";
    EXPECT_NE(from, to) << "referral " << id << ": a change to the same status";
    EXPECT_NE(from, "approved") << "referral " << id << ": approved is final";
    if (from == "denied" && to == "qualified") {
      EXPECT_FALSE(ever_qualified) << "referral " << id << ": qualified again from denied";
    }
    status = to;
    if (to == "qualified" || to == "approved") ever_qualified = true;
    written.emplace(id, from, to);
  }
  for (int64_t id : ids) {
    EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(id)),
              state[id].first);
  }
  // Group commit answers every change after writing it, and none that it did not write.
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes WHERE source = 'api'"),
            std::to_string(changed_answers));
  EXPECT_EQ(answered, written);
  EXPECT_GT(changed_answers, 20) << "the race barely moved the referrals";
  // A deadlock between writers on PostgreSQL is retried, never answered 503.
  EXPECT_EQ(deadlocks, 0) << "answers were 503 \"deadlock detected\"";
}

INSTANTIATE_TEST_SUITE_P(Stores, Concurrency, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
