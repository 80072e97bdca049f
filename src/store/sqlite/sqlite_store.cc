#include "store/sqlite/sqlite_store.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include <algorithm>

#include "domain/case_fold.h"
#include "store/migrate.h"
#include "store/sqlite/migrations.h"
#include "util/value_set.h"

namespace reftrack {

using sqlite::ResetGuard;
using sqlite::Statement;

namespace {

// How long a writer waits for another one before giving up.
constexpr int kBusyTimeoutMs = 30'000;
// Page cache per connection (KiB). Large enough for a million-row load to keep most
// of its indexes in memory, small enough that a million-row import or preview stays
// within 300 MB in all; SQLite allocates it only as it is used.
constexpr int kCacheKiB = 131'072;
// The page cache while one pass reads a table (each page is read once), and in a
// write transaction whose changes come in id order (each page is written once): a
// large cache would only cost the time to allocate it.
constexpr int kScanCacheKiB = 2'048;
constexpr int kInIdOrderCacheKiB = 16'384;

#define REFERRAL_COLUMNS                                                              \
  "SELECT r.id, r.campaign_id, c.name, r.referrer_id, m.email, r.name, r.email,"      \
  " r.external_id, r.referral_code, r.coupon_code, r.note, r.status, r.qualified_at," \
  " r.approved_at, r.denied_at, r.status_changed_at, r.created_at"                    \
  " FROM referrals r JOIN campaigns c ON c.id = r.campaign_id"                        \
  " LEFT JOIN members m ON m.id = r.referrer_id "

std::optional<Micros> OptTime(const Statement& s, int col) {
  if (s.IsNull(col)) return std::nullopt;
  return ParseTimestamp(s.Text(col));
}

Referral ReadReferral(const Statement& s) {
  Referral r;
  r.id = s.Int(0);
  r.campaign_id = s.Int(1);
  r.campaign = s.Text(2);
  if (!s.IsNull(3)) r.referrer_id = s.Int(3);
  r.referrer_email = s.OptText(4);
  r.name = s.Text(5);
  r.email = s.Text(6);
  r.external_id = s.OptText(7);
  r.referral_code = s.OptText(8);
  r.coupon_code = s.OptText(9);
  r.note = s.Text(10);
  r.status = ParseStatus(s.Text(11)).value_or(Status::kPending);
  r.qualified_at = OptTime(s, 12);
  r.approved_at = OptTime(s, 13);
  r.denied_at = OptTime(s, 14);
  r.status_changed_at = OptTime(s, 15).value_or(0);
  r.created_at = OptTime(s, 16).value_or(0);
  return r;
}

Member ReadMember(const Statement& s) {
  Member m;
  m.id = s.Int(0);
  m.campaign_id = s.Int(1);
  m.email = s.Text(2);
  m.name = s.Text(3);
  m.referral_code = s.OptText(4);
  m.created_at = OptTime(s, 5).value_or(0);
  return m;
}

DuplicateOf ClassifyUniqueViolation(std::string_view message) {
  if (message.find("referrals.email") != std::string_view::npos) return DuplicateOf::kEmail;
  if (message.find("referrals.external_id") != std::string_view::npos) {
    return DuplicateOf::kExternalId;
  }
  if (message.find("referrals.referral_code") != std::string_view::npos) {
    return DuplicateOf::kReferralCode;
  }
  return DuplicateOf::kCouponCode;
}

#define INSERT_REFERRAL                                                                       \
  "INSERT INTO referrals (campaign_id, referrer_id, name, email, external_id, referral_code," \
  " coupon_code, status, status_changed_at, created_at) VALUES "

constexpr const char* kInsertReferralSql = INSERT_REFERRAL "(?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
constexpr int kRowsPerInsert = 32;
constexpr int kParamsPerRow = 9;

const std::string& MultiRowInsertSql() {
  static const std::string sql = [] {
    std::string s = INSERT_REFERRAL;
    for (int k = 0; k < kRowsPerInsert; ++k) {
      s += k ? ", " : "";
      s += "(?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)";
    }
    return s;
  }();
  return sql;
}

// Binds one referral's values at parameters base+1 .. base+kParamsPerRow. Text is
// bound without copying: `r` and `created` must outlive the statement's step.
void BindReferral(Statement& s, int base, const NewReferral& r, const std::string& created) {
  s.Bind(base + 1, r.campaign_id);
  s.Bind(base + 2, r.referrer_id);
  s.BindStatic(base + 3, r.name);
  s.BindStatic(base + 4, r.email);
  if (r.external_id)
    s.BindStatic(base + 5, *r.external_id);
  else
    s.BindNull(base + 5);
  if (r.referral_code)
    s.BindStatic(base + 6, *r.referral_code);
  else
    s.BindNull(base + 6);
  if (r.coupon_code)
    s.BindStatic(base + 7, *r.coupon_code);
  else
    s.BindNull(base + 7);
  s.BindStatic(base + 8, created);
  s.BindStatic(base + 9, created);
}

// reftrack_fold(text): FoldCase(), which name search compares with (PostgreSQL keeps
// the same fold in a column; here a scan computes it, as lower() did).
void FoldFunction(sqlite3_context* context, int, sqlite3_value** args) {
  if (sqlite3_value_type(args[0]) == SQLITE_NULL) return sqlite3_result_null(context);
  const auto* text = reinterpret_cast<const char*>(sqlite3_value_text(args[0]));
  std::string_view in(text ? text : "", sqlite3_value_bytes(args[0]));
  thread_local std::string out;
  FoldCase(in, out);
  sqlite3_result_text(context, out.data(), static_cast<int>(out.size()), SQLITE_TRANSIENT);
}

// The new status of an UPDATE of a referral, noting its change in the counts
// (SqliteStore::CountChangeFunction); `new_eq` is whether it is qualified after.
#define COUNT_CHANGE(new_eq) \
  "reftrack_count_change(campaign_id, status, qualified_at IS NOT NULL, ?1, " new_eq ")"

bool IsUniqueViolation(int rc) {
  return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

}  // namespace

Result<std::unique_ptr<Store>> SqliteStore::Open(const std::string& path, bool map_file) {
  auto db = sqlite::Database::Open(path);
  if (!db) return std::unexpected(db.error());
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db)));
  if (auto ok = store->Configure(map_file); !ok) return std::unexpected(ok.error());
  if (auto ok = store->Migrate(); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Store>(std::move(store));
}

Result<void> SqliteStore::Configure(bool map_file) {
  sqlite3_busy_timeout(db_->handle(), kBusyTimeoutMs);
  if (sqlite3_create_function_v2(db_->handle(), "reftrack_fold", 1,
                                 SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                 FoldFunction, nullptr, nullptr, nullptr) != SQLITE_OK) {
    return std::unexpected(db_->LastError("registering reftrack_fold"));
  }
  if (sqlite3_create_function_v2(db_->handle(), "reftrack_count_change", 5,
                                 SQLITE_UTF8 | SQLITE_DIRECTONLY, this, CountChangeFunction,
                                 nullptr, nullptr, nullptr) != SQLITE_OK) {
    return std::unexpected(db_->LastError("registering reftrack_count_change"));
  }
  // synchronous=FULL: a commit is on disk before it is reported, even across a power cut.
  // page_size takes effect only on a new database (before its first page is written,
  // so before WAL mode): 16 KiB pages make a bulk write a quarter as many reads and
  // writes as the default 4 KiB. mmap_size (the server only): reads map the file
  // instead of copying each page with a system call, and every connection shares the
  // operating system's cache. A command does not map it: the pages it maps would
  // count as its own memory (a bulk import would touch most of the file).
  if (auto ok = db_->Exec(
          "PRAGMA page_size = 16384; PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
          " PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;");
      !ok) {
    return ok;
  }
  // Not fatal: without the map, reads copy pages as before.
  if (map_file) (void)db_->Exec("PRAGMA mmap_size = 4294967296");
  return SetCacheKiB(kCacheKiB);
}

