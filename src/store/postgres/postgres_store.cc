#include "store/postgres/postgres_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "domain/case_fold.h"
#include "store/migrate.h"
#include "store/postgres/migrations.h"
#include "util/value_set.h"

namespace reftrack {

using pg::Params;
using pg::Rows;

namespace {

// Any constant: the key of the advisory lock that serializes migrations.
constexpr int64_t kMigrationLockKey = 0x7265667472616b;  // "reftrak"
// The advisory lock bulk writers hold for their whole transaction: one at a time.
constexpr int64_t kBulkLockKey = 0x7265667472626c;  // "reftrbl"
// The advisory lock of CompactCounts.
constexpr int64_t kCountsLockKey = 0x72656674726374;  // "reftrct"

// Timestamps travel as ISO 8601 text in UTC, the form util/time.h writes and reads.
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

#define REFERRAL_COLUMNS \
  "SELECT r.id, r.campaign_id, c.name, r.referrer_id, m.email, r.name, r.email,"          \
  " r.external_id, r.referral_code, r.coupon_code, r.note, r.status, " TS("r.qualified_at") \
  ", " TS("r.approved_at") ", " TS("r.denied_at") ", " TS("r.status_changed_at") ", "     \
  TS("r.created_at")                                                                       \
  " FROM referrals r JOIN campaigns c ON c.id = r.campaign_id"                             \
  " LEFT JOIN members m ON m.id = r.referrer_id "

#define REFERRAL_COLUMN_LIST                                                        \
  "campaign_id, referrer_id, name, email, external_id, referral_code, coupon_code," \
  " status, status_changed_at, created_at, name_folded"
#define REFERRAL_INSERT_COLUMNS "(" REFERRAL_COLUMN_LIST ")"

constexpr const char* kUniqueViolation = "23505";

// referral_counts holds deltas: every statement that creates referrals or changes
// statuses appends, in the same statement, what it changed in the counts (of
// referrals by campaign, status and ever qualified), and CountReferrals sums them.
// Appending takes no lock, so concurrent writers never wait on each other or
// deadlock over a counter row. `u` is a CTE returning, per referral changed,
// campaign_id, old_status, old_eq, new_status and new_eq.
#define COUNT_DELTAS_OF(u)                                                                    \
  " INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)"                      \
  " SELECT campaign_id, status, eq, sum(n) FROM ("                                            \
  " SELECT campaign_id, old_status, old_eq, -1 FROM " u                                       \
  " UNION ALL SELECT campaign_id, new_status, new_eq, 1 FROM " u                              \
  ") d (campaign_id, status, eq, n) GROUP BY 1, 2, 3 HAVING sum(n) <> 0"
#define COUNT_RETURNING                                                                   \
  " RETURNING r.campaign_id, o.status AS old_status, o.qualified_at IS NOT NULL AS old_eq," \
  " r.status AS new_status, r.qualified_at IS NOT NULL AS new_eq"

// Statements that appended count deltas before this store folds the table's rows
// into one per key (CommitWrite): it stays a few thousand rows long.
constexpr int kCompactEvery = 500;

std::optional<Micros> OptTime(const Rows& rows, int row, int col) {
  if (rows.IsNull(row, col)) return std::nullopt;
  return ParseTimestamp(rows.Text(row, col));
}

Referral ReadReferral(const Rows& rows, int i) {
  Referral r;
  r.id = rows.Int(i, 0);
  r.campaign_id = rows.Int(i, 1);
  r.campaign = rows.Text(i, 2);
  r.referrer_id = rows.OptInt(i, 3);
  r.referrer_email = rows.OptText(i, 4);
  r.name = rows.Text(i, 5);
  r.email = rows.Text(i, 6);
  r.external_id = rows.OptText(i, 7);
  r.referral_code = rows.OptText(i, 8);
  r.coupon_code = rows.OptText(i, 9);
  r.note = rows.Text(i, 10);
  r.status = ParseStatus(rows.Text(i, 11)).value_or(Status::kPending);
  r.qualified_at = OptTime(rows, i, 12);
  r.approved_at = OptTime(rows, i, 13);
  r.denied_at = OptTime(rows, i, 14);
  r.status_changed_at = OptTime(rows, i, 15).value_or(0);
  r.created_at = OptTime(rows, i, 16).value_or(0);
  return r;
}

Member ReadMember(const Rows& rows, int i) {
  return Member{rows.Int(i, 0),  rows.Int(i, 1),     rows.Text(i, 2),
                rows.Text(i, 3), rows.OptText(i, 4), OptTime(rows, i, 5).value_or(0)};
}

// `operation` says what the store was doing, as "storage error while <operation>: ..."
// reads.
std::unexpected<Error> Failed(std::string_view operation, const pg::PgError& e) {
  return std::unexpected(pg::ToError(operation, e));
}

// $1..$6 of an UPDATE of a referral's status: status, qualified_at, approved_at,
// denied_at, status_changed_at, id.
void AppendOptional(std::string& line, const std::optional<std::string>& v) {
  if (v)
    pg::AppendCopyField(line, *v);
  else
    pg::AppendCopyNull(line);
}

// One COPY text line per referral, in REFERRAL_INSERT_COLUMNS order.
std::string CopyRows(std::span<const NewReferral> referrals) {
  std::string out;
  out.reserve(referrals.size() * 160);
  std::string created;
  std::string folded;
  Micros created_for = -1;
  for (size_t i = 0; i < referrals.size(); ++i) {
    const NewReferral& r = referrals[i];
    if (r.created_at != created_for) {
      created_for = r.created_at;
      created = FormatTimestamp(r.created_at);
    }
    out += std::to_string(r.campaign_id);
    out += '\t';
    if (r.referrer_id)
      out += std::to_string(*r.referrer_id);
    else
      pg::AppendCopyNull(out);
    out += '\t';
    pg::AppendCopyField(out, r.name);
    out += '\t';
    pg::AppendCopyField(out, r.email);
    out += '\t';
    AppendOptional(out, r.external_id);
    out += '\t';
    AppendOptional(out, r.referral_code);
    out += '\t';
    AppendOptional(out, r.coupon_code);
    out += "\tpending\t";
    out += created;
    out += '\t';
    out += created;
    out += '\t';
    FoldCase(r.name, folded);
    pg::AppendCopyField(out, folded);
    out += '\n';
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<Store>> PostgresStore::Open(const std::string& url) {
  auto conn = pg::Connection::Open(url);
  if (!conn) return std::unexpected(conn.error());
  std::unique_ptr<PostgresStore> store(new PostgresStore(std::move(*conn)));
  if (auto ok = store->conn_->Exec("SET client_min_messages = warning"); !ok)
    return Failed("connecting", ok.error());
  if (auto ok = store->Migrate(); !ok) return std::unexpected(ok.error());
  return std::unique_ptr<Store>(std::move(store));
}

// One transaction under an advisory lock: two processes starting at once on a new
// database apply each migration exactly once.
Result<void> PostgresStore::Migrate() {
  auto tx = BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  if (auto ok = conn_->Query("SELECT pg_advisory_xact_lock($1)", Params().Add(kMigrationLockKey));
      !ok) {
    return Failed("migrating the schema", ok.error());
  }
  if (auto ok = conn_->Exec("CREATE TABLE IF NOT EXISTS schema_migrations ("
                            " version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)");
      !ok) {
    return Failed("migrating the schema", ok.error());
  }
  auto current = conn_->Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!current) return Failed("migrating the schema", current.error());
  int64_t version = current->Int(0, 0);
  // For the migration that folds the names stored before name_folded existed.
  if (auto ok = conn_->Query(
          "SELECT set_config('reftrack.fold_from', $1, true),"
          " set_config('reftrack.fold_to', $2, true)",
          Params().Add(std::string_view(FoldTableFrom())).Add(std::string_view(FoldTableTo())));
      !ok) {
    return Failed("migrating the schema", ok.error());
  }
  auto applied = ApplyMigrations(version, pg::Migrations(), [this](int64_t v, const char* sql) {
    if (auto ok = conn_->Exec(sql); !ok) return Result<void>(Failed("migrating the schema", ok.error()));
    if (auto ok = conn_->Query("INSERT INTO schema_migrations VALUES ($1, now())", Params().Add(v));
        !ok) {
      return Result<void>(Failed("migrating the schema", ok.error()));
    }
    return Result<void>();
  });
  if (!applied) return applied;
  return tx->Commit();
}

Result<WriteTransaction> PostgresStore::BeginWrite(WriteMode mode) {
  if (in_transaction_) {
    if (auto ok = conn_->Exec("SAVEPOINT nested"); !ok) return Failed("starting a transaction", ok.error());
    ++nested_;
    return WriteTransaction(this);
  }
  if (auto ok = conn_->Exec("BEGIN"); !ok) return Failed("starting a transaction", ok.error());
  in_transaction_ = true;
  bulk_flags_ready_ = false;
  WriteTransaction tx(this);
  if (mode != WriteMode::kNormal) {
    if (auto ok = conn_->Query("SELECT pg_advisory_xact_lock($1)", Params().Add(kBulkLockKey));
        !ok) {
      return Failed("starting a transaction", ok.error());
    }
  }
  return tx;
}

// Not a write transaction: bulk reads inside it take no row locks.
Result<ReadSnapshot> PostgresStore::BeginRead() {
  // Inside a transaction already: its snapshot is the one.
  if (in_transaction_ || in_read_) return ReadSnapshot(nullptr);
  if (auto ok = conn_->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !ok) {
    return Failed("starting a read snapshot", ok.error());
  }
  in_read_ = true;
  return ReadSnapshot(this);
}

void PostgresStore::EndRead() {
  in_read_ = false;
  (void)conn_->Exec("ROLLBACK");
}

Result<void> PostgresStore::CommitWrite() {
  if (nested_ > 0) {
    if (auto ok = conn_->Exec("RELEASE nested"); !ok) return Failed("committing", ok.error());
    --nested_;
    return {};
  }
  if (conn_->InFailedTransaction()) {
    return Fail(ErrorCode::kStorage, "the transaction failed earlier and was not committed");
  }
  if (count_statements_ >= kCompactEvery) {
    if (auto ok = CompactCounts(); !ok) return ok;
  }
  in_transaction_ = false;
  if (auto ok = conn_->Exec("COMMIT"); !ok) return Failed("committing", ok.error());
  return {};
}

// Folds referral_counts into one row per key, inside the committing transaction.
// Each row is folded by the one transaction whose DELETE took it, so concurrent
// writers' new rows and a concurrent compaction leave every sum exact; the
// advisory lock only spares a second compaction the wait for the first.
Result<void> PostgresStore::CompactCounts() {
  auto ok = conn_->Query(
      "WITH lock AS (SELECT pg_try_advisory_xact_lock($1) AS mine),"
      " gone AS (DELETE FROM referral_counts WHERE (SELECT mine FROM lock)"
      "          RETURNING campaign_id, status, ever_qualified, n)"
      " INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)"
      " SELECT campaign_id, status, ever_qualified, sum(n) FROM gone GROUP BY 1, 2, 3"
      " HAVING sum(n) <> 0",
      Params().Add(kCountsLockKey));
  if (!ok) return Failed("folding the referral counts", ok.error());
  count_statements_ = 0;
  return {};
}

void PostgresStore::RollbackWrite() {
  if (nested_ > 0) {
    --nested_;
    (void)conn_->Exec("ROLLBACK TO nested; RELEASE nested");
    return;
  }
  if (!in_transaction_) return;
  in_transaction_ = false;
  (void)conn_->Exec("ROLLBACK");
}

Result<Campaign> PostgresStore::CreateCampaign(std::string_view name, Micros at) {
  // ON CONFLICT keeps the surrounding transaction usable after a duplicate.
  auto rows = conn_->Query(
      "INSERT INTO campaigns (name, created_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
      " RETURNING id",
      Params().Add(name).Add(std::string_view(FormatTimestamp(at))));
  if (!rows) return Failed("creating a campaign", rows.error());
  if (rows->size() == 0) return std::unexpected(DuplicateCampaign(name));
  return Campaign{rows->Int(0, 0), std::string(name), at};
}

Result<std::optional<Campaign>> PostgresStore::FindCampaign(std::string_view name) {
  auto rows = conn_->Query("SELECT id, name, " TS("created_at") ", currency FROM campaigns WHERE name = $1",
                           Params().Add(name));
  if (!rows) return Failed("reading a campaign", rows.error());
  if (rows->size() == 0) return std::optional<Campaign>();
  return Campaign{rows->Int(0, 0), rows->Text(0, 1), OptTime(*rows, 0, 2).value_or(0),
                  rows->Text(0, 3)};
}

Result<std::vector<Campaign>> PostgresStore::ListCampaigns() {
  auto rows = conn_->Query("SELECT id, name, " TS("created_at") ", currency FROM campaigns ORDER BY id");
  if (!rows) return Failed("listing campaigns", rows.error());
  std::vector<Campaign> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Int(i, 0), rows->Text(i, 1), OptTime(*rows, i, 2).value_or(0),
                   rows->Text(i, 3)});
  }
  return out;
}

