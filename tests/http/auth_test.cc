// Keys and scopes (SPEC §6): 401 without a valid key, 403 when its scope is too small,
// and the routes that need no key.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

using Auth = HttpApiTest;

// A request with a raw Authorization header (none when empty).
HttpResponse WithAuthorization(HttpClient& client, const std::string& method,
                               const std::string& target, const std::string& authorization) {
  HttpRequest request{method, target};
  if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
  if (method != "GET") {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = R"({"status": "qualified"})";
  }
  return client.Send(request);
}

TEST_P(Auth, MissingMalformedOrUnknownKeyIs401) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  for (const auto& [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/referrals"},
           {"GET", "/api/v1/openapi.json"},
           {"PATCH", "/api/v1/referrals/" + std::to_string(id)}}) {
    HttpResponse r = WithAuthorization(*client_, method, target, "");
    EXPECT_TRUE(IsProblem(r, 401, "Authorization: Bearer")) << method << " " << target;
    EXPECT_EQ(r.Header("WWW-Authenticate"), "Bearer");
  }
  // Malformed.
  for (const std::string& header :
       std::vector<std::string>{"Basic " + write_key_, "Bearer", "Bearer ", "Bearer  ", write_key_,
                                "Token " + write_key_, "Bearer" + write_key_}) {
    HttpResponse r = WithAuthorization(*client_, "GET", "/api/v1/referrals", header);
    EXPECT_TRUE(IsProblem(r, 401)) << "Authorization: " << header;
  }
  // The scheme is case-insensitive (RFC 9110): this one is well formed.
  EXPECT_EQ(WithAuthorization(*client_, "GET", "/api/v1/referrals", "bearer " + read_key_).status,
            200);
  // Well formed, unknown.
  std::string unknown = read_key_;
  unknown.back() = unknown.back() == '0' ? '1' : '0';
  for (const std::string& key : {unknown, std::string("rt_nope"), read_key_ + "0"}) {
    HttpResponse r = Get("/api/v1/referrals", key);
    EXPECT_TRUE(IsProblem(r, 401, "unknown or revoked API key")) << key;
    EXPECT_THAT(r.Header("WWW-Authenticate"), HasSubstr("invalid_token"));
  }
  EXPECT_EQ(SqlValue("SELECT status FROM referrals"), "pending");
}

TEST_P(Auth, KeyRevokedWithTheCliIsRefusedAtOnce) {
  json key = AddKeyWithCli("report", "read");
  const std::string secret = key["key"];
  ASSERT_EQ(Get("/api/v1/referrals", secret).status, 200);
  CommandResult revoke =
      RunReftrack("--db '" + url_ + "' apikey revoke " + std::to_string(key["id"].get<int64_t>()));
  ASSERT_EQ(revoke.exit_code, 0) << revoke.err;
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals", secret), 401, "revoked"));
  EXPECT_EQ(Get("/api/v1/referrals", read_key_).status, 200) << "other keys still work";
}

TEST_P(Auth, KeyRevokedOverHttpIsRefusedAtOnce) {
  HttpResponse made =
      Call("POST", "/api/v1/keys", admin_key_, {{"name", "bi"}, {"scope", "write"}});
  ASSERT_EQ(made.status, 201) << made.body;
  const std::string secret = made.Json()["key"];
  const int64_t id = made.Json()["id"];
  EXPECT_EQ(made.Json()["scope"], "write");
  EXPECT_EQ(made.Json()["revoked_at"], nullptr);
  EXPECT_EQ(SqlValue("SELECT name FROM api_keys WHERE id = " + std::to_string(id)), "bi");
  // The key itself is not stored, only its hash.
  EXPECT_TRUE(Sql("SELECT id FROM api_keys WHERE hash = '" + secret + "'").empty());
  ASSERT_EQ(Get("/api/v1/campaigns", secret).status, 200);
  ASSERT_EQ(Call("DELETE", "/api/v1/keys/" + std::to_string(id), admin_key_).status, 204);
  EXPECT_TRUE(IsProblem(Get("/api/v1/campaigns", secret), 401));
  HttpResponse keys = Get("/api/v1/keys", admin_key_);
  ASSERT_EQ(keys.status, 200);
  bool listed = false;
  const json listing = keys.Json();
  for (const json& k : listing["keys"]) {
    if (k["id"] != id) continue;
    listed = true;
    EXPECT_NE(k["revoked_at"], nullptr);
  }
  EXPECT_TRUE(listed);
  EXPECT_TRUE(IsProblem(Call("DELETE", "/api/v1/keys/" + std::to_string(id), admin_key_), 404));
}

