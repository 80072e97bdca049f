// The bulk update plan across chunk boundaries: rows far below a change (in a later
// chunk of the plan) still see it, in the preview (which keeps it in memory) as in
// the import (which has written it), on every store.
#include "engine/bulk_update.h"

#include <gtest/gtest.h>

#include <sstream>

#include "engine/json.h"
#include "support/engine_fixture.h"

namespace reftrack::testing {
namespace {

class BulkUpdateTest : public EngineTest {
 protected:
  Result<ImportReport> Preview(const std::string& csv) {
    csv::Reader reader(csv);
    return PreviewImport(*engine_, reader, nullptr);
  }
  Result<ImportReport> Import(const std::string& csv) {
    csv::Reader reader(csv);
    return ApplyImport(*engine_, reader, ImportSource{"test.csv", "test", nullptr}, nullptr);
  }
};

// More rows than one chunk holds (kChunkRows in bulk_update.cc is 65536).
constexpr int kFillerRows = 70'000;

TEST_P(BulkUpdateTest, LaterChunksSeeEarlierChanges) {
  AddCampaign("Spring");
  const int64_t a = AddReferral("Spring", "a@x.com");
  const int64_t b = AddReferral("Spring", "b@x.com");
  const int64_t c = AddReferral("Spring", "c@x.com");
  std::string csv = "referralkey_id,referralkey_email,email,status\n";
  csv += std::to_string(a) + ",,,qualified\n";  // row 2
  csv += std::to_string(a) + ",,,denied\n";     // row 3
  csv += ",a@x.com,a2@x.com,\n";                // row 4: a's email moves
  csv += std::to_string(c) + ",,,approved\n";   // row 5: c is approved (status only)
  for (int i = 0; i < kFillerRows; ++i) csv += std::to_string(b) + ",,,pending\n";
  const int64_t last = 5 + kFillerRows;
  csv += std::to_string(a) + ",,,qualified\n";  // refused: qualified before, denied now
  csv += ",a2@x.com,,pending\n";                // found by the email row 4 gave it
  csv += ",a@x.com,,pending\n";                 // nobody has it any more
  csv += std::to_string(b) + ",,a@x.com,\n";    // free again: b may take it
  csv += std::to_string(c) + ",,,pending\n";    // refused: approved is final

  auto preview = Preview(csv);
  ASSERT_TRUE(preview.has_value()) << preview.error().message;
  EXPECT_EQ(Get(a).status, Status::kPending) << "the preview changed data";
  EXPECT_EQ(Get(a).email, "a@x.com");

  auto imported = Import(csv);
  ASSERT_TRUE(imported.has_value()) << imported.error().message;
  for (const ImportReport* r : {&*preview, &*imported}) {
    EXPECT_EQ(r->rows, kFillerRows + 9);
    EXPECT_EQ(r->changed, 6);
    EXPECT_EQ(r->unchanged, kFillerRows);
    ASSERT_EQ(r->errors.size(), 3u);
    EXPECT_EQ(r->errors[0].row, last + 1);
    EXPECT_EQ(r->errors[0].message,
              "referral " + std::to_string(a) +
                  " was qualified before; it cannot be qualified again from denied");
    EXPECT_EQ(r->errors[1].row, last + 3);
    EXPECT_EQ(r->errors[1].column, "referralkey_email");
    EXPECT_EQ(r->errors[2].row, last + 5);
    EXPECT_EQ(r->errors[2].column, "status");
    EXPECT_EQ(r->transitions, (std::map<std::string, int64_t>{{"pending->qualified", 1},
                                                              {"qualified->denied", 1},
                                                              {"denied->pending", 1},
                                                              {"pending->approved", 1}}));
  }
  EXPECT_FALSE(preview->applied);
  EXPECT_TRUE(imported->applied);

  Referral after_a = Get(a);
  EXPECT_EQ(after_a.status, Status::kPending);
  EXPECT_EQ(after_a.email, "a2@x.com");
  EXPECT_TRUE(after_a.qualified_at.has_value());
  EXPECT_EQ(Get(b).email, "a@x.com");
  EXPECT_EQ(Get(c).status, Status::kApproved);
  auto history = HistoryOf(a);
  ASSERT_EQ(history.size(), 3u);
  for (const StatusChange& c : history) {
    EXPECT_EQ(c.source, ChangeSource::kImport);
    EXPECT_EQ(c.batch_id, imported->import_id);
  }
  EXPECT_TRUE(HistoryOf(b).empty());
}

// Importing the same file twice: the second import changes nothing and writes no
// history, and is recorded as an import of its own.
TEST_P(BulkUpdateTest, ImportingTwiceChangesNothingMore) {
  AddCampaign("Spring");
  const int64_t a = AddReferral("Spring", "a@x.com");
  const std::string csv = "referralkey_id,status\n" + std::to_string(a) + ",approved\n";
  auto first = Import(csv);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->changed, 1);
  auto second = Import(csv);
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->changed, 0);
  EXPECT_EQ(second->unchanged, 1);
  EXPECT_NE(first->import_id, second->import_id);
  EXPECT_EQ(HistoryOf(a).size(), 1u);
}