Result<bool> PostgresStore::SetCampaignCurrency(int64_t id, std::string_view currency) {
  auto rows = conn_->Query("UPDATE campaigns SET currency = $2 WHERE id = $1 RETURNING id",
                           Params().Add(id).Add(currency));
  if (!rows) return Failed("setting a campaign's currency", rows.error());
  return rows->size() > 0;
}

Result<Member> PostgresStore::CreateMember(const NewMember& member, Micros at) {
  auto rows = conn_->Query(
      "INSERT INTO members (campaign_id, email, name, referral_code, created_at)"
      " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING id",
      Params()
          .Add(member.campaign_id)
          .Add(std::string_view(member.email))
          .Add(std::string_view(member.name))
          .Add(member.referral_code)
          .Add(std::string_view(FormatTimestamp(at))));
  if (!rows) return Failed("creating a member", rows.error());
  if (rows->size() == 0) {
    auto existing = FindMember(member.campaign_id, member.email);
    if (!existing) return std::unexpected(existing.error());
    return std::unexpected(
        DuplicateMember(member, *existing ? DuplicateOf::kEmail : DuplicateOf::kReferralCode));
  }
  return Member{rows->Int(0, 0), member.campaign_id,   member.email,
                member.name,     member.referral_code, at};
}

Result<std::optional<Member>> PostgresStore::FindMember(int64_t campaign_id,
                                                        std::string_view email) {
  auto rows = conn_->Query("SELECT id, campaign_id, email, name, referral_code, " TS(
                               "created_at") " FROM members WHERE campaign_id = $1 AND email = $2",
                           Params().Add(campaign_id).Add(email));
  if (!rows) return Failed("reading a member", rows.error());
  if (rows->size() == 0) return std::optional<Member>();
  return ReadMember(*rows, 0);
}

Result<std::vector<Member>> PostgresStore::ListMembers(int64_t campaign_id) {
  auto rows = conn_->Query("SELECT id, campaign_id, email, name, referral_code, " TS(
                               "created_at") " FROM members WHERE campaign_id = $1 ORDER BY id",
                           Params().Add(campaign_id));
  if (!rows) return Failed("listing members", rows.error());
  std::vector<Member> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadMember(*rows, i));
  return out;
}

