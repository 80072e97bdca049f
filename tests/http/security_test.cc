// The HTTP layer under attack (issue 9): every route of the OpenAPI document refused
// without a valid key, with a scope too small, and with a session but no CSRF token,
// the table read from the document at run time so a new route is covered at once;
// header and body limits; slow clients cut off while the others are served; request
// smuggling and odd paths. Every refusal is also checked to have changed nothing.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "http/http_fixture.h"
#include "http/openapi_document.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Clock = std::chrono::steady_clock;

constexpr size_t kJsonLimit = 1 << 20;  // docs/HTTP_API.md "Limits"
constexpr int kHeaderTimeoutS = 1;      // of the fixture's server
constexpr int kBodyTimeoutS = 2;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One documented operation, as a request that would do its work if it were allowed:
// path parameters filled with ids that exist, the query and body of the document's
// examples (a bulk file is applied, not previewed).
struct Operation {
  std::string method, path, scope;
  std::string target;
  std::string content_type;  // of the body; empty without one
  std::string body;

  std::string Name() const { return method + " " + path; }
};

// The example of an OpenAPI media type or parameter: `example`, or the first of
// `examples`; null when there is none.
json ExampleOf(const json& object) {
  if (object.contains("example")) return object["example"];
  if (object.contains("examples") && !object["examples"].empty()) {
    return object["examples"].begin()->value("value", json());
  }
  return nullptr;
}

const json& Resolve(const json& maybe_ref) {
  if (!maybe_ref.contains("$ref")) return maybe_ref;
  std::string ref = maybe_ref["$ref"];  // "#/components/parameters/Limit"
  json::json_pointer pointer(ref.substr(1));
  return OpenApi().at(pointer);
}

// The server with short timeouts and 1 MiB uploads; uploads spooled to a folder the
// test can look into (TMPDIR of the server only).
class Security : public HttpApiTest {
 protected:
  std::vector<std::string> ServerArgs() const override {
    return {"--api-only",
            "--max-upload-mb",
            "1",
            "--header-timeout-s",
            std::to_string(kHeaderTimeoutS),
            "--body-timeout-s",
            std::to_string(kBodyTimeoutS)};
  }

  void SetUp() override {
    const char* tmpdir = getenv("TMPDIR");
    std::optional<std::string> saved = tmpdir ? std::optional<std::string>(tmpdir) : std::nullopt;
    setenv("TMPDIR", spool_.path().c_str(), 1);
    HttpApiTest::SetUp();
    if (saved) {
      setenv("TMPDIR", saved->c_str(), 1);
    } else {
      unsetenv("TMPDIR");
    }
    if (HasFatalFailure()) return;
    // One of everything a path names.
    ids_["campaigns"] = std::to_string(AddCampaign("spring"));
    ids_["referrals"] = std::to_string(AddReferral("spring", "alan@example.com"));
    HttpResponse r =
        Call("POST", "/api/v1/campaigns/" + ids_["campaigns"] + "/reward-rules", admin_key_,
             {{"on", "qualified"}, {"to", "referrer"}, {"amount", "5"}, {"currency", "USD"}});
    ASSERT_EQ(r.status, 201) << r.body;
    ids_["reward-rules"] = std::to_string(r.Json()["id"].get<int64_t>());
    r = Upload("/api/v1/imports?dry_run=false", write_key_,
               "referralkey_id,status\n" + ids_["referrals"] + ",denied\n999999,denied\n");
    ASSERT_EQ(r.status, 200) << r.body;
    ids_["imports"] = std::to_string(r.Json()["import_id"].get<int64_t>());
    r = Call("POST", "/api/v1/keys", admin_key_, {{"name", "spare"}, {"scope", "read"}});
    ASSERT_EQ(r.status, 201) << r.body;
    ids_["keys"] = std::to_string(r.Json()["id"].get<int64_t>());
    ids_["progress"] = "upload-0123456789";
    // An admin key that no longer works.
    r = Call("POST", "/api/v1/keys", admin_key_, {{"name", "gone"}, {"scope", "admin"}});
    ASSERT_EQ(r.status, 201) << r.body;
    revoked_key_ = r.Json()["key"].get<std::string>();
    ASSERT_EQ(
        Call("DELETE", "/api/v1/keys/" + std::to_string(r.Json()["id"].get<int64_t>()), admin_key_)
            .status,
        204);
    state_query_ = StateQuery();
  }

