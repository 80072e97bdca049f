// Keyset pagination of GET /api/v1/referrals: newest first, every referral once, and
// pages that do not shift when referrals are created meanwhile.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

class Pagination : public HttpApiTest {
 protected:
  void SetUp() override {
    HttpApiTest::SetUp();
    if (HasFatalFailure()) return;
    AddCampaign("spring");
    AddCampaign("autumn");
    std::string csv = "campaign,email,name\n";
    for (int i = 1; i <= 120; ++i) {
      csv += "spring,u" + std::to_string(i) + "@example.com,User " + std::to_string(i) + "\n";
    }
    for (int i = 1; i <= 5; ++i) csv += "autumn,a" + std::to_string(i) + "@example.com,\n";
    WriteFile(dir_.File("referrals.csv"), csv);
    CommandResult load =
        RunReftrack("--db '" + url_ + "' referral load " + dir_.File("referrals.csv"));
    ASSERT_EQ(load.exit_code, 0) << load.err;
  }

  // Every page of `query` from the first, with `limit`: the pages' referrals.
  std::vector<json> Pages(const std::string& query, int limit) {
    std::vector<json> pages;
    std::string cursor;
    do {
      std::string target = "/api/v1/referrals?limit=" + std::to_string(limit) + query;
      if (!cursor.empty()) target += "&cursor=" + cursor;
      HttpResponse r = Get(target, read_key_);
      EXPECT_EQ(r.status, 200) << r.body;
      if (r.status != 200 || pages.size() > 100) break;
      json page = r.Json();
      pages.push_back(page["referrals"]);
      cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    } while (!cursor.empty());
    return pages;
  }
};

TEST_P(Pagination, ThreePagesNewestFirstWithoutRepeats) {
  const std::string first_target = "/api/v1/referrals?campaign=spring&limit=50";
  HttpResponse first = Get(first_target, read_key_);
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.Json()["referrals"].size(), 50u);
  const std::string cursor = first.Json()["next_cursor"];
  // A referral created now comes before the first page, not inside the later ones.
  const int64_t newcomer = AddReferral("spring", "late@example.com");

  std::vector<json> pages = {first.Json()["referrals"]};
  for (std::string next = cursor; !next.empty() && pages.size() < 10;) {
    HttpResponse r = Get(first_target + "&cursor=" + next, read_key_);
    ASSERT_EQ(r.status, 200) << r.body;
    pages.push_back(r.Json()["referrals"]);
    next = r.Json()["next_cursor"].is_null() ? "" : r.Json()["next_cursor"].get<std::string>();
  }
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0].size(), 50u);
  EXPECT_EQ(pages[1].size(), 50u);
  EXPECT_EQ(pages[2].size(), 20u);

  std::vector<int64_t> ids;
  std::string previous_created;
  for (const json& page : pages) {
    for (const json& referral : page) {
      ids.push_back(referral["id"]);
      EXPECT_EQ(referral["campaign"], "spring");
      if (!previous_created.empty()) {
        EXPECT_LE(referral["created_at"], previous_created);
      }
      previous_created = referral["created_at"];
    }
  }
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend())) << "newest (highest id) first";
  std::set<int64_t> unique(ids.begin(), ids.end());
  EXPECT_EQ(unique.size(), ids.size()) << "a referral on two pages";
  std::set<int64_t> stored;
  for (const auto& row : Sql("SELECT r.id FROM referrals r JOIN campaigns c ON c.id = "
                             "r.campaign_id WHERE c.name = 'spring'")) {
    stored.insert(std::stoll(row[0]));
  }
  stored.erase(newcomer);
  EXPECT_EQ(unique, stored);

  HttpResponse fresh = Get(first_target, read_key_);
  ASSERT_EQ(fresh.status, 200);
  EXPECT_EQ(fresh.Json()["referrals"][0]["id"], newcomer);
}

TEST_P(Pagination, FiltersPageToo) {
  // Qualify the spring referrals whose number ends in 0: 12 of them.
  std::string csv = "referralkey_email,campaign,status\n";
  for (int i = 10; i <= 120; i += 10)
    csv += "u" + std::to_string(i) + "@example.com,spring,qualified\n";
  HttpResponse r = Upload("/api/v1/imports?dry_run=false", write_key_, csv);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.Json()["changed"], 12);

  std::vector<json> pages = Pages("&status=qualified&campaign=spring", 5);
  ASSERT_EQ(pages.size(), 3u);
  std::set<std::string> emails;
  for (const json& page : pages) {
    for (const json& referral : page) {
      EXPECT_EQ(referral["status"], "qualified");
      emails.insert(referral["email"]);
    }
  }
  EXPECT_EQ(emails.size(), 12u);
  EXPECT_TRUE(emails.contains("u120@example.com"));

  pages = Pages("&campaign=autumn", 50);
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].size(), 5u);

  pages = Pages("&q=u11", 50);  // u11, u110..u119
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].size(), 11u);
}

INSTANTIATE_TEST_SUITE_P(Stores, Pagination, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