Result<InsertOutcome> PostgresStore::InsertReferral(const NewReferral& r) {
  // ON CONFLICT keeps the surrounding transaction usable after a duplicate.
  auto rows = conn_->Query(
      "WITH ins AS (INSERT INTO referrals (campaign_id, referrer_id, name, email, external_id,"
      " referral_code, coupon_code, status, status_changed_at, created_at, name_folded)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8, $9)"
      " ON CONFLICT DO NOTHING RETURNING id, campaign_id),"
      " counted AS (INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)"
      " SELECT campaign_id, 'pending', false, 1 FROM ins)"
      " SELECT id FROM ins",
      Params()
          .Add(r.campaign_id)
          .Add(r.referrer_id)
          .Add(std::string_view(r.name))
          .Add(std::string_view(r.email))
          .Add(r.external_id)
          .Add(r.referral_code)
          .Add(r.coupon_code)
          .Add(std::string_view(FormatTimestamp(r.created_at)))
          .Add(std::string_view(FoldCase(r.name))));
  if (!rows) return Failed("creating a referral", rows.error());
  if (rows->size() == 1) {
    ++count_statements_;
    return InsertOutcome{rows->Int(0, 0)};
  }
  auto why = conn_->Query(
      "SELECT EXISTS (SELECT 1 FROM referrals WHERE email = $1 AND campaign_id = $2),"
      " EXISTS (SELECT 1 FROM referrals WHERE external_id = $3 AND campaign_id = $2),"
      " EXISTS (SELECT 1 FROM referrals WHERE referral_code = $4)",
      Params()
          .Add(std::string_view(r.email))
          .Add(r.campaign_id)
          .Add(r.external_id)
          .Add(r.referral_code));
  if (!why) return Failed("creating a referral", why.error());
  return InsertOutcome{0, why->Text(0, 0) == "t"   ? DuplicateOf::kEmail
                          : why->Text(0, 1) == "t" ? DuplicateOf::kExternalId
                          : why->Text(0, 2) == "t" ? DuplicateOf::kReferralCode
                                                   : DuplicateOf::kCouponCode};
}

// The batch is COPYed straight into the table, ids from the table's identity. Only
// when it holds a duplicate is it redone, in file order, through a staging table.
Result<void> PostgresStore::InsertReferrals(std::span<const NewReferral> referrals,
                                            std::vector<DuplicateOf>& outcomes) {
  outcomes.clear();
  failed_item_.reset();
  if (referrals.empty()) return {};
  std::string rows = CopyRows(referrals);
  if (auto ok = conn_->Exec("SAVEPOINT bulk_insert"); !ok) return Failed("inserting referrals", ok.error());
  auto copied = conn_->Copy("COPY referrals " REFERRAL_INSERT_COLUMNS " FROM STDIN", rows);
  if (copied) {
    if (auto ok = conn_->Exec("RELEASE SAVEPOINT bulk_insert"); !ok) return Failed("inserting referrals", ok.error());
    outcomes.assign(referrals.size(), DuplicateOf::kNone);
    return CountInserted(referrals, outcomes);
  }
  if (copied.error().sqlstate != kUniqueViolation) {
    if (copied.error().copy_line > 0) failed_item_ = copied.error().copy_line - 1;
    return Failed("inserting referrals", copied.error());
  }
  if (auto ok = conn_->Exec("ROLLBACK TO SAVEPOINT bulk_insert"); !ok) return Failed("inserting referrals", ok.error());
  if (auto ok = InsertSkippingDuplicates(referrals.size(), rows, outcomes); !ok) return ok;
  return CountInserted(referrals, outcomes);
}

// The batch's new referrals (pending, never qualified), per campaign: one statement.
Result<void> PostgresStore::CountInserted(std::span<const NewReferral> referrals,
                                          std::span<const DuplicateOf> outcomes) {
  std::vector<int64_t> campaigns;
  std::vector<int64_t> counts;
  for (size_t i = 0; i < referrals.size(); ++i) {
    if (outcomes[i] != DuplicateOf::kNone) continue;
    auto at = std::find(campaigns.begin(), campaigns.end(), referrals[i].campaign_id);
    if (at == campaigns.end()) {
      campaigns.push_back(referrals[i].campaign_id);
      counts.push_back(1);
    } else {
      ++counts[at - campaigns.begin()];
    }
  }
  if (campaigns.empty()) return {};
  auto ok = conn_->Query(
      "INSERT INTO referral_counts (campaign_id, status, ever_qualified, n)"
      " SELECT c, 'pending', false, n FROM unnest($1::bigint[], $2::bigint[]) AS t (c, n)",
      Params()
          .Add(std::string_view(pg::ArrayLiteral(std::span<const int64_t>(campaigns))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const int64_t>(counts)))));
  if (!ok) return Failed("counting new referrals", ok.error());
  ++count_statements_;
  return {};
}

// The staging table numbers the rows (ord) and draws each one's id from the
// referrals' own sequence as it is copied, so ids follow the file's order and each
// outcome maps back to its row.
Result<void> PostgresStore::InsertSkippingDuplicates(size_t count, const std::string& rows,
                                                     std::vector<DuplicateOf>& outcomes) {
  if (auto ok = conn_->Exec("CREATE TEMP TABLE IF NOT EXISTS referrals_staging"
                            " (ord BIGSERIAL, LIKE referrals INCLUDING DEFAULTS) ON COMMIT DROP;"
                            " TRUNCATE referrals_staging;"
                            " ALTER SEQUENCE referrals_staging_ord_seq RESTART;"
                            " ALTER TABLE referrals_staging ALTER COLUMN id"
                            "   SET DEFAULT nextval(pg_get_serial_sequence('referrals', 'id'))");
      !ok) {
    return Failed("inserting referrals", ok.error());
  }
  if (auto ok = conn_->Copy("COPY referrals_staging " REFERRAL_INSERT_COLUMNS " FROM STDIN", rows);
      !ok) {
    return Failed("inserting referrals", ok.error());
  }
  // Rows go in file order; a row that conflicts with an earlier one, in the table or
  // in this batch, is skipped, as SQLite's row-by-row insert does.
  auto inserted = conn_->Query("INSERT INTO referrals (id, " REFERRAL_COLUMN_LIST
                               ")"
                               " SELECT id, " REFERRAL_COLUMN_LIST
                               " FROM referrals_staging ORDER BY ord"
                               " ON CONFLICT DO NOTHING");
  if (!inserted) return Failed("inserting referrals", inserted.error());
  // Why each skipped row was skipped: the first unique value already taken.
  auto reasons = conn_->Query(
      "SELECT s.ord, (r.id IS NOT NULL),"
      " EXISTS (SELECT 1 FROM referrals x WHERE x.email = s.email"
      "         AND x.campaign_id = s.campaign_id),"
      " EXISTS (SELECT 1 FROM referrals x WHERE x.external_id = s.external_id"
      "         AND x.campaign_id = s.campaign_id),"
      " EXISTS (SELECT 1 FROM referrals x WHERE x.referral_code = s.referral_code)"
      " FROM referrals_staging s LEFT JOIN referrals r ON r.id = s.id ORDER BY s.ord");
  if (!reasons) return Failed("inserting referrals", reasons.error());
  if (reasons->size() != static_cast<int>(count)) {
    return Fail(ErrorCode::kStorage, "staging table lost rows");
  }
  outcomes.resize(count);
  for (int i = 0; i < reasons->size(); ++i) {
    outcomes[i] = reasons->Text(i, 1) == "t"   ? DuplicateOf::kNone
                  : reasons->Text(i, 2) == "t" ? DuplicateOf::kEmail
                  : reasons->Text(i, 3) == "t" ? DuplicateOf::kExternalId
                  : reasons->Text(i, 4) == "t" ? DuplicateOf::kReferralCode
                                               : DuplicateOf::kCouponCode;
  }
  if (auto ok = conn_->Exec("TRUNCATE referrals_staging"); !ok) return Failed("inserting referrals", ok.error());
  return {};
}

