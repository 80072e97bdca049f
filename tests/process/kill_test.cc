// kill -9 during `reftrack referral load` leaves either none or all of the file's
// rows (SPEC §7: "A crash or kill at any moment ... leaves no import half-applied").
//
// A real `reftrack referral load FILE` runs as a child process and is killed with
// SIGKILL at several moments. The moment is chosen from what the child is doing:
// how far it has read the CSV (its file offset, from /proc/PID/fdinfo) and, for the
// commit, how large the database's -wal file has grown. (While rows are inserted
// the -wal file stays empty: the whole transaction lives in SQLite's page cache
// until COMMIT writes it out, so WAL growth only signals the commit itself.)
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
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

// Large enough that loading takes seconds, so the kills land mid-load.
constexpr int64_t kRows = 300'000;

std::string WriteCsv(const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  out << "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n";
  std::string line;
  for (int64_t i = 1; i <= kRows; ++i) {
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

struct DbState {
  std::string integrity;
  int64_t referrals = -1;
  int64_t status_changes = -1;
  int64_t campaigns = -1;
  int64_t qualified = -1;
  int64_t imports = -1;
};

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

// Opens the database as the next program would (read-write, so SQLite recovers
// the WAL a killed writer left) and reads what survived.
DbState Inspect(const std::string& path) {
  DbState s;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errmsg(db);
    sqlite3_close(db);
    return s;
  }
  sqlite3_busy_timeout(db, 10'000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr) == SQLITE_OK) {
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      if (!s.integrity.empty()) s.integrity += "; ";
      s.integrity += reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    }
    if (rc != SQLITE_DONE) s.integrity += std::string("[error: ") + sqlite3_errmsg(db) + "]";
  } else {
    s.integrity = std::string("[cannot run integrity_check: ") + sqlite3_errmsg(db) + "]";
  }
  sqlite3_finalize(stmt);
  s.referrals = CountOf(db, "SELECT count(*) FROM referrals");
  s.status_changes = CountOf(db, "SELECT count(*) FROM status_changes");
  s.campaigns = CountOf(db, "SELECT count(*) FROM campaigns");
  s.qualified = CountOf(db, "SELECT count(*) FROM referrals WHERE status = 'qualified'");
  s.imports = CountOf(db, "SELECT count(*) FROM imports");
  sqlite3_close(db);
  return s;
}

void CopyDatabase(const std::string& from, const std::string& to) {
  namespace fs = std::filesystem;
  for (const char* suffix : {"", "-wal"}) {
    if (fs::exists(from + suffix)) {
      fs::copy_file(from + suffix, to + suffix, fs::copy_options::overwrite_existing);
    }
  }
}

// When to pull the trigger.
struct Trial {
  const char* name;
  double read_fraction;  // kill once the child has read this much of the CSV...
  uint64_t wal_bytes;    // ...and the -wal file holds at least this many bytes...
  uint64_t db_growth;    // ...and the database file grew by this many bytes...
  int extra_delay_ms;    // then wait this long
};

struct TrialResult {
  std::string name;
  bool killed = false;  // still running when SIGKILL came, and died of it
  std::string how_it_ended;
  uint64_t offset_at_kill = 0;  // bytes of the CSV it had read
  uint64_t wal_at_kill = 0;
  uint64_t db_at_kill = 0;
  uint64_t max_wal_while_reading = 0;
  double seconds_to_kill = 0;
  DbState after;
};

// Runs `reftrack ARGS` on `db`, which reads `csv`, and kills it with SIGKILL at the
// moment `trial` names (or lets it end, if it ends first). Fails the test if it
// neither ends nor reaches the moment within 60 s.
TrialResult RunAndKill(const Trial& trial, const std::vector<std::string>& args,
                       const std::string& db, const std::string& csv, const TempDir& dir) {
  TrialResult result;
  result.name = trial.name;
  const uint64_t csv_size = FileSizeOrZero(csv);
  const uint64_t db_start = FileSizeOrZero(db);
  const uint64_t offset_goal = static_cast<uint64_t>(trial.read_fraction * csv_size);
  auto started = std::chrono::steady_clock::now();
  pid_t pid = SpawnChild(REFTRACK_BIN, args, dir.File("child.out"), dir.File("child.err"));
  std::optional<int> status;
  const auto deadline = started + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if ((status = testing::TryReap(pid))) break;  // it ended on its own
    uint64_t offset = ChildFileOffset(pid, csv).value_or(0);
    uint64_t wal = FileSizeOrZero(db + "-wal");
    if (offset < csv_size)
      result.max_wal_while_reading = std::max(result.max_wal_while_reading, wal);
    uint64_t db_size = FileSizeOrZero(db);
    if (offset >= offset_goal && offset > 0 && wal >= trial.wal_bytes &&
        db_size >= db_start + trial.db_growth) {
      if (trial.extra_delay_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(trial.extra_delay_ms));
        offset = ChildFileOffset(pid, csv).value_or(offset);
      }
      result.offset_at_kill = offset;
      result.wal_at_kill = FileSizeOrZero(db + "-wal");
      result.db_at_kill = FileSizeOrZero(db);
      result.seconds_to_kill =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      kill(pid, SIGKILL);
      int s = 0;
      EXPECT_EQ(waitpid(pid, &s, 0), pid);
      status = s;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!status) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    ADD_FAILURE() << trial.name << ": the child neither reached its kill point nor ended in 60 s";
    return result;
  }
  result.killed = WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
  result.how_it_ended = testing::DescribeWaitStatus(*status);
  if (!result.killed) {
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << trial.name << ": the child " << result.how_it_ended << "\n"
        << ReadWholeFile(dir.File("child.err"));
  }
  result.after = Inspect(db);
  return result;
}