  // Every operation of the document under /api but the sign-in (which needs no key),
  // made into a request.
  std::vector<Operation> ApiOperations() {
    std::vector<Operation> out;
    for (const auto& [method, path, scope] : DocumentedOperations()) {
      if (!path.starts_with("/api/") || (method == "POST" && path == "/api/v1/session")) continue;
      out.push_back(MakeOperation(method, path, scope));
    }
    return out;
  }

  Operation MakeOperation(const std::string& method, const std::string& path,
                          const std::string& scope) {
    Operation op{method, path, scope};
    std::string lower = method;
    std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
    const json& spec = OpenApi()["paths"][path][lower];
    // The path, each {param} the id of the thing the segment before it names.
    std::string previous;
    for (size_t at = 1; at <= path.size();) {
      size_t end = std::min(path.find('/', at), path.size());
      std::string segment = path.substr(at, end - at);
      if (segment.starts_with('{')) {
        auto id = ids_.find(previous);
        if (id == ids_.end()) {
          ADD_FAILURE() << path << ": the test has no " << previous
                        << " to name; add one to Security::SetUp";
        }
        segment = id == ids_.end() ? "1" : id->second;
      }
      op.target += "/" + segment;
      previous = segment;
      at = end + 1;
    }
    // A change's query: the examples, booleans false (a bulk file applied, not previewed).
    if (method != "GET") {
      std::string query;
      for (const json& p : spec.value("parameters", json::array())) {
        const json& param = Resolve(p);
        if (param.value("in", "") != "query") continue;
        const json& schema = param.value("schema", json::object());
        std::string value;
        if (schema.value("type", "") == "boolean") {
          value = "false";
        } else if (json example = ExampleOf(param); example.is_string()) {
          value = example.get<std::string>();
        } else if (schema.contains("enum")) {
          value = schema["enum"][0].get<std::string>();
        } else {
          continue;
        }
        query += (query.empty() ? "?" : "&") + param["name"].get<std::string>() + "=" + value;
      }
      op.target += query;
    }
    if (spec.contains("requestBody")) {
      const json& content = spec["requestBody"]["content"];
      auto first = content.begin();  // the first type the document lists
      op.content_type = first.key();
      json example = ExampleOf(first.value());
      op.body = example.is_string() ? example.get<std::string>() : example.dump();
    }
    return op;
  }

  // `op` as a request with `headers` besides its body's.
  HttpRequest RequestFor(const Operation& op, Headers headers = {}) const {
    HttpRequest request{op.method, op.target, std::move(headers)};
    if (!op.content_type.empty()) {
      request.headers.emplace_back("Content-Type", op.content_type);
      request.body = op.body;
    }
    return request;
  }

  static Headers Bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

  // A new session of admin@localhost, the person the server made at its start (with
  // the password it printed): cheaper than `reftrack user add`.
  WebSession SignIn() {
    static const std::regex kPassword("password: (\\S+)");
    std::smatch m;
    std::string out = server_->Stdout();
    EXPECT_TRUE(std::regex_search(out, m, kPassword)) << out;
    HttpResponse r = Call("POST", "/api/v1/session", "",
                          {{"email", "admin@localhost"}, {"password", m[1].str()}});
    EXPECT_EQ(r.status, 200) << r.body;
    std::string cookie = r.Header("Set-Cookie");
    return WebSession{cookie.substr(0, cookie.find(';')), r.Json().value("csrf_token", "")};
  }

