// The web page's side of the server: users made with the CLI, sign-in with a session
// cookie, CSRF protection of every change made with it, the counts and payout export
// the page shows, and the page's files served from --web-root and nowhere else.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include "http/http_fixture.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr const char* kPassword = "correct-horse-battery";

// The fixture with a small built page: index.html, a hashed asset, and a secret file
// beside the web root that no request may reach.
class Web : public HttpApiTest {
 protected:
  Web() {
    mkdir(web_dir_.File("web").c_str(), 0700);
    mkdir(web_dir_.File("web/assets").c_str(), 0700);
    WriteFile(web_dir_.File("web/index.html"), "<!doctype html><title>reftrack</title>");
    WriteFile(web_dir_.File("web/assets/index-3f9a.js"), "console.log('page');");
    WriteFile(web_dir_.File("secret.txt"), "not for the web");
    symlink(web_dir_.File("secret.txt").c_str(), web_dir_.File("web/linked.txt").c_str());
  }
  std::vector<std::string> ServerArgs() const override {
    return {"--web-root", web_dir_.File("web")};
  }
  TempDir web_dir_;
};

TEST_P(Web, UserAddRefusesShortPasswordsAndDuplicatesAndStoresOnlyAHash) {
  CommandResult r = RunReftrack("--db '" + url_ + "' user add ada@example.com", "short\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("at least 10"));
  r = RunReftrack("--db '" + url_ + "' user add not-an-email", std::string(kPassword) + "\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("not an email"));
  r = RunReftrack("--db '" + url_ + "' user add ada@example.com", "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("no password on stdin"));
  r = RunReftrack("--db '" + url_ + "' --json user add Ada@Example.com",
                  std::string(kPassword) + "\r\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["email"], "ada@example.com");
  r = RunReftrack("--db '" + url_ + "' user add ada@example.com", std::string(kPassword) + "\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("exists already"));
  std::string hash = SqlValue("SELECT password_hash FROM users WHERE email = 'ada@example.com'");
  EXPECT_THAT(hash, StartsWith("$argon2id$"));
  EXPECT_THAT(hash, ::testing::Not(HasSubstr(kPassword)));
  // The server made admin@localhost (the database had no user) before the tests' one.
  EXPECT_EQ(SqlValue("SELECT count(*) FROM users"), "2");
}

TEST_P(Web, ServeMakesAFirstUserWhoseSigninWorks) {
  std::string out = server_->Stdout();
  auto at = out.find("password: ");
  ASSERT_NE(at, std::string::npos) << out;
  std::string password = out.substr(at + 10, out.find('\n', at) - at - 10);
  EXPECT_THAT(out, HasSubstr("email:    admin@localhost"));
  HttpResponse r = Call("POST", "/api/v1/session", "",
                        {{"email", "admin@localhost"}, {"password", password}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["email"], "admin@localhost");
}

TEST_P(Web, SigninSetsAStrictHttpOnlyCookieAndStoresOnlyItsHash) {
  RunReftrack("--db '" + url_ + "' user add ada@example.com", std::string(kPassword) + "\n");
  HttpResponse r = Call("POST", "/api/v1/session", "",
                        {{"email", " ADA@example.com"}, {"password", kPassword}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string cookie = r.Header("Set-Cookie");
  EXPECT_THAT(cookie, StartsWith("rt_session="));
  EXPECT_THAT(cookie, HasSubstr("; HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("; SameSite=Strict"));
  EXPECT_THAT(cookie, HasSubstr("; Path=/"));
  std::string token = cookie.substr(11, 64);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM sessions"), "1");
  EXPECT_NE(SqlValue("SELECT token_hash FROM sessions"), token);
  EXPECT_EQ(r.Json()["csrf_token"], SqlValue("SELECT csrf_token FROM sessions"));
}

TEST_P(Web, WrongPasswordAndUnknownEmailGetTheSame401) {
  RunReftrack("--db '" + url_ + "' user add ada@example.com", std::string(kPassword) + "\n");
  HttpResponse wrong = Call("POST", "/api/v1/session", "",
                            {{"email", "ada@example.com"}, {"password", "correct-horse-batterx"}});
  HttpResponse unknown =
      Call("POST", "/api/v1/session", "", {{"email", "bob@example.com"}, {"password", kPassword}});
  EXPECT_TRUE(IsProblem(wrong, 401, "wrong email or password"));
  EXPECT_TRUE(IsProblem(unknown, 401, "wrong email or password"));
  EXPECT_EQ(wrong.Json()["detail"], unknown.Json()["detail"]);
  EXPECT_EQ(wrong.Header("Set-Cookie"), "");
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/session", "", {{"email", "ada@example.com"}}), 400,
                        "password"));
  // A form another site posts cannot be JSON: sign-in takes nothing else.
  HttpRequest form{"POST", "/api/v1/session"};
  form.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  form.body = "email=ada%40example.com&password=correct-horse-battery";
  EXPECT_TRUE(IsProblem(client_->Send(form), 415));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM sessions"), "0");
}

TEST_P(Web, ChangesWithASessionNeedItsCsrfToken) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  WebSession web = AddUserAndSignIn("grace@example.com", kPassword);
  const std::string path = "/api/v1/referrals/" + std::to_string(id);
  const json change = {{"status", "qualified"}};
  EXPECT_TRUE(IsProblem(CallWithSession(web, "PATCH", path, change, ""), 403, "X-CSRF-Token"));
  std::string forged = web.csrf_token;
  forged.back() = forged.back() == 'a' ? 'b' : 'a';
  EXPECT_TRUE(IsProblem(CallWithSession(web, "PATCH", path, change, forged), 403, "does not match"));
  EXPECT_TRUE(IsProblem(CallWithSession(web, "PATCH", path, change, web.csrf_token + "00"), 403));
  EXPECT_TRUE(IsProblem(CallWithSession(web, "POST", "/api/v1/campaigns", {{"name", "x"}}, ""), 403));
  EXPECT_TRUE(IsProblem(CallWithSession(web, "DELETE", "/api/v1/session", nullptr, ""), 403));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(id)), "pending");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "0");

  // Another person's token is no better than a forged one.
  WebSession other = AddUserAndSignIn("linus@example.com", kPassword);
  EXPECT_TRUE(IsProblem(CallWithSession(web, "PATCH", path, change, other.csrf_token), 403));

  HttpResponse r = CallWithSession(web, "PATCH", path, {{"status", "qualified"}, {"note", "called"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json shown = CallWithSession(web, "GET", path).Json();
  ASSERT_EQ(shown["history"].size(), 1u);
  EXPECT_EQ(shown["history"][0]["source"], "manual");
  EXPECT_EQ(shown["history"][0]["actor"], "web:grace@example.com");
  EXPECT_EQ(shown["note"], "called");
}

TEST_P(Web, AnEndedOrForgedSessionIs401AndClearsTheCookie) {
  WebSession web = AddUserAndSignIn("grace@example.com", kPassword);
  ASSERT_EQ(CallWithSession(web, "GET", "/api/v1/session").status, 200);
  ASSERT_EQ(CallWithSession(web, "DELETE", "/api/v1/session").status, 204);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM sessions"), "0");
  HttpResponse r = CallWithSession(web, "GET", "/api/v1/referrals");
  EXPECT_TRUE(IsProblem(r, 401, "sign in again"));
  EXPECT_THAT(r.Header("Set-Cookie"), HasSubstr("Max-Age=0"));
  WebSession forged{"rt_session=" + std::string(64, 'a'), web.csrf_token};
  EXPECT_TRUE(IsProblem(CallWithSession(forged, "GET", "/api/v1/stats"), 401));
  WebSession malformed{"rt_session=../../etc", web.csrf_token};
  EXPECT_TRUE(IsProblem(CallWithSession(malformed, "GET", "/api/v1/stats"), 401));
  // The session routes are the page's: a key has no session.
  EXPECT_TRUE(IsProblem(Get("/api/v1/session", read_key_), 400, "no session"));
}

TEST_P(Web, ProfileSaysWhichChangesTheRulesAllowAndWhy) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  auto allowed = [&] {
    json shown = ShowReferral(id);
    std::map<std::string, json> by_status;
    for (const json& t : shown["transitions"]) by_status[t["to"]] = t;
    return by_status;
  };
  auto t = allowed();
  EXPECT_EQ(t.size(), 3u);
  EXPECT_FALSE(t.contains("pending"));
  for (const char* s : {"qualified", "approved", "denied"}) {
    EXPECT_EQ(t[s]["allowed"], true) << s;
    EXPECT_EQ(t[s]["reason"], nullptr) << s;
  }
  const std::string path = "/api/v1/referrals/" + std::to_string(id);
  ASSERT_EQ(Call("PATCH", path, write_key_, {{"status", "qualified"}}).status, 200);
  ASSERT_EQ(Call("PATCH", path, write_key_, {{"status", "denied"}}).status, 200);
  t = allowed();
  EXPECT_EQ(t["pending"]["allowed"], true);
  EXPECT_EQ(t["approved"]["allowed"], true);
  EXPECT_EQ(t["qualified"]["allowed"], false);
  EXPECT_THAT(t["qualified"]["reason"].get<std::string>(), HasSubstr("was qualified before"));
  // What the page offers is what the server then does.
  EXPECT_TRUE(IsProblem(Call("PATCH", path, write_key_, {{"status", "qualified"}}), 409,
                        t["qualified"]["reason"].get<std::string>()));
  ASSERT_EQ(Call("PATCH", path, write_key_, {{"status", "approved"}}).status, 200);
  for (const auto& [to, verdict] : allowed()) {
    EXPECT_EQ(verdict["allowed"], false) << to;
    EXPECT_THAT(verdict["reason"].get<std::string>(), HasSubstr("approved is final")) << to;
  }
}

TEST_P(Web, StatsCountEachCampaignByStatusAndEverQualified) {
  AddCampaign("spring");
  AddCampaign("autumn");
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(AddReferral("spring", fmt::format("s{}@x.io", i)));
  const int64_t autumn = AddReferral("autumn", "a@x.io");
  auto set = [&](int64_t id, const char* status) {
    ASSERT_EQ(Call("PATCH", "/api/v1/referrals/" + std::to_string(id), write_key_,
                   {{"status", status}})
                  .status,
              200);
  };
  set(ids[0], "qualified");
  set(ids[1], "qualified");
  set(ids[1], "approved");
  set(ids[2], "qualified");
  set(ids[2], "denied");
  set(ids[3], "denied");
  set(autumn, "approved");
  HttpResponse r = Get("/api/v1/stats", read_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  json all = r.Json();
  EXPECT_EQ(all["total"], 7);
  EXPECT_EQ(all["counts"], json({{"pending", 2}, {"qualified", 1}, {"approved", 2}, {"denied", 2}}));
  EXPECT_EQ(all["ever_qualified"], 4);  // approving qualifies too (qualified_at is set)
  ASSERT_EQ(all["campaigns"].size(), 2u);
  std::map<std::string, json> by_name;
  for (const json& c : all["campaigns"]) by_name[c["name"]] = c;
  EXPECT_EQ(by_name["spring"]["total"], 6);
  EXPECT_EQ(by_name["spring"]["ever_qualified"], 3);
  EXPECT_EQ(by_name["spring"]["counts"]["denied"], 2);
  EXPECT_EQ(by_name["autumn"]["counts"], json({{"pending", 0}, {"qualified", 0}, {"approved", 1},
                                               {"denied", 0}}));
  EXPECT_EQ(by_name["autumn"]["ever_qualified"], 1);
  r = Get("/api/v1/stats?campaign=autumn", read_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["total"], 1);
  EXPECT_EQ(r.Json()["campaigns"].size(), 1u);
  EXPECT_TRUE(IsProblem(Get("/api/v1/stats?campaign=winter", read_key_), 404, "winter"));
}

TEST_P(Web, PayoutExportQuotesCellsASpreadsheetWouldRun) {
  AddCampaign("spring");
  ASSERT_EQ(Call("POST", "/api/v1/campaigns/1/reward-rules", admin_key_,
                 {{"on", "pending"}, {"to", "referred"}, {"amount", "10"}, {"currency", "USD"},
                  {"description", "=HYPERLINK(\"http://evil\")"}})
                .status,
            201);
  AddReferral("spring", "ada@example.com");
  HttpResponse r = Get("/api/v1/rewards/export.csv?campaign=spring", read_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_THAT(r.Header("Content-Type"), HasSubstr("text/csv"));
  EXPECT_THAT(r.Header("Content-Disposition"), HasSubstr("attachment"));
  EXPECT_THAT(r.body, HasSubstr("ada@example.com"));
  EXPECT_THAT(r.body, ::testing::Not(HasSubstr(",=HYPERLINK")));
  EXPECT_THAT(r.body, HasSubstr("'=HYPERLINK"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/rewards/export.csv?state=lost", read_key_), 400, "state"));
}

TEST_P(Web, ServesThePageAndOnlyItsFiles) {
  HttpResponse r = Get("/", "");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<!doctype html><title>reftrack</title>");
  EXPECT_THAT(r.Header("Content-Type"), StartsWith("text/html"));
  EXPECT_EQ(r.Header("Cache-Control"), "no-cache");
  EXPECT_THAT(r.Header("Content-Security-Policy"), HasSubstr("default-src 'self'"));
  EXPECT_THAT(r.Header("Content-Security-Policy"), HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(r.Header("X-Content-Type-Options"), "nosniff");
  // The page's own routes get index.html, so a reload of /referrals/42 works.
  EXPECT_EQ(Get("/referrals/42", "").body, r.body);
  HttpResponse asset = Get("/assets/index-3f9a.js", "");
  ASSERT_EQ(asset.status, 200);
  EXPECT_EQ(asset.body, "console.log('page');");
  EXPECT_THAT(asset.Header("Content-Type"), StartsWith("text/javascript"));
  EXPECT_THAT(asset.Header("Cache-Control"), HasSubstr("immutable"));
  EXPECT_EQ(Get("/assets/missing.js", "").status, 404);
  // Nothing outside the folder, whatever the path says: not through .., not through
  // a link inside it.
  for (const char* escape : {"/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt",
                             "/linked.txt", "/..%5csecret.txt", "/%00.txt"}) {
    HttpResponse e = Get(escape, "");
    EXPECT_THAT(e.body, ::testing::Not(HasSubstr("not for the web"))) << escape;
    EXPECT_TRUE(e.status == 404 || e.status == 400 || e.body == r.body) << escape << " " << e.status;
  }
  // /api stays the API: an unknown route there is a problem, not the page.
  EXPECT_TRUE(IsProblem(Get("/api/v1/nothing", read_key_), 404));
  EXPECT_TRUE(IsProblem(Call("POST", "/", "", json::object()), 404));
}

// The page follows a big upload while the server reads it: the progress rises to
// the file's size, only its sender sees it, and it is gone once answered.
TEST_P(Web, UploadProgressIsVisibleToItsSenderWhileTheFileIsRead) {
  AddCampaign("spring");
  std::string file = "referralkey_email,status\n";
  for (int i = 0; i < 300'000; ++i) file += fmt::format("nobody{}@example.com,qualified\n", i);
  const std::string id = "upload-0123456789";
  std::atomic<bool> answered = false;
  HttpResponse answer;
  std::thread upload([&] {
    HttpClient client(server_->port());
    HttpRequest request{"POST", "/api/v1/imports?dry_run=true&progress_id=" + id};
    request.headers.emplace_back("Authorization", "Bearer " + write_key_);
    request.headers.emplace_back("Content-Type", "text/csv");
    request.body = file;
    answer = client.Send(request);
    answered = true;
  });
  std::vector<uint64_t> seen;
  bool others_saw = false;
  while (!answered) {
    HttpResponse r = Get("/api/v1/progress/" + id, write_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    if (r.Json()["reading"] == true) {
      EXPECT_EQ(r.Json()["bytes_total"], file.size());
      seen.push_back(r.Json()["bytes_read"].get<uint64_t>());
      others_saw = others_saw || Get("/api/v1/progress/" + id, read_key_).Json()["reading"] == true;
    } else {
      EXPECT_EQ(r.Json()["bytes_read"], 0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  upload.join();
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.Json()["error_count"], 300'000);
  ASSERT_FALSE(seen.empty()) << "the upload was never seen in progress";
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  EXPECT_LE(seen.back(), file.size());
  EXPECT_FALSE(others_saw) << "another key saw this upload's progress";
  EXPECT_EQ(Get("/api/v1/progress/" + id, write_key_).Json(),
            json({{"reading", false}, {"bytes_read", 0}, {"bytes_total", 0}}));
  EXPECT_TRUE(IsProblem(
      Upload("/api/v1/imports?dry_run=true&progress_id=../x", write_key_, "referralkey_id,status\n"),
      400, "progress_id"));
}

INSTANTIATE_TEST_SUITE_P(Stores, Web, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
