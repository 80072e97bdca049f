// kill -9 at any moment leaves none or all of an operation (SPEC §7: "A crash or
// kill at any moment ... leaves no import half-applied").
//
// A real `reftrack` runs as a child process and is killed with SIGKILL:
//  - `referral load` (SQLite) at moments chosen from what the child is doing: how far
//    it has read the CSV (its file offset, from /proc/PID/fdinfo) and how large the
//    database's -wal file has grown. (While rows are inserted the -wal file stays
//    empty: the whole transaction lives in SQLite's page cache until COMMIT writes it
//    out, so WAL growth only signals the commit itself.)
//  - `import` and `qualify`, on SQLite and on PostgreSQL, at such chosen moments and
//    at random ones: a full, unkilled run is timed first, then each kill lands at a
//    uniform random fraction of that time. After each kill the data equals exactly
//    the data before the operation or the data after the whole of it (SQLite: and
//    PRAGMA integrity_check and foreign_key_check find nothing); rerunning the
//    command on a killed database then applies all of it.
//
// Sizes (environment):
//   REFTRACK_KILL_ROWS    referrals imported and qualified (default 30000; the
//                         referral load test loads at least 150000)
//   REFTRACK_KILL_TRIALS  random kills per operation and store (default 3)
//   REFTRACK_KILL_SEED    the random moments' seed (default: a new one, printed)
// scripts/kill-run.sh runs the long version (1M rows, 20 kills) and sums it up from
// the "kill-summary" lines printed here.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "process/child_process.h"
#include "support/test_db.h"

namespace reftrack {
namespace {

using testing::ChildFileOffset;
using testing::FileSizeOrZero;
using testing::ReadWholeFile;
using testing::RunReftrack;
using testing::SpawnChild;
using testing::TempDir;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (*end != '\0' || n <= 0) {
    ADD_FAILURE() << name << "=" << v << " is not a positive whole number";
    return fallback;
  }
  return n;
}

// Large enough that each operation takes a second or more, so the kills land mid-run.
int64_t Rows() {
  static const int64_t rows = EnvInt("REFTRACK_KILL_ROWS", 30'000);
  return rows;
}

int RandomTrials() {
  static const int trials = static_cast<int>(EnvInt("REFTRACK_KILL_TRIALS", 3));
  return trials;
}

// One seed per test program; each test draws from its own generator seeded with it
// and the test's name, so a test's moments do not depend on which tests ran before.
uint64_t Seed() {
  static const uint64_t seed = [] {
    const char* v = std::getenv("REFTRACK_KILL_SEED");
    uint64_t s = (v && *v) ? std::strtoull(v, nullptr, 10) : std::random_device{}();
    std::printf("kill: seed %llu (REFTRACK_KILL_SEED=%llu repeats these moments)\n",
                static_cast<unsigned long long>(s), static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

std::string WriteCsv(const std::string& path, int64_t rows) {
  std::ofstream out(path, std::ios::binary);
  out << "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n";
  std::string line;
  for (int64_t i = 1; i <= rows; ++i) {
    std::string n = std::to_string(i);
    line.clear();
    line += "C,user";
    line += n;
    line += "@example.com,User ";
    line += n;
    line += ",ext-";
    line += n;
    line += ",RC";
    line += n;
    line += ",CP";
    line += n;
    line += ",\n";
    out << line;
  }
  out.close();
  return std::filesystem::canonical(path).string();
}

// ---------------------------------------------------------------------------------
// SQLite checks

int64_t CountOf(sqlite3* db, const char* sql) {
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  } else {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  }
  sqlite3_finalize(stmt);
  return n;
}

// Every row of a PRAGMA's answer, "; "-joined ("" when it has none).
std::string PragmaRows(sqlite3* db, const char* sql) {
  std::string text;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr) != SQLITE_OK) {
    return std::string("[cannot run ") + sql + ": " + sqlite3_errmsg(db) + "]";
  }
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    if (!text.empty()) text += "; ";
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const unsigned char* v = sqlite3_column_text(stmt, c);
      if (c > 0) text += "|";
      text += v ? reinterpret_cast<const char*>(v) : "NULL";
    }
  }
  if (rc != SQLITE_DONE) text += std::string("[error: ") + sqlite3_errmsg(db) + "]";
  sqlite3_finalize(stmt);
  return text;
}