  // What a request could change, in one query: the rows of every table, and each
  // referral's status and note, each key's and rule's being revoked or removed, each
  // reward's state. The tables are read from the database, so a new one is counted.
  std::string StateQuery() {
    std::string tables_sql =
        GetParam() == "postgres"
            ? "SELECT table_name FROM information_schema.tables WHERE table_schema = "
              "current_schema() AND table_type = 'BASE TABLE'"
            : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
    std::string sql;
    for (const auto& row : Sql(tables_sql)) {
      sql += fmt::format(
          "SELECT 'rows of {0}' AS what, CAST(count(*) AS TEXT) AS value FROM {0} "
          "UNION ALL ",
          row[0]);
    }
    EXPECT_THAT(sql, HasSubstr("rows of referrals"));
    return sql +
           "SELECT 'referral ' || CAST(id AS TEXT), status || ' ' || note FROM referrals "
           "UNION ALL SELECT 'key ' || CAST(id AS TEXT), "
           "  CASE WHEN revoked_at IS NULL THEN 'live' ELSE 'revoked' END FROM api_keys "
           "UNION ALL SELECT 'rule ' || CAST(id AS TEXT), "
           "  CASE WHEN removed_at IS NULL THEN 'live' ELSE 'removed' END FROM reward_rules "
           "UNION ALL SELECT 'reward ' || CAST(id AS TEXT), state FROM rewards "
           "ORDER BY 1";
  }

  std::string State() {
    std::string out;
    for (const auto& row : Sql(state_query_)) out += row[0] + ": " + row[1] + "\n";
    return out;
  }

  // Sends `request` for `op`, expecting a refusal with `status` (a problem whose detail
  // has `detail`) that does not show the key sent.
  void ExpectRefused(const Operation& op, const std::string& how, const HttpRequest& request,
                     int status, const std::string& detail = "") {
    SCOPED_TRACE(op.Name() + " (" + op.target + "), " + how);
    HttpResponse r = client_->Send(request);
    EXPECT_TRUE(IsProblem(r, status, detail));
    if (status == 401) {
      EXPECT_THAT(r.Header("WWW-Authenticate"), StartsWith("Bearer"));
    }
    for (const auto& [name, value] : request.headers) {
      if (name == "Authorization" && value.size() > 20) {
        EXPECT_THAT(r.body, Not(HasSubstr(value.substr(7)))) << "the answer shows the key";
      }
    }
  }

  // After an operation's refusals: the database is as it was `before` them. (Once per
  // operation, not per request: on PostgreSQL each look costs a connection.)
  void ExpectUnchanged(const Operation& op, const std::string& before) {
    EXPECT_EQ(State(), before) << op.Name() << ": a refused request changed the database";
  }

  // The reftrack-upload-* files the server has spooled.
  std::vector<std::string> SpooledUploads() const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(spool_.path())) {
      out.push_back(entry.path().filename().string());
    }
    return out;
  }

  // The spooled files once the server has had `grace` to remove those it is done with
  // (it does just after closing the connection).
  std::vector<std::string> SpooledUploadsAfter(std::chrono::milliseconds grace) const {
    auto deadline = Clock::now() + grace;
    while (!SpooledUploads().empty() && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return SpooledUploads();
  }

  TempDir spool_;
  std::map<std::string, std::string> ids_;  // by the path segment before {id}
  std::string revoked_key_;
  std::string state_query_;
};