Result<std::vector<Referral>> PostgresStore::QueryReferrals(std::string_view sql,
                                                            const Params& params) {
  auto rows = conn_->Query(sql, params);
  if (!rows) return Failed("reading referrals", rows.error());
  std::vector<Referral> out;
  out.reserve(rows->size());
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadReferral(*rows, i));
  return out;
}

Result<std::optional<Referral>> PostgresStore::GetReferral(int64_t id) {
  auto rows = QueryReferrals(REFERRAL_COLUMNS "WHERE r.id = $1", Params().Add(id));
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Referral>();
  return std::move(rows->front());
}

Result<std::optional<Referral>> PostgresStore::LockReferral(int64_t id) {
  auto rows = QueryReferrals(REFERRAL_COLUMNS "WHERE r.id = $1 FOR UPDATE OF r", Params().Add(id));
  if (!rows) return std::unexpected(rows.error());
  if (rows->empty()) return std::optional<Referral>();
  return std::move(rows->front());
}

Result<std::vector<Referral>> PostgresStore::FindReferralsByEmail(
    std::string_view email, std::optional<int64_t> campaign_id) {
  return QueryReferrals(REFERRAL_COLUMNS
                        "WHERE r.email = $1 AND ($2::bigint IS NULL OR r.campaign_id = $2)"
                        " ORDER BY r.id",
                        Params().Add(email).Add(campaign_id));
}

Result<std::vector<Referral>> PostgresStore::FindReferralsByExternalId(
    std::string_view external_id, std::optional<int64_t> campaign_id) {
  return QueryReferrals(REFERRAL_COLUMNS
                        "WHERE r.external_id = $1 AND ($2::bigint IS NULL OR r.campaign_id = $2)"
                        " ORDER BY r.id",
                        Params().Add(external_id).Add(campaign_id));
}

Result<ReferralPage> PostgresStore::ListReferrals(const ReferralFilter& filter) {
  // Only fixed fragments are joined; every value is bound.
  std::string sql = REFERRAL_COLUMNS "WHERE TRUE";
  Params params;
  auto next = [&params] { return fmt::format("${}", params.size()); };
  if (filter.status) {
    params.Add(StatusName(*filter.status));
    sql += " AND r.status = " + next();
    // Lets the planner see that the partial index on status applies.
    if (*filter.status != Status::kPending) sql += " AND r.status <> 'pending'";
  }
  if (filter.campaign_id) {
    params.Add(*filter.campaign_id);
    sql += " AND r.campaign_id = " + next();
  }
  if (!filter.query.empty()) {
    params.Add(std::string_view(filter.query));
    // The query is folded (FoldCase) by the engine, as name_folded is; emails are
    // stored lower-cased.
    sql += " AND (strpos(r.email, " + next() + ") > 0 OR strpos(r.name_folded, " + next() +
           ") > 0)";
  }
  if (filter.before_id) {
    params.Add(*filter.before_id);
    sql += " AND r.id < " + next();
  }
  params.Add(static_cast<int64_t>(filter.limit) + 1);
  sql += " ORDER BY r.id DESC LIMIT " + next();
  auto rows = QueryReferrals(sql, params);
  if (!rows) return std::unexpected(rows.error());
  return PageOf(std::move(*rows), filter.limit);
}

namespace {

// Values per look-up query, bound as one array.
constexpr size_t kLookupBatch = 10'000;

// REFERRAL_COLUMNS without the joins: bulk reads leave the campaign's name, the
// referrer's email and created_at empty.
#define BULK_REFERRAL_COLUMNS \
  "SELECT r.id, r.campaign_id, '', r.referrer_id, NULL, r.name, r.email, r.external_id,"  \
  " r.referral_code, r.coupon_code, r.note, r.status, " TS("r.qualified_at") ", "         \
  TS("r.approved_at") ", " TS("r.denied_at") ", " TS("r.status_changed_at") ", NULL"      \
  " FROM referrals r "

const char* LookupCondition(LookupColumn column) {
  switch (column) {
    case LookupColumn::kEmail:
      return "r.email = ANY($1::text[])";
    case LookupColumn::kExternalId:
      return "r.external_id = ANY($1::text[])";
    case LookupColumn::kReferralCode:
      return "r.referral_code = ANY($1::text[])";
    case LookupColumn::kCouponCode:
      return "r.coupon_code = ANY($1::text[])";
  }
  return "r.email = ANY($1::text[])";
}

}  // namespace

// Rows come in id order, so that inside a write transaction each batch locks its
// rows (FOR UPDATE, as LockReferral does) in one order whoever runs it.
template <class T>
Result<void> PostgresStore::LookUpInBatches(const char* where, std::span<const T> values,
                                            std::vector<Referral>& out) {
  std::string sql = fmt::format(BULK_REFERRAL_COLUMNS "WHERE {} ORDER BY r.id{}", where,
                                in_transaction_ ? " FOR UPDATE" : "");
  for (size_t start = 0; start < values.size(); start += kLookupBatch) {
    auto batch = values.subspan(start, std::min(kLookupBatch, values.size() - start));
    auto rows = conn_->Query(sql, Params().Add(std::string_view(pg::ArrayLiteral(batch))));
    if (!rows) return Failed("looking referrals up", rows.error());
    for (int i = 0; i < rows->size(); ++i) out.push_back(ReadReferral(*rows, i));
  }
  return {};
}

