// Bulk update cases as data: each folder of tests/cases/import/ is one case, run on
// every store. Adding a case is adding a folder:
//
//   setup.txt      reftrack commands, one per line without "reftrack" (shell-quoted;
//                  blank lines and lines starting with # are skipped), run in order
//                  on a new database
//   input.csv      the file to import
//   expected.json  the report both the preview and the import must print (the
//                  fields of SPEC §5 but `applied`); or, for a file refused whole,
//                  {"refused": "words the error message must contain"}
//   after.json     optional: {"KEY": {"field": value, ...}} checked with
//                  `referral show KEY --json` after the import; a "history" value
//                  is the list of "from->to" steps, "from->to (source)" for steps
//                  that did not come from an import
//
// For every case the driver checks that the preview changes nothing, that the import
// reports exactly what the preview reported, and that `import errors ID` gives back
// the import's errors, file name and SHA-256.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "support/test_db.h"
#include "util/sha256.h"

namespace reftrack::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(REFTRACK_CASES_DIR) / "import")) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

struct CaseParam {
  std::string store;
  std::string name;
};

void PrintTo(const CaseParam& p, std::ostream* os) { *os << p.store << "/" << p.name; }

class ImportCase : public ::testing::TestWithParam<CaseParam> {
 protected:
  void SetUp() override {
    dir_path_ = fs::path(REFTRACK_CASES_DIR) / "import" / GetParam().name;
    url_ = FreshDatabaseUrl(GetParam().store, tmp_);
  }

  CommandResult Run(const std::string& args) { return RunReftrack("--db '" + url_ + "' " + args); }

  void RunSetup() {
    std::istringstream lines(Slurp(dir_path_ / "setup.txt"));
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty() || line[0] == '#') continue;
      CommandResult r = Run(line);
      ASSERT_EQ(r.exit_code, 0) << "setup: " << line << "\n" << r.err;
    }
  }

  // Every referral with its history, to see that a preview changed nothing.
  std::string Snapshot() {
    json all = json::array();
    CommandResult list = Run("referral list --limit 1000 --json");
    EXPECT_EQ(list.exit_code, 0) << list.err;
    for (const json& r : json::parse(list.out)["referrals"]) {
      CommandResult show =
          Run("referral show " + std::to_string(r["id"].get<int64_t>()) + " --json");
      all.push_back(json::parse(show.out));
    }
    return all.dump();
  }

  fs::path dir_path_;
  TempDir tmp_;
  std::string url_;
};

json WithoutRunFields(json report) {
  report.erase("applied");
  report.erase("import_id");
  return report;
}

TEST_P(ImportCase, PreviewThenImport) {
  ASSERT_NO_FATAL_FAILURE(RunSetup());
  const json expected = json::parse(Slurp(dir_path_ / "expected.json"));
  const std::string input = (dir_path_ / "input.csv").string();
  const std::string before = Snapshot();

  CommandResult preview = Run("import '" + input + "' --dry-run --json");
  EXPECT_EQ(Snapshot(), before) << "the preview changed data";
  if (expected.contains("refused")) {
    EXPECT_NE(preview.exit_code, 0);
    EXPECT_NE(preview.err.find(expected["refused"].get<std::string>()), std::string::npos)
        << preview.err;
    CommandResult import = Run("import '" + input + "' --json");
    EXPECT_NE(import.exit_code, 0);
    EXPECT_EQ(import.out, "");
    EXPECT_EQ(Snapshot(), before) << "a refused file changed data";
    return;
  }
  ASSERT_EQ(preview.exit_code, 0) << preview.err;
  json previewed = json::parse(preview.out);
  EXPECT_EQ(previewed["applied"], false);
  EXPECT_EQ(WithoutRunFields(previewed), expected) << "preview";

  CommandResult import = Run("import '" + input + "' --json");
  ASSERT_EQ(import.exit_code, 0) << import.err;
  json imported = json::parse(import.out);
  EXPECT_EQ(imported["applied"], true);
  EXPECT_EQ(WithoutRunFields(imported), WithoutRunFields(previewed)) << "import != preview";

  // The counts add up.
  EXPECT_EQ(imported["rows"].get<int64_t>(), imported["changed"].get<int64_t>() +
                                                 imported["unchanged"].get<int64_t>() +
                                                 imported["error_count"].get<int64_t>());

  // The errors can be downloaded again.
  CommandResult errors =
      Run("import errors " + std::to_string(imported["import_id"].get<int64_t>()) + " --json");
  ASSERT_EQ(errors.exit_code, 0) << errors.err;
  json record = json::parse(errors.out);
  EXPECT_EQ(record["errors"], imported["errors"]);
  // The import's record names the file and the SHA-256 of its bytes.
  EXPECT_EQ(record["file_name"], "input.csv");
  Sha256 hash;
  hash.Update(Slurp(dir_path_ / "input.csv"));
  EXPECT_EQ(record["sha256"], hash.HexDigest());

  if (!fs::exists(dir_path_ / "after.json")) return;
  const json after = json::parse(Slurp(dir_path_ / "after.json"));
  for (const auto& [key, fields] : after.items()) {
    CommandResult show = Run("referral show '" + key + "' --json");
    ASSERT_EQ(show.exit_code, 0) << key << ": " << show.err;
    json got = json::parse(show.out);
    for (const auto& [field, value] : fields.items()) {
      if (field == "history") {
        json steps = json::array();
        for (const json& h : got["history"]) {
          std::string step = h["from"].get<std::string>() + "->" + h["to"].get<std::string>();
          if (h["source"] != "import") step += " (" + h["source"].get<std::string>() + ")";
          steps.push_back(step);
        }
        EXPECT_EQ(steps, value) << key;
      } else {
        EXPECT_EQ(got[field], value) << key << "." << field;
      }
    }
  }
}

std::vector<CaseParam> AllCases() {
  std::vector<CaseParam> params;
  for (const std::string& store : StoreKinds()) {
    for (const std::string& name : CaseNames()) params.push_back({store, name});
  }
  return params;
}

INSTANTIATE_TEST_SUITE_P(Cases, ImportCase, ::testing::ValuesIn(AllCases()), [](const auto& info) {
  std::string name = info.param.store + "_" + info.param.name;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
});

}  // namespace
}  // namespace reftrack::testing
