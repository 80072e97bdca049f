// Bulk `referral load`: every valid row created in one transaction, each bad row
// reported with its spreadsheet row number and column, and a bad header refused whole.
#include "engine/referral_loader.h"

#include <gtest/gtest.h>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class LoaderTest : public EngineTest {
 protected:
  Result<LoadReport> Load(const std::string& csv_text) {
    csv::Reader reader(csv_text);
    return LoadReferrals(*engine_, reader, nullptr);
  }
  int64_t CountReferrals() {
    ListRequest all;
    all.limit = 1000;
    auto page = engine_->List(all);
    EXPECT_TRUE(page.has_value());
    return page ? static_cast<int64_t>(page->referrals.size()) : -1;
  }
};

constexpr const char* kHeader =
    "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\r\n";

TEST_P(LoaderTest, ValidRowsAreCreatedAndBadRowsReported) {
  AddCampaign("Spring");
  ASSERT_TRUE(engine_->AddMember({"Spring", "alice@x.com", "Alice", "A1"}));
  std::string file = std::string("\xEF\xBB\xBF") + kHeader +
                     "Spring,bob@x.com,Bob,crm-1,R1,C1,alice@x.com\r\n"      // row 2 ok
                     "Spring,\"Carol, Jr\"@x.com,,,,,\r\n"                    // row 3 malformed
                     "Spring,carol@x.com,\"Carol\nSmith\",crm-2,,,\r\n"       // row 4 ok, 2 lines
                     "\r\n"                                                  // row 5 blank
                     "Winter,dan@x.com,,,,,\r\n"                             // row 6 campaign
                     "Spring,BOB@x.com,,,,,\r\n"                             // row 7 duplicate
                     "Spring,alice@x.com,,,,,alice@x.com\r\n"                // row 8 self
                     "Spring,erin@x.com,,,,,zed@x.com\r\n"                   // row 9 referrer
                     "Spring,not-an-email,,,,,\r\n"                          // row 10 email
                     "Spring,fay@x.com,,crm-1,,,\r\n"                        // row 11 external id
                     "Spring,gus@x.com\r\n"                                  // row 12 short
                     "Spring,hal@x.com,,,,,,extra\r\n"                       // row 13 long
                     "Spring,ivy@x.com,Ivy,,,,";                             // row 14 ok, no EOL
  auto report = Load(file);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->rows, 12);
  EXPECT_EQ(report->created, 3);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const RowError& e : report->errors) got.emplace_back(e.row, e.column);
  std::vector<std::pair<int64_t, std::string>> want = {
      {3, "email"},      {6, "campaign"},       {7, "email"},  {8, "referrer_email"},
      {9, "referrer_email"}, {10, "email"}, {11, "external_id"}, {12, ""}, {13, ""}};
  EXPECT_EQ(got, want);
  for (const RowError& e : report->errors) EXPECT_FALSE(e.message.empty());
  EXPECT_EQ(CountReferrals(), 3);

  auto carol = engine_->Resolve(*ParseReferralKey("email:carol@x.com"));
  ASSERT_TRUE(carol.has_value());
  EXPECT_EQ(carol->name, "Carol\nSmith");
  auto bob = engine_->Resolve(*ParseReferralKey("external:crm-1"));
  ASSERT_TRUE(bob.has_value());
  EXPECT_EQ(bob->referrer_email, "alice@x.com");
}

TEST_P(LoaderTest, HeaderIsMatchedLooselyAndUnknownColumnsWarned) {
  AddCampaign("Spring");
  auto report = Load(" EMAIL , Campaign ,Favourite Colour\nbob@x.com,Spring,blue\n");
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(report->warnings.size(), 1u);
  EXPECT_NE(report->warnings[0].find("Favourite Colour"), std::string::npos);
}

TEST_P(LoaderTest, FileWithoutRequiredColumnsIsRefusedWhole) {
  AddCampaign("Spring");
  for (const char* file : {"", "\n", "name,referral_code\nBob,R1\n", "email,name\nbob@x.com,Bob\n"}) {
    auto report = Load(file);
    ASSERT_FALSE(report.has_value()) << "accepted: " << file;
    EXPECT_EQ(report.error().code, ErrorCode::kInvalidInput);
    EXPECT_NE(report.error().message.find("campaign,email"), std::string::npos)
        << report.error().message;
  }
  EXPECT_EQ(CountReferrals(), 0);
}

TEST_P(LoaderTest, DuplicatesWithinTheFileAreCaught) {
  AddCampaign("Spring");
  auto report = Load("campaign,email,coupon_code\nSpring,a@x.com,K\nSpring,b@x.com,K\n"
                     "Spring,A@X.com,\n");
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->created, 1);
  ASSERT_EQ(report->errors.size(), 2u);
  EXPECT_EQ(report->errors[0].row, 3);
  EXPECT_EQ(report->errors[0].column, "coupon_code");
  EXPECT_EQ(report->errors[1].row, 4);
  EXPECT_EQ(report->errors[1].column, "email");
}

TEST_P(LoaderTest, ManyRowsAcrossBatches) {
  AddCampaign("Spring");
  std::string file = "campaign,email\n";
  const int n = 10'000;
  for (int i = 0; i < n; ++i) file += "Spring,user" + std::to_string(i) + "@x.com\n";
  file += "Spring,user17@x.com\n";
  auto report = Load(file);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->created, n);
  ASSERT_EQ(report->errors.size(), 1u);
  EXPECT_EQ(report->errors[0].row, n + 2);
}

// The column of a duplicate comes from what the store says it duplicates, whatever
// the words of its message: "code@x.com" names an email that holds the word "code".
TEST_P(LoaderTest, MemberDuplicatesNameTheirColumn) {
  AddCampaign("Spring");
  ASSERT_TRUE(engine_->AddMember({"Spring", "code@x.com", "Cody", "TAKEN"}));
  csv::Reader reader(std::string_view("campaign,email,referral_code\n"
                                      "Spring,code@x.com,FRESH\n"    // row 2: email
                                      "Spring,dana@x.com,TAKEN\n"    // row 3: referral code
                                      "Spring,eve@x.com,EVE1\n"));   // row 4: created
  auto report = LoadMembers(*engine_, reader, nullptr);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_EQ(report->created, 1);
  std::vector<std::pair<int64_t, std::string>> got;
  for (const RowError& e : report->errors) got.emplace_back(e.row, e.column);
  EXPECT_EQ(got, (std::vector<std::pair<int64_t, std::string>>{{2, "email"},
                                                               {3, "referral_code"}}));
}

INSTANTIATE_TEST_SUITE_P(Stores, LoaderTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
