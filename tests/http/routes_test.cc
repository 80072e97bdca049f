// The routes: the OpenAPI document lists exactly what the server serves, and every
// route answers successfully, with the effects it promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "http/api.h"
#include "http/http_fixture.h"
#include "http/openapi_document.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// The router is in-process code: built here as `reftrack serve` builds it.
TEST(OpenApiDocument, ListsExactlyTheRoutesServed) {
  TempDir dir;
  auto api = http::Api::Create(http::ApiOptions{.db_url = "sqlite:" + dir.File("routes.db")});
  ASSERT_TRUE(api.has_value()) << api.error().message;
  std::set<Operation> served;
  for (const http::Route& route : (*api)->router().routes()) {
    served.emplace(std::string(http::MethodName(route.method)), route.pattern,
                   route.scope ? std::string(ScopeName(*route.scope)) : "none");
  }
  std::set<Operation> documented = DocumentedOperations();
  EXPECT_EQ(served.size(), (*api)->router().routes().size()) << "a route is added twice";
  for (const auto& [method, path, scope] : served) {
    EXPECT_TRUE(documented.contains({method, path, scope}))
        << "served, not documented (or with another scope): " << method << " " << path << " scope "
        << scope;
  }
  for (const auto& [method, path, scope] : documented) {
    EXPECT_TRUE(served.contains({method, path, scope}))
        << "documented, not served (or with another scope): " << method << " " << path << " scope "
        << scope;
  }
  EXPECT_EQ(documented.size(), 26u);
}

using Routes = HttpApiTest;

TEST_P(Routes, ServesTheOpenApiDocumentOfTheSourceTree) {
  HttpResponse r = Get("/api/v1/openapi.json", read_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.Header("Content-Type"), HasSubstr("application/json"));
  EXPECT_EQ(r.Json(), OpenApi());
}