void PrintResult(const char* what, const TrialResult& r, uint64_t csv_size) {
  std::printf(
      "kill %s: %-44s %-22s after %.2f s, read %5.1f%% of the CSV, wal %llu bytes "
      "(max while reading %llu), db %llu bytes; after: %lld referrals, %lld history "
      "rows, integrity %s\n",
      what, r.name.c_str(), r.how_it_ended.c_str(), r.seconds_to_kill,
      100.0 * static_cast<double>(r.offset_at_kill) / static_cast<double>(csv_size),
      static_cast<unsigned long long>(r.wal_at_kill),
      static_cast<unsigned long long>(r.max_wal_while_reading),
      static_cast<unsigned long long>(r.db_at_kill), static_cast<long long>(r.after.referrals),
      static_cast<long long>(r.after.status_changes), r.after.integrity.c_str());
}

TEST(ProcessKill, KillDuringReferralLoadLeavesNoneOrAllRows) {
  auto test_started = std::chrono::steady_clock::now();
  TempDir dir;
  const std::string csv = WriteCsv(dir.File("referrals.csv"));
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
  std::vector<TrialResult> results;
  std::optional<std::string> recoverable_db;  // a killed database with no rows

  for (size_t t = 0; t < std::size(trials); ++t) {
    const Trial& trial = trials[t];
    const std::string db = dir.File("trial" + std::to_string(t) + ".db");
    CopyDatabase(template_db, db);
    TrialResult result = RunAndKill(trial, {"--db", db, "referral", "load", csv}, db, csv, dir);
    if (::testing::Test::HasFailure()) return;
    const DbState& s = result.after;
    EXPECT_EQ(s.integrity, "ok") << trial.name;
    EXPECT_TRUE(s.referrals == 0 || s.referrals == kRows)
        << trial.name << ": " << s.referrals << " of the file's " << kRows
        << " rows survived the kill: the load was half-applied";
    EXPECT_EQ(s.status_changes, 0) << trial.name;
    EXPECT_EQ(s.campaigns, 1) << trial.name << ": the campaign made before the load is gone";
    if (result.killed && result.offset_at_kill < csv_size) {
      // Killed before it had even read the whole file: it cannot have committed.
      EXPECT_EQ(s.referrals, 0) << trial.name;
    }
    if (result.killed && result.db_at_kill >= template_size + (8u << 20)) {
      // Killed while the checkpoint wrote committed pages: nothing may be lost.
      EXPECT_EQ(s.referrals, kRows) << trial.name << ": a committed load was lost";
    }
    if (!result.killed) {
      EXPECT_EQ(s.referrals, kRows) << trial.name << ": ended on its own";
    }
    if (result.killed && s.referrals == 0 && !recoverable_db) recoverable_db = db;
    results.push_back(result);
  }

  int killed_mid_read = 0;
  for (const TrialResult& r : results) {
    PrintResult("load", r, csv_size);
    killed_mid_read += r.killed && r.offset_at_kill < csv_size;
  }
  // The reading trials leave seconds of margin; if the load ever outruns them, the
  // test is meaningless and kRows must grow.
  EXPECT_GE(killed_mid_read, 2) << "the load finished before a kill; raise kRows";
  ASSERT_GE(killed_mid_read, 1) << "no kill landed mid-load; the test proved nothing";

  // Recovery: the same load, run to completion on a killed database, loads everything.
  ASSERT_TRUE(recoverable_db);
  auto started = std::chrono::steady_clock::now();
  auto rerun = RunReftrack("--db " + *recoverable_db + " referral load " + csv);
  double rerun_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find(std::to_string(kRows) + " referrals created, 0 errors"),
            std::string::npos)
      << rerun.out << rerun.err;
  DbState recovered = Inspect(*recoverable_db);
  EXPECT_EQ(recovered.integrity, "ok");
  EXPECT_EQ(recovered.referrals, kRows);
  std::printf(
      "kill: rerun on %s took %.2f s; whole test %.2f s\n", recoverable_db->c_str(), rerun_seconds,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - test_started).count());
}

