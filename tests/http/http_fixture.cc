#include "http/http_fixture.h"

#include <signal.h>

#include <regex>
#include <sstream>
#include <thread>

#include "http/openapi_document.h"
#include "process/child_process.h"

namespace reftrack::testing {

using nlohmann::json;

ServerProcess::ServerProcess(std::string url, const TempDir& dir,
                             std::vector<std::string> extra_args)
    : url_(std::move(url)),
      out_(dir.File("server.out")),
      err_(dir.File("server.err")),
      access_log_(dir.File("access.log")),
      extra_args_(std::move(extra_args)) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) WaitChild(pid_, std::chrono::milliseconds(0));  // kills it
}

::testing::AssertionResult ServerProcess::Start() {
  std::vector<std::string> args = {"--db",        url_,           "serve",    "--listen",
                                   "127.0.0.1:0", "--access-log", access_log_};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = SpawnChild(REFTRACK_BIN, args, out_, err_);
  static const std::regex kListening(R"(reftrack: listening on http://127\.0\.0\.1:(\d+) )");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    std::string out = Stdout();
    if (std::regex_search(out, m, kListening)) {
      port_ = static_cast<uint16_t>(std::stoi(m[1].str()));
      return ::testing::AssertionSuccess();
    }
    if (auto status = TryReap(pid_)) {
      pid_ = -1;
      return ::testing::AssertionFailure()
             << "reftrack serve " << DescribeWaitStatus(*status) << " before listening:\n"
             << out << Stderr();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return ::testing::AssertionFailure() << "reftrack serve did not say it listens in 10 s:\n"
                                       << Stdout() << Stderr();
}

void ServerProcess::Terminate() {
  if (pid_ > 0) kill(pid_, SIGTERM);
}

std::optional<int> ServerProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  auto status = WaitChild(pid_, timeout);
  pid_ = -1;
  return status;
}

::testing::AssertionResult ServerProcess::ExitedGracefully() {
  auto status = Wait();
  if (!status) return ::testing::AssertionFailure() << "the server did not end in 30 s";
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return ::testing::AssertionFailure() << "the server " << DescribeWaitStatus(*status) << ":\n"
                                         << Stderr();
  }
  if (Stdout().find("reftrack: stopped\n") == std::string::npos) {
    return ::testing::AssertionFailure() << "no \"reftrack: stopped\" in its stdout:\n" << Stdout();
  }
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult ServerProcess::StopGracefully() {
  Terminate();
  return ExitedGracefully();
}

std::string ServerProcess::Stdout() const { return ReadWholeFile(out_); }
std::string ServerProcess::Stderr() const { return ReadWholeFile(err_); }

::testing::AssertionResult IsProblem(const HttpResponse& response, int status,
                                     std::string_view detail_part) {
  auto failure = [&] {
    return ::testing::AssertionFailure()
           << "answer " << response.status << " " << response.Header("Content-Type") << " "
           << response.body << "\n  ";
  };
  if (response.status != status) return failure() << "expected status " << status;
  if (response.Header("Content-Type") != "application/problem+json") {
    return failure() << "expected Content-Type application/problem+json";
  }
  json body = json::parse(response.body, nullptr, false);
  if (!body.is_object()) return failure() << "the body is not a JSON object";
  if (body.value("status", 0) != status) return failure() << "\"status\" is not " << status;
  if (!body.contains("title") || !body["title"].is_string()) return failure() << "no \"title\"";
  if (!body.contains("detail") || !body["detail"].is_string() ||
      body["detail"].get<std::string>().empty()) {
    return failure() << "no \"detail\"";
  }
  if (body["detail"].get<std::string>().find(detail_part) == std::string::npos) {
    return failure() << "\"detail\" does not contain \"" << detail_part << "\"";
  }
  return ::testing::AssertionSuccess();
}

void HttpApiTest::SetUp() {
  url_ = FreshDatabaseUrl(GetParam(), dir_);
  // The admin key with the CLI, before the server starts (a server on a database
  // without keys makes one of its own); the others with it over HTTP, which is much
  // cheaper than two more processes, each opening the database.
  admin_key_ = AddKeyWithCli("ops", "admin").value("key", "");
  ASSERT_FALSE(admin_key_.empty());
  server_ = std::make_unique<ServerProcess>(url_, dir_, ServerArgs());
  ASSERT_TRUE(server_->Start());
  client_ = std::make_unique<HttpClient>(server_->port());
  for (auto [name, scope, key] :
       {std::tuple{"crm", "write", &write_key_}, std::tuple{"dashboard", "read", &read_key_}}) {
    HttpResponse made =
        Call("POST", "/api/v1/keys", admin_key_, {{"name", name}, {"scope", scope}});
    ASSERT_EQ(made.status, 201) << made.body;
    *key = made.Json().value("key", "");
  }
  ASSERT_FALSE(write_key_.empty() || read_key_.empty());
}

