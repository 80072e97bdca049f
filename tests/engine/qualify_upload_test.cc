// Qualify by upload against a model of SPEC §4.2, on every store: the store's match
// (look-ups for a short list, one pass for a long one) gives the same counts, the
// apply qualifies exactly the referrals the model says, across write chunks, and
// uploading the same list again qualifies nobody.
#include "engine/qualify_upload.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "engine/bulk_update.h"
#include "engine/referral_loader.h"
#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

// How the model sees a referral: what an upload naming it counts it as.
enum class Expect { kQualified, kAlreadyQualified, kNotAllowed };

class QualifyUploadTest : public EngineTest {
 protected:
  // Loads `count` referrals into `campaign`: email r<i>@x.com, referral code
  // <prefix><i>. Returns their ids by i.
  std::vector<int64_t> Load(const std::string& campaign, int count, const std::string& prefix) {
    std::string csv = "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n";
    for (int i = 0; i < count; ++i) {
      csv +=
          campaign + ",r" + std::to_string(i) + "@x.com,,," + prefix + std::to_string(i) + ",,\n";
    }
    csv::Reader reader(csv);
    auto report = LoadReferrals(*engine_, reader, nullptr);
    EXPECT_TRUE(report.has_value() && report->errors.empty());
    // The loader inserts in file order, so ids ascend with i.
    std::vector<int64_t> ids;
    for (const auto& row : QueryRows(url_,
                                     "SELECT r.id FROM referrals r JOIN campaigns c ON c.id ="
                                     " r.campaign_id WHERE c.name = '" +
                                         campaign + "' ORDER BY r.id")) {
      ids.push_back(std::stoll(row[0]));
    }
    EXPECT_EQ(ids.size(), static_cast<size_t>(count));
    return ids;
  }

  // Walks referral ids[i] into the state i % 6 picks, through an import, and returns
  // what an upload naming it should count it as.
  std::vector<Expect> MixStatuses(const std::vector<int64_t>& ids) {
    std::string csv = "referralkey_id,status\n";
    std::vector<Expect> expect;
    for (size_t i = 0; i < ids.size(); ++i) {
      std::string id = std::to_string(ids[i]);
      switch (i % 6) {
        case 0:  // stays pending
          expect.push_back(Expect::kQualified);
          break;
        case 1:  // denied, never qualified
          csv += id + ",denied\n";
          expect.push_back(Expect::kQualified);
          break;
        case 2:
          csv += id + ",qualified\n";
          expect.push_back(Expect::kAlreadyQualified);
          break;
        case 3:
          csv += id + ",approved\n";
          expect.push_back(Expect::kAlreadyQualified);
          break;
        case 4:  // qualified, then back to pending
          csv += id + ",qualified\n" + id + ",pending\n";
          expect.push_back(Expect::kAlreadyQualified);
          break;
        case 5:  // qualified, then denied
          csv += id + ",qualified\n" + id + ",denied\n";
          expect.push_back(Expect::kNotAllowed);
          break;
      }
    }
    csv::Reader reader(csv);
    auto report = ApplyImport(*engine_, reader, ImportSource{"mix.csv", "test", nullptr}, nullptr);
    EXPECT_TRUE(report.has_value() && report->errors.empty());
    return expect;
  }

  Result<QualifyReport> Estimate(const std::string& list, QualifyRequest request) {
    csv::Reader reader(list);
    return EstimateQualify(*engine_, reader, request, nullptr);
  }
  Result<QualifyReport> Apply(const std::string& list, QualifyRequest request) {
    csv::Reader reader(list);
    return ApplyQualify(*engine_, reader, request, ImportSource{"list.csv", "test", nullptr},
                        nullptr);
  }
};

// The model's counts for an upload naming referrals `named` (indexes into `expect`)
// plus `unknown` values that match nobody.
QualifyReport Model(const std::vector<Expect>& expect, const std::vector<int>& named, int unknown) {
  QualifyReport r;
  r.lines = r.recognized = static_cast<int64_t>(named.size()) + unknown;
  r.matched = static_cast<int64_t>(named.size());
  r.unmatched = unknown;
  for (int i : named) {
    switch (expect[i]) {
      case Expect::kQualified:
        ++r.qualified;
        break;
      case Expect::kAlreadyQualified:
        ++r.already_qualified;
        break;
      case Expect::kNotAllowed:
        ++r.not_allowed;
        break;
    }
  }
  return r;
}

void ExpectCounts(const QualifyReport& got, const QualifyReport& want, const std::string& what) {
  EXPECT_EQ(got.lines, want.lines) << what;
  EXPECT_EQ(got.recognized, want.recognized) << what;
  EXPECT_EQ(got.not_recognized, want.not_recognized) << what;
  EXPECT_EQ(got.matched, want.matched) << what;
  EXPECT_EQ(got.qualified, want.qualified) << what;
  EXPECT_EQ(got.already_qualified, want.already_qualified) << what;
  EXPECT_EQ(got.not_allowed, want.not_allowed) << what;
  EXPECT_EQ(got.unmatched, want.unmatched) << what;
}

constexpr int kReferrals = 3'000;

