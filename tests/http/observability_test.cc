// What operators see: /metrics in the Prometheus text format, and the access log,
// one JSON line per request.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "http/http_fixture.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

using Observability = HttpApiTest;

TEST_P(Observability, MetricsCountRequestsByRouteAndBulkFilesByOutcome) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  const std::string path = "/api/v1/referrals/" + std::to_string(id);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Get("/api/v1/referrals", read_key_).status, 200);
  ASSERT_EQ(Get("/api/v1/referrals", "").status, 401);
  ASSERT_EQ(Call("PATCH", path, write_key_, {{"status", "qualified"}}).status, 200);
  ASSERT_EQ(Call("PATCH", path, write_key_, {{"status", "bogus"}}).status, 400);
  const std::string csv = "referralkey_id,status\n" + std::to_string(id) + ",approved\n";
  ASSERT_EQ(Upload("/api/v1/imports?dry_run=true", write_key_, csv).status, 200);
  ASSERT_EQ(Upload("/api/v1/imports?dry_run=false", write_key_, csv).status, 200);
  ASSERT_EQ(
      Upload("/api/v1/imports?dry_run=false", write_key_, "nokey,status\n1,approved\n").status,
      400);
  ASSERT_EQ(Get("/api/v1/nothing", read_key_).status, 404);

  HttpResponse r = Get("/metrics", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4");
  const std::string& m = r.body;
  // A request counter's sample line.
  auto requests = [](std::string_view route, std::string_view method, int status, int n) {
    return fmt::format(R"(reftrack_http_requests_total{{route="{}",method="{}",status="{}"}} {})",
                       route, method, status, n);
  };
  for (const std::string& line : {
           requests("/api/v1/referrals", "GET", 200, 3),
           requests("/api/v1/referrals", "GET", 401, 1),
           requests("/api/v1/referrals", "POST", 201, 1),
           requests("/api/v1/referrals/{id}", "PATCH", 200, 1),
           requests("/api/v1/referrals/{id}", "PATCH", 400, 1),
           requests("/api/v1/campaigns", "POST", 201, 1),
           requests("/api/v1/imports", "POST", 200, 2),
           requests("/api/v1/imports", "POST", 400, 1),
           std::string(R"(reftrack_http_request_duration_seconds_count{route="/api/v1/referrals",)"
                       R"(method="GET"} 4)"),
           std::string(R"(reftrack_http_request_duration_seconds_bucket{route="/api/v1/referrals",)"
                       R"(method="GET",le="+Inf"} 4)"),
           std::string(R"(reftrack_bulk_files_total{kind="import",outcome="preview"} 1)"),
           std::string(R"(reftrack_bulk_files_total{kind="import",outcome="applied"} 1)"),
           std::string(R"(reftrack_bulk_files_total{kind="import",outcome="refused"} 1)"),
       }) {
    EXPECT_THAT(m, HasSubstr(line + "\n"));
  }
  EXPECT_THAT(m, HasSubstr("# TYPE reftrack_http_request_duration_seconds histogram\n"));
  EXPECT_THAT(m, HasSubstr("# TYPE reftrack_bulk_files_total counter\n"));
  // Every sample line is `name{labels} value`.
  std::istringstream lines(m);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#")) continue;
    EXPECT_THAT(line, ::testing::MatchesRegex(R"([a-z_]+\{.*\} [0-9.e+-]+)")) << line;
  }
}

TEST_P(Observability, AccessLogHasOneJsonLinePerRequest) {
  AddCampaign("spring");                                        // 1
  const int64_t id = AddReferral("spring", "ada@example.com");  // 2
  const std::string path = "/api/v1/referrals/" + std::to_string(id);
  ASSERT_EQ(Call("PATCH", path + "?why=test", write_key_, {{"status", "qualified"}}).status, 200);
  ASSERT_EQ(Get(path, "").status, 401);
  ASSERT_EQ(Get("/api/v1/nothing", read_key_).status, 404);
  ASSERT_EQ(Call("PUT", path, write_key_, {{"status", "qualified"}}).status, 405);
  ASSERT_EQ(Get("/healthz", "").status, 200);
  ASSERT_TRUE(server_->StopGracefully());

  std::vector<json> entries;
  std::istringstream log(ReadWholeFile(server_->access_log()));
  for (std::string line; std::getline(log, line);) {
    entries.push_back(json::parse(line, nullptr, false));
    ASSERT_TRUE(entries.back().is_object()) << line;
  }
  ASSERT_EQ(entries.size(), 9u);
  // Lines are written as answers finish, so two close requests on two connections may
  // be logged in either order: compared as a set.
  using Line = std::tuple<std::string, std::string, std::string, int>;  // method, target, route
  std::multiset<Line> logged;
  for (const json& e : entries) {
    logged.emplace(e["method"], e["target"], e["route"], e["status"]);
    EXPECT_EQ(e["remote"], "127.0.0.1") << e;
    EXPECT_TRUE(e["ms"].is_number()) << e;
    EXPECT_TRUE(e["bytes"].is_number_integer() && e["bytes"] > 0) << e;
    EXPECT_THAT(e["ts"].get<std::string>(), ::testing::EndsWith("Z")) << e;
    const bool keyed = e["target"].get<std::string>().starts_with(path + "?");
    EXPECT_EQ(e["key"].dump(),
              keyed ? SqlValue("SELECT id FROM api_keys WHERE name = 'crm'") : e["key"].dump())
        << e;
    if (e["status"] == 401 || e["route"] == "/healthz") {
      EXPECT_EQ(e["key"], nullptr) << e;
    }
  }
  EXPECT_EQ(logged, (std::multiset<Line>{
                        {"POST", "/api/v1/keys", "/api/v1/keys", 201},  // the fixture's
                        {"POST", "/api/v1/keys", "/api/v1/keys", 201},
                        {"POST", "/api/v1/campaigns", "/api/v1/campaigns", 201},
                        {"POST", "/api/v1/referrals", "/api/v1/referrals", 201},
                        {"PATCH", path + "?why=test", "/api/v1/referrals/{id}", 200},
                        {"GET", path, "/api/v1/referrals/{id}", 401},
                        {"GET", "/api/v1/nothing", "", 404},
                        {"PUT", path, "", 405},
                        {"GET", "/healthz", "/healthz", 200},
                    }));
}

// A line is in the file once its request is answered (for `tail -f`, and so a crash
// loses none), not when the server stops.
TEST_P(Observability, AccessLogLineIsWrittenWhenTheRequestIsAnswered) {
  ASSERT_EQ(Get("/healthz", "").status, 200);
  bool logged = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (!logged && std::chrono::steady_clock::now() < deadline) {
    std::istringstream log(ReadWholeFile(server_->access_log()));
    for (std::string line; std::getline(log, line);) {
      json entry = json::parse(line, nullptr, false);
      if (entry.is_object() && entry.value("route", "") == "/healthz") logged = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(logged) << "no line for GET /healthz in " << server_->access_log() << " after 2 s";
}

INSTANTIATE_TEST_SUITE_P(Stores, Observability, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