// One call of every documented operation, each a success with its effect checked;
// the access log then shows a 2xx answer for every operation of the document.
TEST_P(Routes, EveryDocumentedRouteAnswersSuccessfully) {
  HttpResponse r = Get("/healthz", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json(), json({{"status", "ok"}}));
  r = Get("/metrics", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4");
  ASSERT_EQ(Get("/api/v1/openapi.json", read_key_).status, 200);

  // Campaigns and a reward rule, as the admin.
  r = Call("POST", "/api/v1/campaigns", admin_key_, {{"name", "spring"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t campaign = r.Json()["id"];
  EXPECT_EQ(r.Json()["name"], "spring");
  EXPECT_EQ(SqlValue("SELECT name FROM campaigns WHERE id = " + std::to_string(campaign)),
            "spring");
  r = Get("/api/v1/campaigns", read_key_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json()["campaigns"].size(), 1u);
  EXPECT_EQ(r.Json()["campaigns"][0]["id"], campaign);
  const std::string rules = "/api/v1/campaigns/" + std::to_string(campaign) + "/reward-rules";
  r = Call("POST", rules, admin_key_,
           {{"on", "qualified"}, {"to", "referred"}, {"amount", "50.00"}, {"currency", "usd"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t rule = r.Json()["id"];
  EXPECT_EQ(r.Json()["currency"], "USD");
  r = Get(rules, read_key_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json()["reward_rules"].size(), 1u);
  EXPECT_EQ(r.Json()["reward_rules"][0]["id"], rule);
  EXPECT_EQ(r.Json()["reward_rules"][0]["on"], "qualified");

  // Referrals, as the CRM.
  r = Call("POST", "/api/v1/referrals", write_key_,
           {{"campaign", "spring"}, {"email", "Ada@Example.com "}, {"external_id", "crm-1"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t ada = r.Json()["id"];
  EXPECT_EQ(r.Header("Location"), "/api/v1/referrals/" + std::to_string(ada));
  EXPECT_EQ(r.Json()["status"], "pending");
  EXPECT_EQ(SqlValue("SELECT email FROM referrals WHERE id = " + std::to_string(ada)),
            "ada@example.com");
  const int64_t bob = AddReferral("spring", "bob@example.com");
  const int64_t cy = AddReferral("spring", "cy@example.com", {{"coupon_code", "CY10"}});
  r = Get("/api/v1/referrals", read_key_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json()["referrals"].size(), 3u);
  EXPECT_EQ(r.Json()["referrals"][0]["id"], cy);
  EXPECT_EQ(r.Json()["next_cursor"], nullptr);
  r = Get("/api/v1/referrals/" + std::to_string(ada), read_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["external_id"], "crm-1");
  EXPECT_EQ(r.Json()["history"], json::array());

  r = Call("PATCH", "/api/v1/referrals/" + std::to_string(ada), write_key_,
           {{"status", "qualified"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"id", ada},
                            {"from", "pending"},
                            {"to", "qualified"},
                            {"changed", true},
                            {"result", "changed"}}));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(ada)),
            "qualified");
  r = Call("POST", "/api/v1/referrals/update", write_key_,
           {{"key", {{"external_id", "crm-1"}}}, {"status", "approved"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["to"], "approved");
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(ada)), "approved");

  // Bulk files.
  r = Upload("/api/v1/imports?dry_run=false&filename=u.csv", write_key_,
             "referralkey_id,status\n" + std::to_string(bob) + ",denied\n999999,qualified\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["changed"], 1);
  EXPECT_EQ(r.Json()["error_count"], 1);
  const int64_t import_id = r.Json()["import_id"];
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(bob)), "denied");
  r = Get("/api/v1/imports/" + std::to_string(import_id) + "/errors.csv", read_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_THAT(r.body, ::testing::StartsWith("row,column,message\r\n3,"));  // RFC 4180
  r = Upload("/api/v1/qualifications?by=coupon_code&dry_run=false", write_key_, "CY10\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["qualified"], 1);
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(cy)), "qualified");
  r = Get("/api/v1/rewards?campaign=spring", read_key_);
  ASSERT_EQ(r.status, 200);
  std::set<int64_t> rewarded;
  const json rewards = r.Json();
  for (const json& reward : rewards["rewards"])
    rewarded.insert(reward["referral_id"].get<int64_t>());
  EXPECT_EQ(rewarded, (std::set<int64_t>{ada, cy}));
  r = Call("DELETE", "/api/v1/reward-rules/" + std::to_string(rule), admin_key_);
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_EQ(r.body, "");
  EXPECT_NE(SqlValue("SELECT removed_at FROM reward_rules WHERE id = " + std::to_string(rule)), "");

  // Keys, as the admin.
  r = Call("POST", "/api/v1/keys", admin_key_, {{"name", "bi"}, {"scope", "read"}});
  ASSERT_EQ(r.status, 201) << r.body;
  const int64_t key_id = r.Json()["id"];
  EXPECT_THAT(r.Json()["key"].get<std::string>(), ::testing::StartsWith("rt_"));
  r = Get("/api/v1/keys", admin_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["keys"].size(), 4u);
  const json keys = r.Json();
  for (const json& key : keys["keys"]) EXPECT_FALSE(key.contains("key")) << key;
  r = Call("DELETE", "/api/v1/keys/" + std::to_string(key_id), admin_key_);
  ASSERT_EQ(r.status, 204) << r.body;
  EXPECT_NE(SqlValue("SELECT revoked_at FROM api_keys WHERE id = " + std::to_string(key_id)), "");

  // The web page's routes, as a person signed in.
  r = Get("/api/v1/rewards/export.csv?campaign=spring", read_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.body, ::testing::StartsWith("reward_id,campaign,referral_id,recipient,"));
  EXPECT_EQ(std::count(r.body.begin(), r.body.end(), '\n'), 1 + rewards["rewards"].size());
  WebSession web = AddUserAndSignIn("grace@example.com", "correct-horse-battery");
  r = CallWithSession(web, "GET", "/api/v1/session");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"email", "grace@example.com"}, {"csrf_token", web.csrf_token}}));
  r = CallWithSession(web, "GET", "/api/v1/stats?campaign=spring");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["total"], 3);
  EXPECT_EQ(r.Json()["counts"], json({{"pending", 0}, {"qualified", 1}, {"approved", 1},
                                     {"denied", 1}}));
  r = CallWithSession(web, "GET", "/api/v1/progress/nothing-here");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["reading"], false);
  r = CallWithSession(web, "DELETE", "/api/v1/session");
  ASSERT_EQ(r.status, 204) << r.body;

  ASSERT_TRUE(server_->StopGracefully());
  std::set<std::pair<std::string, std::string>> succeeded;
  std::istringstream log(ReadWholeFile(server_->access_log()));
  for (std::string line; std::getline(log, line);) {
    json entry = json::parse(line, nullptr, false);
    ASSERT_TRUE(entry.is_object()) << line;
    if (entry["status"].get<int>() / 100 == 2) succeeded.emplace(entry["method"], entry["route"]);
  }
  for (const auto& [method, path, scope] : DocumentedOperations()) {
    EXPECT_TRUE(succeeded.contains({method, path})) << "no success of " << method << " " << path;
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, Routes, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
