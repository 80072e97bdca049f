// Error answers (SPEC §6, docs/HTTP_API.md "Errors"): problem+json with a detail a
// person can act on, and nothing changed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

class Errors : public HttpApiTest {
 protected:
  void SetUp() override {
    HttpApiTest::SetUp();
    if (HasFatalFailure()) return;
    AddCampaign("spring");
    ada_ = AddReferral("spring", "ada@example.com");
    ada_path_ = "/api/v1/referrals/" + std::to_string(ada_);
  }

  // A PATCH of Ada with a raw body.
  HttpResponse PatchRaw(const std::string& body,
                        const std::string& content_type = "application/json") {
    HttpRequest request{"PATCH", ada_path_};
    request.headers = {{"Authorization", "Bearer " + write_key_}};
    if (!content_type.empty()) request.headers.emplace_back("Content-Type", content_type);
    request.body = body;
    return client_->Send(request);
  }

  // Ada is untouched: pending, no note, no history.
  void ExpectAdaUntouched() {
    EXPECT_EQ(Sql("SELECT status, note FROM referrals WHERE id = " + std::to_string(ada_)),
              (std::vector<std::vector<std::string>>{{"pending", ""}}));
    EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "0");
  }

  int64_t ada_ = 0;
  std::string ada_path_;
};

TEST_P(Errors, MalformedBodiesAre400) {
  // Not JSON.
  EXPECT_TRUE(IsProblem(PatchRaw(R"({"status": "qualified")"), 400, "not valid JSON"));
  EXPECT_TRUE(IsProblem(PatchRaw(""), 400, "not valid JSON"));
  EXPECT_TRUE(IsProblem(PatchRaw(R"({"status": "qualified"} x)"), 400, "not valid JSON"));
  // JSON, not an object.
  for (const char* body : {R"(["qualified"])", R"("qualified")", "42", "null"}) {
    EXPECT_TRUE(IsProblem(PatchRaw(body), 400, "must be a JSON object")) << body;
  }
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals", write_key_, json::array()), 400,
                        "must be a JSON object"));
  // Fields missing, of the wrong type or bad.
  EXPECT_TRUE(IsProblem(Call("PATCH", ada_path_, write_key_, json::object()), 400,
                        "\"status\" is required"));
  EXPECT_TRUE(IsProblem(Call("PATCH", ada_path_, write_key_, {{"status", 2}}), 400,
                        "\"status\" must be a string"));
  EXPECT_TRUE(IsProblem(
      Call("PATCH", ada_path_, write_key_, {{"status", "qualified"}, {"note", json::array()}}), 400,
      "\"note\" must be a string"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals", write_key_, {{"campaign", "spring"}}),
                        400, "\"email\" is required"));
  EXPECT_TRUE(IsProblem(
      Call("POST", "/api/v1/referrals", write_key_, {{"campaign", "spring"}, {"email", 7}}), 400,
      "\"email\" must be a string"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals", write_key_,
                             {{"campaign", "spring"}, {"email", "not an email"}}),
                        400, "not an email"));
  EXPECT_TRUE(
      IsProblem(Call("POST", "/api/v1/referrals/update", write_key_, {{"status", "qualified"}}),
                400, "\"key\" is required"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals/update", write_key_,
                             {{"key", {{"id", "seven"}}}, {"status", "qualified"}}),
                        400));
  EXPECT_TRUE(IsProblem(
      Call("POST", "/api/v1/referrals/update", write_key_,
           {{"key", {{"id", ada_}, {"email", "ada@example.com"}}}, {"status", "qualified"}}),
      400, "exactly one"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/campaigns", admin_key_, {{"name", true}}), 400,
                        "\"name\" must be a string"));
  EXPECT_TRUE(
      IsProblem(Call("POST", "/api/v1/keys", admin_key_, {{"name", "x"}, {"scope", "root"}}), 400));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM referrals"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM campaigns"), "1");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM api_keys"), "3");
  // Statuses that are none.
  HttpResponse r = Call("PATCH", ada_path_, write_key_, {{"status", "done"}});
  EXPECT_TRUE(IsProblem(r, 400, "\"done\" is not a status"));
  EXPECT_THAT(r.Json()["detail"].get<std::string>(), HasSubstr("pending, qualified, approved"));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals/update", write_key_,
                             {{"key", {{"id", ada_}}}, {"status", ""}}),
                        400, "is not a status"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals?status=done", read_key_), 400, "status=done"));
  ExpectAdaUntouched();
}

