// Bulk files over HTTP: imports (preview, then apply), an import's errors as CSV,
// qualify-by-upload lists, and the rewards that changes issue under a rule added over
// HTTP. The database is checked directly after each step.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using Rows = std::vector<std::vector<std::string>>;

class Uploads : public HttpApiTest {
 protected:
  void SetUp() override {
    HttpApiTest::SetUp();
    if (HasFatalFailure()) return;
    campaign_ = AddCampaign("spring");
    AddCampaign("autumn");
    ada_ = AddReferral("spring", "ada@example.com", {{"external_id", "crm-1"}});
    bob_ = AddReferral("spring", "bob@example.com", {{"referral_code", "BOB-R"}});
    cy_ = AddReferral("spring", "cy@example.com", {{"coupon_code", "CY10"}});
    di_ = AddReferral("autumn", "ada@example.com");
  }

  Rows Statuses() { return Sql("SELECT id, status FROM referrals ORDER BY id"); }
  std::string Id(int64_t id) { return std::to_string(id); }

  int64_t campaign_ = 0, ada_ = 0, bob_ = 0, cy_ = 0, di_ = 0;
};

TEST_P(Uploads, ImportPreviewChangesNothingAndApplyDoesWhatItSaid) {
  // Bob was qualified, then denied: qualifying him again is refused.
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(bob_), write_key_, {{"status", "qualified"}}).status,
      200);
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(bob_), write_key_, {{"status", "denied"}}).status,
      200);
  const std::string csv = "referralkey_id,referralkey_externalid,status,note\n" +  // row 1
                          Id(ada_) + ",crm-1,qualified,first invoice\n" +          // row 2: changes
                          Id(bob_) + ",,qualified,\n" +                            // row 3: refused
                          ",crm-404,approved,\n" +     // row 4: unknown key
                          Id(cy_) + ",,approved,\n" +  // row 5: changes
                          Id(di_) + ",,pending,\n";    // row 6: unchanged
  const Rows before = Statuses();
  const std::string history_before = SqlValue("SELECT count(*) FROM status_changes");

  HttpResponse preview = Upload("/api/v1/imports?dry_run=true&filename=crm.csv", write_key_, csv);
  ASSERT_EQ(preview.status, 200) << preview.body;
  json report = preview.Json();
  EXPECT_EQ(report["rows"], 5);
  EXPECT_EQ(report["changed"], 2);
  EXPECT_EQ(report["unchanged"], 1);
  EXPECT_EQ(report["error_count"], 2);
  EXPECT_EQ(report["applied"], false);
  EXPECT_FALSE(report.contains("import_id"));
  EXPECT_EQ(report["transitions"], json({{"pending->qualified", 1}, {"pending->approved", 1}}));
  ASSERT_EQ(report["errors"].size(), 2u);
  EXPECT_EQ(report["errors"][0]["row"], 3);
  EXPECT_THAT(report["errors"][0]["message"].get<std::string>(),
              HasSubstr("was qualified before; it cannot be qualified again from denied"));
  EXPECT_EQ(report["errors"][1]["row"], 4);
  EXPECT_EQ(Statuses(), before);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), history_before);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
  EXPECT_EQ(SqlValue("SELECT note FROM referrals WHERE id = " + Id(ada_)), "");

  HttpResponse applied = Upload("/api/v1/imports?dry_run=false&filename=crm.csv", write_key_, csv);
  ASSERT_EQ(applied.status, 200) << applied.body;
  json done = applied.Json();
  ASSERT_TRUE(done.contains("import_id")) << done;
  const int64_t import_id = done["import_id"];
  EXPECT_EQ(done["applied"], true);
  // What it applies is exactly what the preview reported.
  done.erase("import_id");
  report["applied"] = true;
  EXPECT_EQ(done, report);
  EXPECT_EQ(Sql("SELECT id, status, note FROM referrals WHERE id IN (" + Id(ada_) + ", " + Id(cy_) +
                ") ORDER BY id"),
            (Rows{{Id(ada_), "qualified", "first invoice"}, {Id(cy_), "approved", ""}}));
  EXPECT_EQ(Sql("SELECT referral_id, from_status, to_status, actor, batch_id FROM status_changes "
                "WHERE source = 'import' ORDER BY referral_id"),
            (Rows{{Id(ada_), "pending", "qualified", "api:crm", std::to_string(import_id)},
                  {Id(cy_), "pending", "approved", "api:crm", std::to_string(import_id)}}));
  EXPECT_EQ(Sql("SELECT kind, file_name, actor FROM imports"),
            (Rows{{"import", "crm.csv", "api:crm"}}));
  json shown = ShowReferral(ada_);
  ASSERT_EQ(shown["history"].size(), 1u);
  EXPECT_EQ(shown["history"][0]["source"], "import");
  EXPECT_EQ(shown["history"][0]["batch_id"], import_id);

  HttpResponse errors =
      Get("/api/v1/imports/" + std::to_string(import_id) + "/errors.csv", read_key_);
  ASSERT_EQ(errors.status, 200) << errors.body;
  EXPECT_THAT(errors.Header("Content-Type"), HasSubstr("text/csv"));
  EXPECT_THAT(errors.Header("Content-Disposition"), HasSubstr("errors.csv"));
  std::string expected = "row,column,message\r\n";  // RFC 4180 line breaks
  for (const json& e : report["errors"]) {
    std::string message = e["message"];
    if (message.find_first_of(",\"\n") != std::string::npos) {
      std::string quoted = "\"";
      for (char c : message) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      message = quoted + "\"";
    }
    expected += std::to_string(e["row"].get<int>()) + "," + e["column"].get<std::string>() + "," +
                message + "\r\n";
  }
  EXPECT_EQ(errors.body, expected);
}

