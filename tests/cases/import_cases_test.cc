// Bulk update cases as data: each folder of tests/cases/import/ is one case, run on
// every store. Adding a case is adding a folder:
//
//   setup.txt      the starting data (see case_support.h)
//   input.csv      the file to import
//   expected.json  the report both the preview and the import must print (the
//                  fields of SPEC §5 but `applied`); or, for a file refused whole,
//                  {"refused": "words the error message must contain"}
//   after.json     optional: the referrals afterwards (see case_support.h)
//
// For every case the driver checks that the preview changes nothing, that the import
// reports exactly what the preview reported, and that `import errors ID` gives back
// the import's errors, file name and SHA-256.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cases/case_support.h"
#include "util/sha256.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

json WithoutRunFields(json report) {
  report.erase("applied");
  report.erase("import_id");
  return report;
}

class ImportCase : public CaseTest {
 protected:
  ImportCase() : CaseTest("import") {}
};

TEST_P(ImportCase, PreviewThenImport) {
  ASSERT_NO_FATAL_FAILURE(RunSetup());
  const json expected = Expected();
  const std::string input = Input();
  const std::string before = Snapshot();

  if (expected.contains("refused")) {
    return CheckRefused("import '" + input + "' --dry-run --json", "import '" + input + "' --json",
                        expected["refused"], before);
  }
  CommandResult preview = Run("import '" + input + "' --dry-run --json");
  EXPECT_EQ(Snapshot(), before) << "the preview changed data";
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

  CheckAfter("import");
}

INSTANTIATE_TEST_SUITE_P(Cases, ImportCase, ::testing::ValuesIn(AllCases("import")), CaseTestName);

}  // namespace
}  // namespace reftrack::testing