TEST_P(QualifyUploadTest, ShortAndLongListsMatchTheModel) {
  AddCampaign("Spring");
  AddCampaign("Fall");
  std::vector<int64_t> ids = Load("Spring", kReferrals, "S");
  Load("Fall", 200, "F");  // the same emails as Spring's first 200, pending
  std::vector<Expect> expect = MixStatuses(ids);

  // Short lists are looked up, long ones matched in one pass (kScanShare in the
  // SQLite store): both must count alike.
  for (int step : {397, 1}) {
    std::vector<int> named;
    std::string emails, codes;
    for (int i = 0; i < kReferrals; i += step) {
      named.push_back(i);
      emails += " R" + std::to_string(i) + "@X.com\n";
      codes += "S" + std::to_string(i) + "\n";
    }
    for (int u = 0; u < 7; ++u) {
      emails += "nobody" + std::to_string(u) + "@x.com\n";
      codes += "NOBODY" + std::to_string(u) + "\n";
    }
    QualifyReport want = Model(expect, named, 7);
    std::string what = "every " + std::to_string(step) + "th referral";
    auto by_email = Estimate(emails, {QualifyBy::kEmail, "Spring"});
    ASSERT_TRUE(by_email.has_value()) << by_email.error().message;
    ExpectCounts(*by_email, want, what + " by email");
    auto by_code = Estimate(codes, {QualifyBy::kReferralCode, ""});
    ASSERT_TRUE(by_code.has_value()) << by_code.error().message;
    ExpectCounts(*by_code, want, what + " by referral code");
    // Fall's referrals share the first emails but are another campaign's.
    auto fall = Estimate(emails, {QualifyBy::kEmail, "Fall"});
    ASSERT_TRUE(fall.has_value()) << fall.error().message;
    int64_t in_fall = std::count_if(named.begin(), named.end(), [](int i) { return i < 200; });
    EXPECT_EQ(fall->matched, in_fall) << what;
    EXPECT_EQ(fall->qualified, in_fall) << what;
  }

  // Applying the long list qualifies exactly the model's referrals.
  std::string all;
  std::vector<int> named;
  for (int i = 0; i < kReferrals; ++i) {
    all += "r" + std::to_string(i) + "@x.com\n";
    named.push_back(i);
  }
  std::vector<Referral> before;
  for (int64_t id : ids) before.push_back(Get(id));
  Tick();
  auto applied = Apply(all, {QualifyBy::kEmail, "Spring"});
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_TRUE(applied->applied);
  ASSERT_TRUE(applied->upload_id.has_value());
  ExpectCounts(*applied, Model(expect, named, 0), "apply");
  for (int i = 0; i < kReferrals; ++i) {
    Referral now = Get(ids[i]);
    if (expect[i] != Expect::kQualified) {
      EXPECT_EQ(now.status, before[i].status) << i;
      EXPECT_EQ(now.qualified_at, before[i].qualified_at) << i;
      continue;
    }
    EXPECT_EQ(now.status, Status::kQualified) << i;
    EXPECT_EQ(now.qualified_at, now_) << i;
    EXPECT_EQ(now.denied_at, before[i].denied_at) << i;
    std::vector<StatusChange> history = HistoryOf(ids[i]);
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back().from, before[i].status) << i;
    EXPECT_EQ(history.back().source, ChangeSource::kQualifyUpload) << i;
    EXPECT_EQ(history.back().batch_id, applied->upload_id) << i;
  }

  // Again: nobody is qualified twice.
  auto again = Apply(all, {QualifyBy::kEmail, "Spring"});
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->qualified, 0);
  EXPECT_EQ(again->already_qualified, applied->already_qualified + applied->qualified);
}

// More referrals to qualify than one write chunk takes (kWriteChunk is 10,000).
TEST_P(QualifyUploadTest, AppliesAcrossWriteChunks) {
  constexpr int kMany = 23'456;
  AddCampaign("Spring");
  std::vector<int64_t> ids = Load("Spring", kMany, "S");
  std::string list;
  for (int i = kMany - 1; i >= 0; --i) list += "S" + std::to_string(i) + "\n";
  auto applied = Apply(list, {QualifyBy::kReferralCode, "Spring"});
  ASSERT_TRUE(applied.has_value()) << applied.error().message;
  EXPECT_EQ(applied->qualified, kMany);
  auto rows = QueryRows(url_,
                        "SELECT count(*), count(DISTINCT referral_id) FROM status_changes"
                        " WHERE source = 'qualify_upload' AND to_status = 'qualified'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(kMany));
  EXPECT_EQ(rows[0][1], std::to_string(kMany));
  auto qualified = QueryRows(url_, "SELECT count(*) FROM referrals WHERE status = 'qualified'");
  EXPECT_EQ(qualified[0][0], std::to_string(kMany));
}

// The apply decides against the data as it is when it runs, not as the estimate saw it.
TEST_P(QualifyUploadTest, ApplyRechecksAgainstCurrentData) {
  AddCampaign("Spring");
  const int64_t a = AddReferral("Spring", "a@x.com");
  const int64_t b = AddReferral("Spring", "b@x.com");
  auto estimate = Estimate("a@x.com\nb@x.com\n", {QualifyBy::kEmail, "Spring"});
  ASSERT_TRUE(estimate.has_value());
  EXPECT_EQ(estimate->qualified, 2);
  ASSERT_TRUE(Change(a, Status::kQualified).has_value());
  ASSERT_TRUE(Change(a, Status::kDenied).has_value());
  auto applied = Apply("a@x.com\nb@x.com\n", {QualifyBy::kEmail, "Spring"});
  ASSERT_TRUE(applied.has_value());
  EXPECT_EQ(applied->qualified, 1);
  EXPECT_EQ(applied->not_allowed, 1);
  EXPECT_EQ(Get(a).status, Status::kDenied);
  EXPECT_EQ(Get(b).status, Status::kQualified);
}

INSTANTIATE_TEST_SUITE_P(Stores, QualifyUploadTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