// Runs inside one write transaction, so two processes opening a new database at
// once apply each migration exactly once.
Result<void> SqliteStore::Migrate() {
  auto tx = BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  if (auto ok = db_->Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                          " version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)");
      !ok) {
    return ok;
  }
  auto current = db_->Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", false);
  if (!current) return std::unexpected(current.error());
  if ((*current)->Step() != SQLITE_ROW) return std::unexpected((*current)->LastError());
  int64_t version = (*current)->Int(0);
  current->reset();

  auto applied = ApplyMigrations(version, sqlite::Migrations(), [this](int64_t v, const char* sql) {
    if (auto ok = db_->Exec(sql); !ok) return ok;
    auto record =
        db_->Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)", false);
    if (!record) return Result<void>(std::unexpected(record.error()));
    (*record)->Bind(1, v);
    (*record)->Bind(2, std::string_view(FormatTimestamp(NowMicros())));
    return (*record)->Run();
  });
  if (!applied) return applied;
  return tx->Commit();
}

Result<Statement*> SqliteStore::Cached(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second.get();
  auto stmt = db_->Prepare(sql, true);
  if (!stmt) return std::unexpected(stmt.error());
  Statement* raw = stmt->get();
  statements_.emplace(sql, std::move(*stmt));
  return raw;
}

// In bulk mode foreign keys are not checked per row (the pragma only changes
// outside a transaction, so it is set before BEGIN and restored after the end).
// Writes in id order also get a small page cache.
Result<WriteTransaction> SqliteStore::BeginWrite(WriteMode mode) {
  if (write_depth_ > 0) {
    if (auto ok = db_->Exec("SAVEPOINT nested"); !ok) return std::unexpected(ok.error());
    ++write_depth_;
    return WriteTransaction(this);
  }
  if (mode != WriteMode::kNormal) {
    if (auto ok = db_->Exec("PRAGMA foreign_keys = OFF"); !ok) return std::unexpected(ok.error());
    bulk_ = true;
  }
  if (mode == WriteMode::kBulkInIdOrder) {
    if (auto ok = SetCacheKiB(kInIdOrderCacheKiB); !ok) {
      EndBulk();
      return std::unexpected(ok.error());
    }
  }
  if (auto ok = db_->Exec("BEGIN IMMEDIATE"); !ok) {
    EndBulk();
    return std::unexpected(ok.error());
  }
  write_depth_ = 1;
  return WriteTransaction(this);
}

// PASSIVE: copies what it can of the log into the database file without waiting for,
// or blocking, readers and writers.
Result<void> SqliteStore::Checkpoint() {
  int rc = sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                     nullptr);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    return Fail(ErrorCode::kStorage,
                fmt::format("checkpoint failed: {}", sqlite3_errmsg(db_->handle())));
  }
  return {};
}

Result<void> SqliteStore::SetCacheKiB(int kib) {
  if (auto ok = db_->Exec(fmt::format("PRAGMA cache_size = -{}", kib)); !ok) return ok;
  cache_kib_ = kib;
  return {};
}

// In WAL mode a deferred transaction's first read fixes its snapshot.
Result<ReadSnapshot> SqliteStore::BeginRead() {
  // Inside a transaction already: its snapshot is the one.
  if (!sqlite3_get_autocommit(db_->handle())) return ReadSnapshot(nullptr);
  if (auto ok = db_->Exec("BEGIN DEFERRED"); !ok) return std::unexpected(ok.error());
  return ReadSnapshot(this);
}

void SqliteStore::EndRead() {
  if (!sqlite3_get_autocommit(db_->handle())) (void)db_->Exec("ROLLBACK");
}

Result<void> SqliteStore::CommitWrite() {
  if (write_depth_ > 1) {
    auto released = db_->Exec("RELEASE nested");
    if (released) --write_depth_;
    return released;
  }
  auto committed = db_->Exec("COMMIT");
  if (committed) {
    write_depth_ = 0;
    EndBulk();
  }
  return committed;
}

// Some errors make SQLite roll the whole transaction back by itself; then there is
// no savepoint left to return to, and the outer transaction's commit fails.
void SqliteStore::RollbackWrite() {
  bool open = !sqlite3_get_autocommit(db_->handle());
  if (write_depth_ > 1) {
    --write_depth_;
    if (open) (void)db_->Exec("ROLLBACK TO nested; RELEASE nested");
    return;
  }
  write_depth_ = 0;
  if (open) (void)db_->Exec("ROLLBACK");
  EndBulk();
}

void SqliteStore::EndBulk() {
  if (cache_kib_ != kCacheKiB) (void)SetCacheKiB(kCacheKiB);
  if (!bulk_) return;
  bulk_ = false;
  (void)db_->Exec("PRAGMA foreign_keys = ON");
}

