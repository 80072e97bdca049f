// Three `reftrack serve` processes on one PostgreSQL database (SPEC §7: "the rules
// of section 2 still hold across them"), with client threads changing the statuses
// of five hot referrals through all three at once: one at a time (PATCH and the
// update integration) and in small files (bulk import, qualify upload).
//
// Afterwards, from the database: every referral's history replays from pending
// through steps the table of SPEC §2 allows and ends at its status, with
// qualified_at, approved_at and denied_at matching it (process/history_check.h);
// each reward of SPEC §3 (rules on qualified and on approved, to both the referrer
// and the referred) is there exactly once, issued when its status was first entered;
// every change a server answered is one history row, and nothing else is (a refused
// change wrote nothing). PostgreSQL only: it is skipped without one.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "engine/engine.h"
#include "http/http_fixture.h"
#include "process/history_check.h"
#include "store/store.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

constexpr int kServers = 3;
constexpr int kClients = 6;
constexpr int kRequestsPerClient = 400;
constexpr int kHot = 5;
// Referral ids are 1..kHot; the last one is never asked to become qualified, so its
// approval (if the race approves it) passes through qualified (SPEC §2).
constexpr int64_t kNeverQualified = kHot;
// Approved is final: asked for only in each client's last fifth, or the first
// approvals would end the race on their referrals early.
constexpr int kApprovalsFrom = kRequestsPerClient * 4 / 5;

enum class Kind { kPatch, kUpdate, kImport, kQualify };

// One request a client sent, and its answer.
struct Exchange {
  Kind kind = Kind::kPatch;
  int server = 0;
  std::string actor;    // "api:" and the name of the key it was sent with
  int64_t referral = 0;  // PATCH and update: the referral asked for
  std::string to;        // PATCH and update: the status asked for
  int status = 0;
  json body;
  Micros answered_at = 0;
};

std::string KeyName(int client, int server) {
  return "c" + std::to_string(client) + "s" + std::to_string(server);
}

// The server whose key wrote a history row ("api:cNsM" -> M).
int ServerOfActor(const std::string& actor) { return actor.empty() ? -1 : actor.back() - '0'; }

std::string Email(int64_t id) { return "hot" + std::to_string(id) + "@example.com"; }

// A status to ask `id` for, `i` requests into a client's run.
std::string DrawStatus(std::mt19937& rng, int64_t id, int i) {
  // Rare enough that some referrals may end the run unapproved.
  if (i >= kApprovalsFrom && rng() % 1000 < (id == kNeverQualified ? 200u : 15u)) return "approved";
  if (id == kNeverQualified) return rng() % 2 ? "pending" : "denied";
  static const char* kOthers[] = {"pending", "qualified", "denied"};
  return kOthers[rng() % 3];
}

