// The router, the target parser and the metrics text: pure functions, no server.
#include <gtest/gtest.h>

#include "http/message.h"
#include "http/metrics.h"
#include "http/router.h"

namespace reftrack::http {
namespace {

Router Sample() {
  Router router;
  auto nop = [](Request&, Respond) {};
  router.Add(Route{Method::kGet, "/api/v1/referrals", Scope::kRead, BodyKind::kSmall, nop});
  router.Add(Route{Method::kPost, "/api/v1/referrals", Scope::kWrite, BodyKind::kSmall, nop});
  router.Add(Route{Method::kGet, "/api/v1/referrals/{id}", Scope::kRead, BodyKind::kSmall, nop});
  router.Add(Route{Method::kPatch, "/api/v1/referrals/{id}", Scope::kWrite, BodyKind::kSmall, nop});
  router.Add(
      Route{Method::kPost, "/api/v1/referrals/update", Scope::kWrite, BodyKind::kSmall, nop});
  router.Add(Route{Method::kGet, "/api/v1/imports/{id}/errors.csv", Scope::kRead,
                   BodyKind::kSmall, nop});
  return router;
}

TEST(RouterTest, FindsTheRouteAndItsParameters) {
  Router router = Sample();
  auto m = router.Find(Method::kGet, "/api/v1/referrals/42");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/referrals/{id}");
  EXPECT_EQ(m.index, 2u);
  EXPECT_EQ(m.params, std::vector<std::string>{"42"});

  m = router.Find(Method::kGet, "/api/v1/imports/7/errors.csv");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"7"});
}

TEST(RouterTest, ALiteralSegmentIsMatchedByItsMethodFirstInOrder) {
  Router router = Sample();
  // POST /referrals/update is its own route, though {id} would match "update".
  auto m = router.Find(Method::kPost, "/api/v1/referrals/update");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->pattern, "/api/v1/referrals/update");
  // GET /referrals/update reaches {id}, which then says it is not an id.
  m = router.Find(Method::kGet, "/api/v1/referrals/update");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"update"});
}

TEST(RouterTest, UnknownPathsAre404AndOtherMethods405WithAllow) {
  Router router = Sample();
  EXPECT_EQ(router.Find(Method::kGet, "/api/v1/nothing").status, 404);
  EXPECT_EQ(router.Find(Method::kGet, "/api/v1/referrals/").status, 404);  // empty {id}
  EXPECT_EQ(router.Find(Method::kGet, "/api/v1/referrals/1/2").status, 404);
  auto m = router.Find(Method::kDelete, "/api/v1/referrals/5");
  EXPECT_EQ(m.route, nullptr);
  EXPECT_EQ(m.status, 405);
  EXPECT_EQ(m.allow, "GET, PATCH");
}

TEST(ParseTargetTest, DecodesPathAndQuery) {
  std::string path;
  std::map<std::string, std::string> query;
  ASSERT_TRUE(ParseTarget("/api/v1/rewards?campaign=Spring+2026&member=a%40b.com&x", path, query));
  EXPECT_EQ(path, "/api/v1/rewards");
  EXPECT_EQ(query["campaign"], "Spring 2026");
  EXPECT_EQ(query["member"], "a@b.com");
  EXPECT_EQ(query["x"], "");
  ASSERT_TRUE(ParseTarget("/a%20b?q=1&q=2", path, query));
  EXPECT_EQ(path, "/a b");
  EXPECT_EQ(query["q"], "2");  // the last one wins
}

TEST(ParseTargetTest, RefusesBrokenEscapesAndNul) {
  std::string path;
  std::map<std::string, std::string> query;
  EXPECT_FALSE(ParseTarget("/a%2", path, query));
  EXPECT_FALSE(ParseTarget("/a%zz", path, query));
  EXPECT_FALSE(ParseTarget("/a?q=%00", path, query));
  EXPECT_FALSE(ParseTarget("no-slash", path, query));
  EXPECT_FALSE(ParseTarget("", path, query));
}

TEST(ProblemTest, IsProblemJsonWithTheDetail) {
  Response r = Problem(409, "referral 4 is approved; approved is final");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.content_type, "application/problem+json");
  EXPECT_NE(r.body.find(R"("detail":"referral 4 is approved; approved is final")"),
            std::string::npos);
  EXPECT_NE(r.body.find(R"("status":409)"), std::string::npos);
  EXPECT_NE(r.body.find(R"("title":"Conflict")"), std::string::npos);
}

TEST(MetricsTest, CountsRequestsAndBucketsLatencyCumulatively) {
  Metrics m;
  m.CountRequest("/api/v1/referrals/{id}", "GET", 200, 0.0004);
  m.CountRequest("/api/v1/referrals/{id}", "GET", 200, 0.003);
  m.CountRequest("/api/v1/referrals/{id}", "GET", 404, 0.2);
  m.CountBulk("import", "applied");
  std::string text = m.Render();
  EXPECT_NE(text.find("reftrack_http_requests_total{route=\"/api/v1/referrals/{id}\","
                      "method=\"GET\",status=\"200\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("status=\"404\"} 1\n"), std::string::npos);
  const std::string labels = "route=\"/api/v1/referrals/{id}\",method=\"GET\"";
  // 0.0004 s is in every bucket from 0.0005 up; 0.003 from 0.005 up; 0.2 from 0.25 up.
  EXPECT_NE(text.find("_bucket{" + labels + ",le=\"0.0005\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("_bucket{" + labels + ",le=\"0.005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("_bucket{" + labels + ",le=\"0.1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("_bucket{" + labels + ",le=\"0.25\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("_bucket{" + labels + ",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("_count{" + labels + "} 3\n"), std::string::npos);
  EXPECT_NE(text.find("reftrack_bulk_files_total{kind=\"import\",outcome=\"applied\"} 1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace reftrack::http
