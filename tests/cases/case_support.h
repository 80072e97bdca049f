// What the data-driven case suites share: each case is a folder of files run
// against a new database of every store, through the reftrack binary.
//
//   setup.txt   reftrack commands, one per line without "reftrack" (shell-quoted;
//               blank lines and lines starting with # are skipped), run in order
//   after.json  optional: {"KEY": {"field": value, ...}} checked with
//               `referral show KEY --json` at the end; a "history" value is the list
//               of "from->to" steps, "from->to (source)" for steps whose source is
//               not the one the suite is about
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_db.h"

namespace reftrack::testing {

std::string Slurp(const std::filesystem::path& path);

struct CaseParam {
  std::string store;
  std::string name;
};
void PrintTo(const CaseParam& p, std::ostream* os);

// Every case folder under REFTRACK_CASES_DIR/`suite`, on every store.
std::vector<CaseParam> AllCases(const std::string& suite);
// A test name for a case: store_case, with anything but letters and digits as _.
std::string CaseTestName(const ::testing::TestParamInfo<CaseParam>& info);

class CaseTest : public ::testing::TestWithParam<CaseParam> {
 protected:
  explicit CaseTest(const std::string& suite);

  CommandResult Run(const std::string& args);
  void RunSetup();
  // Every referral with its history, to see that a dry run changed nothing.
  std::string Snapshot();
  // Both the dry run and the real run refuse with a message holding `words`, print
  // nothing on stdout, and change nothing of `before` (a Snapshot()).
  void CheckRefused(const std::string& dry_run, const std::string& apply, const std::string& words,
                    const std::string& before);
  // Checks after.json, if the case has one; `source` is the suite's history source.
  void CheckAfter(const std::string& source);
  std::string Input() const { return (dir_path_ / "input.csv").string(); }
  nlohmann::json Expected() const;

  std::filesystem::path dir_path_;
  TempDir tmp_;
  std::string url_;
};

}  // namespace reftrack::testing