Result<std::vector<Referral>> PostgresStore::FindReferralsByIds(std::span<const int64_t> ids) {
  std::vector<Referral> out;
  if (auto ok = LookUpInBatches("r.id = ANY($1::bigint[])", ids, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

Result<std::vector<Referral>> PostgresStore::FindReferralsBy(LookupColumn column,
                                                             std::span<const std::string> values) {
  std::vector<Referral> out;
  if (auto ok = LookUpInBatches(LookupCondition(column), values, out); !ok) {
    return std::unexpected(ok.error());
  }
  return out;
}

namespace {

// Values per match query: joined as one array, so the server picks a hash join for
// a long list and index look-ups for a short one.
constexpr size_t kMatchBatch = 100'000;

const char* MatchSql(LookupColumn column, bool lock) {
#define MATCH_SQL(col) \
  "SELECT r.id, r.campaign_id, r.status, " TS("r.qualified_at") ", " TS("r.approved_at") \
  ", " TS("r.denied_at") ", " TS("r.status_changed_at") ", r.referrer_id, v.value"         \
  " FROM referrals r"                                                                      \
  " JOIN unnest($1::text[]) AS v(value) ON r." col " = v.value"                          \
  " WHERE ($2::bigint IS NULL OR r.campaign_id = $2)"
#define MATCH_SQL_PAIR(col) \
  { MATCH_SQL(col), MATCH_SQL(col) " FOR UPDATE OF r" }
  static const char* const sql[][2] = {MATCH_SQL_PAIR("email"), MATCH_SQL_PAIR("external_id"),
                                       MATCH_SQL_PAIR("referral_code"),
                                       MATCH_SQL_PAIR("coupon_code")};
#undef MATCH_SQL_PAIR
#undef MATCH_SQL
  return sql[static_cast<int>(column)][lock ? 1 : 0];
}

}  // namespace

// Batches of values, each bound as one array and joined on the server.
Result<void> PostgresStore::ForEachMatch(LookupColumn column, std::optional<int64_t> campaign_id,
                                         const ValueSet& values, const MatchFn& found) {
  const char* sql = MatchSql(column, in_transaction_);
  std::vector<std::string_view> batch;
  batch.reserve(std::min(values.size(), kMatchBatch));
  for (uint32_t next = 0; next < values.size();) {
    batch.clear();
    for (; next < values.size() && batch.size() < kMatchBatch; ++next) {
      batch.push_back(values[next]);
    }
    auto rows =
        conn_->Query(sql, Params().Add(std::string_view(pg::ArrayLiteral(batch))).Add(campaign_id));
    if (!rows) return Failed("matching referrals", rows.error());
    for (int i = 0; i < rows->size(); ++i) {
      ReferralState r;
      r.id = rows->Int(i, 0);
      r.campaign_id = rows->Int(i, 1);
      r.status = ParseStatus(rows->Text(i, 2)).value_or(Status::kPending);
      r.qualified_at = OptTime(*rows, i, 3);
      r.approved_at = OptTime(*rows, i, 4);
      r.denied_at = OptTime(*rows, i, 5);
      r.status_changed_at = OptTime(*rows, i, 6).value_or(0);
      r.referrer_id = rows->OptInt(i, 7);
      if (std::optional<uint32_t> value = values.IndexOf(rows->Text(i, 8))) found(r, *value);
    }
  }
  return {};
}

// One UPDATE a referral, in order (an email moved away before another takes it).
Result<void> PostgresStore::WriteReferralFields(std::span<const Referral> referrals) {
  failed_item_.reset();
  for (size_t i = 0; i < referrals.size(); ++i) {
    const Referral& r = referrals[i];
    auto ok = conn_->Query(
        "UPDATE referrals SET name = $1, email = $2, external_id = $3, note = $4,"
        " name_folded = $5 WHERE id = $6",
        Params()
            .Add(std::string_view(r.name))
            .Add(std::string_view(r.email))
            .Add(r.external_id)
            .Add(std::string_view(r.note))
            .Add(std::string_view(FoldCase(r.name)))
            .Add(r.id));
    if (!ok) {
      failed_item_ = i;
      return Failed("updating a referral's fields", ok.error());
    }
  }
  return {};
}

namespace {

// At most this many status changes go in WriteFewStatusChanges' one statement.
constexpr size_t kFewChanges = 32;

#define STATUS_FLAGS_UPDATE(flags)                                                        \
  " u AS (UPDATE referrals r SET status = f.status, status_changed_at = m.at,"           \
  " qualified_at = CASE WHEN f.entered_qualified THEN coalesce(r.qualified_at, m.at)"     \
  "                ELSE r.qualified_at END,"                                              \
  " approved_at = CASE WHEN f.entered_approved THEN m.at ELSE r.approved_at END,"         \
  " denied_at = CASE WHEN f.entered_denied THEN m.at ELSE r.denied_at END"                \
  " FROM " flags " f, m, referrals o WHERE r.id = f.id AND o.id = f.id" COUNT_RETURNING ")"

std::string BoolArray(std::span<const StatusWrite> writes, bool StatusWrite::*flag) {
  std::string out = "{";
  for (const StatusWrite& w : writes) {
    if (out.size() > 1) out += ',';
    out += w.*flag ? 't' : 'f';
  }
  return out + '}';
}

}  // namespace

Result<void> PostgresStore::WriteStatusChanges(std::span<const StatusWrite> statuses,
                                               std::span<const StatusChange> history,
                                               Micros at) {
  if (statuses.size() <= kFewChanges && history.size() <= kFewChanges) {
    return WriteFewStatusChanges(statuses, history, at);
  }
  if (auto ok = WriteStatuses(statuses, at); !ok) return ok;
  return AppendHistory(history);
}

// Statuses, history and count deltas in one statement: one round trip for a PATCH.
Result<void> PostgresStore::WriteFewStatusChanges(std::span<const StatusWrite> statuses,
                                                  std::span<const StatusChange> history,
                                                  Micros at) {
  if (statuses.empty() && history.empty()) return {};
  std::vector<int64_t> ids, referral_ids;
  std::vector<std::string_view> names, froms, tos, sources, actors;
  std::vector<std::string> times;
  std::string batches = "{";
  for (const StatusWrite& w : statuses) {
    ids.push_back(w.id);
    names.push_back(StatusName(w.status));
  }
  for (const StatusChange& c : history) {
    referral_ids.push_back(c.referral_id);
    froms.push_back(StatusName(c.from));
    tos.push_back(StatusName(c.to));
    times.push_back(FormatTimestamp(c.at));
    sources.push_back(SourceName(c.source));
    actors.push_back(c.actor);
    if (batches.size() > 1) batches += ',';
    batches += c.batch_id ? std::to_string(*c.batch_id) : "NULL";
  }
  batches += '}';
  auto ok = conn_->Query(
      "WITH m AS (SELECT $1::timestamptz AS at),"
      " flags AS (SELECT * FROM unnest($2::bigint[], $3::text[], $4::boolean[], $5::boolean[],"
      "   $6::boolean[]) AS f(id, status, entered_qualified, entered_approved, entered_denied)),"
      STATUS_FLAGS_UPDATE("flags") ","
      " h AS (INSERT INTO status_changes (referral_id, from_status, to_status, at, source,"
      "   actor, batch_id) SELECT referral_id, from_status, to_status, at, source, actor, batch_id"
      "   FROM unnest($7::bigint[], $8::text[], $9::text[], $10::timestamptz[], $11::text[],"
      "   $12::text[], $13::bigint[]) WITH ORDINALITY AS h(referral_id, from_status, to_status,"
      "   at, source, actor, batch_id, ord) ORDER BY ord)" COUNT_DELTAS_OF("u"),
      Params()
          .Add(std::string_view(FormatTimestamp(at)))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const int64_t>(ids))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string_view>(names))))
          .Add(std::string_view(BoolArray(statuses, &StatusWrite::entered_qualified)))
          .Add(std::string_view(BoolArray(statuses, &StatusWrite::entered_approved)))
          .Add(std::string_view(BoolArray(statuses, &StatusWrite::entered_denied)))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const int64_t>(referral_ids))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string_view>(froms))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string_view>(tos))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string>(times))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string_view>(sources))))
          .Add(std::string_view(pg::ArrayLiteral(std::span<const std::string_view>(actors))))
          .Add(std::string_view(batches)));
  if (!ok) return Failed("updating referral statuses", ok.error());
  ++count_statements_;
  return {};
}

// One COPY of the flags into a temporary table, then one UPDATE joining it: the
// server sets the timestamps, so nothing is read first.
Result<void> PostgresStore::WriteStatuses(std::span<const StatusWrite> writes, Micros at) {
  if (writes.empty()) return {};
  if (!bulk_flags_ready_) {
    if (auto ok = conn_->Exec(
            "CREATE TEMP TABLE IF NOT EXISTS bulk_flags (id BIGINT, status TEXT,"
            " entered_qualified BOOLEAN, entered_approved BOOLEAN, entered_denied BOOLEAN)"
            " ON COMMIT DROP; TRUNCATE bulk_flags");
        !ok) {
      return Failed("updating referral statuses", ok.error());
    }
    bulk_flags_ready_ = true;
  }
  std::string data;
  data.reserve(writes.size() * 32);
  auto flag = [&data](bool b) { data += b ? "t" : "f"; };
  for (const StatusWrite& w : writes) {
    data += std::to_string(w.id);
    data += '\t';
    data += StatusName(w.status);
    data += '\t';
    flag(w.entered_qualified);
    data += '\t';
    flag(w.entered_approved);
    data += '\t';
    flag(w.entered_denied);
    data += '\n';
  }
  if (auto ok = conn_->Copy("COPY bulk_flags (id, status, entered_qualified, entered_approved,"
                            " entered_denied) FROM STDIN",
                            data);
      !ok) {
    return Failed("updating referral statuses", ok.error());
  }
  // The table is left empty for the next batch.
  auto ok = conn_->Query(
      "WITH m AS (SELECT $1::timestamptz AS at)," STATUS_FLAGS_UPDATE("bulk_flags")
      COUNT_DELTAS_OF("u"),
      Params().Add(std::string_view(FormatTimestamp(at))));
  if (!ok) return Failed("updating referral statuses", ok.error());
  ++count_statements_;
  if (auto truncated = conn_->Exec("TRUNCATE bulk_flags"); !truncated) {
    return Failed("updating referral statuses", truncated.error());
  }
  return {};
}

