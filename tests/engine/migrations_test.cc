// Opening a database applies the migrations once, and refuses a database that a
// newer reftrack has migrated further.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store.h"
#include "support/test_db.h"

namespace reftrack::testing {
namespace {

TEST(Migrations, ReopeningAppliesNothingTwice) {
  TempDir dir;
  std::string url = "sqlite:" + dir.File("m.db");
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Store::Open(url).has_value());
  auto rows = QueryRows(url, "SELECT version, count(*) FROM schema_migrations GROUP BY version");
  ASSERT_FALSE(rows.empty());
  for (const auto& r : rows) EXPECT_EQ(r[1], "1");
}

TEST(Migrations, RefusesADatabaseFromANewerReftrack) {
  TempDir dir;
  std::string path = dir.File("m.db");
  ASSERT_TRUE(Store::Open("sqlite:" + path).has_value());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (999, 'x')", nullptr, nullptr,
                         nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = Store::Open("sqlite:" + path);
  ASSERT_FALSE(store.has_value());
  EXPECT_EQ(store.error().code, ErrorCode::kStorage);
  EXPECT_NE(store.error().message.find("999"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find("upgrade reftrack"), std::string::npos);
}

}  // namespace
}  // namespace reftrack::testing
