#include "cases/bad_input_support.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>

#include "cases/case_support.h"
#include "util/sha256.h"

namespace reftrack::testing {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path BadInputDir() { return fs::path(REFTRACK_CASES_DIR) / "bad_input"; }

namespace {

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

}  // namespace

void GenerateInput(const std::string& spec, const std::string& path) {
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

std::string MakeCaseInput(const fs::path& case_dir, const TempDir& tmp) {
  if (!fs::exists(case_dir / "input.gen")) return (case_dir / "input.csv").string();
  const std::string input = tmp.File("input.csv");
  GenerateInput(Slurp(case_dir / "input.gen"), input);
  return input;
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

std::string Short(const json& value) {
  std::string text = value.dump();
  return text.size() <= 2000 ? text : text.substr(0, 2000) + "...";
}

json WithoutRunFields(json report) {
  for (const char* f : {"applied", "import_id", "upload_id"}) report.erase(f);
  return report;
}

bool SkipLongCase(const fs::path& case_dir) {
  return fs::exists(case_dir / "long.txt") && std::getenv("REFTRACK_LONG_CASES") == nullptr;
}

std::string CaseDatabase(const std::string& store, const fs::path& case_dir, const TempDir& tmp) {
  if (!fs::exists(case_dir / "setup.txt")) return CorpusDatabase(store, tmp);
  const std::string url = FreshDatabaseUrl(store, tmp);
  RunSetup(url, Slurp(case_dir / "setup.txt"));
  return url;
}

std::string CorpusDatabase(const std::string& store, const TempDir& tmp) {
  static std::map<std::string, Seed> seeds;
  Seed& seed = seeds[store];
  if (seed.url.empty()) {
    seed.dir = std::make_unique<TempDir>();
    const std::string url = FreshDatabaseUrl(store, *seed.dir);
    RunSetup(url, Slurp(BadInputDir() / "setup.txt"));
    if (::testing::Test::HasFatalFailure()) return "";
    seed.url = url;
  }
  if (store == "postgres") return CopyPostgresDatabase(seed.url.substr(seed.url.rfind('/') + 1));
  const std::string from = seed.url.substr(std::string("sqlite:").size());
  const std::string to = tmp.File("test.db");
  for (const char* suffix : {"", "-wal", "-shm"}) {
    if (fs::exists(from + suffix)) fs::copy_file(from + suffix, to + suffix);
  }
  return "sqlite:" + to;
}

std::string CaseCommandText(const fs::path& case_dir) {
  std::string command = Slurp(case_dir / "command.txt");
  while (!command.empty() && (command.back() == '\n' || command.back() == '\r')) {
    command.pop_back();
  }
  return command;
}

std::string CaseCommand(const fs::path& case_dir, const std::string& input, bool dry_run) {
  std::string command = CaseCommandText(case_dir);
  size_t at = command.find("FILE");
  EXPECT_NE(at, std::string::npos) << "command.txt names no FILE";
  if (at != std::string::npos) command.replace(at, 4, "'" + input + "'");
  return command + (dry_run ? " --dry-run" : "") + " --json";
}

bool CaseHasDryRun(const fs::path& case_dir) {
  const std::string command = CaseCommandText(case_dir);
  return command.starts_with("import ") || command.starts_with("qualify ");
}

const std::vector<std::string>& TableDump::Tables() {
  if (!tables_.empty()) return tables_;
  const std::string sql =
      store_ == "sqlite"
          ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
          : "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY "
            "tablename";
  for (const auto& row : QueryRows(url_, sql)) tables_.push_back(row[0]);
  return tables_;
}

// On PostgreSQL in one query (each query is a connection), rows as `row::text`.
std::map<std::string, std::string> TableDump::Dump() {
  std::map<std::string, std::string> tables;
  if (store_ == "postgres") {
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

}  // namespace reftrack::testing
