// The HTTP API tests' common ground: a real `reftrack serve` child process on a fresh
// database of each store kind, API keys of every scope (the admin key made with the
// CLI beforehand), and helpers to call the server and check its answers.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_client.h"
#include "support/test_db.h"

namespace reftrack::testing {

// `reftrack --db URL serve --listen 127.0.0.1:0 --access-log FILE [extra...]`, its
// stdout and stderr in files of `dir`. Killed when destroyed if still running.
class ServerProcess {
 public:
  ServerProcess(std::string url, const TempDir& dir, std::vector<std::string> extra_args = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Starts the server and waits (10 s at most) for its "listening on" line.
  ::testing::AssertionResult Start();
  // Sends SIGTERM: the server stops accepting and ends once the requests in flight
  // are answered.
  void Terminate();
  // Waits for the server to end: its wait status, or nullopt when it did not end in
  // `timeout` (it is killed then).
  std::optional<int> Wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Waits, expecting a graceful end: exit status 0 and "reftrack: stopped".
  ::testing::AssertionResult ExitedGracefully();
  // Terminate() and ExitedGracefully().
  ::testing::AssertionResult StopGracefully();

  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  uint16_t port() const { return port_; }
  std::string Stdout() const;
  std::string Stderr() const;
  const std::string& access_log() const { return access_log_; }

 private:
  std::string url_;
  std::string out_, err_, access_log_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// Whether `response` is a problem+json answer with `status` and a `detail` that
// contains `detail_part`.
::testing::AssertionResult IsProblem(const HttpResponse& response, int status,
                                     std::string_view detail_part = "");

// A person signed in to the web page: the cookie to send back and the CSRF token.
struct WebSession {
  std::string cookie;  // "rt_session=TOKEN"
  std::string csrf_token;
};

// The fixture: per test a fresh database (GetParam() is the store kind), a running
// server, and keys "ops" (admin, made with the CLI), "crm" (write) and "dashboard"
// (read), made over HTTP: the access log starts with those two POST /api/v1/keys.
class HttpApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  // Stops the server if the test has not: it must end gracefully.
  void TearDown() override;

  // Extra arguments of `reftrack serve` for this fixture: by default the API alone,
  // whether or not the web page is built beside the binary.
  virtual std::vector<std::string> ServerArgs() const { return {"--api-only"}; }

  // A new API key made with the CLI: its JSON (id, name, scope, key...).
  nlohmann::json AddKeyWithCli(const std::string& name, const std::string& scope);

  // A request with `key` (none when empty), and `body` as JSON unless it is null.
  HttpResponse Call(const std::string& method, const std::string& target, const std::string& key,
                    const nlohmann::json& body = nullptr);
  HttpResponse Get(const std::string& target, const std::string& key) {
    return Call("GET", target, key);
  }
  // A person made with `reftrack user add`, signed in over HTTP (asserting success).
  WebSession AddUserAndSignIn(const std::string& email, const std::string& password);
  // A request with the session's cookie, and `csrf` as X-CSRF-Token unless it is null.
  HttpResponse CallWithSession(const WebSession& session, const std::string& method,
                               const std::string& target, const nlohmann::json& body = nullptr,
                               std::optional<std::string> csrf = std::nullopt);

  // A bulk file posted as `content_type`.
  HttpResponse Upload(const std::string& target, const std::string& key, std::string body,
                      const std::string& content_type = "text/csv");

  // Over HTTP, asserting success: a campaign's id, a referral's id.
  int64_t AddCampaign(const std::string& name);
  int64_t AddReferral(const std::string& campaign, const std::string& email,
                      nlohmann::json fields = nlohmann::json::object());
  // The referral as GET /api/v1/referrals/{id} shows it.
  nlohmann::json ShowReferral(int64_t id);

  std::vector<std::vector<std::string>> Sql(const std::string& sql) { return QueryRows(url_, sql); }
  // The single value of a one-row, one-column query.
  std::string SqlValue(const std::string& sql);

  TempDir dir_;
  std::string url_;
  std::string admin_key_, write_key_, read_key_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

}  // namespace reftrack::testing