TEST_P(Errors, BadQueryParametersAre400) {
  for (const char* limit : {"0", "1001", "-5", "ten", "5x", "99999999999999999999"}) {
    EXPECT_TRUE(IsProblem(Get(std::string("/api/v1/referrals?limit=") + limit, read_key_), 400,
                          std::string("limit=") + limit));
  }
  EXPECT_EQ(Get("/api/v1/referrals?limit=1000", read_key_).status, 200);
  EXPECT_EQ(Get("/api/v1/referrals?limit=1", read_key_).status, 200);
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals?cursor=abc", read_key_), 400, "cursor"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/rewards?state=lost", read_key_), 400, "state=lost"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/rewards?referral=abc", read_key_), 400, "referral="));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/imports?dry_run=maybe", write_key_,
                               "referralkey_id,status\n" + std::to_string(ada_) + ",qualified\n"),
                        400, "dry_run=maybe"));
  EXPECT_TRUE(IsProblem(
      Upload("/api/v1/qualifications?by=phone&dry_run=false", write_key_, "ada@example.com\n"), 400,
      "by=phone"));
  EXPECT_TRUE(
      IsProblem(Upload("/api/v1/qualifications?dry_run=false", write_key_, "ada@example.com\n"),
                400, "by=(missing)"));
  EXPECT_TRUE(IsProblem(
      Upload("/api/v1/qualifications?by=email&dry_run=false", write_key_, "ada@example.com\n"), 400,
      "campaign"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals?campaign=%zz", read_key_), 400, "percent-encoding"));
  ExpectAdaUntouched();
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
}

TEST_P(Errors, UnknownReferralIs404) {
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals/999999", read_key_), 404, "no referral with id"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals/abc", read_key_), 404));
  EXPECT_TRUE(
      IsProblem(Call("PATCH", "/api/v1/referrals/999999", write_key_, {{"status", "qualified"}}),
                404, "999999"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/imports/77/errors.csv", read_key_), 404, "no import 77"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/campaigns/autumn/reward-rules", read_key_), 404, "autumn"));
  EXPECT_TRUE(IsProblem(Call("DELETE", "/api/v1/reward-rules/42", admin_key_), 404));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/referrals", write_key_,
                             {{"campaign", "autumn"}, {"email", "bob@example.com"}}),
                        404, "campaign \"autumn\" does not exist"));
  ExpectAdaUntouched();
}

TEST_P(Errors, UnknownRouteIs404) {
  EXPECT_TRUE(IsProblem(Get("/api/v1/nothing", read_key_), 404, "no route /api/v1/nothing"));
  EXPECT_TRUE(IsProblem(Get("/api/v2/referrals", read_key_), 404));
  EXPECT_TRUE(IsProblem(Get("/", ""), 404));  // --api-only: no page
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals/1/history", read_key_), 404));
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals//", read_key_), 404));
}

// Unknown campaigns in filters are 404, as docs/HTTP_API.md says ("unknown ...
// campaign"); TearDown checks the OpenAPI document lists that answer.
TEST_P(Errors, UnknownCampaignInAFilterIs404) {
  EXPECT_TRUE(IsProblem(Get("/api/v1/referrals?campaign=winter", read_key_), 404,
                        "campaign \"winter\" does not exist"));
  EXPECT_TRUE(IsProblem(Get("/api/v1/rewards?campaign=winter", read_key_), 404,
                        "campaign \"winter\" does not exist"));
}

// Over HTTP, a detail names the request's fields and parameters: not the CLI's flags.
TEST_P(Errors, DetailsDoNotNameCommandLineFlags) {
  AddCampaign("autumn");
  AddReferral("spring", "bob@example.com", {{"external_id", "crm-2"}});
  AddReferral("autumn", "bob@example.com", {{"external_id", "crm-2"}});
  const std::string rules = "/api/v1/campaigns/spring/reward-rules";
  for (const HttpResponse& r : {
           Upload("/api/v1/qualifications?by=email&dry_run=true", write_key_, "a@x.com\n"),
           Call("POST", rules, admin_key_,
                {{"on", "qualified"}, {"to", "both"}, {"amount", "5"}, {"currency", "euro"}}),
           Call("POST", rules, admin_key_,
                {{"on", "qualified"}, {"to", "both"}, {"currency", "EUR"}}),
           Call("POST", rules, admin_key_, {{"on", "qualified"}, {"to", "both"}}),
           Call("POST", "/api/v1/referrals/update", write_key_,
                {{"key", {{"external_id", "crm-2"}}}, {"status", "qualified"}}),
       }) {
    EXPECT_GE(r.status, 400);
    EXPECT_THAT(r.Json().value("detail", ""), ::testing::Not(HasSubstr("--"))) << r.body;
  }
}