// The integrity of a SQLite database a killed writer left: "ok", or what
// integrity_check and foreign_key_check found. It is opened as the next program
// would open it (read-write, so SQLite recovers the WAL the writer left).
std::string SqliteIntegrity(const std::string& path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    std::string msg = "cannot open " + path + ": " + sqlite3_errmsg(db);
    sqlite3_close(db);
    return msg;
  }
  sqlite3_busy_timeout(db, 10'000);
  std::string integrity = PragmaRows(db, "PRAGMA integrity_check");
  std::string foreign_keys = PragmaRows(db, "PRAGMA foreign_key_check");
  sqlite3_close(db);
  if (!foreign_keys.empty()) integrity += "; foreign_key_check: " + foreign_keys;
  return integrity;
}

// ---------------------------------------------------------------------------------
// referral load (SQLite): the chosen moments

struct LoadState {
  std::string integrity;
  int64_t referrals = -1;
  int64_t status_changes = -1;
  int64_t campaigns = -1;
};

LoadState InspectLoad(const std::string& path) {
  LoadState s;
  s.integrity = SqliteIntegrity(path);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return s;
  }
  s.referrals = CountOf(db, "SELECT count(*) FROM referrals");
  s.status_changes = CountOf(db, "SELECT count(*) FROM status_changes");
  s.campaigns = CountOf(db, "SELECT count(*) FROM campaigns");
  sqlite3_close(db);
  return s;
}

void CopySqlite(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const char* suffix : {"", "-wal"}) {
    if (fs::exists(from + suffix)) {
      fs::copy_file(from + suffix, to + suffix, fs::copy_options::overwrite_existing);
    }
  }
}

void RemoveSqlite(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    std::filesystem::remove(path + suffix, ec);
  }
}

// What the harness sees of the child at one moment.
struct Observation {
  double seconds = 0;          // since the child was started
  bool file_open = false;      // the child has its input file open
  bool file_seen = false;      // it has had it open at some point
  uint64_t offset = 0;         // bytes of the input read (last seen)
  uint64_t wal = 0;            // SQLite: the -wal file's size
  uint64_t db = 0;             // SQLite: the database file's size
};

// A chosen moment: once the child has read this much of its input, the -wal file
// holds this much and the database file grew this much, wait this long and kill.
struct Trial {
  const char* name;
  double read_fraction;
  uint64_t wal_bytes;
  uint64_t db_growth;
  int extra_delay_ms;
};

struct KillResult {
  bool killed = false;  // still running when SIGKILL came, and died of it
  std::string how_it_ended;
  Observation at_kill;
  uint64_t max_wal_while_reading = 0;
  std::string server_state;  // PostgreSQL: what its server process did at the kill
};

// Runs `reftrack ARGS`, which reads `input`, and kills it with SIGKILL the first
// time `fire` says so (or lets it end, if it ends first). `sqlite_path` (may be
// empty) is watched for WAL and file growth. Fails the test if the child neither
// ends nor is killed within `limit`.
KillResult RunAndKill(const std::vector<std::string>& args, const std::string& input,
                      const std::string& sqlite_path,
                      const std::function<bool(const Observation&)>& fire, const TempDir& dir,
                      std::chrono::seconds limit,
                      const std::function<std::string()>& server_state = nullptr) {
  KillResult result;
  const uint64_t input_size = FileSizeOrZero(input);
  const auto started = Clock::now();
  pid_t pid = SpawnChild(REFTRACK_BIN, args, dir.File("child.out"), dir.File("child.err"));
  std::optional<int> status;
  Observation seen;
  auto observe = [&] {
    seen.seconds = SecondsSince(started);
    auto offset = ChildFileOffset(pid, input);
    seen.file_open = offset.has_value();
    if (offset) {
      seen.file_seen = true;
      seen.offset = *offset;
    } else if (seen.file_seen) {
      seen.offset = input_size;  // it closed the file: it has read it through
    }
    if (!sqlite_path.empty()) {
      seen.wal = FileSizeOrZero(sqlite_path + "-wal");
      seen.db = FileSizeOrZero(sqlite_path);
    }
    if (seen.offset < input_size)
      result.max_wal_while_reading = std::max(result.max_wal_while_reading, seen.wal);
  };
  while (SecondsSince(started) < static_cast<double>(limit.count())) {
    if ((status = testing::TryReap(pid))) break;  // it ended on its own
    observe();
    if (fire(seen)) {
      observe();
      result.at_kill = seen;
      if (server_state) result.server_state = server_state();
      kill(pid, SIGKILL);
      int s = 0;
      EXPECT_EQ(waitpid(pid, &s, 0), pid);
      status = s;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!status) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ADD_FAILURE() << "the child neither reached its kill point nor ended in " << limit.count()
                  << " s";
    return result;
  }
  result.killed = WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
  result.how_it_ended = testing::DescribeWaitStatus(*status);
  if (!result.killed) {
    result.at_kill.seconds = SecondsSince(started);
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << "the child " << result.how_it_ended << "\n"
        << ReadWholeFile(dir.File("child.err"));
  }
  return result;
}