// One COPY; the rows take their ids, and so their order, as they come.
Result<void> PostgresStore::AppendHistory(std::span<const StatusChange> history) {
  if (history.empty()) return {};
  std::string data;
  data.reserve(history.size() * 100);
  for (const StatusChange& c : history) {
    data += std::to_string(c.referral_id);
    data += '\t';
    data += StatusName(c.from);
    data += '\t';
    data += StatusName(c.to);
    data += '\t';
    data += FormatTimestamp(c.at);
    data += '\t';
    data += SourceName(c.source);
    data += '\t';
    pg::AppendCopyField(data, c.actor);
    data += '\t';
    if (c.batch_id)
      data += std::to_string(*c.batch_id);
    else
      pg::AppendCopyNull(data);
    data += '\n';
  }
  if (auto ok = conn_->Copy("COPY status_changes (referral_id, from_status, to_status, at, source,"
                            " actor, batch_id) FROM STDIN",
                            data);
      !ok) {
    return Failed("writing status history", ok.error());
  }
  return {};
}

namespace {

#define REWARD_RULE_COLUMNS                                                            \
  "SELECT id, campaign_id, on_status, recipients, amount, currency, description, " TS( \
      "created_at") ", " TS("removed_at") " FROM reward_rules "

RewardRule ReadRewardRule(const pg::Rows& rows, int i) {
  RewardRule r;
  r.id = rows.Int(i, 0);
  r.campaign_id = rows.Int(i, 1);
  r.on = ParseStatus(rows.Text(i, 2)).value_or(Status::kApproved);
  r.to = ParseRuleRecipients(rows.Text(i, 3)).value_or(RuleRecipients::kReferrer);
  r.amount = rows.OptText(i, 4);
  r.currency = rows.Text(i, 5);
  r.description = rows.Text(i, 6);
  r.created_at = OptTime(rows, i, 7).value_or(0);
  r.removed_at = OptTime(rows, i, 8);
  return r;
}

}  // namespace

Result<RewardRule> PostgresStore::CreateRewardRule(const RewardRule& rule) {
  auto rows = conn_->Query(
      "INSERT INTO reward_rules (campaign_id, on_status, recipients, amount, currency,"
      " description, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
      Params()
          .Add(rule.campaign_id)
          .Add(StatusName(rule.on))
          .Add(RuleRecipientsName(rule.to))
          .Add(rule.amount)
          .Add(std::string_view(rule.currency))
          .Add(std::string_view(rule.description))
          .Add(std::string_view(FormatTimestamp(rule.created_at))));
  if (!rows) return Failed("creating a reward rule", rows.error());
  RewardRule created = rule;
  created.id = rows->Int(0, 0);
  return created;
}

Result<std::vector<RewardRule>> PostgresStore::ListRewardRules(std::optional<int64_t> campaign_id,
                                                               bool include_removed) {
  auto rows = conn_->Query(
      REWARD_RULE_COLUMNS
      "WHERE ($1::bigint IS NULL OR campaign_id = $1)"
      " AND ($2::boolean OR removed_at IS NULL) ORDER BY id",
      Params().Add(campaign_id).Add(std::string_view(include_removed ? "true" : "false")));
  if (!rows) return Failed("listing reward rules", rows.error());
  std::vector<RewardRule> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadRewardRule(*rows, i));
  return out;
}

Result<bool> PostgresStore::RemoveRewardRule(int64_t id, Micros at) {
  auto rows = conn_->Query(
      "UPDATE reward_rules SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL RETURNING id",
      Params().Add(id).Add(std::string_view(FormatTimestamp(at))));
  if (!rows) return Failed("removing a reward rule", rows.error());
  return rows->size() > 0;
}

// One COPY into a staging table and one INSERT that skips what is there already.
Result<void> PostgresStore::InsertRewards(std::span<const NewReward> rewards) {
  if (rewards.empty()) return {};
  if (auto ok = conn_->Exec(
          "CREATE TEMP TABLE IF NOT EXISTS rewards_staging (referral_id BIGINT, rule_id BIGINT,"
          " recipient TEXT, issued_at TIMESTAMPTZ) ON COMMIT DROP; TRUNCATE rewards_staging");
      !ok) {
    return Failed("issuing rewards", ok.error());
  }
  std::string data;
  data.reserve(rewards.size() * 64);
  for (const NewReward& r : rewards) {
    data += std::to_string(r.referral_id);
    data += '\t';
    data += std::to_string(r.rule_id);
    data += '\t';
    data += RecipientName(r.recipient);
    data += '\t';
    data += FormatTimestamp(r.issued_at);
    data += '\n';
  }
  if (auto ok = conn_->Copy("COPY rewards_staging FROM STDIN", data); !ok)
    return Failed("issuing rewards", ok.error());
  if (auto ok = conn_->Exec("INSERT INTO rewards (referral_id, rule_id, recipient, issued_at)"
                            " SELECT * FROM rewards_staging ON CONFLICT (referral_id, rule_id, "
                            "recipient) DO NOTHING");
      !ok) {
    return Failed("issuing rewards", ok.error());
  }
  return {};
}

Result<std::vector<Reward>> PostgresStore::ListRewards(const RewardFilter& filter) {
  auto rows = conn_->Query(
      "SELECT w.id, w.rule_id, w.referral_id, w.recipient, r.referrer_id, u.amount, u.currency,"
      " u.description, w.state, " TS("w.issued_at") ", " TS("w.paid_at") ", c.name,"
      " CASE w.recipient WHEN 'referrer' THEN m.email ELSE r.email END"
      " FROM rewards w JOIN referrals r ON r.id = w.referral_id"
      " JOIN reward_rules u ON u.id = w.rule_id JOIN campaigns c ON c.id = r.campaign_id"
      " LEFT JOIN members m ON m.id = r.referrer_id"
      " WHERE ($1::bigint IS NULL OR r.campaign_id = $1)"
      " AND ($2::bigint IS NULL OR w.referral_id = $2) AND ($3::text IS NULL OR w.state = $3)"
      " AND ($4::text IS NULL OR (w.recipient = 'referrer' AND m.email = $4)) ORDER BY w.issued_at, w.id",
      Params()
          .Add(filter.campaign_id)
          .Add(filter.referral_id)
          .Add(filter.state ? std::optional<std::string>(RewardStateName(*filter.state))
                            : std::nullopt)
          .Add(filter.member_email));
  if (!rows) return Failed("listing rewards", rows.error());
  std::vector<Reward> out;
  for (int i = 0; i < rows->size(); ++i) {
    Reward w;
    w.id = rows->Int(i, 0);
    w.rule_id = rows->Int(i, 1);
    w.referral_id = rows->Int(i, 2);
    w.recipient = ParseRecipient(rows->Text(i, 3)).value_or(Recipient::kReferred);
    if (w.recipient == Recipient::kReferrer) w.member_id = rows->OptInt(i, 4);
    w.amount = rows->OptText(i, 5);
    w.currency = rows->Text(i, 6);
    w.description = rows->Text(i, 7);
    w.state = ParseRewardState(rows->Text(i, 8)).value_or(RewardState::kIssued);
    w.issued_at = OptTime(*rows, i, 9).value_or(0);
    w.paid_at = OptTime(*rows, i, 10);
    w.campaign = rows->Text(i, 11);
    w.recipient_email = rows->Text(i, 12);
    out.push_back(std::move(w));
  }
  return out;
}

