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
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cases/case_support.h"
#include "util/sha256.h"

namespace reftrack::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// TEXT of an input.gen line with its escapes resolved.
std::string Unescape(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    char c = text[++i];
    if (c == 'n') {
      out += '\n';
    } else if (c == 'r') {
      out += '\r';
    } else if (c == 't') {
      out += '\t';
    } else if (c == 's') {
      out += ' ';
    } else if (c == 'x' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

// Writes the file `spec` (an input.gen) describes to `path`.
void Generate(const std::string& spec, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  std::istringstream lines(spec);
  std::string line;
  uintmax_t size = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.find(' ');
    ASSERT_NE(space, std::string::npos) << "input.gen: " << line;
    std::string first = line.substr(0, space), rest = line.substr(space + 1);
    if (first == "zeros") {
      uintmax_t n = std::stoull(rest);
      out.seekp(static_cast<std::streamoff>(n), std::ios::cur);
      size += n;
      continue;
    }
    const std::string piece = Unescape(rest);
    const uint64_t count = std::stoull(first);
    std::string block;
    for (uint64_t i = 0; i < count; ++i) {
      block += piece;
      if (block.size() >= (1u << 20) || i + 1 == count) {
        out.write(block.data(), static_cast<std::streamsize>(block.size()));
        size += block.size();
        block.clear();
      }
    }
  }
  out.close();
  fs::resize_file(path, size);  // a trailing hole
}

std::string HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Sha256 hash;
  std::string block(1 << 20, '\0');
  while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
    hash.Update(std::string_view(block.data(), static_cast<size_t>(in.gcount())));
  }
  return hash.HexDigest();
}

// `value` for a failure message, cut short: a case's cells may be 10 MB long.
std::string Short(const json& value) {
  std::string text = value.dump();
  return text.size() <= 2000 ? text : text.substr(0, 2000) + "...";
}

// The report without the fields that name the run.
json WithoutRunFields(json report) {
  for (const char* f : {"applied", "import_id", "upload_id"}) report.erase(f);
  return report;
}

// Runs the setup commands of `setup` (a setup.txt) on the database at `url`.
void RunSetup(const std::string& url, const std::string& setup) {
  std::istringstream lines(setup);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    CommandResult r = RunReftrack("--db '" + url + "' " + line);
    ASSERT_EQ(r.exit_code, 0) << "setup: " << line << "\n" << r.err;
  }
}

// A new PostgreSQL database copied from `template_name` on the test server: its URL.
std::string CopyPostgresDatabase(const std::string& template_name) {
  static int counter = 0;
  const std::string admin_url = std::getenv("REFTRACK_TEST_POSTGRES_URL");
  const std::string name = "bad" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  PGconn* conn = PQconnectdb(admin_url.c_str());
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name + " TEMPLATE " + template_name).c_str());
  EXPECT_EQ(PQresultStatus(res), PGRES_COMMAND_OK) << PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  return admin_url.substr(0, admin_url.rfind('/') + 1) + name;
}

// The starting data of bad_input/setup.txt, made once per store by this process (the
// suite runs as one test per store) and copied for each case: 7 commands saved a case.
struct Seed {
  std::unique_ptr<TempDir> dir;
  std::string url;
};

class BadInputCase : public ::testing::TestWithParam<CaseParam> {
 protected:
  BadInputCase() : dir_path_(fs::path(REFTRACK_CASES_DIR) / "bad_input" / GetParam().name) {}

  CommandResult Run(const std::string& args) { return RunReftrack("--db '" + url_ + "' " + args); }

  // A database with the case's starting data: its own setup.txt run on a new database,
  // or a copy of the seed.
  void SetUpData() {
    const std::string& store = GetParam().store;
    if (fs::exists(dir_path_ / "setup.txt")) {
      url_ = FreshDatabaseUrl(store, tmp_);
      return RunSetup(url_, Slurp(dir_path_ / "setup.txt"));
    }
    static std::map<std::string, Seed> seeds;
    Seed& seed = seeds[store];
    if (seed.url.empty()) {
      seed.dir = std::make_unique<TempDir>();
      const std::string url = FreshDatabaseUrl(store, *seed.dir);
      ASSERT_NO_FATAL_FAILURE(RunSetup(url, Slurp(dir_path_.parent_path() / "setup.txt")));
      seed.url = url;
    }
    if (store == "postgres") {
      url_ = CopyPostgresDatabase(seed.url.substr(seed.url.rfind('/') + 1));
      return;
    }
    const std::string from = seed.url.substr(std::string("sqlite:").size());
    const std::string to = tmp_.File("test.db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
    }
    url_ = "sqlite:" + to;
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

  // The input file: committed, or made now in the case's temp dir.
  void MakeInput() {
    if (fs::exists(dir_path_ / "input.gen")) {
      input_ = tmp_.File("input.csv");
      ASSERT_NO_FATAL_FAILURE(Generate(Slurp(dir_path_ / "input.gen"), input_));
    } else {
      input_ = (dir_path_ / "input.csv").string();
    }
  }

  // The database's tables (read once: a case adds none).
  const std::vector<std::string>& Tables() {
    if (!tables_.empty()) return tables_;
    const std::string sql =
        GetParam().store == "sqlite"
            ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            : "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY "
              "tablename";
    for (const auto& row : QueryRows(url_, sql)) tables_.push_back(row[0]);
    return tables_;
  }

  // Every row of every table, as text, by table. On PostgreSQL in one query (each
  // query is a connection), rows as `row::text`.
  std::map<std::string, std::string> Dump() {
    std::map<std::string, std::string> tables;
    if (GetParam().store == "postgres") {
      std::string sql;
      for (const std::string& table : Tables()) {
        tables[table];
        sql += (sql.empty() ? "" : " UNION ALL ") + ("SELECT '" + table + "', t::text FROM ") +
               table + " t";
      }
      for (const auto& row : QueryRows(url_, sql + " ORDER BY 1, 2")) {
        tables[row[0]] += row[1] + "\n";
      }
      return tables;
    }
    for (const std::string& table : Tables()) {
      std::string& text = tables[table];
      for (const auto& row : QueryRows(url_, "SELECT * FROM " + table + " ORDER BY 1")) {
        for (const std::string& v : row) text += v + "|";
        text += "\n";
      }
    }
    return tables;
  }

  std::string Command(bool dry_run) {
    std::string command = Slurp(dir_path_ / "command.txt");
    while (!command.empty() && (command.back() == '\n' || command.back() == '\r')) {
      command.pop_back();
    }
    size_t at = command.find("FILE");
    EXPECT_NE(at, std::string::npos) << "command.txt names no FILE";
    command.replace(at, 4, "'" + input_ + "'");
    return command + (dry_run ? " --dry-run" : "") + " --json";
  }

  bool HasDryRun() {
    const std::string command = Slurp(dir_path_ / "command.txt");
    return command.starts_with("import ") || command.starts_with("qualify ");
  }

  fs::path dir_path_;
  TempDir tmp_;
  std::string url_;
  std::string input_;
  std::vector<std::string> tables_;
};

TEST_P(BadInputCase, ClearErrorOrCorrectReport) {
  if (fs::exists(dir_path_ / "long.txt") && std::getenv("REFTRACK_LONG_CASES") == nullptr) {
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
