// One referral at a time: create, show, change its status by id (PATCH) or by a key
// (the update integration), and the history each change writes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

using Referrals = HttpApiTest;

TEST_P(Referrals, CreateKeepsEveryFieldAndShowGivesThemBack) {
  AddCampaign("spring");
  CommandResult member =
      RunReftrack("--db '" + url_ + "' member add --campaign spring --email grace@example.com");
  ASSERT_EQ(member.exit_code, 0) << member.err;
  json in = {{"campaign", "spring"},
             {"email", "  Ada@Example.COM "},
             {"name", "Ada Lovelace"},
             {"external_id", " crm-1001 "},
             {"referral_code", "ADA-REF"},
             {"coupon_code", "ADA10"},
             {"referrer_email", "Grace@example.com"}};
  HttpResponse r = Call("POST", "/api/v1/referrals", write_key_, in);
  ASSERT_EQ(r.status, 201) << r.body;
  json created = r.Json();
  const int64_t id = created["id"];
  json shown = ShowReferral(id);
  for (const auto& [field, value] :
       std::vector<std::pair<std::string, json>>{{"campaign", "spring"},
                                                 {"email", "ada@example.com"},
                                                 {"name", "Ada Lovelace"},
                                                 {"external_id", "crm-1001"},
                                                 {"referral_code", "ADA-REF"},
                                                 {"coupon_code", "ADA10"},
                                                 {"referrer_email", "grace@example.com"},
                                                 {"status", "pending"},
                                                 {"qualified_at", nullptr},
                                                 {"history", json::array()},
                                                 {"rewards", json::array()}}) {
    EXPECT_EQ(shown[field], value) << field;
    if (field != "history" && field != "rewards") {
      EXPECT_EQ(created[field], value) << field;
    }
  }
  EXPECT_TRUE(std::regex_match(shown["created_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")))
      << shown["created_at"];
  EXPECT_EQ(Sql("SELECT r.email, r.external_id, m.email FROM referrals r JOIN members m ON "
                "m.id = r.referrer_id"),
            (std::vector<std::vector<std::string>>{
                {"ada@example.com", "crm-1001", "grace@example.com"}}));
}

TEST_P(Referrals, PatchChangesTheStatusAndRecordsTheKeyAsActor) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  const std::string path = "/api/v1/referrals/" + std::to_string(id);
  HttpResponse r =
      Call("PATCH", path, write_key_, {{"status", "qualified"}, {"note", "paid first invoice"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"id", id},
                            {"from", "pending"},
                            {"to", "qualified"},
                            {"changed", true},
                            {"result", "changed"}}));
  json shown = ShowReferral(id);
  EXPECT_EQ(shown["status"], "qualified");
  EXPECT_NE(shown["qualified_at"], nullptr);
  ASSERT_EQ(shown["history"].size(), 1u);
  const json& change = shown["history"][0];
  EXPECT_EQ(change["from"], "pending");
  EXPECT_EQ(change["to"], "qualified");
  EXPECT_EQ(change["source"], "api");
  EXPECT_EQ(change["actor"], "api:crm");
  EXPECT_EQ(change["at"], shown["qualified_at"]);
  EXPECT_EQ(Sql("SELECT from_status, to_status, source, actor FROM status_changes"),
            (std::vector<std::vector<std::string>>{{"pending", "qualified", "api", "api:crm"}}));

  // An admin key is named too, and approving a qualified referral keeps qualified_at.
  r = Call("PATCH", path, admin_key_, {{"status", "approved"}});
  ASSERT_EQ(r.status, 200) << r.body;
  json approved = ShowReferral(id);
  EXPECT_EQ(approved["qualified_at"], shown["qualified_at"]);
  EXPECT_NE(approved["approved_at"], nullptr);
  ASSERT_EQ(approved["history"].size(), 2u);
  EXPECT_EQ(approved["history"][1]["actor"], "api:ops");
}