// The table is the document's: every operation under /api but the sign-in, with
// path parameters that exist. The access log then shows each request reached its route.
TEST_P(Security, EveryApiOperationRefusesAMissingMalformedOrRevokedKey) {
  std::vector<Operation> table = ApiOperations();
  ASSERT_FALSE(table.empty());
  // Counted straight from the document's JSON, not through DocumentedOperations().
  size_t documented = 0;
  for (const auto& [path, item] : OpenApi()["paths"].items()) {
    if (!path.starts_with("/api/")) continue;
    for (const auto& [method, operation] : item.items()) {
      if (method == "parameters" || method == "summary" || method == "description") continue;
      documented += !(path == "/api/v1/session" && method == "post");
    }
  }
  EXPECT_EQ(table.size(), documented);
  for (const Operation& op : table) {
    EXPECT_TRUE(op.scope == "read" || op.scope == "write" || op.scope == "admin")
        << op.Name() << " needs scope \"" << op.scope << "\": say which in its description";
    EXPECT_EQ(op.target.find('{'), std::string::npos) << op.target;
    EXPECT_EQ(op.method == "POST" || op.method == "PATCH", !op.body.empty()) << op.Name();
  }

  WebSession web = SignIn();
  const std::string before = State();
  for (const Operation& op : table) {
    ExpectRefused(op, "no Authorization", RequestFor(op), 401, "Authorization: Bearer KEY");
    for (const char* malformed : {"Bearer", "Basic x", "Bearer rt_short"}) {
      ExpectRefused(op, std::string("Authorization: ") + malformed,
                    RequestFor(op, {{"Authorization", malformed}}), 401);
    }
    ExpectRefused(op, "a revoked admin key", RequestFor(op, Bearer(revoked_key_)), 401,
                  "unknown or revoked API key");
    // A bad key is not made good by a session beside it.
    ExpectRefused(op, "a malformed key beside a session",
                  RequestFor(op, {{"Authorization", "Basic x"},
                                  {"Cookie", web.cookie},
                                  {"X-CSRF-Token", web.csrf_token}}),
                  401);
    ExpectUnchanged(op, before);
  }
  ASSERT_TRUE(server_->StopGracefully());
  std::set<std::string> refused;
  std::string log = ReadWholeFile(server_->access_log());
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    json entry = json::parse(line, nullptr, false);
    if (entry.is_object() && entry.value("status", 0) == 401) {
      refused.insert(entry.value("method", "") + " " + entry.value("route", ""));
    }
  }
  for (const Operation& op : table) EXPECT_TRUE(refused.contains(op.Name())) << op.Name();
  // No secret is logged.
  for (const std::string& secret :
       {admin_key_, write_key_, read_key_, revoked_key_, web.cookie.substr(11), web.csrf_token}) {
    EXPECT_THAT(log + server_->Stdout() + server_->Stderr(), Not(HasSubstr(secret)));
  }
}

// A key one scope too small is refused (read for write routes; read and write for
// admin routes), even beside a session that may do everything; the key the operation
// needs, or a session with its token, gets past the checks (the answer may still be a
// 404 or a 409 of the examples' data, never 401 or 403). However the path of an admin
// route is spelled, a read key does not get its answer.
TEST_P(Security, EveryApiOperationNeedsItsScopeAndNoLess) {
  WebSession web = SignIn();
  const std::map<std::string, std::string> key_of = {
      {"read", read_key_}, {"write", write_key_}, {"admin", admin_key_}};
  const std::map<std::string, std::vector<std::string>> smaller = {
      {"read", {}}, {"write", {"read"}}, {"admin", {"read", "write"}}};
  std::vector<Operation> table = ApiOperations();
  const std::string before = State();
  int cases = 0;
  for (const Operation& op : table) {
    ASSERT_TRUE(smaller.contains(op.scope)) << op.Name();
    for (const std::string& scope : smaller.at(op.scope)) {
      const std::string& key = key_of.at(scope);
      ExpectRefused(op, "a " + scope + " key", RequestFor(op, Bearer(key)), 403,
                    "needs a key with scope " + op.scope + "; key");
      ExpectRefused(op, "a " + scope + " key beside a session",
                    RequestFor(op, {{"Authorization", "Bearer " + key},
                                    {"Cookie", web.cookie},
                                    {"X-CSRF-Token", web.csrf_token}}),
                    403);
      ++cases;
    }
    ExpectUnchanged(op, before);
  }
  EXPECT_GE(cases, 10) << "the document has few routes needing write or admin";

  for (const std::string target :
       {"/api/v1/keys/", "//api/v1/keys", "/api/v1/./keys", "/api/v1/x/../keys",
        "/healthz/../api/v1/keys", "/api/v1/%6beys", "/API/v1/keys", "/api/v1/keys%2f",
        "/api/v1/keys;x", "/api/v1/keys%00", "/api/v1/keys?scope=admin", "/api/v1/keys#x",
        "/api/v1%2fkeys", "/api/v1/keys/%2e%2e/keys"}) {
    HttpResponse r = Get(target, read_key_);
    EXPECT_TRUE(r.status == 400 || r.status == 403 || r.status == 404) << target << " " << r.status;
    EXPECT_THAT(r.body, Not(HasSubstr("\"keys\""))) << target;
    r = Get(target, "");
    EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 404) << target << " " << r.status;
  }

  // Signing out ends the session the others use: last.
  std::ranges::stable_partition(table, [](const Operation& op) {
    return !(op.method == "DELETE" && op.path == "/api/v1/session");
  });
  for (const Operation& op : table) {
    HttpResponse r = client_->Send(RequestFor(op, Bearer(key_of.at(op.scope))));
    EXPECT_TRUE(r.status != 401 && r.status != 403)
        << op.Name() << ": " << r.status << " " << r.body;
    r = client_->Send(RequestFor(op, {{"Cookie", web.cookie}, {"X-CSRF-Token", web.csrf_token}}));
    EXPECT_TRUE(r.status != 401 && r.status != 403)
        << op.Name() << " with a session: " << r.status << " " << r.body;
  }
}

