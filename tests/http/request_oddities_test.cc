// Requests that are valid HTTP but unusual, or nearly valid, get a clear answer over
// raw sockets (HttpClient cannot send them): the absolute-form target a proxy sends
// (RFC 9112 §3.2.2: accepted as its path), other targets that are not a path, a
// malformed chunked body, OPTIONS, and methods the server does not implement.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class RequestOddities : public HttpApiTest {
 protected:
  // Sends `request` on a new connection and reads until the server closes it (each
  // request here asks for or gets Connection: close).
  std::string Exchange(const std::string& request) {
    RawConnection connection(server_->port());
    EXPECT_TRUE(connection.Write(request));
    std::string answer = connection.ReadUntil("never in an answer", std::chrono::seconds(5));
    EXPECT_TRUE(connection.peer_closed()) << "the server left the connection open:\n" << answer;
    return answer;
  }

  // The body of a raw answer as a JSON object (empty when it is none).
  static json BodyOf(const std::string& answer) {
    size_t start = answer.find("\r\n\r\n");
    json body =
        start == std::string::npos ? json() : json::parse(answer.substr(start + 4), nullptr, false);
    return body.is_object() ? body : json::object();
  }
};

TEST_P(RequestOddities, AnAbsoluteFormTargetIsAnsweredAsItsPath) {
  AddCampaign("Spring");
  const int64_t id = AddReferral("Spring", "ann@x.com");
  for (const std::string& target :
       {"http://127.0.0.1:" + std::to_string(server_->port()) + "/api/v1/referrals?limit=5",
        std::string("HTTP://Example.COM/api/v1/referrals?limit=5"),
        std::string("https://proxy.example/api/v1/referrals?limit=5")}) {
    std::string answer = Exchange("GET " + target +
                                  " HTTP/1.1\r\nHost: elsewhere.example\r\nAuthorization: Bearer " +
                                  read_key_ + "\r\nConnection: close\r\n\r\n");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 200 ")) << target << "\n" << answer;
    json body = BodyOf(answer);
    ASSERT_TRUE(body.is_object() && body.contains("referrals")) << answer;
    ASSERT_EQ(body["referrals"].size(), 1u) << answer;
    EXPECT_EQ(body["referrals"][0]["id"], id);
  }
  // The authority alone is the path "/", here no route (the server runs --api-only).
  std::string root =
      Exchange("GET http://127.0.0.1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(root, StartsWith("HTTP/1.1 404 ")) << root;
  EXPECT_THAT(BodyOf(root).value("detail", ""), HasSubstr("no route /")) << root;
  // Absolute-form changes go through as well.
  std::string patched = Exchange(
      "PATCH http://x/api/v1/referrals/" + std::to_string(id) +
      " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + write_key_ +
      "\r\nContent-Type: application/json\r\nContent-Length: 22\r\nConnection: close\r\n\r\n"
      R"({"status":"qualified"})");
  EXPECT_THAT(patched, StartsWith("HTTP/1.1 200 ")) << patched;
  EXPECT_EQ(ShowReferral(id)["status"], "qualified");
}

TEST_P(RequestOddities, ATargetThatIsNoPathIs400SayingToSendThePath) {
  for (const auto& [how, line] : std::vector<std::pair<std::string, std::string>>{
           {"another scheme", "GET ftp://x/api/v1/referrals HTTP/1.1"},
           {"no authority", "GET http:///api/v1/referrals HTTP/1.1"},
           {"a relative path", "GET api/v1/referrals HTTP/1.1"},
           {"the authority form", "GET 127.0.0.1:8080 HTTP/1.1"},
           {"the asterisk form", "OPTIONS * HTTP/1.1"},
       }) {
    std::string answer = Exchange(line + "\r\nHost: x\r\nAuthorization: Bearer " + read_key_ +
                                  "\r\nConnection: close\r\n\r\n");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 ")) << how << "\n" << answer;
    EXPECT_THAT(answer, HasSubstr("Content-Type: application/problem+json")) << how;
    EXPECT_THAT(BodyOf(answer).value("detail", ""), HasSubstr("origin form")) << how << "\n"
                                                                              << answer;
  }
}

TEST_P(RequestOddities, AMalformedChunkIs400SayingSoAndChangesNothing) {
  AddCampaign("Spring");
  const int64_t id = AddReferral("Spring", "ann@x.com");
  const std::string campaign = R"({"name":"chunked"})";  // 18 bytes: 0x12
  auto post = [&](const std::string& target, const std::string& type, const std::string& key) {
    return "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
           "\r\nContent-Type: " + type + "\r\nTransfer-Encoding: chunked\r\n\r\n";
  };
  const std::string csv = "referralkey_email,status\nann@x.com,qualified\n";  // 43 bytes: 0x2b
  for (const auto& [how, request] : std::vector<std::pair<std::string, std::string>>{
           {"a size that is not hexadecimal",
            post("/api/v1/campaigns", "application/json", admin_key_) + "zz\r\n" + campaign +
                "\r\n0\r\n\r\n"},
           {"a size with a sign", post("/api/v1/campaigns", "application/json", admin_key_) +
                                      "+12\r\n" + campaign + "\r\n0\r\n\r\n"},
           {"a chunk longer than its size",
            post("/api/v1/campaigns", "application/json", admin_key_) + "2\r\n" + campaign +
                "\r\n0\r\n\r\n"},
           {"an upload's size that is not hexadecimal",
            post("/api/v1/imports?dry_run=false", "text/csv", write_key_) + "2g\r\n" + csv +
                "\r\n0\r\n\r\n"},
       }) {
    std::string answer = Exchange(request);
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 ")) << how << "\n" << answer;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << how;
    EXPECT_THAT(BodyOf(answer).value("detail", ""), HasSubstr("chunked body")) << how << "\n"
                                                                               << answer;
  }
  EXPECT_EQ(SqlValue("SELECT count(*) FROM campaigns"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
  EXPECT_EQ(ShowReferral(id)["status"], "pending");
}

TEST_P(RequestOddities, OptionsIs405NamingTheMethodWithTheRoutesAllow) {
  for (const auto& [target, allow] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/referrals", "GET, POST"},
           {"/api/v1/referrals/7", "GET, PATCH"},
           {"/healthz", "GET"},
       }) {
    HttpResponse r =
        client_->Send(HttpRequest{"OPTIONS", target, {{"Authorization", "Bearer " + read_key_}}});
    EXPECT_TRUE(IsProblem(r, 405, "OPTIONS")) << target;
    EXPECT_EQ(r.Header("Allow"), allow) << target;
  }
  EXPECT_TRUE(IsProblem(client_->Send(HttpRequest{"OPTIONS", "/api/v1/nowhere"}), 404,
                        "no route /api/v1/nowhere"));
}

TEST_P(RequestOddities, AMethodTheServerDoesNotImplementIs501NamingIt) {
  for (const std::string method : {"TRACE", "PROPFIND", "BREW"}) {
    std::string answer = Exchange(method +
                                  " /api/v1/referrals HTTP/1.1\r\nHost: x\r\n"
                                  "Connection: close\r\n\r\n");
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 501 ")) << method << "\n" << answer;
    EXPECT_THAT(BodyOf(answer).value("detail", ""), HasSubstr(method)) << answer;
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, RequestOddities, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
