// Searching referrals (`q`): names fold case the same way on every store, non-ASCII
// letters included, and a whole email or an exact external id is looked up by index.
#include <gtest/gtest.h>

#include "domain/case_fold.h"
#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class SearchTest : public EngineTest {
 protected:
  int64_t Add(const std::string& campaign, const std::string& email, const std::string& name,
              const std::string& external_id = "") {
    auto r = engine_->AddReferral(
        {.campaign = campaign, .email = email, .name = name, .external_id = external_id});
    EXPECT_TRUE(r.has_value()) << r.error().message;
    return r ? r->id : 0;
  }
  // The emails a search lists, newest first.
  std::vector<std::string> Find(const std::string& q, int limit = 50, std::string cursor = "",
                                std::string* next = nullptr) {
    auto page = engine_->List({.query = q, .cursor = cursor, .limit = limit});
    EXPECT_TRUE(page.has_value()) << page.error().message;
    std::vector<std::string> out;
    if (!page) return out;
    for (const Referral& r : page->referrals) out.push_back(r.email);
    if (next) *next = page->next_cursor;
    return out;
  }
  using Emails = std::vector<std::string>;
};

TEST(CaseFold, FoldsLettersOneForOne) {
  EXPECT_EQ(FoldCase("Élodie ÜNAL"), "élodie ünal");
  EXPECT_EQ(FoldCase("STRAẞE Straße"), "straße straße");  // simple folding: ß stays ß
  EXPECT_EQ(FoldCase("ΟΔΥΣΣΕΎΣ Οδυσσεύς"), "οδυσσεύσ οδυσσεύσ");
  EXPECT_EQ(FoldCase("ДМИТРИЙ Ёлка"), "дмитрий ёлка");
  EXPECT_EQ(FoldCase("ŁÓDŹ İı"), "łódź İı");  // İ has no simple folding; ı is lower already
  EXPECT_EQ(FoldCase("bad \xff\xc3 byte"), "bad \xff\xc3 byte");
  EXPECT_EQ(FoldCase("日本 ABC"), "日本 abc");
}

TEST_P(SearchTest, NonAsciiNamesFoldTheSameWayOnEveryStore) {
  AddCampaign("Spring");
  Add("Spring", "e@x.com", "Élodie Ünal");
  Add("Spring", "s1@x.com", "Anna Straße");
  Add("Spring", "s2@x.com", "ANNA STRASSE");
  Add("Spring", "g@x.com", "Οδυσσεύς Σοφία");
  Add("Spring", "c@x.com", "Дмитрий Ёлкин");
  for (const char* q : {"élodie", "ÉLODIE", "ünal", "Élodie ÜNAL"}) {
    EXPECT_EQ(Find(q), Emails{"e@x.com"}) << q;
  }
  // Simple case folding: ß and ss are different letters, ẞ is ß's capital.
  EXPECT_EQ(Find("straße"), Emails{"s1@x.com"});
  EXPECT_EQ(Find("STRAẞE"), Emails{"s1@x.com"});
  EXPECT_EQ(Find("strasse"), Emails{"s2@x.com"});
  // Final and other sigmas are one letter.
  EXPECT_EQ(Find("ΟΔΥΣΣΕΎΣ"), Emails{"g@x.com"});
  EXPECT_EQ(Find("σοφία"), Emails{"g@x.com"});
  EXPECT_EQ(Find("ДМИТРИЙ ЁЛКИН"), Emails{"c@x.com"});
  EXPECT_EQ(Find("anna"), (Emails{"s2@x.com", "s1@x.com"}));
}

TEST_P(SearchTest, NamesChangedByAnImportAreFoundByTheirNewFolding) {
  AddCampaign("Spring");
  Add("Spring", "e@x.com", "Old");
  std::string file = dir_.File("names.csv");
  WriteFile(file, "referralkey_email,name\ne@x.com,Ørjan Ĳssel\n");
  CommandResult r = RunReftrack("--db '" + url_ + "' import '" + file + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Find("ØRJAN ĳSSEL"), Emails{"e@x.com"});
  EXPECT_TRUE(Find("old").empty());
}

// The migration folds names stored before the search column with PostgreSQL's
// translate() and the same table: both must give FoldCase's answer for every letter.
TEST_P(SearchTest, ThePostgresMigrationFoldsWithTheSameTable) {
  if (GetParam() != "postgres") GTEST_SKIP() << "PostgreSQL's translate()";
  std::string from = FoldTableFrom();
  auto rows = QueryRows(url_, "SELECT translate('" + from + "', '" + from + "', '" +
                                  FoldTableTo() + "') = '" + FoldCase(from) + "'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "t");
}

TEST_P(SearchTest, AWholeEmailMeansThatAddressInEveryCampaign) {
  for (const char* c : {"A", "B", "C"}) AddCampaign(c);
  Add("A", "bob@example.com", "Bob");
  Add("A", "xbob@example.com", "X");
  Add("B", "bob@example.com", "Bob");
  Add("C", "bob@example.com", "Bob");
  std::string next;
  EXPECT_EQ(Find(" BOB@example.com ", 2, "", &next),
            (Emails{"bob@example.com", "bob@example.com"}));
  ASSERT_FALSE(next.empty());
  std::string last;
  EXPECT_EQ(Find("bob@example.com", 2, next, &last), Emails{"bob@example.com"});
  EXPECT_TRUE(last.empty());
  // An address nobody has is a substring search.
  EXPECT_EQ(Find("ob@example.com"),
            (Emails{"bob@example.com", "bob@example.com", "xbob@example.com", "bob@example.com"}));
  // Filters still apply.
  auto in_b = engine_->List({.campaign = "B", .query = "bob@example.com"});
  ASSERT_TRUE(in_b.has_value());
  ASSERT_EQ(in_b->referrals.size(), 1u);
  EXPECT_EQ(in_b->referrals[0].campaign, "B");
  auto denied = engine_->List({.status = Status::kDenied, .query = "bob@example.com"});
  ASSERT_TRUE(denied.has_value());
  EXPECT_TRUE(denied->referrals.empty());
}

TEST_P(SearchTest, AnExactExternalIdFindsItsReferral) {
  AddCampaign("Spring");
  Add("Spring", "a@x.com", "Ann", "CRM-7");
  Add("Spring", "b@x.com", "Bob", "CRM-70");
  EXPECT_EQ(Find("CRM-7"), Emails{"a@x.com"});
  EXPECT_TRUE(Find("crm-7").empty()) << "external ids compare exactly";
}

INSTANTIATE_TEST_SUITE_P(Stores, SearchTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
