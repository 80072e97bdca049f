// Qualify-by-upload cases as data: each folder of tests/cases/qualify/ is one case,
// run on every store. Adding a case is adding a folder:
//
//   setup.txt      the starting data (see case_support.h)
//   args.txt       the options of `reftrack qualify`, e.g. --by email --campaign Spring
//   input.csv      the list to upload
//   expected.json  the counts both the estimate and the apply must print (the fields
//                  of SPEC §5 but `applied`); or, for a list refused whole,
//                  {"refused": "words the error message must contain"}
//   after.json     optional: the referrals afterwards (see case_support.h)
//
// For every case the driver checks that the estimate changes nothing, that applying
// reports exactly the estimate and qualifies exactly `qualified` referrals, that the
// counts add up, that the upload is recorded with its file's SHA-256, and that
// uploading the same list again qualifies nobody and changes nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cases/case_support.h"
#include "util/sha256.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

class QualifyCase : public CaseTest {
 protected:
  QualifyCase() : CaseTest("qualify") {}

  std::string Command(bool dry_run) {
    std::string args = Slurp(dir_path_ / "args.txt");
    while (!args.empty() && (args.back() == '\n' || args.back() == '\r')) args.pop_back();
    return "qualify '" + Input() + "' " + args + (dry_run ? " --dry-run" : "") + " --json";
  }
};

json Counts(json report) {
  report.erase("applied");
  report.erase("upload_id");
  return report;
}

int64_t N(const json& report, const char* field) { return report.at(field).get<int64_t>(); }

void ExpectCountsAddUp(const json& r) {
  EXPECT_EQ(N(r, "recognized"), N(r, "matched") + N(r, "unmatched")) << r;
  EXPECT_EQ(N(r, "matched"), N(r, "qualified") + N(r, "already_qualified") + N(r, "not_allowed"))
      << r;
  EXPECT_LE(N(r, "recognized") + N(r, "not_recognized"), N(r, "lines")) << r;
}

// The referrals of a Snapshot() by id.
std::map<int64_t, json> ById(const std::string& snapshot) {
  std::map<int64_t, json> out;
  for (const json& r : json::parse(snapshot)) out[r["id"].get<int64_t>()] = r;
  return out;
}

TEST_P(QualifyCase, EstimateThenApply) {
  ASSERT_NO_FATAL_FAILURE(RunSetup());
  const json expected = Expected();
  const std::string before = Snapshot();
  if (expected.contains("refused")) {
    return CheckRefused(Command(true), Command(false), expected["refused"], before);
  }

  CommandResult estimate = Run(Command(true));
  ASSERT_EQ(estimate.exit_code, 0) << estimate.err;
  EXPECT_EQ(Snapshot(), before) << "the estimate changed data";
  json estimated = json::parse(estimate.out);
  EXPECT_EQ(estimated["applied"], false);
  EXPECT_FALSE(estimated.contains("upload_id"));
  EXPECT_EQ(Counts(estimated), expected) << "estimate";
  ExpectCountsAddUp(estimated);

  CommandResult apply = Run(Command(false));
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  json applied = json::parse(apply.out);
  EXPECT_EQ(applied["applied"], true);
  EXPECT_EQ(Counts(applied), Counts(estimated)) << "apply != estimate";

  // Exactly `qualified` referrals changed, each to qualified by this upload.
  const std::string after_first = Snapshot();
  auto old_state = ById(before);
  int64_t changed = 0;
  for (const auto& [id, now] : ById(after_first)) {
    const json& was = old_state.at(id);
    if (now == was) continue;
    ++changed;
    EXPECT_EQ(now["status"], "qualified") << id;
    EXPECT_FALSE(now["qualified_at"].is_null()) << id;
    ASSERT_EQ(now["history"].size(), was["history"].size() + 1) << id;
    const json& step = now["history"].back();
    EXPECT_EQ(step["from"], was["status"]) << id;
    EXPECT_EQ(step["to"], "qualified") << id;
    EXPECT_EQ(step["source"], "qualify_upload") << id;
    EXPECT_EQ(step["batch_id"], applied["upload_id"]) << id;
  }
  EXPECT_EQ(changed, N(applied, "qualified"));

  // The upload is recorded with the file's name and SHA-256.
  CommandResult record =
      Run("import errors " + std::to_string(N(applied, "upload_id")) + " --json");
  ASSERT_EQ(record.exit_code, 0) << record.err;
  json got = json::parse(record.out);
  EXPECT_EQ(got["file_name"], "input.csv");
  Sha256 hash;
  hash.Update(Slurp(Input()));
  EXPECT_EQ(got["sha256"], hash.HexDigest());
  EXPECT_EQ(got["errors"], json::array());

  // The same list again qualifies nobody and changes nothing.
  CommandResult again = Run(Command(false));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  json second = json::parse(again.out);
  EXPECT_EQ(N(second, "qualified"), 0);
  EXPECT_EQ(N(second, "already_qualified"),
            N(applied, "already_qualified") + N(applied, "qualified"));
  EXPECT_EQ(N(second, "not_allowed"), N(applied, "not_allowed"));
  EXPECT_EQ(N(second, "unmatched"), N(applied, "unmatched"));
  ExpectCountsAddUp(second);
  EXPECT_EQ(Snapshot(), after_first) << "uploading the list again changed data";

  CheckAfter("qualify_upload");
}

INSTANTIATE_TEST_SUITE_P(Cases, QualifyCase, ::testing::ValuesIn(AllCases("qualify")),
                         CaseTestName);

}  // namespace
}  // namespace reftrack::testing