// The snapshot a preview reads from: a change another connection commits meanwhile is
// not seen until the snapshot ends, and the writer is not blocked by it.
TEST_P(BulkUpdateTest, ReadSnapshotSeesOneMoment) {
  AddCampaign("Spring");
  const int64_t a = AddReferral("Spring", "a@x.com");
  auto other_store = Store::Open(url_);
  ASSERT_TRUE(other_store.has_value()) << other_store.error().message;
  Engine other(**other_store);
  {
    auto snapshot = store_->BeginRead();
    ASSERT_TRUE(snapshot.has_value()) << snapshot.error().message;
    EXPECT_EQ(Get(a).status, Status::kPending);
    auto changed = other.ChangeStatus(a, Status::kQualified, {ChangeSource::kManual, "other", {}});
    ASSERT_TRUE(changed.has_value()) << changed.error().message;
    EXPECT_EQ(Get(a).status, Status::kPending) << "the snapshot saw a later commit";
    auto found = store_->FindReferralsByIds(std::vector<int64_t>{a});
    ASSERT_TRUE(found.has_value() && found->size() == 1u);
    EXPECT_EQ(found->front().status, Status::kPending);
  }
  EXPECT_EQ(Get(a).status, Status::kQualified);
}

// The report written as it is rendered is byte for byte the JSON tree's text: keys in
// order, quotes and control characters escaped, invalid UTF-8 replaced.
TEST(ReportJsonTest, StreamedTextIsTheTreesText) {
  auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  std::vector<RowError> errors = {{2, "status", "\"maybe\" is not a status"},
                                  {3, "", "tab\there, bad \xC3\x28 UTF-8"},
                                  {9, "referralkey_id", "no referral with id 9"}};
  ImportReport import{5, 1, 1, errors, {"unknown column \"x\" (column 3) is ignored"},
                      {{"pending->qualified", 1}}, true, 7};
  EXPECT_EQ(JsonText(import), dump(ToJson(import)));
  std::ostringstream streamed;
  WriteJson(streamed, import);
  EXPECT_EQ(streamed.str(), dump(ToJson(import)));
  for (ImportReport empty : {ImportReport{}, ImportReport{3, 0, 3, {}, {}, {}, false, {}}}) {
    EXPECT_EQ(JsonText(empty), dump(ToJson(empty)));
  }
  LoadReport load{4, 1, errors, {"w"}};
  std::ostringstream loaded;
  WriteJson(loaded, load);
  EXPECT_EQ(loaded.str(), dump(ToJson(load)));
}

INSTANTIATE_TEST_SUITE_P(Stores, BulkUpdateTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