void HttpApiTest::TearDown() {
  client_.reset();
  if (!server_) return;
  if (server_->running()) {
    EXPECT_TRUE(server_->StopGracefully());
  }
  // Every answer a route gave in the test is one its operation documents (the log is
  // complete once the server has stopped).
  std::istringstream log(ReadWholeFile(server_->access_log()));
  for (std::string line; std::getline(log, line);) {
    json entry = json::parse(line, nullptr, false);
    if (!entry.is_object() || !entry.contains("route") || !entry["route"].is_string()) {
      ADD_FAILURE() << "access log line is not a JSON object with a route: " << line;
      continue;
    }
    if (entry["route"] == "") continue;       // no route: 404 or 405
    if (entry["route"] == "/{page}") continue;  // the web page's files, not the API
    std::optional<bool> documented =
        DocumentsStatus(entry.value("method", ""), entry["route"], entry.value("status", 0));
    EXPECT_TRUE(documented.value_or(false))
        << "the OpenAPI document does not list this answer: " << line;
  }
}

json HttpApiTest::AddKeyWithCli(const std::string& name, const std::string& scope) {
  CommandResult r =
      RunReftrack("--db '" + url_ + "' --json apikey add --name " + name + " --scope " + scope);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  json key = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(key.is_object() && key.contains("key")) << r.out;
  return key.is_object() ? key : json::object();
}

HttpResponse HttpApiTest::Call(const std::string& method, const std::string& target,
                               const std::string& key, const json& body) {
  HttpRequest request{method, target};
  if (!key.empty()) request.headers.emplace_back("Authorization", "Bearer " + key);
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  return client_->Send(request);
}

WebSession HttpApiTest::AddUserAndSignIn(const std::string& email, const std::string& password) {
  CommandResult added = RunReftrack("--db '" + url_ + "' user add " + email, password + "\n");
  EXPECT_EQ(added.exit_code, 0) << added.err;
  HttpResponse r = Call("POST", "/api/v1/session", "", {{"email", email}, {"password", password}});
  EXPECT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("Set-Cookie");
  return WebSession{cookie.substr(0, cookie.find(';')), r.Json().value("csrf_token", "")};
}

HttpResponse HttpApiTest::CallWithSession(const WebSession& session, const std::string& method,
                                          const std::string& target, const json& body,
                                          std::optional<std::string> csrf) {
  HttpRequest request{method, target};
  request.headers.emplace_back("Cookie", "theme=dark; " + session.cookie);
  if (method != "GET") request.headers.emplace_back("X-CSRF-Token", csrf.value_or(session.csrf_token));
  if (!body.is_null()) {
    request.headers.emplace_back("Content-Type", "application/json");
    request.body = body.dump();
  }
  return client_->Send(request);
}

HttpResponse HttpApiTest::Upload(const std::string& target, const std::string& key,
                                 std::string body, const std::string& content_type) {
  HttpRequest request{"POST", target};
  request.headers.emplace_back("Authorization", "Bearer " + key);
  request.headers.emplace_back("Content-Type", content_type);
  request.body = std::move(body);
  return client_->Send(request);
}

int64_t HttpApiTest::AddCampaign(const std::string& name) {
  HttpResponse r = Call("POST", "/api/v1/campaigns", admin_key_, {{"name", name}});
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.Json().value("id", int64_t{0}) : 0;
}

int64_t HttpApiTest::AddReferral(const std::string& campaign, const std::string& email,
                                 json fields) {
  fields["campaign"] = campaign;
  fields["email"] = email;
  HttpResponse r = Call("POST", "/api/v1/referrals", write_key_, fields);
  EXPECT_EQ(r.status, 201) << r.body;
  return r.status == 201 ? r.Json().value("id", int64_t{0}) : 0;
}

json HttpApiTest::ShowReferral(int64_t id) {
  HttpResponse r = Get("/api/v1/referrals/" + std::to_string(id), read_key_);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.status == 200 ? r.Json() : json::object();
}

std::string HttpApiTest::SqlValue(const std::string& sql) {
  auto rows = Sql(sql);
  EXPECT_EQ(rows.size(), 1u) << sql;
  return rows.size() == 1 && !rows[0].empty() ? rows[0][0] : "";
}

}  // namespace reftrack::testing
