// The bad-input corpus (tests/cases/bad_input/, its format in bad_input_cases_test.cc)
// as its two drivers read it: the CLI one (bad_input_cases_test.cc) and the replay
// over HTTP (bad_input_http_test.cc). Reading a case, making its input and its
// starting data, and dumping a database to see that nothing changed.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/test_db.h"

namespace reftrack::testing {

// REFTRACK_CASES_DIR/bad_input.
std::filesystem::path BadInputDir();

// Writes the file `spec` (an input.gen) describes to `path`.
void GenerateInput(const std::string& spec, const std::string& path);
// The case's input file: its input.csv, or made from its input.gen in `tmp`.
std::string MakeCaseInput(const std::filesystem::path& case_dir, const TempDir& tmp);

std::string HashFile(const std::string& path);
// `value` for a failure message, cut short: a case's cells may be 10 MB long.
std::string Short(const nlohmann::json& value);
// The report without the fields that name the run.
nlohmann::json WithoutRunFields(nlohmann::json report);

// Whether the case is long (it has a long.txt) and REFTRACK_LONG_CASES is not set.
bool SkipLongCase(const std::filesystem::path& case_dir);

// A database of `store` with the case's starting data: its own setup.txt run on a new
// database in `tmp`, or CorpusDatabase(). Its URL.
std::string CaseDatabase(const std::string& store, const std::filesystem::path& case_dir,
                         const TempDir& tmp);
// A copy in `tmp` of the data of the corpus's setup.txt (made once per store and
// process). Its URL.
std::string CorpusDatabase(const std::string& store, const TempDir& tmp);

// command.txt without its line end: `import FILE`, `qualify FILE --by email ...`.
std::string CaseCommandText(const std::filesystem::path& case_dir);
// The CLI arguments of the case on `input`, with --dry-run when asked, and --json.
std::string CaseCommand(const std::filesystem::path& case_dir, const std::string& input,
                        bool dry_run);
// Whether the command has a dry run (import and qualify do).
bool CaseHasDryRun(const std::filesystem::path& case_dir);

// Every row of every table of a database, as text, by table: equal dumps are equal data.
class TableDump {
 public:
  TableDump(std::string store, std::string url) : store_(std::move(store)), url_(std::move(url)) {}
  std::map<std::string, std::string> Dump();

 private:
  const std::vector<std::string>& Tables();  // read once: a case adds none

  std::string store_, url_;
  std::vector<std::string> tables_;
};

}  // namespace reftrack::testing
