// A command's write that PostgreSQL picks as a deadlock victim is tried again
// (Engine::InWriteTransaction, Engine::RetryingWrites), not reported as a failure.
// Another connection, standing in for a second writer, locks rows in the opposite
// order to the command: it takes the row the command will need second, waits until
// the command holds its first row and waits for the second, then asks for the first.
// The command waits longest, so its server process finds the deadlock and fails its
// transaction; the other writer then gets its row and commits, and the command's
// second try passes.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>

#include <chrono>
#include <string>
#include <thread>

#include "process/child_process.h"
#include "support/test_db.h"

namespace reftrack::testing {
namespace {

// The other writer: one connection, one transaction at a time.
class OtherWriter {
 public:
  explicit OtherWriter(const std::string& url) : conn_(PQconnectdb(url.c_str())) {
    EXPECT_EQ(PQstatus(conn_), CONNECTION_OK) << PQerrorMessage(conn_);
    // The command must find the deadlock, not this connection: it checks after
    // waiting deadlock_timeout (1 s), this one only after 30 s.
    Run("SET deadlock_timeout = '30s'");
  }
  ~OtherWriter() { PQfinish(conn_); }

  // Runs `sql`, blocking while it waits for a lock.
  void Run(const std::string& sql) {
    PGresult* res = PQexec(conn_, sql.c_str());
    ExecStatusType status = PQresultStatus(res);
    EXPECT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK)
        << sql << ": " << PQerrorMessage(conn_);
    PQclear(res);
  }

 private:
  PGconn* conn_;
};

class DeadlockRetry : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* pg = std::getenv("REFTRACK_TEST_POSTGRES_URL");
    if (pg == nullptr || *pg == '\0') GTEST_SKIP() << "needs REFTRACK_TEST_POSTGRES_URL";
    url_ = FreshDatabaseUrl("postgres", dir_);
    Reftrack("campaign add S");
    Reftrack("referral add --campaign S --email a@x.com");
    Reftrack("referral add --campaign S --email b@x.com");
  }

  void Reftrack(const std::string& args) {
    CommandResult r = RunReftrack("--db '" + url_ + "' " + args);
    ASSERT_EQ(r.exit_code, 0) << args << ": " << r.err;
  }

  // Waits until a session other than `writer`'s waits for a lock: the command, which
  // then holds its first row.
  void AwaitCommandWaiting() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto rows = QueryRows(url_,
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            " AND datname = current_database()");
      if (!rows.empty() && rows[0][0] != "0") return;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    FAIL() << "the command never waited for the row the other writer holds";
  }

  // Runs reftrack with `args` while `writer` locks rows: `first` before the command
  // starts, `second` once it waits; then commits. Returns the command's outcome.
  CommandResult RaceCommand(const std::vector<std::string>& args, const std::string& first,
                            const std::string& second) {
    OtherWriter writer(url_);
    writer.Run("BEGIN");
    writer.Run(first);
    std::vector<std::string> argv = {"--db", url_};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = SpawnChild(REFTRACK_BIN, argv, dir_.File("out"), dir_.File("err"));
    AwaitCommandWaiting();
    writer.Run(second);  // a deadlock: waits until the command's transaction fails
    writer.Run("COMMIT");
    CommandResult result;
    auto status = WaitChild(pid, std::chrono::seconds(60));
    EXPECT_TRUE(status.has_value()) << "the command did not finish";
    if (status && WIFEXITED(*status)) result.exit_code = WEXITSTATUS(*status);
    result.out = ReadWholeFile(dir_.File("out"));
    result.err = ReadWholeFile(dir_.File("err"));
    return result;
  }

  TempDir dir_;
  std::string url_;
};

// The import locks its referrals in id order (1, then 2); the other writer 2, then 1.
TEST_F(DeadlockRetry, AnImportIsTriedAgain) {
  const std::string file = dir_.File("import.csv");
  WriteFile(file, "referralkey_id,status\n1,qualified\n2,qualified\n");
  CommandResult r =
      RaceCommand({"import", file}, "SELECT id FROM referrals WHERE id = 2 FOR UPDATE",
                  "SELECT id FROM referrals WHERE id = 1 FOR UPDATE");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("deadlock"), std::string::npos) << r.err;
  EXPECT_EQ(QueryRows(url_, "SELECT status FROM referrals ORDER BY id"),
            (std::vector<std::vector<std::string>>{{"qualified"}, {"qualified"}}));
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM imports")[0][0], "1");
}

// A status change locks its referral, then issues the rule's reward, which reads the
// rule's row for its foreign key; the other writer holds the rule, then asks for the
// referral.
TEST_F(DeadlockRetry, AStatusChangeIsTriedAgain) {
  Reftrack("reward-rule add --campaign S --on qualified --to referred --amount 5");
  CommandResult r = RaceCommand({"referral", "set-status", "1", "qualified"},
                                "SELECT id FROM reward_rules FOR UPDATE",
                                "SELECT id FROM referrals WHERE id = 1 FOR UPDATE");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "referral 1: pending -> qualified\n");
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM status_changes")[0][0], "1");
  EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM rewards")[0][0], "1");
}

}  // namespace
}  // namespace reftrack::testing