TEST_P(Errors, WrongMethodIs405WithAllow) {
  HttpResponse r = Call("PUT", ada_path_, write_key_, {{"status", "qualified"}});
  EXPECT_TRUE(IsProblem(r, 405, "PUT"));
  EXPECT_EQ(r.Header("Allow"), "GET, PATCH");
  r = Call("DELETE", "/api/v1/campaigns", admin_key_);
  EXPECT_TRUE(IsProblem(r, 405));
  EXPECT_EQ(r.Header("Allow"), "GET, POST");
  r = Call("POST", "/healthz", "", json::object());
  EXPECT_TRUE(IsProblem(r, 405));
  EXPECT_EQ(r.Header("Allow"), "GET");
  r = Get("/api/v1/imports", read_key_);
  EXPECT_TRUE(IsProblem(r, 405));
  EXPECT_EQ(r.Header("Allow"), "POST");
  ExpectAdaUntouched();
}

TEST_P(Errors, RefusedChangeIs409NamingTheRule) {
  ASSERT_EQ(Call("PATCH", ada_path_, write_key_, {{"status", "qualified"}}).status, 200);
  ASSERT_EQ(Call("PATCH", ada_path_, write_key_, {{"status", "denied"}}).status, 200);
  HttpResponse r = Call("PATCH", ada_path_, write_key_, {{"status", "qualified"}, {"note", "x"}});
  EXPECT_TRUE(IsProblem(r, 409,
                        "referral " + std::to_string(ada_) +
                            " was qualified before; it cannot be qualified again from denied"));
  EXPECT_EQ(Sql("SELECT status, note FROM referrals"),
            (std::vector<std::vector<std::string>>{{"denied", ""}}))
      << "a refused change writes nothing, not even the note";

  const int64_t bob = AddReferral("spring", "bob@example.com");
  const std::string bob_path = "/api/v1/referrals/" + std::to_string(bob);
  ASSERT_EQ(Call("PATCH", bob_path, write_key_, {{"status", "approved"}}).status, 200);
  for (const char* to : {"pending", "qualified", "denied"}) {
    r = Call("PATCH", bob_path, write_key_, {{"status", to}});
    EXPECT_TRUE(IsProblem(r, 409, "approved is final")) << to;
    EXPECT_THAT(r.Json()["detail"].get<std::string>(), HasSubstr(std::string("become ") + to));
  }
  r = Call("POST", "/api/v1/referrals/update", write_key_,
           {{"key", {{"email", "bob@example.com"}, {"campaign", "spring"}}}, {"status", "denied"}});
  EXPECT_TRUE(IsProblem(r, 409, "approved is final"));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(bob)), "approved");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "3");
}

TEST_P(Errors, DuplicateIs409) {
  HttpResponse r = Call("POST", "/api/v1/referrals", write_key_,
                        {{"campaign", "spring"}, {"email", " ADA@example.com"}});
  EXPECT_TRUE(IsProblem(r, 409, "duplicate"));
  EXPECT_THAT(r.Json()["detail"].get<std::string>(), HasSubstr("ada@example.com"));
  AddReferral("spring", "bob@example.com", {{"external_id", "crm-7"}, {"coupon_code", "BOB"}});
  EXPECT_TRUE(IsProblem(
      Call("POST", "/api/v1/referrals", write_key_,
           {{"campaign", "spring"}, {"email", "cy@example.com"}, {"external_id", "crm-7"}}),
      409));
  EXPECT_TRUE(
      IsProblem(Call("POST", "/api/v1/referrals", write_key_,
                     {{"campaign", "spring"}, {"email", "di@example.com"}, {"coupon_code", "BOB"}}),
                409));
  EXPECT_TRUE(IsProblem(Call("POST", "/api/v1/campaigns", admin_key_, {{"name", "spring"}}), 409));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM referrals"), "2");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM campaigns"), "1");
  // The refusals did not spoil the writer: the next change goes through.
  EXPECT_EQ(Call("PATCH", ada_path_, write_key_, {{"status", "qualified"}}).status, 200);
}

