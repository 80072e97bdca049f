// The bad-input corpus (issue 9): hostile files through every command that takes a
// customer's file, on every store. Each folder of tests/cases/bad_input/ is one case;
// adding a case is adding a folder:
//
//   command.txt    the command, FILE standing for the input file: `import FILE`,
//                  `qualify FILE --by email --campaign Spring`, `referral load FILE`...
//                  (without --dry-run and --json, which the driver adds)
//   setup.txt      optional: reftrack commands making the starting data, one a line;
//                  without it, the case starts from bad_input/setup.txt (made once per
//                  store and process, then copied for each case)
//   input.csv      the file, committed when small, or
//   input.gen      how to make it at test time, for large files: one piece a line,
//                  `COUNT TEXT` (TEXT written COUNT times; escapes \n \r \t \\ \xHH,
//                  \s for a space) or `zeros N` (N NUL bytes, left as a hole in the file,
//                  so a 1 GB file costs no disk)
//   expected.json  {"refused": "words the error must contain"} for a file refused
//                  whole; else {"report": {fields the report must hold exactly}} with
//                  optional "warning_count": N and "errors_csv": the exact text of
//                  `reftrack import errors ID` after the run
//   after.json     optional: {"KEY": {"field": value}} as `referral show KEY` gives them
//                  afterwards; "history" is the list of "from->to" steps
//   long.txt       optional: the case is long (why, in the file), run only with
//                  REFTRACK_LONG_CASES=1 in the environment
//
// For every case the driver checks, for the dry run (import, qualify) and the real run:
// a refusal exits non-zero, prints nothing on stdout, names the file and the reason in
// a short message, and leaves every table of the database exactly as it was; a report
// exits 0 with the expected fields, the dry run changes nothing, the run reports what
// the dry run did, and a run that changes no referral leaves every table as it was but
// for its own import record, which is whole (finished, file name, SHA-256, errors).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "cases/bad_input_support.h"
#include "cases/case_support.h"

namespace reftrack::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class BadInputCase : public ::testing::TestWithParam<CaseParam> {
 protected:
  BadInputCase() : dir_path_(BadInputDir() / GetParam().name) {}

  CommandResult Run(const std::string& args) { return RunReftrack("--db '" + url_ + "' " + args); }

  void SetUpData() {
    url_ = CaseDatabase(GetParam().store, dir_path_, tmp_);
    dump_ = std::make_unique<TableDump>(GetParam().store, url_);
  }

  nlohmann::json Expected() const { return json::parse(Slurp(dir_path_ / "expected.json")); }

  // after.json, if the case has one: {"KEY": {"field": value, ...}} as `referral show`
  // gives them ("history": the list of "from->to" steps).
  void CheckAfter() {
    if (!fs::exists(dir_path_ / "after.json")) return;
    const json after = json::parse(Slurp(dir_path_ / "after.json"));
    for (const auto& [key, fields] : after.items()) {
      CommandResult show = Run("referral show '" + key + "' --json");
      ASSERT_EQ(show.exit_code, 0) << key << ": " << show.err;
      const json got = json::parse(show.out);
      for (const auto& [field, value] : fields.items()) {
        if (field != "history") {
          EXPECT_EQ(got[field], value) << key << "." << field;
          continue;
        }
        json steps = json::array();
        for (const json& h : got["history"]) {
          steps.push_back(h["from"].get<std::string>() + "->" + h["to"].get<std::string>());
        }
        EXPECT_EQ(steps, value) << key;
      }
    }
  }

  void MakeInput() { input_ = MakeCaseInput(dir_path_, tmp_); }
  std::map<std::string, std::string> Dump() { return dump_->Dump(); }
  std::string Command(bool dry_run) { return CaseCommand(dir_path_, input_, dry_run); }
  bool HasDryRun() { return CaseHasDryRun(dir_path_); }

  fs::path dir_path_;
  TempDir tmp_;
  std::string url_;
  std::string input_;
  std::unique_ptr<TableDump> dump_;
};