std::function<bool(const Observation&)> AtChosenMoment(const Trial& trial, uint64_t input_size,
                                                       uint64_t db_start) {
  const uint64_t offset_goal = static_cast<uint64_t>(trial.read_fraction * input_size);
  return [=](const Observation& o) {
    if (!(o.offset >= offset_goal && o.offset > 0 && o.wal >= trial.wal_bytes &&
          o.db >= db_start + trial.db_growth)) {
      return false;
    }
    if (trial.extra_delay_ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(trial.extra_delay_ms));
    }
    return true;
  };
}

TEST(ProcessKill, KillDuringReferralLoadLeavesNoneOrAllRows) {
  const auto test_started = Clock::now();
  // Large enough that loading takes a second or more, so the kills land mid-load.
  const int64_t rows = std::max<int64_t>(Rows(), 150'000);
  TempDir dir;
  const std::string csv = WriteCsv(dir.File("referrals.csv"), rows);
  const uint64_t csv_size = FileSizeOrZero(csv);
  const std::string template_db = dir.File("template.db");
  {
    auto r = RunReftrack("--db " + template_db + " campaign add C");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  const uint64_t template_size = FileSizeOrZero(template_db);
  // The database file itself only grows when a checkpoint copies committed pages
  // from the WAL into it: by then the load has committed and must be all there.
  const Trial trials[] = {
      {"10% of the file read", 0.10, 0, 0, 0},
      {"60% read, then 40 ms", 0.60, 0, 0, 40},
      {"file read, COMMIT writing the WAL (> 8 MB)", 1.0, 8u << 20, 0, 0},
      {"committed, checkpoint copying (db +8 MB)", 1.0, 0, 8u << 20, 0},
  };
  int killed_mid_read = 0;
  std::optional<std::string> recoverable_db;  // a killed database with no rows

  for (size_t t = 0; t < std::size(trials); ++t) {
    const Trial& trial = trials[t];
    const std::string db = dir.File("trial" + std::to_string(t) + ".db");
    CopySqlite(template_db, db);
    KillResult r =
        RunAndKill({"--db", db, "referral", "load", csv}, csv, db,
                   AtChosenMoment(trial, csv_size, template_size), dir, std::chrono::seconds(60));
    if (::testing::Test::HasFailure()) return;
    const LoadState s = InspectLoad(db);
    std::printf(
        "kill load: %-44s %-22s after %.2f s, read %5.1f%% of the CSV, wal %llu bytes "
        "(max while reading %llu), db %llu bytes; after: %lld referrals, integrity %s\n",
        trial.name, r.how_it_ended.c_str(), r.at_kill.seconds,
        100.0 * static_cast<double>(r.at_kill.offset) / static_cast<double>(csv_size),
        static_cast<unsigned long long>(r.at_kill.wal),
        static_cast<unsigned long long>(r.max_wal_while_reading),
        static_cast<unsigned long long>(r.at_kill.db), static_cast<long long>(s.referrals),
        s.integrity.c_str());
    EXPECT_EQ(s.integrity, "ok") << trial.name;
    EXPECT_TRUE(s.referrals == 0 || s.referrals == rows)
        << trial.name << ": " << s.referrals << " of the file's " << rows
        << " rows survived the kill: the load was half-applied";
    EXPECT_EQ(s.status_changes, 0) << trial.name;
    EXPECT_EQ(s.campaigns, 1) << trial.name << ": the campaign made before the load is gone";
    if (r.killed && r.at_kill.offset < csv_size) {
      // Killed before it had even read the whole file: it cannot have committed.
      EXPECT_EQ(s.referrals, 0) << trial.name;
      ++killed_mid_read;
    }
    if (r.killed && r.at_kill.db >= template_size + (8u << 20)) {
      // Killed while the checkpoint wrote committed pages: nothing may be lost.
      EXPECT_EQ(s.referrals, rows) << trial.name << ": a committed load was lost";
    }
    if (!r.killed) { EXPECT_EQ(s.referrals, rows) << trial.name << ": ended on its own"; }
    if (r.killed && s.referrals == 0 && !recoverable_db) recoverable_db = db;
  }

  // The reading trials leave seconds of margin; if the load ever outruns them, the
  // test is meaningless and the row count must grow.
  EXPECT_GE(killed_mid_read, 2) << "the load finished before a kill; raise REFTRACK_KILL_ROWS";
  ASSERT_GE(killed_mid_read, 1) << "no kill landed mid-load; the test proved nothing";

  // Recovery: the same load, run to completion on a killed database, loads everything.
  ASSERT_TRUE(recoverable_db);
  const auto rerun_started = Clock::now();
  auto rerun = RunReftrack("--db " + *recoverable_db + " referral load " + csv);
  const double rerun_seconds = SecondsSince(rerun_started);
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find(std::to_string(rows) + " referrals created, 0 errors"),
            std::string::npos)
      << rerun.out << rerun.err;
  const LoadState recovered = InspectLoad(*recoverable_db);
  EXPECT_EQ(recovered.integrity, "ok");
  EXPECT_EQ(recovered.referrals, rows);
  auto checked = RunReftrack("--db " + *recoverable_db + " check");
  EXPECT_EQ(checked.exit_code, 0) << "reftrack check on the recovered database:\n"
                                  << checked.out << checked.err;
  std::printf("kill load: rerun took %.2f s; whole test %.2f s\n", rerun_seconds,
              SecondsSince(test_started));
}

// ---------------------------------------------------------------------------------
// import and qualify, on each store

// Where the databases of one test live: SQLite files in the test's folder, or
// databases on the test PostgreSQL server, copied from a template database.
class Databases {
 public:
  Databases(std::string kind, const TempDir& dir) : kind_(std::move(kind)), dir_(dir) {
    if (kind_ == "postgres") {
      admin_url_ = std::getenv("REFTRACK_TEST_POSTGRES_URL");
      base_ = admin_url_.substr(0, admin_url_.rfind('/') + 1);
    }
  }
  ~Databases() {
    if (monitor_) PQfinish(monitor_);
    for (const std::string& name : std::vector<std::string>(made_)) Drop(name);
  }
  Databases(const Databases&) = delete;
  Databases& operator=(const Databases&) = delete;

  bool sqlite() const { return kind_ == "sqlite"; }

  // The URL (or, for SQLite, the path) of database `name`, which need not exist yet.
  std::string Url(const std::string& name) const {
    return sqlite() ? dir_.File(name + ".db") : base_ + Name(name);
  }
  std::string SqlitePath(const std::string& name) const {
    return sqlite() ? dir_.File(name + ".db") : "";
  }

  // A new, empty database `name`.
  void Create(const std::string& name) {
    if (!sqlite()) AdminExec("CREATE DATABASE " + Name(name));
    made_.push_back(name);
  }

  // Database `to`, a copy of database `from` (which nothing may be using).
  void Copy(const std::string& from, const std::string& to) {
    made_.push_back(to);
    if (sqlite()) return CopySqlite(Url(from), Url(to));
    // A client that just ended may still have its server process for a moment.
    for (int attempt = 0;; ++attempt) {
      std::string error = TryAdminExec("CREATE DATABASE " + Name(to) + " TEMPLATE " + Name(from) +
                                       " STRATEGY FILE_COPY");
      if (error.empty()) return;
      if (attempt == 100 || error.find("being accessed") == std::string::npos) {
        ADD_FAILURE() << "copying database " << from << ": " << error;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  void Drop(const std::string& name) {
    std::erase(made_, name);
    if (sqlite()) return RemoveSqlite(Url(name));
    TryAdminExec("DROP DATABASE IF EXISTS " + Name(name) + " WITH (FORCE)");
  }

  // PostgreSQL: what the server processes on database `name` are doing ("state:
  // query", the query cut short), asked on a connection kept open for it, so that
  // asking takes well under a millisecond. SQLite: "".
  std::string ServerState(const std::string& name) {
    if (sqlite()) return "";
    if (!monitor_) monitor_ = PQconnectdb(admin_url_.c_str());
    if (PQstatus(monitor_) != CONNECTION_OK) return "[no connection]";
    const std::string sql =
        "SELECT state || ': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 40) "
        "FROM pg_stat_activity WHERE datname = '" + Name(name) + "'";
    PGresult* res = PQexec(monitor_, sql.c_str());
    std::string text;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
      text = std::string("[") + PQerrorMessage(monitor_) + "]";
    } else {
      for (int r = 0; r < PQntuples(res); ++r) text += (r ? " / " : "") + std::string(PQgetvalue(res, r, 0));
      if (PQntuples(res) == 0) text = "no server process";
    }
    PQclear(res);
    return text;
  }

  // PostgreSQL: waits until no server process works on database `name` any more (a
  // killed client's server process goes on until it notices the client is gone, and
  // may still commit or roll back meanwhile). Returns the seconds waited.
  double WaitUntilIdle(const std::string& name) {
    if (sqlite()) return 0;
    const auto started = Clock::now();
    while (SecondsSince(started) < 120) {
      auto rows = testing::QueryRows(
          admin_url_, "SELECT count(*) FROM pg_stat_activity WHERE datname = '" + Name(name) + "'");
      if (!rows.empty() && rows[0][0] == "0") return SecondsSince(started);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ADD_FAILURE() << "a server process still works on " << Name(name) << " 120 s after the kill";
    return SecondsSince(started);
  }

 private:
  // Database names: this process's id keeps tests running in parallel apart.
  static std::string Name(const std::string& name) {
    return "kill" + std::to_string(getpid()) + "_" + name;
  }

  std::string TryAdminExec(const std::string& sql) {
    PGconn* conn = PQconnectdb(admin_url_.c_str());
    PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);  // "does not exist, skipping"
    std::string error;
    if (PQstatus(conn) != CONNECTION_OK) {
      error = PQerrorMessage(conn);
    } else {
      PGresult* res = PQexec(conn, sql.c_str());
      if (PQresultStatus(res) != PGRES_COMMAND_OK) error = PQerrorMessage(conn);
      PQclear(res);
    }
    PQfinish(conn);
    return error;
  }
  void AdminExec(const std::string& sql) {
    std::string error = TryAdminExec(sql);
    if (!error.empty()) ADD_FAILURE() << sql << ": " << error;
  }

  std::string kind_;
  const TempDir& dir_;
  std::string admin_url_;
  std::string base_;
  std::vector<std::string> made_;
  PGconn* monitor_ = nullptr;
};

// The data an import or qualify upload changes, exactly enough to tell "before" from
// "after" and from anything in between: per status the referrals, the sum of their
// ids and how many have each timestamp; the history by change; the imports and
// uploads; the rewards; the errors kept. Ids the database hands out (history,
// imports) are left out: a rolled-back PostgreSQL transaction still uses up
// sequence numbers, so a rerun gets other ids for the same data.
std::string Fingerprint(const std::string& url) {
  static const char* const kQueries[] = {
      "SELECT status, count(*), sum(id), count(qualified_at), count(approved_at), "
      "count(denied_at) FROM referrals GROUP BY status ORDER BY status",
      "SELECT from_status, to_status, source, count(*), sum(referral_id), count(batch_id) "
      "FROM status_changes GROUP BY from_status, to_status, source "
      "ORDER BY from_status, to_status, source",
      "SELECT kind, file_name, sha256, counts, count(finished_at) FROM imports "
      "GROUP BY kind, file_name, sha256, counts ORDER BY kind, file_name",
      "SELECT count(*) FROM import_errors",
      "SELECT recipient, state, count(*), sum(referral_id) FROM rewards "
      "GROUP BY recipient, state ORDER BY recipient, state",
      "SELECT count(*) FROM campaigns",
      "SELECT count(*) FROM reward_rules",
  };
  std::string text;
  for (const char* sql : kQueries) {
    for (const auto& row : testing::QueryRows(url, sql)) {
      for (size_t c = 0; c < row.size(); ++c) text += (c ? "," : "") + row[c];
      text += "; ";
    }
    text += "\n";
  }
  return text;
}

// One operation to kill: its command (after --db URL), the file it reads, what a
// completed run prints (with --json) and its chosen moments on each store.
struct Operation {
  const char* name;
  std::vector<std::string> command;
  std::string input;
  std::string completed_shows;
  std::vector<Trial> sqlite_trials;
  std::vector<Trial> postgres_trials;
};

// Where the kill landed, from what the harness saw at that moment and what the
// data was afterwards:
//   starting    the child had not opened its input yet
//   reading     it had read part of its input (an import also writes as it reads)
//   matching    it had read all of it and had not begun to write: PostgreSQL, its
//               server process was not in a transaction; SQLite qualify, its WAL
//               was still empty
//   writing     it had read all of it and was writing, and the data afterwards is
//               the data before
//   committing  so too, and the commit was under way: SQLite import, its WAL had
//               begun to fill after staying empty while it read (SQLite keeps the
//               writes in its page cache until COMMIT writes them out, as long as
//               they fit: with more rows they spill into the WAL before, and a
//               kill after the reading is then "writing or committing"; a qualify
//               upload's writes always spill before, so there it is "writing");
//               PostgreSQL, its server process was running COMMIT
//   committed   the data afterwards is the data after, yet it had not exited
//   finished before kill   it ended on its own before the moment came
std::string PhaseOf(const KillResult& r, uint64_t input_size, bool after_state,
                    bool reads_in_transaction, bool sqlite) {
  if (!r.killed) return "finished before kill";
  if (!r.at_kill.file_seen) return "starting";
  if (r.at_kill.offset < input_size) return "reading";
  if (after_state) return "committed";
  if (sqlite) {
    if (reads_in_transaction) {
      if (r.max_wal_while_reading > 0) return "writing or committing";
      return r.at_kill.wal > 0 ? "committing" : "writing";
    }
    return r.at_kill.wal > 0 ? "writing" : "matching";
  }
  if (r.server_state.starts_with("active: COMMIT")) return "committing";
  if (r.server_state.starts_with("idle:") || r.server_state == "no server process") {
    return "matching";
  }
  return "writing";
}

struct Tally {
  std::map<std::string, int> phases;
  int none = 0, all = 0, neither = 0, integrity_ok = 0, trials = 0;
};

// Makes the template database (kRows pending referrals in campaign C, and a reward
// rule for the referred person on qualification), then kills `op` on copies of it.
void KillOperation(const std::string& kind, const Operation& op, const TempDir& dir) {
  const auto test_started = Clock::now();
  Databases dbs(kind, dir);
  const bool sqlite = dbs.sqlite();
  const int64_t rows = Rows();
  const uint64_t input_size = FileSizeOrZero(op.input);
  const bool reads_in_transaction = std::string(op.name) == "import";

  // The template.
  const std::string referrals = WriteCsv(dir.File("referrals.csv"), rows);
  dbs.Create("template");
  for (const std::string& args :
       {std::string("campaign add C"), "referral load " + referrals,
        std::string("reward-rule add --campaign C --on qualified --to referred --amount 5 --currency USD")}) {
    auto r = RunReftrack("--db '" + dbs.Url("template") + "' " + args);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }
  const double template_seconds = SecondsSince(test_started);
  const std::string before = Fingerprint(dbs.Url("template"));

  auto args_for = [&](const std::string& name) {
    std::vector<std::string> args = {"--db", dbs.Url(name)};
    args.insert(args.end(), op.command.begin(), op.command.end());
    return args;
  };
  std::string command_text;
  for (const std::string& a : op.command) command_text += " '" + a + "'";

  // A full run, unkilled: the data after, and how long a run takes.
  dbs.Copy("template", "full");
  auto full_started = Clock::now();
  auto full = RunReftrack("--db '" + dbs.Url("full") + "'" + command_text + " --json");
  const double full_seconds = SecondsSince(full_started);
  ASSERT_EQ(full.exit_code, 0) << full.err;
  ASSERT_NE(full.out.find(op.completed_shows), std::string::npos) << full.out;
  if (sqlite) { ASSERT_EQ(SqliteIntegrity(dbs.SqlitePath("full")), "ok"); }
  const std::string after = Fingerprint(dbs.Url("full"));
  dbs.Drop("full");
  ASSERT_NE(before, after) << "the operation changed nothing: there is nothing to kill";
  std::printf("kill %s %s: %lld rows; template made in %.1f s; a full run takes %.2f s\n",
              op.name, kind.c_str(), static_cast<long long>(rows), template_seconds, full_seconds);

  // The moments: the chosen ones, then random ones: a uniform random fraction of a
  // run's time. A run's time is the shortest seen so far, of the full run and of
  // the trials that ended before their kill: on a busy machine a run can take twice
  // as long as the next one, and a moment past the end kills nothing.
  struct Moment {
    std::string name;
    std::function<bool(const Observation&)> fire;
    double random_fraction;  // < 0 for a chosen moment
  };
  std::vector<Moment> moments;
  const uint64_t template_size = FileSizeOrZero(dbs.SqlitePath("template"));
  for (const Trial& t : sqlite ? op.sqlite_trials : op.postgres_trials) {
    moments.push_back({t.name, AtChosenMoment(t, input_size, template_size), -1});
  }
  std::mt19937_64 rng(Seed() ^ std::hash<std::string>{}(std::string(op.name) + kind));
  std::uniform_real_distribution<double> fraction(0.0, 1.0);
  for (int i = 0; i < RandomTrials(); ++i) moments.push_back({"", nullptr, fraction(rng)});
  double run_seconds = full_seconds;

  Tally chosen, random;
  std::optional<std::string> recoverable;  // a killed database left as before
  for (size_t m = 0; m < moments.size(); ++m) {
    Moment& moment = moments[m];
    if (moment.random_fraction >= 0) {
      const double at = moment.random_fraction * run_seconds;
      char text[96];
      std::snprintf(text, sizeof text, "random %d/%d: %.3f s (%4.1f%%)",
                    static_cast<int>(m + 1 - moments.size()) + RandomTrials(), RandomTrials(), at,
                    100 * moment.random_fraction);
      moment.name = text;
      moment.fire = [at](const Observation& o) { return o.seconds >= at; };
    }
    const std::string name = "trial" + std::to_string(m);
    dbs.Copy("template", name);
    if (::testing::Test::HasFailure()) return;
    const auto trial_started = Clock::now();
    KillResult r = RunAndKill(args_for(name), op.input, dbs.SqlitePath(name), moment.fire, dir,
                              std::chrono::seconds(60 + static_cast<int>(4 * full_seconds)),
                              [&dbs, &name] { return dbs.ServerState(name); });
    if (::testing::Test::HasFailure()) return;
    if (!r.killed) run_seconds = std::min(run_seconds, r.at_kill.seconds);
    const double settle_seconds = dbs.WaitUntilIdle(name);
    const std::string integrity = sqlite ? SqliteIntegrity(dbs.SqlitePath(name)) : "n/a";
    const std::string state = Fingerprint(dbs.Url(name));
    const bool is_before = state == before, is_after = state == after;
    const std::string phase =
        PhaseOf(r, input_size, is_after, reads_in_transaction, sqlite);
    const char* outcome = is_before ? "none" : is_after ? "all" : "NEITHER";
    std::printf(
        "kill %s %s: %-40s %-22s at %.2f s, read %5.1f%%, wal %llu bytes; phase %s; "
        "outcome %s; integrity %s%s%s; server settled in %.2f s; trial %.1f s\n",
        op.name, kind.c_str(), moment.name.c_str(), r.how_it_ended.c_str(), r.at_kill.seconds,
        input_size ? 100.0 * static_cast<double>(r.at_kill.offset) / static_cast<double>(input_size)
                   : 0.0,
        static_cast<unsigned long long>(r.at_kill.wal), phase.c_str(), outcome,
        integrity.c_str(), r.server_state.empty() ? "" : "; server was ",
        r.server_state.c_str(), settle_seconds, SecondsSince(trial_started));
    std::fflush(stdout);

    if (sqlite) { EXPECT_EQ(integrity, "ok") << moment.name; }
    EXPECT_TRUE(is_before || is_after)
        << moment.name << " (phase " << phase << "): the data is neither the data before the "
        << op.name << " nor the data after it.\nbefore:\n"
        << before << "after:\n"
        << after << "found:\n"
        << state;
    if (!r.killed) { EXPECT_TRUE(is_after) << moment.name << ": ended on its own"; }
    if (r.killed && r.at_kill.offset < input_size) {
      // Killed before it had read all of its input: it cannot have committed.
      EXPECT_TRUE(is_before) << moment.name << ": killed while reading, yet applied";
    }

    Tally& tally = moment.random_fraction >= 0 ? random : chosen;
    ++tally.trials;
    ++tally.phases[phase];
    tally.none += r.killed && is_before;
    tally.all += is_after;
    tally.neither += !is_before && !is_after;
    tally.integrity_ok += !sqlite || integrity == "ok";
    if (r.killed && is_before && !recoverable) {
      recoverable = name;
    } else {
      dbs.Drop(name);
    }
  }
  ASSERT_GE(chosen.none + random.none, 1) << "no kill landed before the commit; it proved nothing";

  // The same command, run to completion on a killed database, applies all of it.
  ASSERT_TRUE(recoverable);
  auto rerun = RunReftrack("--db '" + dbs.Url(*recoverable) + "'" + command_text + " --json");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find(op.completed_shows), std::string::npos) << rerun.out;
  if (sqlite) { EXPECT_EQ(SqliteIntegrity(dbs.SqlitePath(*recoverable)), "ok"); }
  const bool rerun_ok = Fingerprint(dbs.Url(*recoverable)) == after;
  EXPECT_TRUE(rerun_ok) << "the rerun on a killed database left other data than a full run";
  auto checked = RunReftrack("--db '" + dbs.Url(*recoverable) + "' check");
  EXPECT_EQ(checked.exit_code, 0) << "reftrack check on the recovered database:\n"
                                  << checked.out << checked.err;

  for (const auto& [label, tally] : {std::pair{"chosen", &chosen}, std::pair{"random", &random}}) {
    std::string phases;
    for (const auto& [phase, n] : tally->phases) phases += " [" + phase + "]=" + std::to_string(n);
    std::printf(
        "kill-summary op=%s store=%s moments=%s rows=%lld seed=%llu full_run_s=%.2f "
        "shortest_run_s=%.2f trials=%d "
        "none=%d all=%d neither=%d integrity_ok=%s rerun_ok=%d test_s=%.1f phases:%s\n",
        op.name, kind.c_str(), label, static_cast<long long>(rows),
        static_cast<unsigned long long>(Seed()), full_seconds, run_seconds, tally->trials, tally->none,
        tally->all, tally->neither,
        sqlite ? (std::to_string(tally->integrity_ok) + "/" + std::to_string(tally->trials)).c_str()
               : "n/a",
        rerun_ok ? 1 : 0,
        SecondsSince(test_started), phases.c_str());
  }
}

class ProcessKillOnStore : public ::testing::TestWithParam<std::string> {};

// kill -9 during `reftrack import` (SPEC §4.1, §7): the import is one transaction
// that reads the file as it goes, so a kill while it reads, or while it commits,
// leaves none of it; rerunning the import then applies it.
TEST_P(ProcessKillOnStore, KillDuringImportLeavesNoneOrAllOfIt) {
  TempDir dir;
  const std::string updates = dir.File("updates.csv");
  {
    std::ofstream out(updates, std::ios::binary);
    out << "referralkey_externalid,status\n";
    for (int64_t i = 1; i <= Rows(); ++i) out << "ext-" << i << ",qualified\n";
  }
  Operation op{"import",
               {"import", std::filesystem::canonical(updates).string()},
               std::filesystem::canonical(updates).string(),
               "\"changed\":" + std::to_string(Rows()),
               {{"10% of the file read", 0.10, 0, 0, 0},
                {"60% read, then 40 ms", 0.60, 0, 0, 40},
                {"file read, COMMIT writing the WAL (> 8 MB)", 1.0, 8u << 20, 0, 0}},
               {{"10% of the file read", 0.10, 0, 0, 0},
                {"60% read, then 40 ms", 0.60, 0, 0, 40},
                {"file read", 1.0, 0, 0, 0}}};
  KillOperation(GetParam(), op, dir);
}

// kill -9 during `reftrack qualify` (SPEC §4.2, §7): the list is read first, then
// one transaction matches and writes; on SQLite its writes reach the WAL before the
// commit (a small page cache), so the kills land while it reads, while it writes,
// and deep into the writes or the commit.
TEST_P(ProcessKillOnStore, KillDuringQualifyLeavesNoneOrAllOfIt) {
  TempDir dir;
  const std::string list = dir.File("customers.csv");
  {
    std::ofstream out(list, std::ios::binary);
    for (int64_t i = Rows(); i >= 1; --i) out << "User" << i << "@Example.com\n";
  }
  const std::string path = std::filesystem::canonical(list).string();
  Operation op{"qualify",
               {"qualify", path, "--by", "email", "--campaign", "C"},
               path,
               "\"qualified\":" + std::to_string(Rows()),
               {{"50% of the list read", 0.50, 0, 0, 0},
                {"list read, writes in the WAL (> 1 MB)", 1.0, 1u << 20, 0, 0},
                {"list read, WAL > 24 MB", 1.0, 24u << 20, 0, 0}},
               {{"50% of the list read", 0.50, 0, 0, 0},
                {"list read", 1.0, 0, 0, 0},
                {"list read, then 100 ms", 1.0, 0, 0, 100}}};
  KillOperation(GetParam(), op, dir);
}

INSTANTIATE_TEST_SUITE_P(Stores, ProcessKillOnStore, ::testing::ValuesIn(testing::StoreKinds()));

}  // namespace
}  // namespace reftrack
