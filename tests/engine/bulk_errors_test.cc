// When the database refuses part of a bulk write: the connection stays usable (a
// COPY the server gave up on is drained), and the message names the operation and,
// where a statement maps to one, the CSV row.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class BulkErrorsTest : public EngineTest {
 protected:
  // 250 bytes a row: 60,000 rows are far more than a socket buffer holds, so the
  // server has answered a refused first row long before the last byte is sent.
  std::vector<NewReferral> BigBatch(int64_t campaign_id, int n) {
    std::vector<NewReferral> out;
    out.reserve(n);
    const std::string padding(200, 'x');
    for (int i = 0; i < n; ++i) {
      out.push_back({campaign_id, std::nullopt, "Name " + padding, fmt::format("r{}@example.com", i),
                     std::nullopt, std::nullopt, std::nullopt, now_});
    }
    return out;
  }
  // Runs DDL on the PostgreSQL database behind reftrack's back.
  void Plant(const std::string& sql) { QueryRows(url_, sql + "; SELECT 1"); }
  CommandResult Run(const std::string& args) { return RunReftrack("--db '" + url_ + "' " + args); }
};

TEST_P(BulkErrorsTest, ADuplicateFirstRowOfABigBatchIsReportedAndTheStoreGoesOn) {
  int64_t campaign = AddCampaign("Spring");
  AddReferral("Spring", "r0@example.com");
  auto batch = BigBatch(campaign, 60'000);
  std::vector<DuplicateOf> outcomes;
  {
    auto tx = store_->BeginWrite(Store::WriteMode::kBulk);
    ASSERT_TRUE(tx.has_value()) << tx.error().message;
    auto ok = store_->InsertReferrals(batch, outcomes);
    ASSERT_TRUE(ok.has_value()) << ok.error().message;
    auto committed = tx->Commit();
    ASSERT_TRUE(committed.has_value()) << committed.error().message;
  }
  ASSERT_EQ(outcomes.size(), batch.size());
  EXPECT_EQ(outcomes[0], DuplicateOf::kEmail);
  EXPECT_EQ(std::count(outcomes.begin(), outcomes.end(), DuplicateOf::kNone), 59'999);
  auto next = engine_->AddCampaign("Fall");
  EXPECT_TRUE(next.has_value()) << next.error().message;
}

TEST_P(BulkErrorsTest, ARowTheServerRejectsFailsTheBatchAndTheConnectionStaysUsable) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL's COPY and messages";
  int64_t campaign = AddCampaign("Spring");
  auto batch = BigBatch(campaign, 200'000);
  batch[2].name = "bad \xff byte";  // not UTF-8: the server refuses the COPY at line 3
  {
    auto tx = store_->BeginWrite(Store::WriteMode::kBulk);
    ASSERT_TRUE(tx.has_value());
    std::vector<DuplicateOf> outcomes;
    auto ok = store_->InsertReferrals(batch, outcomes);
    ASSERT_FALSE(ok.has_value());
    EXPECT_NE(ok.error().message.find("storage error while inserting referrals: invalid byte"),
              std::string::npos)
        << ok.error().message;
    EXPECT_EQ(store_->FailedItem(), std::optional<size_t>(2));
  }  // rolled back
  auto next = engine_->AddCampaign("Fall");
  EXPECT_TRUE(next.has_value()) << next.error().message;
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM referrals")[0][0], "0");
}

TEST_P(BulkErrorsTest, AFailedReferralLoadNamesTheOperationAndTheRow) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL's COPY and messages";
  AddCampaign("Spring");
  Plant(
      "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS"
      " $$BEGIN RAISE EXCEPTION 'planted failure'; END$$;"
      " CREATE TRIGGER planted BEFORE INSERT ON referrals FOR EACH ROW"
      " WHEN (NEW.email = 'c@example.com') EXECUTE FUNCTION planted()");
  std::string file = dir_.File("referrals.csv");
  WriteFile(file,
            "campaign,email,name\nSpring,a@example.com,A\nSpring,b@example.com,B\n"
            "Spring,c@example.com,C\nSpring,d@example.com,D\n");
  CommandResult r = Run("referral load '" + file + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.err.find("storage error while inserting referrals (referral load, row 4): "
                       "planted failure"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM referrals")[0][0], "0");
}

TEST_P(BulkErrorsTest, AFailedImportNamesTheOperationAndTheRowWhereOneStatementIsOneRow) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL's COPY and messages";
  AddCampaign("Spring");
  for (const char* email : {"a@example.com", "b@example.com", "c@example.com"}) {
    AddReferral("Spring", email);
  }
  Plant(
      "CREATE FUNCTION planted() RETURNS trigger LANGUAGE plpgsql AS"
      " $$BEGIN RAISE EXCEPTION 'planted failure'; END$$;"
      " CREATE TRIGGER planted BEFORE UPDATE ON referrals FOR EACH ROW"
      " WHEN (NEW.email = 'b@example.com' AND (NEW.status = 'denied' OR NEW.name = 'Bad'))"
      " EXECUTE FUNCTION planted()");
  // Status only: the statuses go in statements of many referrals.
  std::string statuses = dir_.File("statuses.csv");
  WriteFile(statuses,
            "referralkey_email,status\na@example.com,qualified\nb@example.com,denied\n"
            "c@example.com,qualified\n");
  CommandResult r = Run("import '" + statuses + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.err.find("storage error while updating referral statuses (import): planted failure"),
            std::string::npos)
      << r.err;
  // A name change is one statement for its row.
  std::string names = dir_.File("names.csv");
  WriteFile(names, "referralkey_email,name\na@example.com,Ann\nb@example.com,Bad\n");
  r = Run("import '" + names + "'");
  EXPECT_EQ(r.exit_code, 3) << r.out;
  EXPECT_NE(r.err.find("storage error while updating a referral's fields (import, row 3): "
                       "planted failure"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM referrals WHERE status <> 'pending' OR name <> ''")
                [0][0],
            "0");
}

INSTANTIATE_TEST_SUITE_P(Stores, BulkErrorsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
