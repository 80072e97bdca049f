// The counts the dashboard shows (CountReferrals) are kept by the writers in their
// own transactions: they equal a count of the table after every kind of write,
// and a write rolled back leaves them as they were.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "csv/reader.h"
#include "engine/bulk_update.h"
#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class CountsTest : public EngineTest {
 protected:
  // "campaign status ever_qualified count" lines, sorted: from the store's counts...
  std::vector<std::string> Kept() {
    auto counts = store_->CountReferrals();
    EXPECT_TRUE(counts.has_value()) << counts.error().message;
    std::vector<std::string> out;
    if (!counts) return out;
    for (const StatusCount& c : *counts) {
      out.push_back(fmt::format("{} {} {} {}", c.campaign_id, StatusName(c.status),
                                c.ever_qualified ? 1 : 0, c.count));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // ...and from counting the table itself.
  std::vector<std::string> Counted() {
    std::vector<std::string> out;
    for (const auto& row : QueryRows(
             url_,
             "SELECT campaign_id, status, CASE WHEN qualified_at IS NULL THEN 0 ELSE 1 END,"
             " count(*) FROM referrals GROUP BY 1, 2, 3")) {
      out.push_back(fmt::format("{} {} {} {}", row[0], row[1], row[2], row[3]));
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  void ExpectExact(const std::string& after) {
    std::vector<std::string> counted = Counted();
    EXPECT_EQ(Kept(), counted) << "after " << after;
  }
  CommandResult Run(const std::string& args) {
    CommandResult r = RunReftrack("--db '" + url_ + "' " + args);
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    return r;
  }
};

TEST_P(CountsTest, CountsStayExactThroughEveryKindOfWrite) {
  AddCampaign("Spring");
  AddCampaign("Fall");
  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(AddReferral(i < 4 ? "Spring" : "Fall",
                                                        fmt::format("r{}@x.com", i)));
  ExpectExact("creation");

  ASSERT_TRUE(Change(ids[0], Status::kQualified).has_value());
  ASSERT_TRUE(Change(ids[0], Status::kPending).has_value());  // pending, ever qualified
  ASSERT_TRUE(Change(ids[1], Status::kApproved).has_value());
  ASSERT_TRUE(Change(ids[4], Status::kDenied).has_value());
  ASSERT_FALSE(Change(ids[1], Status::kPending).has_value());  // refused: nothing changes
  ExpectExact("single changes");

  std::string import = dir_.File("import.csv");
  WriteFile(import,
            "referralkey_email,campaign,status\nr2@x.com,Spring,qualified\n"
            "r3@x.com,Spring,denied\nr4@x.com,Fall,pending\nr0@x.com,Spring,approved\n");
  Run("import '" + import + "'");
  ExpectExact("a status import");

  std::string names = dir_.File("names.csv");
  WriteFile(names, "referralkey_email,campaign,status,name\nr5@x.com,Fall,qualified,Five\n");
  Run("import '" + names + "'");
  ExpectExact("an import with fields");

  std::string load = dir_.File("load.csv");
  WriteFile(load,
            "campaign,email,name\nSpring,n1@x.com,N\nFall,n2@x.com,N\nSpring,r2@x.com,dup\n");
  Run("referral load '" + load + "'");
  ExpectExact("a load with a duplicate");

  std::string customers = dir_.File("customers.csv");
  WriteFile(customers, "n1@x.com\nr3@x.com\nnobody@x.com\n");  // r3 is denied, never qualified
  Run("qualify '" + customers + "' --by email --campaign Spring");
  ExpectExact("a qualify upload");

  // An import inside a transaction that is rolled back.
  std::vector<std::string> before = Kept();
  {
    auto outer = store_->BeginWrite();
    ASSERT_TRUE(outer.has_value());
    const std::string file =
        "referralkey_email,campaign,status\nn1@x.com,Spring,approved\nn2@x.com,Fall,denied\n";
    csv::Reader reader(file);
    auto report = ApplyImport(*engine_, reader, {"rolled-back.csv", "test", [] { return ""; }},
                              nullptr);
    ASSERT_TRUE(report.has_value()) << report.error().message;
    EXPECT_EQ(report->changed, 2);
  }
  EXPECT_EQ(Kept(), before);
  ExpectExact("a rolled-back import");
}

// Many small transactions: the PostgreSQL store folds its rows of deltas now and
// then; the sums stay exact.
TEST_P(CountsTest, ManySingleChangesStayExact) {
  AddCampaign("Spring");
  std::vector<int64_t> ids;
  for (int i = 0; i < 40; ++i) ids.push_back(AddReferral("Spring", fmt::format("r{}@x.com", i)));
  for (int round = 0; round < 15; ++round) {
    for (int64_t id : ids) {
      ASSERT_TRUE(Change(id, round % 2 ? Status::kPending : Status::kQualified).has_value());
    }
  }
  ExpectExact("600 single changes");
  if (GetParam() == "postgres") {
    auto rows = QueryRows(url_, "SELECT count(*) FROM referral_counts");
    EXPECT_LT(std::stoi(rows[0][0]), 1200) << "the deltas were folded";
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, CountsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