Result<int64_t> PostgresStore::MarkRewardsPaid(std::span<const int64_t> ids, Micros at) {
  if (ids.empty()) return 0;
  auto rows = conn_->Query(
      "UPDATE rewards SET state = 'paid', paid_at = $2"
      " WHERE id = ANY($1::bigint[]) AND state = 'issued' RETURNING id",
      Params()
          .Add(std::string_view(pg::ArrayLiteral(ids)))
          .Add(std::string_view(FormatTimestamp(at))));
  if (!rows) return Failed("marking rewards paid", rows.error());
  return rows->size();
}

Result<int64_t> PostgresStore::CreateImport(const ImportRecord& record) {
  auto rows = conn_->Query(
      "INSERT INTO imports (kind, file_name, sha256, actor, started_at, counts, match_by,"
      " campaign_id) VALUES ($1, $2, $3, $4, $5, $6, nullif($7, ''), $8) RETURNING id",
      Params()
          .Add(std::string_view(record.kind))
          .Add(std::string_view(record.file_name))
          .Add(std::string_view(record.sha256))
          .Add(std::string_view(record.actor))
          .Add(std::string_view(FormatTimestamp(record.started_at)))
          .Add(std::string_view(record.counts.empty() ? "{}" : record.counts))
          .Add(std::string_view(record.match_by))
          .Add(record.campaign_id));
  if (!rows) return Failed("recording an import", rows.error());
  return rows->Int(0, 0);
}

Result<void> PostgresStore::FinishImport(const ImportRecord& record,
                                         std::span<const RowError> errors) {
  if (auto ok = conn_->Query(
          "UPDATE imports SET finished_at = $1, counts = $2, sha256 = $4 WHERE id = $3",
          Params()
              .Add(std::string_view(FormatTimestamp(record.finished_at)))
              .Add(std::string_view(record.counts))
              .Add(record.id)
              .Add(std::string_view(record.sha256)));
      !ok) {
    return Failed("recording an import's outcome", ok.error());
  }
  if (errors.empty()) return {};
  std::string data;
  data.reserve(errors.size() * 80);
  std::string import_id = std::to_string(record.id);
  for (const RowError& e : errors) {
    data += import_id;
    data += '\t';
    data += std::to_string(e.row);
    data += '\t';
    pg::AppendCopyField(data, e.column);
    data += '\t';
    pg::AppendCopyField(data, e.message);
    data += '\n';
  }
  if (auto ok = conn_->Copy(
          "COPY import_errors (import_id, file_row, column_name, message) FROM STDIN", data);
      !ok) {
    return Failed("recording an import's outcome", ok.error());
  }
  return {};
}

Result<std::optional<ImportRecord>> PostgresStore::GetImport(int64_t id) {
  auto rows = conn_->Query(
      "SELECT id, kind, file_name, sha256, actor, " TS("started_at") ", " TS(
          "finished_at") ", counts, coalesce(match_by, ''), campaign_id FROM imports WHERE id = $1",
      Params().Add(id));
  if (!rows) return Failed("reading an import", rows.error());
  if (rows->size() == 0) return std::optional<ImportRecord>();
  return ImportRecord{rows->Int(0, 0),
                      rows->Text(0, 1),
                      rows->Text(0, 2),
                      rows->Text(0, 3),
                      rows->Text(0, 4),
                      OptTime(*rows, 0, 5).value_or(0),
                      OptTime(*rows, 0, 6).value_or(0),
                      rows->Text(0, 7),
                      rows->Text(0, 8),
                      rows->OptInt(0, 9)};
}

// The table has no insertion counter: ctid, where one COPY put the rows, breaks ties
// between errors of one row.
Result<std::vector<RowError>> PostgresStore::ImportErrors(int64_t id) {
  auto rows = conn_->Query(
      "SELECT file_row, column_name, message FROM import_errors WHERE import_id = $1"
      " ORDER BY file_row, ctid",
      Params().Add(id));
  if (!rows) return Failed("reading an import's errors", rows.error());
  std::vector<RowError> out;
  out.reserve(rows->size());
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Int(i, 0), rows->Text(i, 1), rows->Text(i, 2)});
  }
  return out;
}