TEST_P(Uploads, ImportRefusedAsAWholeIs400AndChangesNothing) {
  const Rows before = Statuses();
  EXPECT_TRUE(IsProblem(Upload("/api/v1/imports?dry_run=false&filename=bad.csv", write_key_,
                               "email,status\nada@example.com,qualified\n"),
                        400, "nothing was changed"));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/imports?dry_run=true", write_key_,
                               "referralkey_id,color\n" + Id(ada_) + ",red\n"),
                        400));
  EXPECT_EQ(Statuses(), before);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");
}

TEST_P(Uploads, QualifyByEmailPreviewsThenQualifiesOnce) {
  // Cy was qualified and denied since: not allowed. Ada of autumn is another campaign.
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(cy_), write_key_, {{"status", "qualified"}}).status,
      200);
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(cy_), write_key_, {{"status", "denied"}}).status,
      200);
  const std::string list =
      "email\nADA@example.com\n\nada@example.com\nbob@example.com,extra\ncy@example.com\n"
      "nobody@example.com\nnot-an-email\n";
  const std::string target = "/api/v1/qualifications?by=email&campaign=spring&filename=paid.csv";
  const Rows before = Statuses();

  HttpResponse preview = Upload(target + "&dry_run=true", write_key_, list, "text/plain");
  ASSERT_EQ(preview.status, 200) << preview.body;
  json estimate = preview.Json();
  EXPECT_EQ(estimate, json({{"lines", 7},
                            {"recognized", 4},
                            {"not_recognized", 2},
                            {"matched", 3},
                            {"qualified", 2},
                            {"already_qualified", 0},
                            {"not_allowed", 1},
                            {"unmatched", 1},
                            {"applied", false}}));
  EXPECT_EQ(Statuses(), before);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports"), "0");

  HttpResponse applied = Upload(target + "&dry_run=false", write_key_, list);
  ASSERT_EQ(applied.status, 200) << applied.body;
  json done = applied.Json();
  ASSERT_TRUE(done.contains("upload_id")) << done;
  const int64_t upload_id = done["upload_id"];
  done.erase("upload_id");
  estimate["applied"] = true;
  EXPECT_EQ(done, estimate);
  EXPECT_EQ(Statuses(), (Rows{{Id(ada_), "qualified"},
                              {Id(bob_), "qualified"},
                              {Id(cy_), "denied"},
                              {Id(di_), "pending"}}));
  EXPECT_EQ(Sql("SELECT referral_id, source, actor, batch_id FROM status_changes "
                "WHERE source = 'qualify_upload' ORDER BY referral_id"),
            (Rows{{Id(ada_), "qualify_upload", "api:crm", std::to_string(upload_id)},
                  {Id(bob_), "qualify_upload", "api:crm", std::to_string(upload_id)}}));
  EXPECT_EQ(Sql("SELECT kind, file_name, match_by FROM imports"),
            (Rows{{"qualify_upload", "paid.csv", "email"}}));

  // The same list again qualifies nobody.
  HttpResponse again = Upload(target + "&dry_run=false", write_key_, list);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.Json()["qualified"], 0);
  EXPECT_EQ(again.Json()["already_qualified"], 2);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes WHERE source = 'qualify_upload'"), "2");
}

TEST_P(Uploads, QualifyByCodesAndUnknownCampaign) {
  HttpResponse r =
      Upload("/api/v1/qualifications?by=referral_code&dry_run=false", write_key_, "BOB-R\nNOPE\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["qualified"], 1);
  EXPECT_EQ(r.Json()["unmatched"], 1);
  r = Upload("/api/v1/qualifications?by=coupon_code&dry_run=false", write_key_, "CY10\n");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["qualified"], 1);
  EXPECT_EQ(Statuses(), (Rows{{Id(ada_), "pending"},
                              {Id(bob_), "qualified"},
                              {Id(cy_), "qualified"},
                              {Id(di_), "pending"}}));
  EXPECT_TRUE(IsProblem(Upload("/api/v1/qualifications?by=email&campaign=winter&dry_run=false",
                               write_key_, "ada@example.com\n"),
                        404, "winter"));
}