TEST(MultiServe, ThreeServersOnOnePostgresDatabaseKeepTheRulesAndIssueEachRewardOnce) {
  const char* pg = std::getenv("REFTRACK_TEST_POSTGRES_URL");
  if (!pg || !*pg) {
    GTEST_SKIP() << "needs PostgreSQL: REFTRACK_TEST_POSTGRES_URL is not set "
                    "(scripts/with-postgres.sh sets it)";
  }
  TempDir dir;
  const std::string url = FreshDatabaseUrl("postgres", dir);

  // The campaign, its referrer, rules and hot referrals, and a write key per client
  // and server: in-process, through the engine, before any server starts.
  std::string keys[kClients][kServers];
  {
    auto store = Store::Open(url);
    ASSERT_TRUE(store) << store.error().message;
    Engine engine(**store);
    ASSERT_TRUE(engine.AddCampaign("hot"));
    auto member = engine.AddMember(MemberInput{.campaign = "hot", .email = "coach@example.com"});
    ASSERT_TRUE(member) << member.error().message;
    for (auto [on, amount] : {std::pair{"qualified", "10"}, std::pair{"approved", "25"}}) {
      auto rule = engine.AddRewardRule(RewardRuleInput{
          .campaign = "hot", .on = on, .to = "both", .amount = amount, .currency = "USD"});
      ASSERT_TRUE(rule) << rule.error().message;
    }
    for (int64_t id = 1; id <= kHot; ++id) {
      auto r = engine.AddReferral(ReferralInput{.campaign = "hot",
                                                .email = Email(id),
                                                .referrer_email = "coach@example.com"});
      ASSERT_TRUE(r) << r.error().message;
      ASSERT_EQ(r->id, id);
    }
    for (int c = 0; c < kClients; ++c) {
      for (int s = 0; s < kServers; ++s) {
        auto key = engine.AddApiKey(KeyName(c, s), "write");
        ASSERT_TRUE(key) << key.error().message;
        keys[c][s] = key->secret;
      }
    }
  }

  // Each server with its own folder for its output and access log.
  std::vector<std::unique_ptr<TempDir>> server_dirs;
  std::vector<std::unique_ptr<ServerProcess>> servers;
  uint16_t ports[kServers];
  for (int s = 0; s < kServers; ++s) {
    server_dirs.push_back(std::make_unique<TempDir>());
    servers.push_back(
        std::make_unique<ServerProcess>(url, *server_dirs.back(), std::vector<std::string>{"--api-only"}));
    ASSERT_TRUE(servers.back()->Start()) << "server " << s;
    ports[s] = servers.back()->port();
  }

  // The race.
  std::vector<std::vector<Exchange>> exchanges(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  const auto started = std::chrono::steady_clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      try {
        std::vector<std::unique_ptr<HttpClient>> clients;
        for (uint16_t port : ports) clients.push_back(std::make_unique<HttpClient>(port));
        std::mt19937 rng(4242 + c);
        for (int i = 0; i < kRequestsPerClient; ++i) {
          Exchange x;
          x.server = static_cast<int>(rng() % kServers);
          x.actor = "api:" + KeyName(c, x.server);
          // Each client starts with a qualify upload of every referral that may be
          // qualified, racing the others' uploads and changes to be the one that
          // qualifies it.
          const unsigned kind = i == 0 ? 99 : rng() % 100;
          x.kind = kind < 86 ? Kind::kPatch
                   : kind < 92 ? Kind::kUpdate
                   : kind < 96 ? Kind::kImport
                               : Kind::kQualify;
          HttpRequest request;
          request.method = "POST";
          request.headers = {{"Authorization", "Bearer " + keys[c][x.server]}};
          if (x.kind == Kind::kPatch || x.kind == Kind::kUpdate) {
            x.referral = 1 + static_cast<int64_t>(rng() % kHot);
            x.to = DrawStatus(rng, x.referral, i);
            request.headers.emplace_back("Content-Type", "application/json");
            if (x.kind == Kind::kPatch) {
              request.method = "PATCH";
              request.target = "/api/v1/referrals/" + std::to_string(x.referral);
              request.body = json({{"status", x.to}}).dump();
            } else {
              request.target = "/api/v1/referrals/update";
              request.body =
                  json({{"key", {{"email", Email(x.referral)}, {"campaign", "hot"}}}, {"status", x.to}})
                      .dump();
            }
          } else if (x.kind == Kind::kImport) {
            // A few rows, possibly walking one referral through several steps.
            request.target = "/api/v1/imports?dry_run=false";
            request.headers.emplace_back("Content-Type", "text/csv");
            request.body = "referralkey_id,status\n";
            for (unsigned n = 2 + rng() % 3; n > 0; --n) {
              int64_t id = 1 + static_cast<int64_t>(rng() % kHot);
              request.body += std::to_string(id) + "," + DrawStatus(rng, id, i) + "\n";
            }
          } else {
            request.target = "/api/v1/qualifications?by=email&campaign=hot&dry_run=false";
            request.headers.emplace_back("Content-Type", "text/csv");
            for (unsigned n = i == 0 ? kHot - 1 : 1 + rng() % 3; n > 0; --n) {
              int64_t id = i == 0 ? n : 1 + static_cast<int64_t>(rng() % (kHot - 1));
              request.body += Email(id) + "\n";
            }
          }
          HttpResponse r = clients[x.server]->Send(request);
          x.answered_at = NowMicros();
          x.status = r.status;
          x.body = json::parse(r.body, nullptr, false);
          exchanges[c].push_back(std::move(x));
        }
      } catch (const std::exception& e) {
        failures[c] = e.what();
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  for (int c = 0; c < kClients; ++c) ASSERT_EQ(failures[c], "") << "client " << c;
  for (int s = 0; s < kServers; ++s) {
    EXPECT_TRUE(servers[s]->StopGracefully()) << "server " << s;
  }

  // What the servers answered. (referral, from, to, actor) of every change they said
  // they made one at a time; per import and upload, what it said it changed.
  std::multiset<std::tuple<int64_t, std::string, std::string, std::string>> answered;
  std::map<int64_t, std::map<std::string, int64_t>> import_transitions;  // import id -> counts
  std::map<int64_t, int64_t> upload_qualified;                          // upload id -> count
  std::vector<std::pair<int64_t, Micros>> final_refusals, requalify_refusals;
  int changed = 0, unchanged = 0, refused = 0, bulk = 0;
  int changed_by_server[kServers] = {};
  int unexpected = 0;
  for (const auto& per_client : exchanges) {
    ASSERT_EQ(per_client.size(), static_cast<size_t>(kRequestsPerClient));
    for (const Exchange& x : per_client) {
      auto fail = [&](const std::string& why) {
        if (++unexpected <= 10) {
          ADD_FAILURE() << "server " << x.server << ", " << x.actor << ": " << why << ": "
                        << x.status << " " << x.body.dump();
        }
      };
      if (x.kind == Kind::kImport || x.kind == Kind::kQualify) {
        ++bulk;
        if (x.status != 200 || !x.body.is_object() || x.body.value("applied", false) != true) {
          fail("a bulk file was not applied");
          continue;
        }
        if (x.kind == Kind::kImport) {
          const int64_t id = x.body.value("import_id", int64_t{0});
          for (const auto& [t, n] : x.body["transitions"].items())
            import_transitions[id][t] += n.get<int64_t>();
        } else if (int64_t n = x.body.value("qualified", int64_t{0}); n > 0) {
          upload_qualified[x.body.value("upload_id", int64_t{0})] += n;
        }
        continue;
      }
      if (x.status == 409) {
        ++refused;
        const std::string detail = x.body.value("detail", "");
        if (detail.find("approved is final") != std::string::npos) {
          final_refusals.emplace_back(x.referral, x.answered_at);
        } else if (detail.find("cannot be qualified again from denied") != std::string::npos) {
          requalify_refusals.emplace_back(x.referral, x.answered_at);
        } else {
          fail("a refusal that names no rule of SPEC §2");
        }
        continue;
      }
      if (x.status != 200 || !x.body.is_object() || x.body.value("id", int64_t{0}) != x.referral ||
          x.body.value("to", "") != x.to) {
        fail("not the answer to this change");
        continue;
      }
      if (x.body.value("changed", false)) {
        ++changed;
        ++changed_by_server[x.server];
        answered.emplace(x.referral, x.body.value("from", ""), x.to, x.actor);
      } else {
        ++unchanged;
        if (x.body.value("from", "") != x.to) fail("unchanged, yet from another status");
      }
    }
  }
  EXPECT_EQ(unexpected, 0) << "answers that are neither a change, \"unchanged\" nor a refusal";

  // What the database holds.
  auto store = Store::Open(url);
  ASSERT_TRUE(store) << store.error().message;
  auto rules = (*store)->ListRewardRules(std::nullopt, true);
  ASSERT_TRUE(rules) << rules.error().message;
  ASSERT_EQ(rules->size(), 2u);
  std::vector<std::string> problems;
  std::multiset<std::tuple<int64_t, std::string, std::string, std::string>> written;
  std::map<int64_t, std::map<std::string, int64_t>> written_by_import;
  std::map<int64_t, int64_t> written_by_upload;
  size_t rows = 0, rewards_seen = 0;
  int across_servers = 0;  // rows following a row of the same referral written through another server
  int approved = 0;
  bool passed_through = false;  // kNeverQualified approved straight from never qualified
  std::map<int64_t, Referral> final_rows;
  for (int64_t id = 1; id <= kHot; ++id) {
    auto referral = (*store)->GetReferral(id);
    ASSERT_TRUE(referral) << referral.error().message;
    ASSERT_TRUE(referral->has_value()) << "referral " << id << " is gone";
    final_rows[id] = **referral;
    auto history = (*store)->History(id);
    ASSERT_TRUE(history) << history.error().message;
    rows += history->size();
    for (size_t i = 0; i < history->size(); ++i) {
      const StatusChange& c = (*history)[i];
      const std::string from = StatusText(c.from), to = StatusText(c.to);
      across_servers += i > 0 && ServerOfActor(c.actor) != ServerOfActor((*history)[i - 1].actor);
      if (c.to == Status::kQualified && id == kNeverQualified) {
        problems.push_back("referral " + std::to_string(id) + " was never asked to qualify, yet " +
                           from + "->" + to);
      }
      switch (c.source) {
        case ChangeSource::kApi: written.emplace(id, from, to, c.actor); break;
        case ChangeSource::kImport: ++written_by_import[c.batch_id.value_or(0)][from + "->" + to]; break;
        case ChangeSource::kQualifyUpload:
          ++written_by_upload[c.batch_id.value_or(0)];
          if (c.to != Status::kQualified) {
            problems.push_back("referral " + std::to_string(id) + ": a qualify upload made it " + to);
          }
          break;
        default:
          problems.push_back("referral " + std::to_string(id) + ", history row " +
                             std::to_string(i + 1) + ": source " +
                             std::string(SourceName(c.source)) + " is none of this test's");
      }
    }
    auto replay = ReplayHistory(**referral, *history);
    problems.insert(problems.end(), replay.problems.begin(), replay.problems.end());
    approved += (*referral)->status == Status::kApproved;
    if (id == kNeverQualified && replay.approved_at && replay.qualified_at == replay.approved_at)
      passed_through = true;
    auto rewards = (*store)->ListRewards(RewardFilter{std::nullopt, id, std::nullopt});
    ASSERT_TRUE(rewards) << rewards.error().message;
    rewards_seen += rewards->size();
    auto wrong = CheckRewards(**referral, replay, *rules, *rewards);
    problems.insert(problems.end(), wrong.begin(), wrong.end());
  }
  EXPECT_TRUE(problems.empty()) << problems.size() << " problems in the histories and rewards:\n"
                                << JoinLines(problems, 40);

  // Every change answered is one history row, and every row one answered change: a
  // refused or "unchanged" answer wrote nothing, and no change was written twice (a
  // group of changes that failed is tried again).
  EXPECT_EQ(written.size(), answered.size());
  EXPECT_TRUE(written == answered) << "the history rows of the API differ from its answers";
  EXPECT_EQ(written_by_import, import_transitions)
      << "the history rows of an import differ from its report's transitions";
  EXPECT_EQ(written_by_upload, upload_qualified)
      << "the history rows of a qualify upload differ from its report";
  EXPECT_EQ(QueryRows(url, "SELECT count(*) FROM status_changes"),
            std::vector<std::vector<std::string>>{{std::to_string(rows)}})
      << "history rows of referrals this test did not touch";

  // A refusal saw what the database held before it answered: "approved is final"
  // after the approval was written, "qualified before" after the first qualification.
  for (auto [id, at] : final_refusals) {
    const Referral& r = final_rows[id];
    EXPECT_TRUE(r.approved_at && *r.approved_at <= at)
        << "referral " << id << ": refused as approved at " << FormatTimestamp(at)
        << ", approved at " << TimeText(r.approved_at);
  }
  for (auto [id, at] : requalify_refusals) {
    const Referral& r = final_rows[id];
    EXPECT_TRUE(r.qualified_at && *r.qualified_at <= at)
        << "referral " << id << ": refused as qualified before at " << FormatTimestamp(at)
        << ", first qualified at " << TimeText(r.qualified_at);
  }

  int64_t import_rows = 0, upload_rows = 0;
  for (const auto& [id, counts] : written_by_import)
    for (const auto& [t, n] : counts) import_rows += n;
  for (const auto& [id, n] : written_by_upload) upload_rows += n;
  std::printf(
      "multi-serve: %d servers, %d requests in %.2f s (%d bulk files); one at a time: %d "
      "changed (%d/%d/%d by server), %d unchanged, %d refused (%zu approved is final, %zu "
      "qualified before); %zu history rows (%lld from imports, %lld from qualify uploads, %d "
      "after a row written through another server); %d of %d referrals approved; %zu rewards\n",
      kServers, kClients * kRequestsPerClient, seconds, bulk, changed, changed_by_server[0],
      changed_by_server[1], changed_by_server[2], unchanged, refused, final_refusals.size(),
      requalify_refusals.size(), rows, static_cast<long long>(import_rows),
      static_cast<long long>(upload_rows), across_servers,
      approved, kHot, rewards_seen);

  // Not vacuous: each server changed referrals, the servers took turns on the same
  // referrals, both rules refused changes, and the approval of a never qualified
  // referral passed through qualified.
  for (int s = 0; s < kServers; ++s) {
    EXPECT_GE(changed_by_server[s], 30) << "server " << s << " barely changed anything";
  }
  EXPECT_GE(across_servers, 50) << "the servers seldom changed the same referral in turn";
  EXPECT_GT(final_refusals.size(), 0u);
  EXPECT_GT(requalify_refusals.size(), 0u);
  EXPECT_GT(import_rows, 0) << "the imports changed nothing";
  EXPECT_GT(upload_rows, 0) << "the qualify uploads qualified nothing";
  EXPECT_TRUE(passed_through) << "referral " << kNeverQualified
                              << " was not approved straight from never qualified";
}

}  // namespace
}  // namespace reftrack::testing