TEST_P(BadInputCase, ClearErrorOrCorrectReport) {
  if (SkipLongCase(dir_path_)) {
    GTEST_SKIP() << "a long case: set REFTRACK_LONG_CASES=1 to run it";
  }
  ASSERT_NO_FATAL_FAILURE(SetUpData());
  ASSERT_NO_FATAL_FAILURE(MakeInput());
  const json expected = Expected();
  const std::map<std::string, std::string> before = Dump();
  std::vector<bool> runs = {false};
  if (HasDryRun()) runs.insert(runs.begin(), true);

  if (expected.contains("refused")) {
    for (bool dry_run : runs) {
      CommandResult r = Run(Command(dry_run));
      EXPECT_NE(r.exit_code, 0) << Command(dry_run);
      EXPECT_EQ(r.out, "");
      // What: the reason. Where: the file, and that nothing changed.
      EXPECT_NE(r.err.find(expected["refused"].get<std::string>()), std::string::npos) << r.err;
      EXPECT_NE(r.err.find(input_ + ": "), std::string::npos) << r.err;
      EXPECT_NE(r.err.find("; nothing was"), std::string::npos) << r.err;
      EXPECT_LT(r.err.size(), 1000u) << "a long message: " << r.err.substr(0, 1000);
      EXPECT_TRUE(Dump() == before) << "a refused file changed the database";
    }
    return;
  }

  const json& report = expected.at("report");
  json first;
  for (bool dry_run : runs) {
    CommandResult r = Run(Command(dry_run));
    ASSERT_EQ(r.exit_code, 0) << Command(dry_run) << "\n" << r.err.substr(0, 2000);
    json got = json::parse(r.out);
    EXPECT_EQ(got["applied"], !dry_run);
    for (const auto& [field, value] : report.items()) {
      EXPECT_TRUE(got[field] == value) << field << (dry_run ? " (dry run)" : "") << ": "
                                       << Short(got[field]) << "\nexpected: " << Short(value);
    }
    if (expected.contains("warning_count")) {
      EXPECT_EQ(got["warnings"].size(), expected["warning_count"].get<size_t>());
    }
    if (dry_run) {
      EXPECT_TRUE(Dump() == before) << "the dry run changed the database";
      first = WithoutRunFields(got);
      continue;
    }
    if (!first.is_null()) {
      EXPECT_TRUE(WithoutRunFields(got) == first)
          << "the run != the dry run: " << Short(got) << "\nthe dry run: " << Short(first);
    }

    const bool changed = got.value("changed", int64_t{0}) > 0 ||
                         got.value("qualified", int64_t{0}) > 0 ||
                         got.value("created", int64_t{0}) > 0;
    const bool recorded = got.contains("import_id") || got.contains("upload_id");
    if (!changed) {
      // Only the run's own record may be new.
      auto now = Dump(), was = before;
      for (const char* own : {"imports", "import_errors"}) now.erase(own), was.erase(own);
      EXPECT_TRUE(now == was) << "a run that changes no referral changed data";
    }
    if (!recorded) continue;
    // The run's record is whole: finished, named, hashed, with its errors.
    const int64_t id = got.contains("import_id") ? got["import_id"].get<int64_t>()
                                                 : got["upload_id"].get<int64_t>();
    EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM imports WHERE finished_at IS NULL")[0][0], "0");
    CommandResult record = Run("import errors " + std::to_string(id) + " --json");
    ASSERT_EQ(record.exit_code, 0) << record.err;
    json saved = json::parse(record.out);
    EXPECT_EQ(saved["file_name"], "input.csv");
    EXPECT_EQ(saved["sha256"], HashFile(input_));
    EXPECT_TRUE(saved["errors"] == (got.contains("errors") ? got["errors"] : json::array()))
        << Short(saved["errors"]);
    if (expected.contains("errors_csv")) {
      CommandResult csv = Run("import errors " + std::to_string(id));
      ASSERT_EQ(csv.exit_code, 0) << csv.err;
      EXPECT_EQ(csv.out, expected["errors_csv"].get<std::string>());
    }
  }
  CheckAfter();
}

INSTANTIATE_TEST_SUITE_P(Cases, BadInputCase, ::testing::ValuesIn(AllCases("bad_input")),
                         CaseTestName);

}  // namespace
}  // namespace reftrack::testing