TEST_P(Auth, ReadKeyMayNotWrite) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  ASSERT_EQ(Get("/api/v1/referrals/" + std::to_string(id), read_key_).status, 200);
  HttpResponse r = Call("PATCH", "/api/v1/referrals/" + std::to_string(id), read_key_,
                        {{"status", "qualified"}});
  EXPECT_TRUE(IsProblem(r, 403, "scope write"));
  EXPECT_THAT(r.Json()["detail"].get<std::string>(), HasSubstr("\"dashboard\" has scope read"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals", read_key_,
                             {{"campaign", "spring"}, {"email", "bob@example.com"}}),
                        403));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals/update", read_key_,
                             {{"key", {{"id", id}}}, {"status", "qualified"}}),
                        403));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/imports?dry_run=false", read_key_,
                               "referralkey_id,status\n" + std::to_string(id) + ",qualified\n"),
                        403));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/qualifications?by=email&campaign=spring&dry_run=false",
                               read_key_, "ada@example.com\n"),
                        403));
  EXPECT_TRUE(IsProblem(Get("/api/v1/keys", read_key_), 403, "scope admin"));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals"), "pending");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM referrals"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
}

TEST_P(Auth, WriteKeyMayNotAdminister) {
  const int64_t campaign = AddCampaign("spring");
  const std::string rules = "/api/v1/campaigns/" + std::to_string(campaign) + "/reward-rules";
  HttpResponse rule = Call("POST", rules, admin_key_,
                           {{"on", "pending"}, {"to", "referred"}, {"description", "a mug"}});
  ASSERT_EQ(rule.status, 201) << rule.body;
  const std::string rule_id = std::to_string(rule.Json()["id"].get<int64_t>());
  const std::string key_id = SqlValue("SELECT id FROM api_keys WHERE name = 'dashboard'");

  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/campaigns", write_key_, {{"name", "autumn"}}), 403,
                        "needs a key with scope admin"));
  EXPECT_TRUE(IsProblem(Call("POST", rules, write_key_,
                             {{"on", "approved"}, {"to", "both"}, {"description", "a hat"}}),
                        403));
  EXPECT_TRUE(IsProblem(Call("DELETE", "/api/v1/reward-rules/" + rule_id, write_key_), 403));
  EXPECT_TRUE(IsProblem(Get("/api/v1/keys", write_key_), 403));
  EXPECT_TRUE(IsProblem(
      Call("POST", "/api/v1/keys", write_key_, {{"name", "x"}, {"scope", "admin"}}), 403));
  EXPECT_TRUE(IsProblem(Call("DELETE", "/api/v1/keys/" + key_id, write_key_), 403));

  EXPECT_EQ(SqlValue("SELECT count(*) FROM campaigns"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM reward_rules WHERE removed_at IS NULL"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"), "3");
  // What a write key may do, it does.
  EXPECT_EQ(Get(rules, write_key_).status, 200);
  EXPECT_EQ(Call("POST", "/api/v1/referrals", write_key_,
                 {{"campaign", "spring"}, {"email", "ada@example.com"}})
                .status,
            201);
}

TEST_P(Auth, HealthAndMetricsNeedNoKey) {
  HttpResponse health = Get("/healthz", "");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.Json(), json({{"status", "ok"}}));
  // Even with a key that is not valid: these routes do not look at it.
  EXPECT_EQ(WithAuthorization(*client_, "GET", "/healthz", "Bearer rt_nope").status, 200);
  HttpResponse metrics = Get("/metrics", "");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.body, HasSubstr("# TYPE reftrack_http_requests_total counter"));
}

INSTANTIATE_TEST_SUITE_P(Stores, Auth, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