// Every change made with a session (every operation but GET) needs that session's own
// token in the X-CSRF-Token header: not another session's of the same person, not in
// another case, not where a cross-site request could put it; and a cookie whose name
// only ends like the session's is no session.
TEST_P(Security, EveryChangeWithASessionNeedsItsOwnCsrfToken) {
  WebSession web = SignIn();
  WebSession other_tab = SignIn();  // the same person's other session
  ASSERT_NE(web.csrf_token, other_tab.csrf_token);
  std::string upper = web.csrf_token;
  std::ranges::transform(upper, upper.begin(), [](unsigned char c) { return std::toupper(c); });
  ASSERT_NE(upper, web.csrf_token);
  const std::string before = State();
  int changes = 0;
  for (const Operation& op : ApiOperations()) {
    if (op.method == "GET") continue;
    ++changes;
    ExpectRefused(op, "no X-CSRF-Token", RequestFor(op, {{"Cookie", web.cookie}}), 403,
                  "needs the X-CSRF-Token header");
    ExpectRefused(op, "the other session's token",
                  RequestFor(op, {{"Cookie", web.cookie}, {"X-CSRF-Token", other_tab.csrf_token}}),
                  403, "does not match your session");
    ExpectRefused(op, "the token upper-cased",
                  RequestFor(op, {{"Cookie", web.cookie}, {"X-CSRF-Token", upper}}), 403,
                  "does not match your session");
    ExpectRefused(op, "the token as a cookie",
                  RequestFor(op, {{"Cookie", web.cookie + "; X-CSRF-Token=" + web.csrf_token}}),
                  403);
    Operation in_query = op;
    in_query.target += (op.target.find('?') == std::string::npos ? "?" : "&") +
                       std::string("csrf_token=") + web.csrf_token;
    ExpectRefused(in_query, "the token in the query",
                  RequestFor(in_query, {{"Cookie", web.cookie}}), 403);
    ExpectRefused(op, "a look-alike cookie",
                  RequestFor(op, {{"Cookie", "x" + web.cookie}, {"X-CSRF-Token", web.csrf_token}}),
                  401);
    ExpectUnchanged(op, before);
  }
  EXPECT_GE(changes, 8);
}

