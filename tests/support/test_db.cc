#include "support/test_db.h"

#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "process/child_process.h"

namespace reftrack::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "reftrack-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::string> StoreKinds() {
  std::vector<std::string> kinds = {"sqlite"};
  const char* pg = std::getenv("REFTRACK_TEST_POSTGRES_URL");
  if (pg && *pg) kinds.push_back("postgres");
  return kinds;
}

namespace {

// A new database on the test server, named after this process and a counter.
std::string CreatePostgresDatabase() {
  static int counter = 0;
  std::string admin_url = std::getenv("REFTRACK_TEST_POSTGRES_URL");
  std::string name = "t" + std::to_string(getpid()) + "_" + std::to_string(++counter);
  PGconn* conn = PQconnectdb(admin_url.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string msg = PQerrorMessage(conn);
    PQfinish(conn);
    throw std::runtime_error("cannot reach the test PostgreSQL server: " + msg);
  }
  // The name is made here of digits and letters only.
  PGresult* res = PQexec(conn, ("CREATE DATABASE " + name).c_str());
  bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::string msg = PQerrorMessage(conn);
  PQclear(res);
  PQfinish(conn);
  if (!ok) throw std::runtime_error("CREATE DATABASE failed: " + msg);
  return admin_url.substr(0, admin_url.rfind('/') + 1) + name;
}

}  // namespace

std::string FreshDatabaseUrl(const std::string& kind, const TempDir& dir) {
  if (kind == "sqlite") return "sqlite:" + dir.File("test.db");
  if (kind == "postgres") return CreatePostgresDatabase();
  throw std::runtime_error("store kind " + kind + " is not available in this build");
}

std::vector<std::vector<std::string>> QueryRows(const std::string& url, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  if (url.starts_with("postgres")) {
    PGconn* conn = PQconnectdb(url.c_str());
    PGresult* res = PQexec(conn, sql.c_str());
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    } else {
      for (int r = 0; r < PQntuples(res); ++r) {
        rows.emplace_back();
        for (int c = 0; c < PQnfields(res); ++c) rows.back().push_back(PQgetvalue(res, r, c));
      }
    }
    PQclear(res);
    PQfinish(conn);
    return rows;
  }
  std::string path = url.starts_with("sqlite:") ? url.substr(7) : url;
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
      sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      rows.emplace_back();
      for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
        const unsigned char* text = sqlite3_column_text(stmt, c);
        rows.back().push_back(text ? reinterpret_cast<const char*>(text) : "");
      }
    }
    if (rc != SQLITE_DONE) ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

namespace {
std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

CommandResult RunReftrack(const std::string& args, const std::string& stdin_text) {
  TempDir io;
  std::string in = io.File("stdin"), out = io.File("stdout"), err = io.File("stderr");
  WriteFile(in, stdin_text);
  // `exec`: the shell becomes reftrack, which so keeps SpawnChild's death signal (a
  // child the shell forked would outlive a killed test).
  std::string command =
      "exec " + std::string(REFTRACK_BIN) + " " + args + " <" + in + " >" + out + " 2>" + err;
  pid_t pid = SpawnChild("/bin/sh", {"-c", command}, "/dev/null", "/dev/null");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waitpid failed");
  }
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadAll(out);
  r.err = ReadAll(err);
  return r;
}

}  // namespace reftrack::testing