Result<Campaign> SqliteStore::CreateCampaign(std::string_view name, Micros at) {
  auto stmt = Cached("INSERT INTO campaigns (name, created_at) VALUES (?1, ?2)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, name);
  s.Bind(2, std::string_view(FormatTimestamp(at)));
  int rc = s.Step();
  if (IsUniqueViolation(rc)) return std::unexpected(DuplicateCampaign(name));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return Campaign{sqlite3_last_insert_rowid(db_->handle()), std::string(name), at};
}

Result<std::optional<Campaign>> SqliteStore::FindCampaign(std::string_view name) {
  auto stmt = Cached("SELECT id, name, created_at, currency FROM campaigns WHERE name = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, name);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<Campaign>();
  if (rc != SQLITE_ROW) return std::unexpected(s.LastError());
  return Campaign{s.Int(0), s.Text(1), OptTime(s, 2).value_or(0), s.Text(3)};
}

Result<std::vector<Campaign>> SqliteStore::ListCampaigns() {
  auto stmt = Cached("SELECT id, name, created_at, currency FROM campaigns ORDER BY id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  std::vector<Campaign> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW)
    out.push_back({s.Int(0), s.Text(1), OptTime(s, 2).value_or(0), s.Text(3)});
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<bool> SqliteStore::SetCampaignCurrency(int64_t id, std::string_view currency) {
  auto stmt = Cached("UPDATE campaigns SET currency = ?2 WHERE id = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, id);
  s.Bind(2, currency);
  if (s.Step() != SQLITE_DONE) return std::unexpected(s.LastError());
  return sqlite3_changes(db_->handle()) > 0;
}

Result<Member> SqliteStore::CreateMember(const NewMember& member, Micros at) {
  auto stmt = Cached(
      "INSERT INTO members (campaign_id, email, name, referral_code, created_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, member.campaign_id);
  s.Bind(2, std::string_view(member.email));
  s.Bind(3, std::string_view(member.name));
  s.Bind(4, member.referral_code);
  s.Bind(5, std::string_view(FormatTimestamp(at)));
  int rc = s.Step();
  if (IsUniqueViolation(rc)) {
    std::string_view msg = sqlite3_errmsg(db_->handle());
    return std::unexpected(DuplicateMember(member, msg.find("referral_code") != msg.npos
                                                       ? DuplicateOf::kReferralCode
                                                       : DuplicateOf::kEmail));
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return Member{sqlite3_last_insert_rowid(db_->handle()),
                member.campaign_id,
                member.email,
                member.name,
                member.referral_code,
                at};
}

Result<std::optional<Member>> SqliteStore::FindMember(int64_t campaign_id, std::string_view email) {
  auto stmt = Cached(
      "SELECT id, campaign_id, email, name, referral_code, created_at FROM members"
      " WHERE campaign_id = ?1 AND email = ?2");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, campaign_id);
  s.Bind(2, email);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<Member>();
  if (rc != SQLITE_ROW) return std::unexpected(s.LastError());
  return ReadMember(s);
}

Result<std::vector<Member>> SqliteStore::ListMembers(int64_t campaign_id) {
  auto stmt = Cached(
      "SELECT id, campaign_id, email, name, referral_code, created_at FROM members"
      " WHERE campaign_id = ?1 ORDER BY id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, campaign_id);
  std::vector<Member> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadMember(s));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<InsertOutcome> SqliteStore::InsertReferral(const NewReferral& r) {
  auto stmt = Cached(kInsertReferralSql);
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  std::string created = FormatTimestamp(r.created_at);
  BindReferral(s, 0, r, created);
  int rc = s.Step();
  if (rc == SQLITE_DONE) {
    CountInserted(r.campaign_id, 1);
    if (auto ok = FlushCounts(); !ok) return std::unexpected(ok.error());
    return InsertOutcome{sqlite3_last_insert_rowid(db_->handle())};
  }
  if (IsUniqueViolation(rc)) {
    return InsertOutcome{0, ClassifyUniqueViolation(sqlite3_errmsg(db_->handle()))};
  }
  return std::unexpected(s.LastError());
}

// Rows go in statements of kRowsPerInsert rows, which halves SQLite's per-row cost.
// A statement that hits a duplicate changes nothing; its rows are then redone one
// at a time so each gets its own outcome.
Result<void> SqliteStore::InsertReferrals(std::span<const NewReferral> referrals,
                                          std::vector<DuplicateOf>& outcomes) {
  auto multi = Cached(MultiRowInsertSql().c_str());
  if (!multi) return std::unexpected(multi.error());
  outcomes.clear();
  outcomes.reserve(referrals.size());
  auto insert_one = [&](const NewReferral& r) -> Result<void> {
    auto one = InsertReferral(r);
    if (!one) return std::unexpected(one.error());
    outcomes.push_back(one->duplicate);
    return {};
  };

  size_t i = 0;
  std::string created;
  Micros created_for = -1;
  for (; i + kRowsPerInsert <= referrals.size(); i += kRowsPerInsert) {
    auto chunk = referrals.subspan(i, kRowsPerInsert);
    if (std::any_of(chunk.begin(), chunk.end(),
                    [&](const NewReferral& r) { return r.created_at != chunk[0].created_at; })) {
      break;
    }
    if (chunk[0].created_at != created_for) {
      created_for = chunk[0].created_at;
      created = FormatTimestamp(created_for);
    }
    Statement& s = **multi;
    ResetGuard reset(s);
    for (int k = 0; k < kRowsPerInsert; ++k) {
      BindReferral(s, k * kParamsPerRow, referrals[i + k], created);
    }
    int rc = s.Step();
    if (rc == SQLITE_DONE) {
      outcomes.insert(outcomes.end(), kRowsPerInsert, DuplicateOf::kNone);
      for (const NewReferral& r : chunk) CountInserted(r.campaign_id, 1);
    } else if (IsUniqueViolation(rc)) {
      s.Reset();
      for (int k = 0; k < kRowsPerInsert; ++k) {
        if (auto ok = insert_one(referrals[i + k]); !ok) return ok;
      }
    } else {
      return std::unexpected(s.LastError());
    }
  }
  for (; i < referrals.size(); ++i) {
    if (auto ok = insert_one(referrals[i]); !ok) return ok;
  }
  return FlushCounts();
}

Result<std::optional<Referral>> SqliteStore::GetReferral(int64_t id) {
  auto stmt = Cached(REFERRAL_COLUMNS "WHERE r.id = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  s.Bind(1, id);
  auto rows = QueryReferrals(s);
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Referral>();
  return std::move(rows->front());
}

// The write transaction already holds the database's only write lock.
Result<std::optional<Referral>> SqliteStore::LockReferral(int64_t id) { return GetReferral(id); }

Result<std::vector<Referral>> SqliteStore::FindReferralsByEmail(
    std::string_view email, std::optional<int64_t> campaign_id) {
  auto stmt = Cached(REFERRAL_COLUMNS
                     "WHERE r.email = ?1 AND (?2 IS NULL OR r.campaign_id = ?2) ORDER BY r.id");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->Bind(1, email);
  (*stmt)->Bind(2, campaign_id);
  return QueryReferrals(**stmt);
}

Result<std::vector<Referral>> SqliteStore::FindReferralsByExternalId(
    std::string_view external_id, std::optional<int64_t> campaign_id) {
  auto stmt = Cached(REFERRAL_COLUMNS
                     "WHERE r.external_id = ?1 AND (?2 IS NULL OR r.campaign_id = ?2)"
                     " ORDER BY r.id");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->Bind(1, external_id);
  (*stmt)->Bind(2, campaign_id);
  return QueryReferrals(**stmt);
}

Result<std::vector<Referral>> SqliteStore::QueryReferrals(Statement& s) {
  ResetGuard reset(s);
  std::vector<Referral> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadReferral(s));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<ReferralPage> SqliteStore::ListReferrals(const ReferralFilter& filter) {
  // Only fixed fragments are joined; every value is bound.
  std::string sql = REFERRAL_COLUMNS "WHERE 1 = 1";
  if (filter.status) {
    sql += " AND r.status = ?1";
    // Lets SQLite see that the partial index on status applies.
    if (*filter.status != Status::kPending) sql += " AND r.status <> 'pending'";
  }
  if (filter.campaign_id) sql += " AND r.campaign_id = ?2";
  // The query is folded (FoldCase) by the engine; emails are stored lower-cased.
  if (!filter.query.empty()) {
    sql += " AND (instr(r.email, ?3) > 0 OR instr(reftrack_fold(r.name), ?3) > 0)";
  }
  if (filter.before_id) sql += " AND r.id < ?4";
  sql += " ORDER BY r.id DESC LIMIT ?5";
  auto stmt = db_->Prepare(sql, false);
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  if (filter.status) s.Bind(1, StatusName(*filter.status));
  if (filter.campaign_id) s.Bind(2, *filter.campaign_id);
  if (!filter.query.empty()) s.Bind(3, std::string_view(filter.query));
  if (filter.before_id) s.Bind(4, *filter.before_id);
  s.Bind(5, static_cast<int64_t>(filter.limit) + 1);
  auto rows = QueryReferrals(s);
  if (!rows) return std::unexpected(rows.error());
  return PageOf(std::move(*rows), filter.limit);
}

// Called once per row an UPDATE changes: (campaign_id, old status, old ever
// qualified, new status, new ever qualified); returns the new status, which the
// UPDATE stores.
void SqliteStore::CountChangeFunction(sqlite3_context* context, int, sqlite3_value** args) {
  auto* store = static_cast<SqliteStore*>(sqlite3_user_data(context));
  // Stored statuses are StatusName()s, told apart by their first letter.
  auto slot = [&](int status, int eq) {
    const unsigned char* t = sqlite3_value_text(args[status]);
    Status parsed = !t ? Status::kPending
                    : *t == 'q' ? Status::kQualified
                    : *t == 'a' ? Status::kApproved
                    : *t == 'd' ? Status::kDenied
                                : Status::kPending;
    return static_cast<int>(parsed) * 2 + (sqlite3_value_int(args[eq]) != 0);
  };
  RowChange& c = store->row_change_;
  c.set = true;
  c.campaign_id = sqlite3_value_int64(args[0]);
  c.old_slot = slot(1, 2);
  c.new_slot = slot(3, 4);
  sqlite3_result_value(context, args[3]);
}

std::array<int64_t, 8>& SqliteStore::DeltasOf(int64_t campaign_id) {
  for (auto& [id, deltas] : count_deltas_) {
    if (id == campaign_id) return deltas;
  }
  return count_deltas_.emplace_back(campaign_id, std::array<int64_t, 8>{}).second;
}

void SqliteStore::TakeRowChange(bool statement_ok) {
  RowChange& c = row_change_;
  if (c.set && statement_ok && c.old_slot != c.new_slot) {
    std::array<int64_t, 8>& deltas = DeltasOf(c.campaign_id);
    --deltas[c.old_slot];
    ++deltas[c.new_slot];
  }
  c.set = false;
}

void SqliteStore::CountInserted(int64_t campaign_id, int64_t n) {
  DeltasOf(campaign_id)[static_cast<int>(Status::kPending) * 2] += n;
}

Result<void> SqliteStore::FlushCounts() {
  if (count_deltas_.empty()) return {};
  auto upsert = Cached(
      "INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)"
      " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (campaign_id, status, ever_qualified)"
      " DO UPDATE SET n = n + excluded.n");
  if (!upsert) return std::unexpected(upsert.error());
  Statement& s = **upsert;
  for (const auto& [campaign_id, deltas] : count_deltas_) {
    for (int slot = 0; slot < 8; ++slot) {
      if (deltas[slot] == 0) continue;
      s.Bind(1, campaign_id);
      s.Bind(2, StatusName(static_cast<Status>(slot / 2)));
      s.Bind(3, static_cast<int64_t>(slot % 2));
      s.Bind(4, deltas[slot]);
      if (auto ok = s.Run(); !ok) {
        count_deltas_.clear();
        return ok;
      }
    }
  }
  count_deltas_.clear();
  return {};
}

namespace {

// History rows per INSERT statement in a bulk write: one statement's overhead (bind,
// step, reset) is shared by this many rows.
constexpr size_t kHistoryRowsPerInsert = 64;

constexpr std::string_view kHistoryInsert =
    "INSERT INTO status_changes (referral_id, from_status, to_status, at, source, actor,"
    " batch_id) VALUES ";

// The text of a change's time: the rows of one bulk write share their moment, which
// is then formatted once.
class TimeText {
 public:
  std::string_view Of(Micros at) {
    if (at != at_ || text_.empty()) {
      at_ = at;
      text_ = FormatTimestamp(at);
    }
    return text_;
  }

 private:
  Micros at_ = 0;
  std::string text_;
};

// Binds `change` to parameters base + 1 … base + 7 of `s` without a copy: the names
// are static, the actor and `times` outlive the statement's run.
void BindHistory(Statement& s, int base, const StatusChange& change, TimeText& times) {
  s.Bind(base + 1, change.referral_id);
  s.BindStatic(base + 2, StatusName(change.from));
  s.BindStatic(base + 3, StatusName(change.to));
  s.BindStatic(base + 4, times.Of(change.at));
  s.BindStatic(base + 5, SourceName(change.source));
  s.BindStatic(base + 6, change.actor);
  s.Bind(base + 7, change.batch_id);
}

}  // namespace

Result<void> SqliteStore::AppendHistory(const StatusChange& change) {
  static const std::string one = std::string(kHistoryInsert) + "(?, ?, ?, ?, ?, ?, ?)";
  auto insert = Cached(one.c_str());
  if (!insert) return std::unexpected(insert.error());
  TimeText times;
  BindHistory(**insert, 0, change, times);
  return (*insert)->Run();
}

Result<void> SqliteStore::AppendHistory(std::span<const StatusChange> changes) {
  static const std::string many = [] {
    std::string sql(kHistoryInsert);
    for (size_t k = 0; k < kHistoryRowsPerInsert; ++k) {
      sql += k ? ", (?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?)";
    }
    return sql;
  }();
  size_t next = 0;
  if (changes.size() >= kHistoryRowsPerInsert) {
    auto insert = Cached(many.c_str());
    if (!insert) return std::unexpected(insert.error());
    Statement& s = **insert;
    TimeText times;
    for (; next + kHistoryRowsPerInsert <= changes.size(); next += kHistoryRowsPerInsert) {
      for (size_t k = 0; k < kHistoryRowsPerInsert; ++k) {
        BindHistory(s, static_cast<int>(k * 7), changes[next + k], times);
      }
      if (auto ok = s.Run(); !ok) return ok;
    }
  }
  for (; next < changes.size(); ++next) {
    if (auto ok = AppendHistory(changes[next]); !ok) return ok;
  }
  return {};
}

// One statement a referral, in order: without a round trip per statement, this is
// as fast as SQLite gets, and it keeps each step of a referral that a file changes
// several times (an email moved away before another takes it).
Result<void> SqliteStore::WriteReferralFields(std::span<const Referral> referrals) {
  auto update = Cached(
      "UPDATE referrals SET name = ?1, email = ?2, external_id = ?3, note = ?4 WHERE id = ?5");
  if (!update) return std::unexpected(update.error());
  Statement& u = **update;
  for (const Referral& r : referrals) {
    u.BindStatic(1, r.name);
    u.BindStatic(2, r.email);
    u.Bind(3, r.external_id);
    u.BindStatic(4, r.note);
    u.Bind(5, r.id);
    if (auto ok = u.Run(); !ok) return ok;
  }
  return {};
}

Result<void> SqliteStore::WriteStatusChanges(std::span<const StatusWrite> statuses,
                                             std::span<const StatusChange> history, Micros at) {
  if (auto ok = WriteStatuses(statuses, at); !ok) return ok;
  return AppendHistory(history);
}

// One statement per referral, in the caller's order (id order sweeps the table's
// pages once); a flag keeps or sets each timestamp, so nothing is read first.
Result<void> SqliteStore::WriteStatuses(std::span<const StatusWrite> writes, Micros at) {
  auto update = Cached(
      "UPDATE referrals SET status = " COUNT_CHANGE("(?3 OR qualified_at IS NOT NULL)")
      ", status_changed_at = ?2,"
      " qualified_at = CASE WHEN ?3 THEN coalesce(qualified_at, ?2) ELSE qualified_at END,"
      " approved_at = CASE WHEN ?4 THEN ?2 ELSE approved_at END,"
      " denied_at = CASE WHEN ?5 THEN ?2 ELSE denied_at END WHERE id = ?6");
  if (!update) return std::unexpected(update.error());
  Statement& u = **update;
  const std::string moment = FormatTimestamp(at);
  for (const StatusWrite& w : writes) {
    u.BindStatic(1, StatusName(w.status));
    u.BindStatic(2, moment);
    u.Bind(3, static_cast<int64_t>(w.entered_qualified));
    u.Bind(4, static_cast<int64_t>(w.entered_approved));
    u.Bind(5, static_cast<int64_t>(w.entered_denied));
    u.Bind(6, w.id);
    auto ok = u.Run();
    TakeRowChange(ok.has_value());
    if (!ok) {
      (void)FlushCounts();  // the writes before it stay in the transaction
      return ok;
    }
  }
  return FlushCounts();
}

namespace {

// Values per look-up statement: an IN list of this many parameters, the last value
// repeated to fill a short batch.
constexpr size_t kLookupBatch = 256;

#define BULK_REFERRAL_COLUMNS                                                            \
  "SELECT r.id, r.campaign_id, '', r.referrer_id, NULL, r.name, r.email, r.external_id," \
  " r.referral_code, r.coupon_code, r.note, r.status, r.qualified_at, r.approved_at,"    \
  " r.denied_at, r.status_changed_at, NULL FROM referrals r "

std::string LookupSql(std::string_view column) {
  std::string sql = fmt::format(BULK_REFERRAL_COLUMNS "WHERE r.{} IN (", column);
  for (size_t i = 0; i < kLookupBatch; ++i) sql += i ? ", ?" : "?";
  return sql + ")";
}

const char* LookupSqlFor(std::optional<LookupColumn> column) {
  static const std::string by_id = LookupSql("id");
  static const std::string by_email = LookupSql("email");
  static const std::string by_external_id = LookupSql("external_id");
  static const std::string by_referral_code = LookupSql("referral_code");
  static const std::string by_coupon_code = LookupSql("coupon_code");
  if (!column) return by_id.c_str();
  switch (*column) {
    case LookupColumn::kEmail:
      return by_email.c_str();
    case LookupColumn::kExternalId:
      return by_external_id.c_str();
    case LookupColumn::kReferralCode:
      return by_referral_code.c_str();
    case LookupColumn::kCouponCode:
      return by_coupon_code.c_str();
  }
  return by_id.c_str();
}

void BindValue(Statement& s, int index, int64_t v) { s.Bind(index, v); }
void BindValue(Statement& s, int index, const std::string& v) { s.BindStatic(index, v); }

}  // namespace

template <class T>
Result<void> SqliteStore::LookUpInBatches(const char* sql, std::span<const T> values,
                                          std::vector<Referral>& out) {
  if (values.empty()) return {};
  auto stmt = Cached(sql);
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  for (size_t start = 0; start < values.size(); start += kLookupBatch) {
    size_t n = std::min(kLookupBatch, values.size() - start);
    for (size_t k = 0; k < kLookupBatch; ++k) {
      BindValue(s, static_cast<int>(k + 1), values[start + std::min(k, n - 1)]);
    }
    auto rows = QueryReferrals(s);
    if (!rows) return std::unexpected(rows.error());
    std::move(rows->begin(), rows->end(), std::back_inserter(out));
  }
  return {};
}

Result<std::vector<Referral>> SqliteStore::FindReferralsByIds(std::span<const int64_t> ids) {
  std::vector<Referral> out;
  if (auto ok = LookUpInBatches(LookupSqlFor(std::nullopt), ids, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

Result<std::vector<Referral>> SqliteStore::FindReferralsBy(LookupColumn column,
                                                           std::span<const std::string> values) {
  std::vector<Referral> out;
  if (auto ok = LookUpInBatches(LookupSqlFor(column), values, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

namespace {

// Matching reads the whole table (or campaign) in one pass once the values number
// more than 1/kScanShare of the referrals it holds; below that, look-ups are cheaper.
constexpr int64_t kScanShare = 16;

std::string_view ColumnName(LookupColumn column) {
  switch (column) {
    case LookupColumn::kEmail:
      return "email";
    case LookupColumn::kExternalId:
      return "external_id";
    case LookupColumn::kReferralCode:
      return "referral_code";
    case LookupColumn::kCouponCode:
      return "coupon_code";
  }
  return "email";
}

// The statements of MatchReferrals for one column: a pass over every referral, a
// pass over one campaign's, and a look-up of kLookupBatch values. Column 7 is the
// matched value, 8 the referrer.
struct MatchSql {
  std::string scan_all, scan_campaign, lookup;
};

const MatchSql& MatchSqlFor(LookupColumn column) {
  static const auto make = [](std::string_view name) {
    std::string select = fmt::format(
        "SELECT id, campaign_id, status, qualified_at, approved_at, denied_at,"
        " status_changed_at, {}, referrer_id FROM referrals",
        name);
    std::string lookup = fmt::format("{} WHERE {} IN (", select, name);
    for (size_t i = 0; i < kLookupBatch; ++i) lookup += i ? ", ?" : "?";
    return MatchSql{select, select + " WHERE campaign_id = ?1", lookup + ")"};
  };
  static const MatchSql sql[] = {
      make(ColumnName(LookupColumn::kEmail)), make(ColumnName(LookupColumn::kExternalId)),
      make(ColumnName(LookupColumn::kReferralCode)), make(ColumnName(LookupColumn::kCouponCode))};
  return sql[static_cast<int>(column)];
}

ReferralState ReadState(const Statement& s) {
  ReferralState r;
  r.id = s.Int(0);
  r.campaign_id = s.Int(1);
  r.status = ParseStatus(s.View(2)).value_or(Status::kPending);
  r.qualified_at = OptTime(s, 3);
  r.approved_at = OptTime(s, 4);
  r.denied_at = OptTime(s, 5);
  r.status_changed_at = OptTime(s, 6).value_or(0);
  if (!s.IsNull(8)) r.referrer_id = s.Int(8);
  return r;
}

// Rows a match has read, with the value each holds in the matched column: they are
// looked up in the set a group at a time (ValueSet::IndexOfMany), and those found
// handed on. The values are copied (a statement's text lasts until its next step).
class PendingMatches {
 public:
  PendingMatches(const ValueSet& values, const Store::MatchFn& found)
      : values_(values), found_(found) {}

  // `s` is at a row of the state's columns, with the value in column 7.
  void Add(const Statement& s) {
    states_.push_back(ReadState(s));
    bytes_.append(s.View(7));
    ends_.push_back(bytes_.size());
    if (states_.size() == kGroup) Flush();
  }

  void Flush() {
    views_.clear();
    size_t begin = 0;
    for (size_t end : ends_) {
      views_.emplace_back(bytes_.data() + begin, end - begin);
      begin = end;
    }
    indexes_.resize(views_.size());
    values_.IndexOfMany(views_, indexes_);
    for (size_t k = 0; k < states_.size(); ++k) {
      if (indexes_[k] != ValueSet::kAbsent) found_(states_[k], indexes_[k]);
    }
    states_.clear();
    bytes_.clear();
    ends_.clear();
  }

 private:
  static constexpr size_t kGroup = 64;
  const ValueSet& values_;
  const Store::MatchFn& found_;
  std::vector<ReferralState> states_;
  std::string bytes_;
  std::vector<size_t> ends_;
  std::vector<std::string_view> views_;
  std::vector<uint32_t> indexes_;
};

}  // namespace

Result<void> SqliteStore::ForEachMatch(LookupColumn column, std::optional<int64_t> campaign_id,
                                       const ValueSet& values, const MatchFn& found) {
  if (values.empty()) return {};
  // How many referrals one pass would read: the whole table's, or the campaign's.
  auto sizes = Cached(
      "SELECT coalesce(max(id), 0), (SELECT count(*) FROM referrals WHERE campaign_id = ?1)"
      " FROM referrals");
  if (!sizes) return std::unexpected(sizes.error());
  int64_t table = 0, campaign = 0;
  {
    ResetGuard reset(**sizes);
    (*sizes)->Bind(1, campaign_id.value_or(0));
    if ((*sizes)->Step() != SQLITE_ROW) return std::unexpected((*sizes)->LastError());
    table = (*sizes)->Int(0);
    campaign = campaign_id ? (*sizes)->Int(1) : table;
  }
  const MatchSql& sql = MatchSqlFor(column);
  if (static_cast<int64_t>(values.size()) * kScanShare >= campaign) {
    // A campaign that is most of the table is read faster in table order than
    // through its index.
    bool by_index = campaign_id && campaign * 4 < table;
    auto scan = Cached(by_index ? sql.scan_campaign.c_str() : sql.scan_all.c_str());
    if (!scan) return std::unexpected(scan.error());
    // The pass goes through a small cache; the transaction's own comes back after.
    const int cache_kib = cache_kib_;
    if (auto ok = SetCacheKiB(kScanCacheKiB); !ok) return std::unexpected(ok.error());
    struct RestoreCache {
      SqliteStore& store;
      int kib;
      ~RestoreCache() { (void)store.SetCacheKiB(kib); }
    } restore{*this, cache_kib};
    Statement& s = **scan;
    ResetGuard reset(s);
    if (by_index) s.Bind(1, *campaign_id);
    PendingMatches pending(values, found);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      if (campaign_id && s.Int(1) != *campaign_id) continue;
      if (!s.IsNull(7)) pending.Add(s);
    }
    if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
    pending.Flush();
  } else {
    auto lookup = Cached(sql.lookup.c_str());
    if (!lookup) return std::unexpected(lookup.error());
    Statement& s = **lookup;
    PendingMatches pending(values, found);
    for (uint32_t start = 0; start < values.size(); start += kLookupBatch) {
      const uint32_t n = std::min<uint32_t>(kLookupBatch, values.size() - start);
      ResetGuard reset(s);
      for (uint32_t k = 0; k < kLookupBatch; ++k) {
        s.BindStatic(static_cast<int>(k + 1), values[start + std::min(k, n - 1)]);
      }
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) {
        if (campaign_id && s.Int(1) != *campaign_id) continue;
        pending.Add(s);
      }
      if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
      pending.Flush();
    }
  }
  return {};
}

namespace {

#define REWARD_RULE_COLUMNS                                                                   \
  "SELECT id, campaign_id, on_status, recipients, amount, currency, description, created_at," \
  " removed_at FROM reward_rules "

RewardRule ReadRewardRule(const Statement& s) {
  RewardRule r;
  r.id = s.Int(0);
  r.campaign_id = s.Int(1);
  r.on = ParseStatus(s.View(2)).value_or(Status::kApproved);
  r.to = ParseRuleRecipients(s.View(3)).value_or(RuleRecipients::kReferrer);
  r.amount = s.OptText(4);
  r.currency = s.Text(5);
  r.description = s.Text(6);
  r.created_at = OptTime(s, 7).value_or(0);
  r.removed_at = OptTime(s, 8);
  return r;
}

}  // namespace

Result<RewardRule> SqliteStore::CreateRewardRule(const RewardRule& rule) {
  auto stmt = Cached(
      "INSERT INTO reward_rules (campaign_id, on_status, recipients, amount, currency,"
      " description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, rule.campaign_id);
  s.Bind(2, StatusName(rule.on));
  s.Bind(3, RuleRecipientsName(rule.to));
  s.Bind(4, rule.amount);
  s.Bind(5, std::string_view(rule.currency));
  s.Bind(6, std::string_view(rule.description));
  s.Bind(7, std::string_view(FormatTimestamp(rule.created_at)));
  if (auto ok = s.Run(); !ok) return std::unexpected(ok.error());
  RewardRule created = rule;
  created.id = sqlite3_last_insert_rowid(db_->handle());
  return created;
}

Result<std::vector<RewardRule>> SqliteStore::ListRewardRules(std::optional<int64_t> campaign_id,
                                                             bool include_removed) {
  auto stmt = Cached(REWARD_RULE_COLUMNS
                     "WHERE (?1 IS NULL OR campaign_id = ?1) AND (?2 OR removed_at IS NULL)"
                     " ORDER BY id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, campaign_id);
  s.Bind(2, int64_t{include_removed});
  std::vector<RewardRule> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRewardRule(s));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<bool> SqliteStore::RemoveRewardRule(int64_t id, Micros at) {
  auto stmt =
      Cached("UPDATE reward_rules SET removed_at = ?2 WHERE id = ?1 AND removed_at IS NULL");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->Bind(1, id);
  (*stmt)->Bind(2, std::string_view(FormatTimestamp(at)));
  if (auto ok = (*stmt)->Run(); !ok) return std::unexpected(ok.error());
  return sqlite3_changes(db_->handle()) > 0;
}

namespace {

// Rewards per INSERT statement in a bulk change: one statement's overhead for many rows.
constexpr size_t kRewardBatch = 32;

// The id that packs a reward's (referral, rule, recipient), as the table's CHECK says.
int64_t RewardId(const NewReward& r) {
  return r.referral_id * 1'048'576 + r.rule_id * 2 + (r.recipient == Recipient::kReferred);
}

std::string InsertRewardsSql(size_t rows) {
  std::string sql = "INSERT INTO rewards (id, referral_id, rule_id, recipient, issued_at) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    sql += fmt::format("{}(?{}, ?{}, ?{}, ?{}, ?{})", i ? ", " : "", 5 * i + 1, 5 * i + 2,
                       5 * i + 3, 5 * i + 4, 5 * i + 5);
  }
  return sql + " ON CONFLICT (id) DO NOTHING";
}

}  // namespace

Result<void> SqliteStore::InsertRewards(std::span<const NewReward> rewards) {
  static const std::string one = InsertRewardsSql(1);
  static const std::string batch = InsertRewardsSql(kRewardBatch);
  // A bulk change issues them all at one moment, formatted once; a statement's texts
  // are bound without a copy (the names are static, `times` outlives its run).
  TimeText times;
  for (size_t start = 0; start < rewards.size();) {
    size_t n = rewards.size() - start >= kRewardBatch ? kRewardBatch : 1;
    // A statement binds one time: rows of several go one at a time.
    auto batch_rows = rewards.subspan(start, n);
    if (std::any_of(batch_rows.begin(), batch_rows.end(),
                    [&](const NewReward& r) { return r.issued_at != batch_rows[0].issued_at; })) {
      n = 1;
    }
    auto stmt = Cached(n == 1 ? one.c_str() : batch.c_str());
    if (!stmt) return std::unexpected(stmt.error());
    Statement& s = **stmt;
    for (size_t i = 0; i < n; ++i) {
      const NewReward& r = rewards[start + i];
      int p = static_cast<int>(5 * i);
      s.Bind(p + 1, RewardId(r));
      s.Bind(p + 2, r.referral_id);
      s.Bind(p + 3, r.rule_id);
      s.BindStatic(p + 4, RecipientName(r.recipient));
      s.BindStatic(p + 5, times.Of(r.issued_at));
    }
    if (auto ok = s.Run(); !ok) return ok;
    start += n;
  }
  return {};
}

Result<std::vector<Reward>> SqliteStore::ListRewards(const RewardFilter& filter) {
  auto stmt = Cached(
      "SELECT w.id, w.rule_id, w.referral_id, w.recipient, r.referrer_id, u.amount, u.currency,"
      " u.description, w.state, w.issued_at, w.paid_at, c.name,"
      " CASE w.recipient WHEN 'referrer' THEN m.email ELSE r.email END"
      " FROM rewards w JOIN referrals r ON r.id = w.referral_id"
      " JOIN reward_rules u ON u.id = w.rule_id JOIN campaigns c ON c.id = r.campaign_id"
      " LEFT JOIN members m ON m.id = r.referrer_id"
      " WHERE (?1 IS NULL OR r.campaign_id = ?1) AND (?2 IS NULL OR w.referral_id = ?2)"
      " AND (?3 IS NULL OR w.state = ?3)"
      " AND (?4 IS NULL OR (w.recipient = 'referrer' AND m.email = ?4))"
      // The id packs the referral (see the rewards table): one referral's rewards are
      // one range of the primary key, found without a scan.
      " AND w.id BETWEEN ?5 AND ?6 ORDER BY w.issued_at, w.id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, filter.campaign_id);
  s.Bind(2, filter.referral_id);
  if (filter.state) s.Bind(3, RewardStateName(*filter.state));
  s.Bind(4, filter.member_email);
  s.Bind(5, filter.referral_id ? *filter.referral_id * 1'048'576
                               : std::numeric_limits<int64_t>::min());
  s.Bind(6, filter.referral_id ? *filter.referral_id * 1'048'576 + 1'048'575
                               : std::numeric_limits<int64_t>::max());
  std::vector<Reward> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    Reward w;
    w.id = s.Int(0);
    w.rule_id = s.Int(1);
    w.referral_id = s.Int(2);
    w.recipient = ParseRecipient(s.View(3)).value_or(Recipient::kReferred);
    if (w.recipient == Recipient::kReferrer && !s.IsNull(4)) w.member_id = s.Int(4);
    w.amount = s.OptText(5);
    w.currency = s.Text(6);
    w.description = s.Text(7);
    w.state = ParseRewardState(s.View(8)).value_or(RewardState::kIssued);
    w.issued_at = OptTime(s, 9).value_or(0);
    w.paid_at = OptTime(s, 10);
    w.campaign = s.Text(11);
    w.recipient_email = s.Text(12);
    out.push_back(std::move(w));
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<int64_t> SqliteStore::MarkRewardsPaid(std::span<const int64_t> ids, Micros at) {
  auto stmt =
      Cached("UPDATE rewards SET state = 'paid', paid_at = ?2 WHERE id = ?1 AND state = 'issued'");
  if (!stmt) return std::unexpected(stmt.error());
  int64_t marked = 0;
  for (int64_t id : ids) {
    (*stmt)->Bind(1, id);
    (*stmt)->Bind(2, std::string_view(FormatTimestamp(at)));
    if (auto ok = (*stmt)->Run(); !ok) return std::unexpected(ok.error());
    marked += sqlite3_changes(db_->handle());
  }
  return marked;
}

Result<int64_t> SqliteStore::CreateImport(const ImportRecord& record) {
  auto stmt = Cached(
      "INSERT INTO imports (kind, file_name, sha256, actor, started_at, counts, match_by,"
      " campaign_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  s.Bind(1, std::string_view(record.kind));
  s.Bind(2, std::string_view(record.file_name));
  s.Bind(3, std::string_view(record.sha256));
  s.Bind(4, std::string_view(record.actor));
  s.Bind(5, std::string_view(FormatTimestamp(record.started_at)));
  s.Bind(6, std::string_view(record.counts.empty() ? "{}" : record.counts));
  if (record.match_by.empty())
    s.BindNull(7);
  else
    s.Bind(7, std::string_view(record.match_by));
  s.Bind(8, record.campaign_id);
  if (auto ok = s.Run(); !ok) return std::unexpected(ok.error());
  return sqlite3_last_insert_rowid(db_->handle());
}

Result<void> SqliteStore::FinishImport(const ImportRecord& record,
                                       std::span<const RowError> errors) {
  auto update =
      Cached("UPDATE imports SET finished_at = ?1, counts = ?2, sha256 = ?4 WHERE id = ?3");
  if (!update) return std::unexpected(update.error());
  (*update)->Bind(1, std::string_view(FormatTimestamp(record.finished_at)));
  (*update)->Bind(2, std::string_view(record.counts));
  (*update)->Bind(3, record.id);
  (*update)->Bind(4, std::string_view(record.sha256));
  if (auto ok = (*update)->Run(); !ok) return ok;
  auto insert = Cached(
      "INSERT INTO import_errors (import_id, file_row, column_name, message)"
      " VALUES (?1, ?2, ?3, ?4)");
  if (!insert) return std::unexpected(insert.error());
  Statement& s = **insert;
  for (const RowError& e : errors) {
    s.Bind(1, record.id);
    s.Bind(2, e.row);
    s.BindStatic(3, e.column);
    s.BindStatic(4, e.message);
    if (auto ok = s.Run(); !ok) return ok;
  }
  return {};
}

Result<std::optional<ImportRecord>> SqliteStore::GetImport(int64_t id) {
  auto stmt = Cached(
      "SELECT id, kind, file_name, sha256, actor, started_at, finished_at, counts,"
      " coalesce(match_by, ''), campaign_id FROM imports WHERE id = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<ImportRecord>();
  if (rc != SQLITE_ROW) return std::unexpected(s.LastError());
  return ImportRecord{s.Int(0),
                      s.Text(1),
                      s.Text(2),
                      s.Text(3),
                      s.Text(4),
                      OptTime(s, 5).value_or(0),
                      OptTime(s, 6).value_or(0),
                      s.Text(7),
                      s.Text(8),
                      s.IsNull(9) ? std::nullopt : std::optional<int64_t>(s.Int(9))};
}

Result<std::vector<RowError>> SqliteStore::ImportErrors(int64_t id) {
  auto stmt = Cached(
      "SELECT file_row, column_name, message FROM import_errors WHERE import_id = ?1"
      " ORDER BY file_row, rowid");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, id);
  std::vector<RowError> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Int(0), s.Text(1), s.Text(2)});
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<std::vector<StatusChange>> SqliteStore::History(int64_t referral_id) {
  auto stmt = Cached(
      "SELECT referral_id, from_status, to_status, at, source, actor, batch_id"
      " FROM status_changes WHERE referral_id = ?1 ORDER BY id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, referral_id);
  std::vector<StatusChange> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    StatusChange c;
    c.referral_id = s.Int(0);
    c.from = ParseStatus(s.Text(1)).value_or(Status::kPending);
    c.to = ParseStatus(s.Text(2)).value_or(Status::kPending);
    c.at = OptTime(s, 3).value_or(0);
    c.source = ParseSource(s.Text(4)).value_or(ChangeSource::kManual);
    c.actor = s.Text(5);
    if (!s.IsNull(6)) c.batch_id = s.Int(6);
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

}  // namespace reftrack

// --- API keys

namespace reftrack {

namespace {

#define API_KEY_COLUMNS "SELECT id, name, scope, prefix, hash, created_at, revoked_at FROM api_keys "

ApiKey ReadApiKey(const Statement& s) {
  ApiKey k;
  k.id = s.Int(0);
  k.name = s.Text(1);
  k.scope = ParseScope(s.View(2)).value_or(Scope::kRead);
  k.prefix = s.Text(3);
  k.hash = s.Text(4);
  k.created_at = OptTime(s, 5).value_or(0);
  k.revoked_at = OptTime(s, 6);
  return k;
}

}  // namespace

Result<ApiKey> SqliteStore::CreateApiKey(const ApiKey& key) {
  auto stmt = Cached(
      "INSERT INTO api_keys (name, scope, prefix, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, std::string_view(key.name));
  s.Bind(2, ScopeName(key.scope));
  s.Bind(3, std::string_view(key.prefix));
  s.Bind(4, std::string_view(key.hash));
  s.Bind(5, std::string_view(FormatTimestamp(key.created_at)));
  if (auto ok = s.Run(); !ok) return std::unexpected(ok.error());
  ApiKey created = key;
  created.id = sqlite3_last_insert_rowid(db_->handle());
  return created;
}

Result<std::optional<ApiKey>> SqliteStore::FindApiKey(std::string_view hash) {
  auto stmt = Cached(API_KEY_COLUMNS "WHERE hash = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, hash);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return std::optional<ApiKey>(ReadApiKey(s));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return std::optional<ApiKey>();
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys() {
  auto stmt = Cached(API_KEY_COLUMNS "ORDER BY id");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  std::vector<ApiKey> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadApiKey(s));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

Result<bool> SqliteStore::RevokeApiKey(int64_t id, Micros at) {
  auto stmt = Cached("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->Bind(1, id);
  (*stmt)->Bind(2, std::string_view(FormatTimestamp(at)));
  if (auto ok = (*stmt)->Run(); !ok) return std::unexpected(ok.error());
  return sqlite3_changes(db_->handle()) > 0;
}

}  // namespace reftrack

namespace reftrack {

Result<User> SqliteStore::CreateUser(const User& user) {
  auto stmt =
      Cached("INSERT INTO users (email, password_hash, created_at) VALUES (?1, ?2, ?3)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, std::string_view(user.email));
  s.Bind(2, std::string_view(user.password_hash));
  s.Bind(3, std::string_view(FormatTimestamp(user.created_at)));
  int rc = s.Step();
  if (IsUniqueViolation(rc)) return std::unexpected(DuplicateUser(user.email));
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  User created = user;
  created.id = sqlite3_last_insert_rowid(db_->handle());
  return created;
}

Result<std::optional<User>> SqliteStore::FindUser(std::string_view email) {
  auto stmt = Cached("SELECT id, email, password_hash, created_at FROM users WHERE email = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, email);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<User>();
  if (rc != SQLITE_ROW) return std::unexpected(s.LastError());
  return std::optional<User>(User{s.Int(0), s.Text(1), s.Text(2), OptTime(s, 3).value_or(0)});
}

Result<int64_t> SqliteStore::CountUsers() {
  auto stmt = Cached("SELECT count(*) FROM users");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  if (s.Step() != SQLITE_ROW) return std::unexpected(s.LastError());
  return s.Int(0);
}

Result<void> SqliteStore::CreateSession(const Session& session) {
  auto expired = Cached("DELETE FROM sessions WHERE expires_at < ?1");
  if (!expired) return std::unexpected(expired.error());
  (*expired)->Bind(1, std::string_view(FormatTimestamp(session.created_at)));
  if (auto ok = (*expired)->Run(); !ok) return ok;
  auto stmt = Cached(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
      " VALUES (?1, ?2, ?3, ?4, ?5)");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  s.Bind(1, std::string_view(session.token_hash));
  s.Bind(2, session.user_id);
  s.Bind(3, std::string_view(session.csrf_token));
  s.Bind(4, std::string_view(FormatTimestamp(session.created_at)));
  s.Bind(5, std::string_view(FormatTimestamp(session.expires_at)));
  return s.Run();
}

Result<std::optional<Session>> SqliteStore::FindSession(std::string_view token_hash, Micros now) {
  auto stmt = Cached(
      "SELECT s.token_hash, s.user_id, u.email, s.csrf_token, s.created_at, s.expires_at"
      " FROM sessions s JOIN users u ON u.id = s.user_id"
      " WHERE s.token_hash = ?1 AND s.expires_at >= ?2");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  s.Bind(1, token_hash);
  s.Bind(2, std::string_view(FormatTimestamp(now)));
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<Session>();
  if (rc != SQLITE_ROW) return std::unexpected(s.LastError());
  return std::optional<Session>(Session{s.Text(0), s.Int(1), s.Text(2), s.Text(3),
                                        OptTime(s, 4).value_or(0), OptTime(s, 5).value_or(0)});
}

Result<void> SqliteStore::DeleteSession(std::string_view token_hash) {
  auto stmt = Cached("DELETE FROM sessions WHERE token_hash = ?1");
  if (!stmt) return std::unexpected(stmt.error());
  (*stmt)->Bind(1, token_hash);
  return (*stmt)->Run();
}

Result<std::vector<StatusCount>> SqliteStore::CountReferrals() {
  auto stmt = Cached(
      "SELECT campaign_id, status, ever_qualified, n FROM referral_counts WHERE n <> 0");
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  ResetGuard reset(s);
  std::vector<StatusCount> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    out.push_back(StatusCount{s.Int(0), ParseStatus(s.View(1)).value_or(Status::kPending),
                              s.Int(2) != 0, s.Int(3)});
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return out;
}

}  // namespace reftrack

// --- operations

namespace reftrack {

// One pass: referrals in rowid order, each joined to its history through
// status_changes_referral (referral_id, id), so rows come in order without a sort.
Result<void> SqliteStore::ForEachStoredReferral(const StoredReferralFn& each) {
  auto stmt = db_->Prepare(
      "SELECT r.id, r.campaign_id, r.status, r.qualified_at, r.email, r.external_id,"
      " r.referral_code, r.coupon_code, h.id, h.from_status, h.to_status, h.source, h.at"
      " FROM referrals r LEFT JOIN status_changes h ON h.referral_id = r.id"
      " ORDER BY r.id, h.id",
      false);
  if (!stmt) return std::unexpected(stmt.error());
  // Each page is read once: a small cache, the usual one back after.
  const int cache_kib = cache_kib_;
  if (auto ok = SetCacheKiB(kScanCacheKiB); !ok) return std::unexpected(ok.error());
  struct RestoreCache {
    SqliteStore& store;
    int kib;
    ~RestoreCache() { (void)store.SetCacheKiB(kib); }
  } restore{*this, cache_kib};
  Statement& s = **stmt;
  StoredReferral r;
  bool have = false;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    int64_t id = s.Int(0);
    if (!have || id != r.id) {
      if (have) each(r);
      have = true;
      r.id = id;
      r.campaign_id = s.Int(1);
      r.status = s.Text(2);
      r.qualified_at = OptTime(s, 3);
      r.email = s.Text(4);
      r.external_id = s.OptText(5);
      r.referral_code = s.OptText(6);
      r.coupon_code = s.OptText(7);
      r.history.clear();
    }
    if (s.IsNull(8)) continue;
    r.history.push_back({s.Int(8), s.Text(9), s.Text(10), s.Text(11), OptTime(s, 12)});
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  if (have) each(r);
  return {};
}

Result<void> SqliteStore::ForEachRewardKey(const StoredRewardFn& each) {
  auto stmt = db_->Prepare(
      "SELECT id, referral_id, rule_id, recipient FROM rewards"
      " ORDER BY referral_id, rule_id, recipient, id",
      false);
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) each({s.Int(0), s.Int(1), s.Int(2), s.Text(3)});
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return {};
}

Result<std::optional<std::vector<std::string>>> SqliteStore::IntegrityCheck(bool quick) {
  auto stmt = db_->Prepare(quick ? "PRAGMA quick_check" : "PRAGMA integrity_check", false);
  if (!stmt) return std::unexpected(stmt.error());
  Statement& s = **stmt;
  std::vector<std::string> messages;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (std::string m = s.Text(0); m != "ok") messages.push_back(std::move(m));
  }
  if (rc != SQLITE_DONE) return std::unexpected(s.LastError());
  return messages;
}

namespace {

// SQLite's online backup, in steps of kBackupStepPages. The source connection holds
// one read transaction through every step: in WAL mode that blocks no writer, and
// every step copies the same snapshot, so writers committing meanwhile neither
// restart the copy nor make it inconsistent.
constexpr int kBackupStepPages = 128;     // 2 MiB of 16 KiB pages
constexpr int kBackupBusyRetries = 6000;  // of 5 ms: 30 s, as a writer waits

bool IsBusy(int rc) { return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED; }

}  // namespace

Result<Store::BackupResult> SqliteStore::Backup(const std::string& path) {
  // Written beside `path` and renamed over it at the end, so `path` is never a
  // half-written copy, even when the copy fails or is killed.
  const std::string partial = path + ".partial";
  std::remove(partial.c_str());
  sqlite3* dest = nullptr;
  if (int rc = sqlite3_open_v2(partial.c_str(), &dest, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                               nullptr);
      rc != SQLITE_OK) {
    std::string msg = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(rc);
    sqlite3_close(dest);
    return Fail(ErrorCode::kStorage, fmt::format("cannot create {}: {}", partial, msg));
  }
  auto fail = [&](std::string what) -> std::unexpected<Error> {
    sqlite3_close(dest);
    std::remove(partial.c_str());
    return std::unexpected(Error{ErrorCode::kStorage, fmt::format("backup to {}: {}", path, what)});
  };
  auto snapshot = BeginRead();
  if (!snapshot) return fail(snapshot.error().message);
  if (auto ok = db_->Exec("SELECT count(*) FROM sqlite_schema"); !ok) {
    return fail(ok.error().message);
  }

  sqlite3_backup* backup = sqlite3_backup_init(dest, "main", db_->handle(), "main");
  if (!backup) return fail(sqlite3_errmsg(dest));
  int rc = SQLITE_OK;
  int retries = 0;
  while (true) {
    rc = sqlite3_backup_step(backup, kBackupStepPages);
    if (rc == SQLITE_DONE) break;
    if (IsBusy(rc) && ++retries < kBackupBusyRetries) {
      sqlite3_sleep(5);
      continue;
    }
    if (rc != SQLITE_OK) break;
  }
  BackupResult result{0, sqlite3_backup_pagecount(backup)};
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return fail(sqlite3_errstr(rc));
  // The copy stands alone: one file, in rollback-journal mode, needing no -wal beside it.
  if (sqlite3_exec(dest, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return fail(sqlite3_errmsg(dest));
  }
  if (sqlite3_close(dest) != SQLITE_OK) return fail("closing the copy failed");
  dest = nullptr;
  if (std::rename(partial.c_str(), path.c_str()) != 0) {
    std::remove(partial.c_str());
    return Fail(ErrorCode::kStorage, fmt::format("backup: cannot rename {} to {}: {}", partial,
                                                 path, std::strerror(errno)));
  }
  std::error_code ec;
  result.bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  return result;
}

}  // namespace reftrack
