// The operator's tools of SPEC §13 as the binary runs them: `reftrack check` on a
// clean database and on each corruption planted by hand with SQL, `reftrack backup`,
// and Unicode white space trimmed on the way in (a trailing U+00A0 is no new referral).
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/test_db.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

constexpr const char* kNbsp = "\xC2\xA0";

// Runs `sql` (several statements, writes allowed) straight on the database, as an
// operator with the sqlite3 or psql shell would. SQLite ignores CHECK constraints
// meanwhile, so a row no writer of reftrack could store can be planted.
void Plant(const std::string& url, const std::string& sql) {
  if (url.starts_with("postgres")) {
    PGconn* conn = PQconnectdb(url.c_str());
    PGresult* res = PQexec(conn, sql.c_str());
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      ADD_FAILURE() << sql << ": " << PQerrorMessage(conn);
    }
    PQclear(res);
    PQfinish(conn);
    return;
  }
  std::string path = url.starts_with("sqlite:") ? url.substr(7) : url;
  sqlite3* db = nullptr;
  char* err = nullptr;
  std::string all = "PRAGMA ignore_check_constraints=1;" + sql;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, all.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << (err ? err : sqlite3_errmsg(db));
  }
  sqlite3_free(err);
  sqlite3_close(db);
}

class OpsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override { url_ = FreshDatabaseUrl(GetParam(), dir_); }
  bool Postgres() const { return GetParam() == "postgres"; }

  CommandResult Run(const std::string& args, const std::string& in = "") {
    return RunReftrack("--db '" + url_ + "' " + args, in);
  }
  void Ok(const std::string& args) {
    CommandResult r = Run(args);
    ASSERT_EQ(r.exit_code, 0) << args << "\n" << r.err;
  }
  json Check(int expected_exit) {
    CommandResult r = Run("check --json");
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    return json::parse(r.out, nullptr, false);
  }
  // Whether `report` lists a problem of `kind` about `referral` whose message has `part`.
  static bool Lists(const json& report, const std::string& kind, int64_t referral,
                    const std::string& part) {
    for (const json& p : report["problems"]) {
      if (p["kind"] == kind && p["referral"] == referral &&
          p["message"].get<std::string>().find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  // A campaign with a reward rule on every status it can have, a referrer, and
  // referrals walked through every status by the rules (each way of changing one).
  void FillCleanDatabase() {
    Ok("campaign add Spring");
    Ok("member add --campaign Spring --email alice@x.com --name Alice");
    Ok("reward-rule add --campaign Spring --on pending --to referrer --amount 1 --currency USD");
    Ok("reward-rule add --campaign Spring --on qualified --to both --amount 5 --currency USD");
    Ok("reward-rule add --campaign Spring --on approved --to referred --description gift");
    for (int i = 1; i <= 6; ++i) {
      Ok("referral add --campaign Spring --email r" + std::to_string(i) +
         "@x.com --referrer alice@x.com --external-id crm-" + std::to_string(i) +
         " --referral-code RC" + std::to_string(i) + " --coupon-code CP" + std::to_string(i));
    }
    // 1: pending -> qualified -> denied -> pending -> approved
    for (const char* s : {"qualified", "denied", "pending", "approved"}) {
      Ok(std::string("referral set-status 1 ") + s);
    }
    Ok("referral set-status 2 approved");  // straight to approved: qualified_at too
    Ok("referral set-status 3 denied");    // denied -> qualified, never qualified before
    Ok("referral set-status 3 qualified");
    Ok("referral set-status 4 qualified");
    Ok("referral set-status 4 pending");
    // 5 through a bulk import, 6 stays pending.
    std::string file = dir_.File("walk.csv");
    WriteFile(file, "referralkey_id,status\n5,qualified\n5,denied\n5,approved\n");
    Ok("import '" + file + "'");
  }

  TempDir dir_;
  std::string url_;
};

TEST_P(OpsTest, TrailingNoBreakSpaceIsADuplicateNotANewReferral) {
  Ok("campaign add Spring");
  Ok("referral add --campaign Spring --email x@y.com --external-id crm-1 --referral-code R1");
  CommandResult again =
      Run(std::string("referral add --campaign Spring --email 'x@y.com") + kNbsp + "'");
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.err.find("x@y.com"), std::string::npos) << again.err;
  std::string file = dir_.File("load.csv");
  WriteFile(file, std::string("campaign,email,external_id,referral_code\n") +
                      "Spring,\xEF\xBB\xBFz@y.com" + kNbsp + ",crm-1" + kNbsp + ",\n" +
                      "Spring,w@y.com,,\xE2\x80\x8BR1\n");
  CommandResult loaded = Run("referral load --json '" + file + "'");
  json report = json::parse(loaded.out, nullptr, false);
  EXPECT_EQ(report["created"], 0) << loaded.out << loaded.err;
  EXPECT_EQ(report["error_count"], 2) << loaded.out;
  auto rows = QueryRows(url_, "SELECT count(*) FROM referrals");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], "1");
}

TEST_P(OpsTest, CheckPassesOnACleanDatabase) {
  FillCleanDatabase();
  ASSERT_FALSE(HasFailure());
  json report = Check(0);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
  EXPECT_EQ(report["referrals_checked"], 6);
  EXPECT_EQ(report["history_rows_checked"], 12);
  EXPECT_GT(report["rewards_checked"].get<int>(), 10);
  EXPECT_EQ(report["problems"].size(), 0u);
  EXPECT_EQ(report["integrity_checked"], !Postgres());
  CommandResult text = Run("check");
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("checked 6 referrals, 12 history rows"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(": ok"), std::string::npos) << text.out;
}