// Headers over 16 KiB are 431 and the server goes on; on every route taking JSON, a
// body over 1 MiB is 413, at once when its Content-Length says so (the client sends
// the header alone and waits) and when chunked once the limit is reached; an upload
// over --max-upload-mb (1 here) likewise, before anything is spooled; and without a
// key, an upload is refused before that, whatever size it announces. A key that may do
// the work is sent, so size is the only reason.
TEST_P(Security, HeadersAndBodiesOverTheLimitsAreRefused) {
  auto get = [&](const std::string& target, Headers headers) {
    HttpClient client(server_->port());
    return client.Send(HttpRequest{"GET", target, std::move(headers)});
  };
  EXPECT_TRUE(
      IsProblem(get("/healthz", {{"X-Big", std::string(20'000, 'a')}}), 431, "header too large"));
  Headers many;
  for (int i = 0; i < 2000; ++i) many.emplace_back(fmt::format("X-Pad-{}", i), "v");
  EXPECT_TRUE(IsProblem(get("/healthz", many), 431));
  EXPECT_TRUE(
      IsProblem(get("/api/v1/referrals?q=" + std::string(20'000, 'a'), Bearer(read_key_)), 431));
  Headers big = Bearer(read_key_);
  big.emplace_back("X-Big", std::string(20'000, 'a'));
  EXPECT_TRUE(IsProblem(get("/api/v1/referrals", big), 431));
  Headers fits = Bearer(read_key_);
  fits.emplace_back("X-Big", std::string(12'000, 'a'));
  EXPECT_EQ(get("/api/v1/referrals", fits).status, 200);
  EXPECT_EQ(Get("/healthz", "").status, 200);

  std::vector<Operation> json_routes, uploads;
  for (const auto& [method, path, scope] : DocumentedOperations()) {
    Operation op = MakeOperation(method, path, scope);
    if (op.content_type == "application/json") json_routes.push_back(op);
    if (op.content_type.starts_with("text/")) uploads.push_back(op);
  }
  ASSERT_GE(json_routes.size(), 7u);
  ASSERT_EQ(uploads.size(), 2u);
  const std::string before = State();
  for (const Operation& op : json_routes) {
    Headers auth = op.scope == "none" ? Headers{} : Bearer(admin_key_);
    HttpRequest said = RequestFor(op, auth);
    said.body = std::string(kJsonLimit + 1, ' ');
    said.header_only = true;
    ExpectRefused(op, "Content-Length over the limit", said, 413, "at most 1048576");
    json body = json::parse(op.body);  // valid but for its size
    body["note"] = std::string(kJsonLimit, 'x');
    HttpRequest chunked = RequestFor(op, auth);
    chunked.body = body.dump();
    chunked.chunked = true;
    ExpectRefused(op, "a chunked body over the limit", chunked, 413, "1048576 bytes");
    ExpectUnchanged(op, before);
  }
  for (const Operation& op : uploads) {
    HttpRequest said = RequestFor(op, Bearer(write_key_));
    said.body = std::string((1 << 20) + 1, 'x');
    said.header_only = true;
    ExpectRefused(op, "Content-Length over --max-upload-mb", said, 413, "at most 1048576");
    RawConnection anonymous(server_->port());
    ASSERT_TRUE(anonymous.Write("POST " + op.target + " HTTP/1.1\r\nHost: x\r\nContent-Type: " +
                                op.content_type + "\r\nContent-Length: 10000000000\r\n\r\n"));
    EXPECT_THAT(anonymous.ReadUntil("}", std::chrono::seconds(3)), StartsWith("HTTP/1.1 401 "))
        << op.Name();
    EXPECT_EQ(SpooledUploadsAfter(std::chrono::milliseconds(200)), std::vector<std::string>())
        << op.Name();
    ExpectUnchanged(op, before);
  }
}

// Slowloris: half a header, a header sent a byte at a time, a kept-alive connection
// left idle are closed after the header timeout (1 s here); a body that stops arriving
// after the body timeout (2 s): without an answer, with nothing changed and the upload
// spooled so far removed; meanwhile the server serves others at once.
TEST_P(Security, SlowClientsAreCutOffWhileOthersAreServed) {
  const std::string referral = "/api/v1/referrals/" + ids_["referrals"];
  const std::string before = State();
  const auto start = Clock::now();
  std::vector<std::unique_ptr<RawConnection>> half_headers;
  for (int i = 0; i < 30; ++i) {
    half_headers.push_back(std::make_unique<RawConnection>(server_->port()));
    ASSERT_TRUE(
        half_headers.back()->Write("GET /api/v1/referrals HTTP/1.1\r\nHost: x\r\n"
                                   "Authorization: Bearer " +
                                   read_key_ + "\r\n"));
  }
  RawConnection trickle(server_->port());
  const std::string slow_header =
      "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(500, 'a');
  RawConnection idle(server_->port());
  ASSERT_TRUE(idle.Write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_THAT(idle.ReadUntil("}", std::chrono::seconds(1)), StartsWith("HTTP/1.1 200 "));
  RawConnection patch(server_->port());
  ASSERT_TRUE(patch.Write("PATCH " + referral + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                          write_key_ +
                          "\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                          "{\"status\": \"appro"));
  // A body that keeps coming, a byte every 50 ms (so the timeout between bytes never
  // runs out), far below the least rate.
  RawConnection trickle_body(server_->port());
  ASSERT_TRUE(trickle_body.Write("PATCH " + referral + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
                                 write_key_ +
                                 "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"));
  size_t body_trickled = 0;
  RawConnection upload(server_->port());
  ASSERT_TRUE(
      upload.Write("POST /api/v1/imports?dry_run=false HTTP/1.1\r\nHost: x\r\n"
                   "Authorization: Bearer " +
                   write_key_ +
                   "\r\nContent-Type: text/csv\r\nContent-Length: 100000\r\n\r\n"
                   "referralkey_id,status\n" +
                   ids_["referrals"] + ",approved\n"));
  for (int i = 0; i < 5; ++i) {
    HttpClient client(server_->port());
    auto asked = Clock::now();
    EXPECT_EQ(client.Send(HttpRequest{"GET", referral, Bearer(read_key_)}).status, 200);
    EXPECT_LT(SecondsSince(asked), 0.5);
  }
  // The upload is spooled as it arrives (so that it is gone below means something).
  while (SpooledUploads().empty() && SecondsSince(start) < 0.8) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(SpooledUploads().size(), 1u);

  // Until all are closed (5 s at most): when each was, and what it received.
  std::vector<RawConnection*> all = {&trickle, &idle, &patch, &trickle_body, &upload};
  for (auto& c : half_headers) all.push_back(c.get());
  std::map<RawConnection*, double> closed_at;
  std::map<RawConnection*, std::string> received;
  size_t trickled = 0;
  auto last_byte = Clock::now() - std::chrono::seconds(1);
  while (closed_at.size() < all.size() && SecondsSince(start) < 5) {
    if (SecondsSince(last_byte) >= 0.05) {
      if (!trickle.peer_closed() && trickled < slow_header.size()) {
        trickle.Write(slow_header.substr(trickled++, 1));
      }
      if (!trickle_body.peer_closed()) {
        trickle_body.Write(" ");
        ++body_trickled;
      }
      last_byte = Clock::now();
    }
    for (RawConnection* c : all) {
      if (closed_at.contains(c)) continue;
      received[c] += c->ReadUntil("never in an answer", std::chrono::milliseconds(3));
      if (c->peer_closed()) closed_at[c] = SecondsSince(start);
    }
  }
  auto expect_closed = [&](RawConnection* c, double after, const std::string& what) {
    ASSERT_TRUE(closed_at.contains(c)) << what << " was never closed";
    EXPECT_GE(closed_at[c], after * 0.9) << what;
    EXPECT_LT(closed_at[c], after + 0.6) << what;
    EXPECT_EQ(received[c], "") << what;
  };
  for (auto& c : half_headers) expect_closed(c.get(), kHeaderTimeoutS, "half a header");
  expect_closed(&trickle, kHeaderTimeoutS, "a header trickling in");
  EXPECT_LT(trickled, slow_header.size()) << "the whole header was sent";
  expect_closed(&idle, kHeaderTimeoutS, "an idle connection");
  expect_closed(&patch, kBodyTimeoutS, "a stalled JSON body");
  expect_closed(&upload, kBodyTimeoutS, "a stalled upload");
  expect_closed(&trickle_body, kBodyTimeoutS, "a body trickling in below the least rate");
  EXPECT_GT(body_trickled, 20u) << "the body kept coming until it was cut off";
  EXPECT_EQ(SpooledUploadsAfter(std::chrono::milliseconds(500)), std::vector<std::string>());
  EXPECT_EQ(State(), before);
  EXPECT_EQ(Get("/healthz", "").status, 200);
}

// Request smuggling: a message whose body's length two parties could read differently
// is refused and its connection closed, and what follows it is never taken for a
// request, here one that would add a campaign. Two Authorization headers (a proxy in
// front may have checked the other) and NUL bytes are refused too.
TEST_P(Security, AmbiguousRequestsAre400AndWhatFollowsIsNotARequest) {
  const std::string smuggled =
      "POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_key_ +
      "\r\nContent-Type: application/json\r\nContent-Length: 19\r\n\r\n{\"name\":\"smuggled\"}";
  const std::string size = std::to_string(smuggled.size());
  auto head = [&](const std::string& fields) {
    return "POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_key_ +
           "\r\nContent-Type: application/json\r\n" + fields + "\r\n";
  };
  auto keys = [&](const std::string& fields) {
    return "GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n";
  };
  const std::string before = State();
  for (const auto& [how, request] : std::vector<std::pair<std::string, std::string>>{
           {"Content-Length and Transfer-Encoding",
            head("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n" + smuggled},
           {"Transfer-Encoding and Content-Length",
            head("Transfer-Encoding: chunked\r\nContent-Length: " + size + "\r\n") + "0\r\n\r\n" +
                smuggled},
           {"a coding after chunked", head("Transfer-Encoding: chunked, identity\r\n") + smuggled},
           {"an unknown coding", head("Transfer-Encoding: xchunked\r\n") + smuggled},
           {"identity", head("Transfer-Encoding: identity\r\n") + smuggled},
           {"a space before the colon",
            head("Transfer-Encoding : chunked\r\n") + "0\r\n\r\n" + smuggled},
           {"two Content-Lengths",
            head("Content-Length: " + size + "\r\nContent-Length: 0\r\n") + smuggled},
           {"a Content-Length list", head("Content-Length: 0, " + size + "\r\n") + smuggled},
           {"a signed Content-Length", head("Content-Length: +" + size + "\r\n") + smuggled},
           {"two keys, the admin's first", keys("Authorization: Bearer " + admin_key_ +
                                                "\r\nAuthorization: Bearer " + read_key_ + "\r\n")},
           {"two keys, the admin's second",
            keys("Authorization: Bearer " + read_key_ + "\r\nAuthorization: Bearer " + admin_key_ +
                 "\r\n")},
           {"a NUL in the path",
            std::string("GET /api/v1/keys\0/x HTTP/1.1\r\nHost: x\r\n\r\n", 41)},
           {"a NUL after a valid key",
            keys("Authorization: Bearer " + admin_key_ + std::string("\0x\r\n", 4))},
       }) {
    RawConnection connection(server_->port());
    ASSERT_TRUE(connection.Write(request));
    std::string answer = connection.ReadUntil("never in an answer", std::chrono::seconds(3));
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 400 ")) << how;
    EXPECT_THAT(answer, HasSubstr("Connection: close")) << how;
    EXPECT_EQ(std::count(answer.begin(), answer.end(), '{'), 1) << how << ": " << answer;
    EXPECT_TRUE(connection.peer_closed()) << how;
  }
  EXPECT_EQ(State(), before);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM campaigns WHERE name = 'smuggled'"), "0");
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals/" + ids_["referrals"] + "%00", read_key_), 400));
  // A plain chunked body is fine.
  HttpRequest chunked{"POST", "/api/v1/campaigns", Bearer(admin_key_), R"({"name":"autumn"})"};
  chunked.headers.emplace_back("Content-Type", "application/json");
  chunked.chunked = true;
  EXPECT_EQ(client_->Send(chunked).status, 201);
}

INSTANTIATE_TEST_SUITE_P(Stores, Security, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