// engine.h: "A `note` replaces the referral's note in the same transaction (also when
// the status is unchanged)".
TEST_P(Referrals, PatchThatChangesTheStatusKeepsTheNote) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  HttpResponse r = Call("PATCH", "/api/v1/referrals/" + std::to_string(id), write_key_,
                        {{"status", "qualified"}, {"note", "paid first invoice"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ShowReferral(id)["note"], "paid first invoice");
  r = Call("POST", "/api/v1/referrals/update", write_key_,
           {{"key", {{"id", id}}}, {"status", "approved"}, {"note", "contract signed"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(SqlValue("SELECT note FROM referrals"), "contract signed");
}

TEST_P(Referrals, SettingTheSameStatusIsUnchangedWithoutHistory) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  HttpResponse r = Call("PATCH", "/api/v1/referrals/" + std::to_string(id), write_key_,
                        {{"status", "PENDING"}, {"note", "called"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"id", id},
                            {"from", "pending"},
                            {"to", "pending"},
                            {"changed", false},
                            {"result", "unchanged"}}));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "0");
  EXPECT_EQ(SqlValue("SELECT note FROM referrals"), "called") << "the note is still kept";
}

TEST_P(Referrals, EnteringApprovedFromPendingPassesThroughQualified) {
  const int64_t campaign = AddCampaign("spring");
  ASSERT_EQ(Call("POST", "/api/v1/campaigns/" + std::to_string(campaign) + "/reward-rules",
                 admin_key_, {{"on", "qualified"}, {"to", "referred"}, {"description", "a mug"}})
                .status,
            201);
  const int64_t id = AddReferral("spring", "ada@example.com");
  ASSERT_EQ(
      Call("PATCH", "/api/v1/referrals/" + std::to_string(id), write_key_, {{"status", "approved"}})
          .status,
      200);
  json shown = ShowReferral(id);
  EXPECT_EQ(shown["qualified_at"], shown["approved_at"]);
  ASSERT_EQ(shown["history"].size(), 1u) << "one change, one history row";
  EXPECT_EQ(shown["history"][0]["from"], "pending");
  EXPECT_EQ(shown["history"][0]["to"], "approved");
  ASSERT_EQ(shown["rewards"].size(), 1u);
  EXPECT_EQ(shown["rewards"][0]["description"], "a mug");
}

class UpdateByKey : public HttpApiTest {
 protected:
  void SetUp() override {
    HttpApiTest::SetUp();
    if (HasFatalFailure()) return;
    AddCampaign("spring");
    AddCampaign("autumn");
    ada_ = AddReferral("spring", "ada@example.com", {{"external_id", "crm-1"}});
    bob_spring_ = AddReferral("spring", "bob@example.com", {{"external_id", "crm-2"}});
    bob_autumn_ = AddReferral("autumn", "bob@example.com", {{"external_id", "crm-2"}});
  }

  HttpResponse Update(const json& key, const std::string& status) {
    return Call("POST", "/api/v1/referrals/update", write_key_,
                {{"key", key}, {"status", status}, {"note", "from the CRM"}});
  }

  std::string StatusOf(int64_t id) {
    return SqlValue("SELECT status FROM referrals WHERE id = " + std::to_string(id));
  }

  int64_t ada_ = 0, bob_spring_ = 0, bob_autumn_ = 0;
};

TEST_P(UpdateByKey, ById) {
  HttpResponse r = Update({{"id", ada_}}, "qualified");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json(), json({{"id", ada_},
                            {"from", "pending"},
                            {"to", "qualified"},
                            {"changed", true},
                            {"result", "changed"}}));
  EXPECT_EQ(StatusOf(ada_), "qualified");
  // An id as a string is taken too.
  r = Update({{"id", std::to_string(ada_)}}, "approved");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(StatusOf(ada_), "approved");
  json shown = ShowReferral(ada_);
  ASSERT_EQ(shown["history"].size(), 2u);
  for (const json& change : shown["history"]) {
    EXPECT_EQ(change["source"], "api");
    EXPECT_EQ(change["actor"], "api:crm");
  }
}