TEST_P(OpsTest, CheckFindsAForbiddenHistoryStep) {
  FillCleanDatabase();
  // Referral 2 is approved; planted: approved -> pending, as if the rule was bypassed.
  Plant(url_,
        "INSERT INTO status_changes (referral_id, from_status, to_status, at, source) "
        "VALUES (2, 'approved', 'pending', '2030-01-01T00:00:00.000000Z', 'manual');"
        "UPDATE referrals SET status = 'pending' WHERE id = 2;");
  json report = Check(1);
  EXPECT_EQ(report["ok"], false);
  EXPECT_TRUE(Lists(report, "history", 2, "(approved -> pending) is forbidden")) << report.dump(2);
  EXPECT_EQ(report["counts"]["history"], 1) << report.dump(2);
  EXPECT_EQ(report["problem_count"], 1) << report.dump(2);
  CommandResult text = Run("check");
  EXPECT_EQ(text.exit_code, 1);
  EXPECT_NE(text.out.find("referral 2: history:"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 problem (history 1)"), std::string::npos) << text.out;
}

TEST_P(OpsTest, CheckFindsAWrongQualifiedAt) {
  FillCleanDatabase();
  Plant(url_,
        "UPDATE referrals SET qualified_at = '2020-01-01T00:00:00.000000Z' WHERE id = 3;"
        "UPDATE referrals SET qualified_at = NULL WHERE id = 2;");
  json report = Check(1);
  EXPECT_TRUE(Lists(report, "qualified_at", 3, "found 2020-01-01T00:00:00.000000Z"))
      << report.dump(2);
  EXPECT_TRUE(Lists(report, "qualified_at", 2, "found NULL")) << report.dump(2);
  EXPECT_EQ(report["problem_count"], 2) << report.dump(2);
}

TEST_P(OpsTest, CheckFindsADuplicateReward) {
  FillCleanDatabase();
  // The stores refuse a second reward per (rule, referral, recipient): SQLite by the
  // packed id's CHECK (ignored while planting), PostgreSQL by a unique constraint.
  if (Postgres()) {
    Plant(url_, "ALTER TABLE rewards DROP CONSTRAINT rewards_referral_id_rule_id_recipient_key;");
  }
  Plant(url_,
        "INSERT INTO rewards (id, referral_id, rule_id, recipient, state, issued_at) "
        "SELECT 999999999999, referral_id, rule_id, recipient, state, issued_at "
        "FROM rewards WHERE referral_id = 4 AND recipient = 'referred';");
  json report = Check(1);
  EXPECT_TRUE(Lists(report, "duplicate_reward", 4, "999999999999")) << report.dump(2);
  if (Postgres()) {
    EXPECT_EQ(report["problem_count"], 1) << report.dump(2);
  } else {
    // SQLite's integrity_check sees the broken CHECK too.
    EXPECT_EQ(report["counts"]["integrity"], 1) << report.dump(2);
    EXPECT_EQ(report["problem_count"], 2) << report.dump(2);
  }
}

TEST_P(OpsTest, CheckFindsANoBreakSpaceDuplicate) {
  FillCleanDatabase();
  // Stored by a version that trimmed ASCII spaces only.
  Plant(url_, std::string("INSERT INTO referrals (campaign_id, email, status, status_changed_at,"
                          " created_at) VALUES (1, 'r6@x.com") +
                  kNbsp +
                  "', 'pending', '2026-01-01T00:00:00.000000Z', "
                  "'2026-01-01T00:00:00.000000Z');");
  json report = Check(1);
  EXPECT_TRUE(Lists(report, "not_normalized", 7, "found \"r6@x.com\\u00a0\"")) << report.dump(2);
  EXPECT_TRUE(Lists(report, "duplicate", 7, "referrals 6 and 7")) << report.dump(2);
  EXPECT_EQ(report["problem_count"], 2) << report.dump(2);
}

TEST_P(OpsTest, BackupCopiesAnSqliteDatabaseAndRefusesPostgres) {
  FillCleanDatabase();
  std::string copy = dir_.File("copy.db");
  CommandResult r = Run("backup --json '" + copy + "'");
  if (Postgres()) {
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find("pg_dump"), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(copy));
    return;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json done = json::parse(r.out, nullptr, false);
  EXPECT_EQ(done["file"], copy);
  EXPECT_EQ(done["bytes"], std::filesystem::file_size(copy));
  EXPECT_GT(done["pages"].get<int>(), 0);
  EXPECT_FALSE(std::filesystem::exists(copy + "-wal")) << "the copy is one file";
  EXPECT_EQ(QueryRows(copy, "PRAGMA integrity_check")[0][0], "ok");
  EXPECT_EQ(QueryRows(copy, "SELECT count(*) FROM referrals")[0][0], "6");
  CommandResult checked = RunReftrack("--db '" + copy + "' check");
  EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;

  CommandResult again = Run("backup '" + copy + "'");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.err.find("--force"), std::string::npos) << again.err;
  Ok("backup --force '" + copy + "'");
  CommandResult itself = Run("backup --force '" + url_.substr(7) + "'");
  EXPECT_EQ(itself.exit_code, 1);
  EXPECT_NE(itself.err.find("the database itself"), std::string::npos) << itself.err;
  CommandResult absent = RunReftrack("--db '" + dir_.File("absent.db") + "' check");
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_NE(absent.err.find("does not exist"), std::string::npos) << absent.err;
}

INSTANTIATE_TEST_SUITE_P(Stores, OpsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