// A database of kRows pending referrals (campaign C), made once per test.
std::string TemplateDatabase(const TempDir& dir) {
  const std::string referrals = WriteCsv(dir.File("referrals.csv"));
  const std::string template_db = dir.File("template.db");
  for (const std::string& args : {std::string("campaign add C"), "referral load " + referrals}) {
    auto r = RunReftrack("--db " + template_db + " " + args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
  }
  return template_db;
}

// Kills `reftrack --db DB COMMAND...`, which reads `file` and qualifies all kRows
// referrals in one transaction, at each trial's moment, each on a fresh copy of
// `template_db`. Afterwards every referral is qualified, with its history row and the
// one record of the run, or none is. Then the same command, run on a killed copy,
// applies it all and prints `rerun_shows`.
void KillBulkRun(const char* what, const std::string& template_db,
                 const std::vector<std::string>& command, const std::string& file,
                 std::span<const Trial> trials, const std::string& rerun_shows,
                 const TempDir& dir) {
  const uint64_t file_size = FileSizeOrZero(file);
  std::optional<std::string> recoverable_db;
  int killed_mid_write = 0;
  for (size_t t = 0; t < trials.size(); ++t) {
    const Trial& trial = trials[t];
    const std::string db = dir.File(std::string(what) + std::to_string(t) + ".db");
    CopyDatabase(template_db, db);
    std::vector<std::string> args = {"--db", db};
    args.insert(args.end(), command.begin(), command.end());
    TrialResult r = RunAndKill(trial, args, db, file, dir);
    if (::testing::Test::HasFailure()) return;
    PrintResult(what, r, file_size);
    const DbState& s = r.after;
    EXPECT_EQ(s.integrity, "ok") << trial.name;
    EXPECT_EQ(s.referrals, kRows) << trial.name;
    EXPECT_TRUE((s.qualified == 0 && s.status_changes == 0 && s.imports == 0) ||
                (s.qualified == kRows && s.status_changes == kRows && s.imports == 1))
        << trial.name << ": half-applied: " << s.qualified << " qualified, " << s.status_changes
        << " history rows, " << s.imports << " records";
    if (r.killed && s.qualified == 0) {
      ++killed_mid_write;
      if (!recoverable_db) recoverable_db = db;
    }
  }
  ASSERT_GE(killed_mid_write, 1) << "no kill landed before the commit; the test proved nothing";

  ASSERT_TRUE(recoverable_db);
  std::string rerun_args;
  for (const std::string& a : command) rerun_args += " '" + a + "'";
  auto rerun = RunReftrack("--db " + *recoverable_db + rerun_args + " --json");
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_NE(rerun.out.find(rerun_shows), std::string::npos) << rerun.out;
  DbState recovered = Inspect(*recoverable_db);
  EXPECT_EQ(recovered.integrity, "ok");
  EXPECT_EQ(recovered.qualified, kRows);
  EXPECT_EQ(recovered.status_changes, kRows);
  EXPECT_EQ(recovered.imports, 1);
}

// kill -9 during `reftrack import` (SPEC §4.1, §7): the import is one transaction
// that reads the file as it goes, so a kill while it reads, or while it commits,
// leaves none of it; rerunning the import then applies it.
TEST(ProcessKill, KillDuringImportLeavesNoneOrAllOfIt) {
  TempDir dir;
  const std::string template_db = TemplateDatabase(dir);
  const std::string updates = dir.File("updates.csv");
  {
    std::ofstream out(updates, std::ios::binary);
    out << "referralkey_externalid,status\n";
    for (int64_t i = 1; i <= kRows; ++i) out << "ext-" << i << ",qualified\n";
  }
  const Trial trials[] = {
      {"10% of the file read", 0.10, 0, 0, 0},
      {"60% read, then 40 ms", 0.60, 0, 0, 40},
      {"file read, COMMIT writing the WAL (> 8 MB)", 1.0, 8u << 20, 0, 0},
  };
  KillBulkRun("import", template_db, {"import", updates}, updates, trials,
              "\"changed\":" + std::to_string(kRows), dir);
}

// kill -9 during `reftrack qualify` (SPEC §4.2, §7): the list is read first, then
// one transaction matches and writes; its writes reach the WAL before the commit
// (a small page cache), so the kills land while it reads, while it writes, and
// deep into the writes or the commit.
TEST(ProcessKill, KillDuringQualifyLeavesNoneOrAllOfIt) {
  TempDir dir;
  const std::string template_db = TemplateDatabase(dir);
  const std::string list = dir.File("customers.csv");
  {
    std::ofstream out(list, std::ios::binary);
    for (int64_t i = kRows; i >= 1; --i) out << "User" << i << "@Example.com\n";
  }
  const Trial trials[] = {
      {"50% of the list read", 0.50, 0, 0, 0},
      {"list read, writes in the WAL (> 1 MB)", 1.0, 1u << 20, 0, 0},
      {"list read, WAL > 24 MB", 1.0, 24u << 20, 0, 0},
  };
  KillBulkRun("qualify", template_db, {"qualify", list, "--by", "email", "--campaign", "C"}, list,
              trials, "\"qualified\":" + std::to_string(kRows), dir);
}

}  // namespace
}  // namespace reftrack