Result<std::vector<StatusChange>> PostgresStore::History(int64_t referral_id) {
  auto rows = conn_->Query(
      "SELECT referral_id, from_status, to_status, " TS("at") ", source, actor, batch_id"
      " FROM status_changes WHERE referral_id = $1 ORDER BY id",
      Params().Add(referral_id));
  if (!rows) return Failed("reading a referral's history", rows.error());
  std::vector<StatusChange> out;
  for (int i = 0; i < rows->size(); ++i) {
    StatusChange c;
    c.referral_id = rows->Int(i, 0);
    c.from = ParseStatus(rows->Text(i, 1)).value_or(Status::kPending);
    c.to = ParseStatus(rows->Text(i, 2)).value_or(Status::kPending);
    c.at = OptTime(*rows, i, 3).value_or(0);
    c.source = ParseSource(rows->Text(i, 4)).value_or(ChangeSource::kManual);
    c.actor = rows->Text(i, 5);
    c.batch_id = rows->OptInt(i, 6);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace reftrack

// --- API keys

namespace reftrack {

namespace {

#define API_KEY_COLUMNS \
  "SELECT id, name, scope, prefix, hash, " TS("created_at") ", " TS("revoked_at") " FROM api_keys "

ApiKey ReadApiKey(const pg::Rows& rows, int i) {
  ApiKey k;
  k.id = rows.Int(i, 0);
  k.name = rows.Text(i, 1);
  k.scope = ParseScope(rows.Text(i, 2)).value_or(Scope::kRead);
  k.prefix = rows.Text(i, 3);
  k.hash = rows.Text(i, 4);
  k.created_at = OptTime(rows, i, 5).value_or(0);
  k.revoked_at = OptTime(rows, i, 6);
  return k;
}

}  // namespace

Result<ApiKey> PostgresStore::CreateApiKey(const ApiKey& key) {
  auto rows = conn_->Query(
      "INSERT INTO api_keys (name, scope, prefix, hash, created_at)"
      " VALUES ($1, $2, $3, $4, $5) RETURNING id",
      Params()
          .Add(std::string_view(key.name))
          .Add(ScopeName(key.scope))
          .Add(std::string_view(key.prefix))
          .Add(std::string_view(key.hash))
          .Add(std::string_view(FormatTimestamp(key.created_at))));
  if (!rows) return Failed("creating an API key", rows.error());
  ApiKey created = key;
  created.id = rows->Int(0, 0);
  return created;
}

Result<std::optional<ApiKey>> PostgresStore::FindApiKey(std::string_view hash) {
  auto rows = conn_->Query(API_KEY_COLUMNS "WHERE hash = $1", Params().Add(hash));
  if (!rows) return Failed("reading an API key", rows.error());
  if (rows->size() == 0) return std::optional<ApiKey>();
  return std::optional<ApiKey>(ReadApiKey(*rows, 0));
}

Result<std::vector<ApiKey>> PostgresStore::ListApiKeys() {
  auto rows = conn_->Query(API_KEY_COLUMNS "ORDER BY id", Params());
  if (!rows) return Failed("listing API keys", rows.error());
  std::vector<ApiKey> out;
  for (int i = 0; i < rows->size(); ++i) out.push_back(ReadApiKey(*rows, i));
  return out;
}

Result<bool> PostgresStore::RevokeApiKey(int64_t id, Micros at) {
  auto rows = conn_->Query(
      "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING id",
      Params().Add(id).Add(std::string_view(FormatTimestamp(at))));
  if (!rows) return Failed("revoking an API key", rows.error());
  return rows->size() > 0;
}

}  // namespace reftrack

namespace reftrack {

Result<User> PostgresStore::CreateUser(const User& user) {
  // ON CONFLICT keeps the surrounding transaction usable after a duplicate.
  auto rows = conn_->Query(
      "INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3)"
      " ON CONFLICT DO NOTHING RETURNING id",
      Params()
          .Add(std::string_view(user.email))
          .Add(std::string_view(user.password_hash))
          .Add(std::string_view(FormatTimestamp(user.created_at))));
  if (!rows) return Failed("creating a user", rows.error());
  if (rows->size() == 0) return std::unexpected(DuplicateUser(user.email));
  User created = user;
  created.id = rows->Int(0, 0);
  return created;
}

Result<std::optional<User>> PostgresStore::FindUser(std::string_view email) {
  auto rows = conn_->Query(
      "SELECT id, email, password_hash, " TS("created_at") " FROM users WHERE email = $1",
      Params().Add(email));
  if (!rows) return Failed("reading a user", rows.error());
  if (rows->size() == 0) return std::optional<User>();
  return std::optional<User>(User{rows->Int(0, 0), rows->Text(0, 1), rows->Text(0, 2),
                                  OptTime(*rows, 0, 3).value_or(0)});
}

Result<int64_t> PostgresStore::CountUsers() {
  auto rows = conn_->Query("SELECT count(*) FROM users", Params());
  if (!rows) return Failed("counting users", rows.error());
  return rows->Int(0, 0);
}

Result<void> PostgresStore::CreateSession(const Session& session) {
  std::string created = FormatTimestamp(session.created_at);
  auto expired = conn_->Query("DELETE FROM sessions WHERE expires_at < $1",
                              Params().Add(std::string_view(created)));
  if (!expired) return Failed("creating a session", expired.error());
  auto rows = conn_->Query(
      "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at)"
      " VALUES ($1, $2, $3, $4, $5)",
      Params()
          .Add(std::string_view(session.token_hash))
          .Add(session.user_id)
          .Add(std::string_view(session.csrf_token))
          .Add(std::string_view(created))
          .Add(std::string_view(FormatTimestamp(session.expires_at))));
  if (!rows) return Failed("creating a session", rows.error());
  return {};
}

Result<std::optional<Session>> PostgresStore::FindSession(std::string_view token_hash,
                                                          Micros now) {
  auto rows = conn_->Query(
      "SELECT s.token_hash, s.user_id, u.email, s.csrf_token, " TS("s.created_at") ", "
      TS("s.expires_at") " FROM sessions s JOIN users u ON u.id = s.user_id"
      " WHERE s.token_hash = $1 AND s.expires_at >= $2",
      Params().Add(token_hash).Add(std::string_view(FormatTimestamp(now))));
  if (!rows) return Failed("reading a session", rows.error());
  if (rows->size() == 0) return std::optional<Session>();
  return std::optional<Session>(Session{rows->Text(0, 0), rows->Int(0, 1), rows->Text(0, 2),
                                        rows->Text(0, 3), OptTime(*rows, 0, 4).value_or(0),
                                        OptTime(*rows, 0, 5).value_or(0)});
}

Result<void> PostgresStore::DeleteSession(std::string_view token_hash) {
  auto rows = conn_->Query("DELETE FROM sessions WHERE token_hash = $1", Params().Add(token_hash));
  if (!rows) return Failed("deleting a session", rows.error());
  return {};
}

Result<std::vector<StatusCount>> PostgresStore::CountReferrals() {
  auto rows = conn_->Query(
      "SELECT campaign_id, status, ever_qualified, sum(n) FROM referral_counts"
      " GROUP BY 1, 2, 3 HAVING sum(n) <> 0",
      Params());
  if (!rows) return Failed("counting referrals", rows.error());
  std::vector<StatusCount> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back(StatusCount{rows->Int(i, 0),
                              ParseStatus(rows->Text(i, 1)).value_or(Status::kPending),
                              rows->Text(i, 2) == "t", rows->Int(i, 3)});
  }
  return out;
}

}  // namespace reftrack

// --- operations

namespace reftrack {

namespace {
// Referrals per page of the keyset walk: each page one query, its history joined.
constexpr int64_t kStoredReferralPage = 10'000;
}  // namespace

// Keyset pages in id order (inside the caller's snapshot, one view throughout), each
// with its referrals' history through status_changes_referral (referral_id, id).
Result<void> PostgresStore::ForEachStoredReferral(const StoredReferralFn& each) {
  int64_t after = 0;
  StoredReferral r;
  bool have = false;
  while (true) {
    auto rows = conn_->Query(
        "WITH page AS (SELECT id, campaign_id, status, qualified_at, email, external_id,"
        " referral_code, coupon_code FROM referrals WHERE id > $1 ORDER BY id LIMIT $2)"
        " SELECT p.id, p.campaign_id, p.status, " TS("p.qualified_at") ", p.email,"
        " p.external_id, p.referral_code, p.coupon_code, h.id, h.from_status, h.to_status,"
        " h.source, " TS("h.at")
        " FROM page p LEFT JOIN status_changes h ON h.referral_id = p.id ORDER BY p.id, h.id",
        Params().Add(after).Add(kStoredReferralPage));
    if (!rows) return Failed("reading referrals for the check", rows.error());
    if (rows->size() == 0) break;
    for (int i = 0; i < rows->size(); ++i) {
      int64_t id = rows->Int(i, 0);
      if (!have || id != r.id) {
        if (have) each(r);
        have = true;
        r.id = id;
        r.campaign_id = rows->Int(i, 1);
        r.status = rows->Text(i, 2);
        r.qualified_at = OptTime(*rows, i, 3);
        r.email = rows->Text(i, 4);
        r.external_id = rows->OptText(i, 5);
        r.referral_code = rows->OptText(i, 6);
        r.coupon_code = rows->OptText(i, 7);
        r.history.clear();
      }
      if (rows->IsNull(i, 8)) continue;
      r.history.push_back({rows->Int(i, 8), rows->Text(i, 9), rows->Text(i, 10),
                           rows->Text(i, 11), OptTime(*rows, i, 12)});
    }
    after = r.id;
  }
  if (have) each(r);
  return {};
}

Result<void> PostgresStore::ForEachRewardKey(const StoredRewardFn& each) {
  // Keyset pages too, on the sort key itself.
  constexpr int64_t kPage = 50'000;
  std::optional<StoredRewardKey> last;
  while (true) {
    auto rows =
        last ? conn_->Query("SELECT id, referral_id, rule_id, recipient FROM rewards"
                            " WHERE (referral_id, rule_id, recipient, id) > ($1, $2, $3, $4)"
                            " ORDER BY referral_id, rule_id, recipient, id LIMIT $5",
                            Params()
                                .Add(last->referral_id)
                                .Add(last->rule_id)
                                .Add(std::string_view(last->recipient))
                                .Add(last->id)
                                .Add(kPage))
             : conn_->Query("SELECT id, referral_id, rule_id, recipient FROM rewards"
                            " ORDER BY referral_id, rule_id, recipient, id LIMIT $1",
                            Params().Add(kPage));
    if (!rows) return Failed("reading rewards for the check", rows.error());
    for (int i = 0; i < rows->size(); ++i) {
      last = StoredRewardKey{rows->Int(i, 0), rows->Int(i, 1), rows->Int(i, 2), rows->Text(i, 3)};
      each(*last);
    }
    if (rows->size() < kPage) break;
  }
  return {};
}

// PostgreSQL checks its pages itself (checksums, amcheck for an administrator).
Result<std::optional<std::vector<std::string>>> PostgresStore::IntegrityCheck(bool) {
  return std::optional<std::vector<std::string>>();
}

Result<Store::BackupResult> PostgresStore::Backup(const std::string&) {
  return Fail(ErrorCode::kInvalidInput,
              "reftrack backup copies an SQLite database; back up PostgreSQL with pg_dump, "
              "e.g. pg_dump --format=custom --file=FILE 'URL' (the URL of --db)");
}

}  // namespace reftrack
