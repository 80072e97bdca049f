#include "store/sqlite/sqlite_db.h"

#include <fmt/format.h>

namespace reftrack::sqlite {

Result<void> Statement::Run() {
  ResetGuard reset(*this);
  int rc = Step();
  while (rc == SQLITE_ROW) rc = Step();
  if (rc != SQLITE_DONE) return std::unexpected(LastError());
  return {};
}

Error Statement::LastError() const {
  return Error{ErrorCode::kStorage, fmt::format("sqlite: {}", sqlite3_errmsg(db_))};
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path) {
  // Before SQLite initializes: no global memory statistics, which cost a mutex per
  // allocation and which reftrack never reads.
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Fail(ErrorCode::kStorage, fmt::format("cannot open database {}: {}", path, msg));
  }
  sqlite3_extended_result_codes(db, 1);
  return std::unique_ptr<Database>(new Database(db));
}

Database::~Database() { sqlite3_close(db_); }

Result<void> Database::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Fail(ErrorCode::kStorage, fmt::format("sqlite: {}", msg));
  }
  return {};
}

Result<std::unique_ptr<Statement>> Database::Prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return std::unexpected(LastError("prepare"));
  return std::make_unique<Statement>(db_, stmt);
}

Error Database::LastError(std::string_view context) const {
  return Error{ErrorCode::kStorage, fmt::format("sqlite {}: {}", context, sqlite3_errmsg(db_))};
}

}  // namespace reftrack::sqlite