TEST_P(Uploads, RewardsIssuedUnderARuleAddedOverHttp) {
  CommandResult member =
      RunReftrack("--db '" + url_ + "' member add --campaign spring --email grace@example.com");
  ASSERT_EQ(member.exit_code, 0) << member.err;
  const int64_t eve =
      AddReferral("spring", "eve@example.com", {{"referrer_email", "grace@example.com"}});
  const std::string rules = "/api/v1/campaigns/" + std::to_string(campaign_) + "/reward-rules";
  HttpResponse rule =
      Call("POST", rules, admin_key_,
           {{"on", "qualified"}, {"to", "both"}, {"amount", "50"}, {"currency", "EUR"}});
  ASSERT_EQ(rule.status, 201) << rule.body;
  const int64_t rule_id = rule.Json()["id"];
  EXPECT_EQ(rule.Json()["campaign_id"], campaign_);
  EXPECT_EQ(rule.Json()["to"], "both");
  // The campaign may be named by its name too.
  HttpResponse listed = Get("/api/v1/campaigns/spring/reward-rules", read_key_);
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.Json()["reward_rules"].size(), 1u);
  EXPECT_EQ(listed.Json()["reward_rules"][0]["id"], rule_id);
  EXPECT_TRUE(IsProblem(
      Call("POST", rules, admin_key_, {{"on", "denied"}, {"to", "both"}, {"description", "x"}}),
      400, "cannot be on denied"));

  HttpResponse r = Upload("/api/v1/qualifications?by=email&campaign=spring&dry_run=false",
                          write_key_, "eve@example.com\nada@example.com\n");
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Json()["qualified"], 2);
  // Qualifying again, by PATCH this time, issues nothing more.
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(eve), write_key_, {{"status", "pending"}}).status,
      200);
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(eve), write_key_, {{"status", "qualified"}}).status,
      200);

  r = Get("/api/v1/rewards?campaign=spring", read_key_);
  ASSERT_EQ(r.status, 200) << r.body;
  std::multiset<std::tuple<int64_t, std::string, std::string>> got;
  const json rewards = r.Json();
  for (const json& reward : rewards["rewards"]) {
    got.emplace(reward["referral_id"], reward["recipient"], reward["recipient_email"]);
    EXPECT_EQ(reward["rule"], rule_id);
    EXPECT_EQ(reward["amount"], "50");
    EXPECT_EQ(reward["currency"], "EUR");
    EXPECT_EQ(reward["state"], "issued");
    EXPECT_EQ(reward["campaign"], "spring");
  }
  // Ada has no referrer: only she is rewarded.
  EXPECT_EQ(got, (std::multiset<std::tuple<int64_t, std::string, std::string>>{
                     {ada_, "referred", "ada@example.com"},
                     {eve, "referred", "eve@example.com"},
                     {eve, "referrer", "grace@example.com"}}));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM rewards"), "3");
  r = Get("/api/v1/rewards?referral=" + Id(eve), read_key_);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Json()["rewards"].size(), 2u);
  r = Get("/api/v1/rewards?member=grace@example.com&state=issued", read_key_);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.Json()["rewards"].size(), 1u);
  EXPECT_EQ(r.Json()["rewards"][0]["recipient"], "referrer");
  EXPECT_EQ(Get("/api/v1/rewards?campaign=autumn", read_key_).Json()["rewards"], json::array());
  EXPECT_EQ(ShowReferral(eve)["rewards"].size(), 2u);

  // Once removed, the rule issues nothing.
  ASSERT_EQ(Call("DELETE", "/api/v1/reward-rules/" + std::to_string(rule_id), admin_key_).status,
            204);
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + Id(bob_), write_key_, {{"status", "qualified"}}).status,
      200);
  EXPECT_EQ(SqlValue("SELECT count(*) FROM rewards"), "3");
  EXPECT_EQ(Get(rules, read_key_).Json()["reward_rules"], json::array());
}

// curl sends "Expect: 100-continue" with an upload and waits a second for the answer
// before sending the body anyway (RFC 9110 §10.1.1: the server should answer at once).
TEST_P(Uploads, ExpectContinueIsAnsweredAtOnce) {
  const std::string body = "referralkey_id,status\n" + Id(ada_) + ",qualified\n";
  RawConnection raw(server_->port());
  ASSERT_TRUE(
      raw.Write("POST /api/v1/imports?dry_run=false HTTP/1.1\r\nHost: test\r\n"
                "Authorization: Bearer " +
                write_key_ +
                "\r\nContent-Type: text/csv\r\nExpect: 100-continue\r\n"
                "Content-Length: " +
                std::to_string(body.size()) + "\r\n\r\n"));
  const std::string interim = raw.ReadUntil("\r\n\r\n", std::chrono::milliseconds(500));
  EXPECT_THAT(interim, ::testing::StartsWith("HTTP/1.1 100 Continue\r\n"));
  ASSERT_TRUE(raw.Write(body));
  const std::string answer = raw.ReadUntil("\"applied\"", std::chrono::seconds(10));
  EXPECT_THAT(answer, HasSubstr("HTTP/1.1 200 "));
  EXPECT_EQ(SqlValue("SELECT status FROM referrals WHERE id = " + Id(ada_)), "qualified");
}

INSTANTIATE_TEST_SUITE_P(Stores, Uploads, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