TEST_P(Errors, JsonBodyOverOneMebibyteIs413) {
  json big = {{"status", "qualified"}, {"note", std::string(1 << 20, 'x')}};
  HttpResponse r = Call("PATCH", ada_path_, write_key_, big);
  EXPECT_TRUE(IsProblem(r, 413, "at most 1048576"));
  // Without a Content-Length, the limit stops the body while it is read.
  HttpRequest chunked{"PATCH", ada_path_};
  chunked.headers = {{"Authorization", "Bearer " + write_key_},
                     {"Content-Type", "application/json"}};
  chunked.body = big.dump();
  chunked.chunked = true;
  EXPECT_TRUE(IsProblem(client_->Send(chunked), 413, "1048576 bytes"));
  ExpectAdaUntouched();
  // A body just under the limit is taken.
  json fits = {{"status", "pending"}, {"note", std::string((1 << 20) - 100, 'y')}};
  ASSERT_LE(fits.dump().size(), 1u << 20);
  EXPECT_EQ(Call("PATCH", ada_path_, write_key_, fits).status, 200);
  EXPECT_EQ(SqlValue("SELECT length(note) FROM referrals"), std::to_string((1 << 20) - 100));
}

TEST_P(Errors, WrongContentTypeIs415) {
  EXPECT_TRUE(IsProblem(PatchRaw(R"({"status": "qualified"})", "text/plain"), 415,
                        "Content-Type: application/json"));
  EXPECT_TRUE(IsProblem(PatchRaw(R"({"status": "qualified"})", ""), 415));
  EXPECT_TRUE(IsProblem(
      Upload("/api/v1/imports?dry_run=false", write_key_,
             "referralkey_id,status\n" + std::to_string(ada_) + ",qualified\n", "application/json"),
      415, "text/csv"));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/qualifications?by=email&campaign=spring&dry_run=false",
                               write_key_, "ada@example.com\n", "application/octet-stream"),
                        415));
  ExpectAdaUntouched();
  // Parameters and case do not matter.
  EXPECT_EQ(PatchRaw(R"({"status": "qualified"})", "Application/JSON; charset=utf-8").status, 200);
}

INSTANTIATE_TEST_SUITE_P(Stores, Errors, ::testing::ValuesIn(StoreKinds()));

// A server that takes uploads of 1 MiB at most.
class SmallUploads : public HttpApiTest {
 protected:
  std::vector<std::string> ServerArgs() const override {
    return {"--api-only", "--max-upload-mb", "1"};
  }
};

TEST_P(SmallUploads, UploadOverTheLimitIs413AndChangesNothing) {
  AddCampaign("spring");
  const int64_t ada = AddReferral("spring", "ada@example.com");
  // Valid rows all naming Ada; padded past 1 MiB.
  std::string csv = "referralkey_id,status\n";
  while (csv.size() <= (1 << 20)) csv += std::to_string(ada) + ",qualified\n";
  EXPECT_TRUE(
      IsProblem(Upload("/api/v1/imports?dry_run=false", write_key_, csv), 413, "at most 1048576"));
  HttpRequest chunked{"POST", "/api/v1/imports?dry_run=false"};
  chunked.headers = {{"Authorization", "Bearer " + write_key_}, {"Content-Type", "text/csv"}};
  chunked.body = csv;
  chunked.chunked = true;
  EXPECT_TRUE(IsProblem(client_->Send(chunked), 413));
  std::string list;
  while (list.size() <= (1 << 20)) list += "ada@example.com\n";
  EXPECT_TRUE(IsProblem(
      Upload("/api/v1/qualifications?by=email&campaign=spring&dry_run=false", write_key_, list),
      413));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals"), "pending");
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
  // Under the limit, the same file is applied.
  csv.resize(csv.rfind('\n', (1 << 20) - 1) + 1);
  HttpResponse r = Upload("/api/v1/imports?dry_run=false", write_key_, csv);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["changed"], 1);
  EXPECT_EQ(SqlValue("SELECT status FROM referrals"), "qualified");
}

INSTANTIATE_TEST_SUITE_P(Stores, SmallUploads, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