TEST_P(UpdateByKey, ByExternalId) {
  HttpResponse r = Update({{"external_id", "crm-1"}}, "denied");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], ada_);
  EXPECT_EQ(StatusOf(ada_), "denied");
  // Used in two campaigns: the campaign picks one.
  r = Update({{"external_id", "crm-2"}, {"campaign", "autumn"}}, "qualified");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], bob_autumn_);
  EXPECT_EQ(StatusOf(bob_autumn_), "qualified");
  EXPECT_EQ(StatusOf(bob_spring_), "pending");
}

TEST_P(UpdateByKey, ByEmailAndCampaign) {
  HttpResponse r = Update({{"email", "bob@example.com"}, {"campaign", "spring"}}, "qualified");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], bob_spring_);
  EXPECT_EQ(StatusOf(bob_spring_), "qualified");
  EXPECT_EQ(StatusOf(bob_autumn_), "pending");
  EXPECT_EQ(SqlValue("SELECT actor FROM status_changes"), "api:crm");
  // Without the campaign, an email key is refused before anything is looked up.
  EXPECT_TRUE(
      IsProblem(Update({{"email", "ada@example.com"}}, "qualified"), 400, "needs \"campaign\""));
  EXPECT_EQ(StatusOf(ada_), "pending");
}

// SPEC §1: emails are compared trimmed and case-insensitively, external ids trimmed,
// as the CLI's keys (email:E, external:X) are.
TEST_P(UpdateByKey, KeyValuesAreComparedAsTheSpecSays) {
  HttpResponse r = Update({{"email", " BOB@Example.com "}, {"campaign", "spring"}}, "qualified");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], bob_spring_);
  r = Update({{"external_id", " crm-1 "}}, "qualified");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.Json()["id"], ada_);
  EXPECT_EQ(StatusOf(ada_), "qualified");
  EXPECT_EQ(StatusOf(bob_spring_), "qualified");
}

TEST_P(UpdateByKey, KeyMatchingNothingIs404) {
  EXPECT_TRUE(IsProblem(Update({{"id", 999999}}, "qualified"), 404, "no referral with id 999999"));
  EXPECT_TRUE(IsProblem(Update({{"external_id", "crm-404"}}, "qualified"), 404, "crm-404"));
  EXPECT_TRUE(IsProblem(Update({{"email", "cy@example.com"}, {"campaign", "spring"}}, "qualified"),
                        404, "cy@example.com"));
  // Ada is in spring, not autumn.
  EXPECT_TRUE(
      IsProblem(Update({{"email", "ada@example.com"}, {"campaign", "autumn"}}, "qualified"), 404));
  EXPECT_TRUE(IsProblem(Update({{"id", ada_}, {"campaign", "autumn"}}, "qualified"), 404));
  EXPECT_TRUE(IsProblem(Update({{"external_id", "crm-1"}, {"campaign", "winter"}}, "qualified"),
                        404, "campaign \"winter\" does not exist"));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "0");
}

TEST_P(UpdateByKey, AmbiguousKeyIs409NamingTheCampaigns) {
  HttpResponse r = Update({{"external_id", "crm-2"}}, "qualified");
  EXPECT_TRUE(IsProblem(r, 409, "several campaigns"));
  const std::string detail = r.Json()["detail"];
  EXPECT_THAT(detail, HasSubstr("\"spring\""));
  EXPECT_THAT(detail, HasSubstr("\"autumn\""));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes"), "0");
}

INSTANTIATE_TEST_SUITE_P(Stores, Referrals, ::testing::ValuesIn(StoreKinds()));
INSTANTIATE_TEST_SUITE_P(Stores, UpdateByKey, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
