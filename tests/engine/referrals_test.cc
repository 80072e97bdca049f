// Creating referrals (duplicates, self-referral, unknown names), finding them by
// key, and listing them page by page.
#include <gtest/gtest.h>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class ReferralsTest : public EngineTest {
 protected:
  Result<Referral> Add(ReferralInput in) { return engine_->AddReferral(in); }
  void AddMember(const std::string& campaign, const std::string& email) {
    auto m = engine_->AddMember({campaign, email, "", ""});
    ASSERT_TRUE(m.has_value()) << m.error().message;
  }
  void ExpectError(const Result<Referral>& r, ErrorCode code, const std::string& fragment) {
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().code, code);
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  }
};

TEST_P(ReferralsTest, CreatedPendingWithNormalizedValues) {
  AddCampaign("Spring");
  AddMember("Spring", "Alice@Example.com");
  auto r = Add({.campaign = " Spring ", .email = "  Bob@Example.COM ", .name = " Bob ",
                .external_id = " crm-1 ", .referral_code = " RC1 ", .coupon_code = "CP1",
                .referrer_email = "ALICE@example.com"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->status, Status::kPending);
  EXPECT_EQ(r->email, "bob@example.com");
  EXPECT_EQ(r->name, "Bob");
  EXPECT_EQ(r->external_id, "crm-1");
  EXPECT_EQ(r->referral_code, "RC1");
  EXPECT_EQ(r->referrer_email, "alice@example.com");
  EXPECT_EQ(r->created_at, now_);
  EXPECT_FALSE(r->qualified_at.has_value());
  EXPECT_TRUE(HistoryOf(r->id).empty()) << "creation is created_at, not a history row";
}

TEST_P(ReferralsTest, DuplicatesAreRefused) {
  AddCampaign("Spring");
  AddCampaign("Fall");
  ASSERT_TRUE(Add({.campaign = "Spring", .email = "a@x.com", .external_id = "X1",
                   .referral_code = "R1", .coupon_code = "C1"}));
  ExpectError(Add({.campaign = "Spring", .email = " A@X.COM"}), ErrorCode::kDuplicate, "a@x.com");
  ExpectError(Add({.campaign = "Spring", .email = "b@x.com", .external_id = " X1 "}),
              ErrorCode::kDuplicate, "external id");
  // Codes are unique across campaigns; emails and external ids only within one.
  ExpectError(Add({.campaign = "Fall", .email = "c@x.com", .referral_code = "R1"}),
              ErrorCode::kDuplicate, "referral code");
  ExpectError(Add({.campaign = "Fall", .email = "c@x.com", .coupon_code = "C1"}),
              ErrorCode::kDuplicate, "coupon code");
  EXPECT_TRUE(Add({.campaign = "Fall", .email = "a@x.com", .external_id = "X1"}));
  // Codes compare exactly: another case is another code.
  EXPECT_TRUE(Add({.campaign = "Fall", .email = "d@x.com", .referral_code = "r1"}));
}

TEST_P(ReferralsTest, SelfReferralAndUnknownNamesAreRefused) {
  AddCampaign("Spring");
  AddCampaign("Fall");
  AddMember("Spring", "alice@x.com");
  ExpectError(Add({.campaign = "Spring", .email = "Alice@X.com", .referrer_email = "alice@x.com"}),
              ErrorCode::kInvalidInput, "self-referral");
  ExpectError(Add({.campaign = "Winter", .email = "b@x.com"}), ErrorCode::kNotFound, "Winter");
  ExpectError(Add({.campaign = "Fall", .email = "b@x.com", .referrer_email = "alice@x.com"}),
              ErrorCode::kNotFound, "not a member");
  ExpectError(Add({.campaign = "Spring", .email = "not-an-email"}), ErrorCode::kInvalidInput,
              "not a valid email");
  auto page = engine_->List({});
  ASSERT_TRUE(page.has_value());
  EXPECT_TRUE(page->referrals.empty()) << "refused referrals leave nothing behind";
}

TEST_P(ReferralsTest, ResolveByEveryKindOfKey) {
  AddCampaign("Spring");
  AddCampaign("Fall");
  auto a = Add({.campaign = "Spring", .email = "a@x.com", .external_id = "X1"});
  auto b = Add({.campaign = "Fall", .email = "a@x.com", .external_id = "X1"});
  ASSERT_TRUE(a && b);

  auto by_id = ParseReferralKey("id:" + std::to_string(a->id));
  ASSERT_TRUE(by_id);
  EXPECT_EQ(engine_->Resolve(*by_id)->id, a->id);
  EXPECT_EQ(engine_->Resolve(*ParseReferralKey(std::to_string(b->id)))->id, b->id);

  for (const char* text : {"email:A@x.com", "external:X1"}) {
    auto key = ParseReferralKey(text);
    ASSERT_TRUE(key);
    auto ambiguous = engine_->Resolve(*key);
    ASSERT_FALSE(ambiguous.has_value()) << text;
    EXPECT_EQ(ambiguous.error().code, ErrorCode::kAmbiguous);
    EXPECT_NE(ambiguous.error().message.find("name its campaign"), std::string::npos);
    key->campaign = "Fall";
    EXPECT_EQ(engine_->Resolve(*key)->id, b->id) << text;
  }
  auto missing = engine_->Resolve(*ParseReferralKey("email:nobody@x.com"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(ParseReferralKey("abc").has_value());
  EXPECT_FALSE(ParseReferralKey("id:-3").has_value());
  EXPECT_FALSE(ParseReferralKey("email:").has_value());
}

TEST_P(ReferralsTest, ListsNewestFirstPageByPage) {
  AddCampaign("Spring");
  std::vector<int64_t> ids;
  for (int i = 0; i < 7; ++i) {
    Tick();
    ids.push_back(AddReferral("Spring", "p" + std::to_string(i) + "@x.com"));
  }
  ASSERT_TRUE(Change(ids[2], Status::kQualified));
  ASSERT_TRUE(Change(ids[5], Status::kQualified));

  std::vector<int64_t> seen;
  ListRequest request;
  request.limit = 3;
  for (int page = 0; page < 5; ++page) {
    auto result = engine_->List(request);
    ASSERT_TRUE(result.has_value());
    for (const Referral& r : result->referrals) seen.push_back(r.id);
    if (result->next_cursor.empty()) break;
    request.cursor = result->next_cursor;
  }
  std::vector<int64_t> expected(ids.rbegin(), ids.rend());
  EXPECT_EQ(seen, expected);

  ListRequest qualified;
  qualified.status = Status::kQualified;
  auto q = engine_->List(qualified);
  ASSERT_TRUE(q.has_value());
  ASSERT_EQ(q->referrals.size(), 2u);
  EXPECT_EQ(q->referrals[0].id, ids[5]);
  EXPECT_EQ(q->referrals[1].id, ids[2]);
  EXPECT_TRUE(q->next_cursor.empty());

  ListRequest search;
  search.query = " P3@ ";  // part of an email, compared like emails
  auto found = engine_->List(search);
  ASSERT_TRUE(found.has_value()) << found.error().message;
  ASSERT_EQ(found->referrals.size(), 1u);
  EXPECT_EQ(found->referrals[0].id, ids[3]);

  ListRequest bad;
  bad.cursor = "zzz";
  EXPECT_EQ(engine_->List(bad).error().code, ErrorCode::kInvalidInput);
  bad = {};
  bad.campaign = "Nope";
  EXPECT_EQ(engine_->List(bad).error().code, ErrorCode::kNotFound);
}

TEST_P(ReferralsTest, CampaignNamesAreUnique) {
  AddCampaign("Spring");
  auto again = engine_->AddCampaign(" Spring ");
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kDuplicate);
  EXPECT_FALSE(engine_->AddCampaign("  ").has_value());
}

INSTANTIATE_TEST_SUITE_P(Stores, ReferralsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
