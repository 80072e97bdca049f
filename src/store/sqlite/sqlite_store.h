// The embedded store: one SQLite file in WAL mode. Writers take the database's write
// lock up front (BEGIN IMMEDIATE), so a read-check-write inside a transaction can
// never interleave with another writer, in this process or another.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/store.h"

namespace reftrack {

class SqliteStore final : public Store {
 public:
  // `map_file`: reads map the database file (the server's many readers share it).
  static Result<std::unique_ptr<Store>> Open(const std::string& path, bool map_file = false);

  Result<WriteTransaction> BeginWrite(WriteMode mode = WriteMode::kNormal) override;
  Result<void> Checkpoint() override;
  Result<ReadSnapshot> BeginRead() override;

  Result<Campaign> CreateCampaign(std::string_view name, Micros at) override;
  Result<std::optional<Campaign>> FindCampaign(std::string_view name) override;
  Result<std::vector<Campaign>> ListCampaigns() override;
  Result<bool> SetCampaignCurrency(int64_t id, std::string_view currency) override;

  Result<Member> CreateMember(const NewMember& member, Micros at) override;
  Result<std::optional<Member>> FindMember(int64_t campaign_id, std::string_view email) override;
  Result<std::vector<Member>> ListMembers(int64_t campaign_id) override;

  Result<InsertOutcome> InsertReferral(const NewReferral& referral) override;
  Result<void> InsertReferrals(std::span<const NewReferral> referrals,
                               std::vector<DuplicateOf>& outcomes) override;
  Result<std::optional<Referral>> GetReferral(int64_t id) override;
  Result<std::optional<Referral>> LockReferral(int64_t id) override;
  Result<std::vector<Referral>> FindReferralsByEmail(std::string_view email,
                                                     std::optional<int64_t> campaign_id) override;
  Result<std::vector<Referral>> FindReferralsByExternalId(
      std::string_view external_id, std::optional<int64_t> campaign_id) override;
  Result<ReferralPage> ListReferrals(const ReferralFilter& filter) override;

  Result<std::vector<Referral>> FindReferralsByIds(std::span<const int64_t> ids) override;
  Result<std::vector<Referral>> FindReferralsBy(LookupColumn column,
                                                std::span<const std::string> values) override;
  Result<void> ForEachMatch(LookupColumn column, std::optional<int64_t> campaign_id,
                            const ValueSet& values, const MatchFn& found) override;
  Result<void> WriteReferralFields(std::span<const Referral> referrals) override;
  Result<void> WriteStatusChanges(std::span<const StatusWrite> statuses,
                                  std::span<const StatusChange> history, Micros at) override;

  Result<int64_t> CreateImport(const ImportRecord& record) override;
  Result<void> FinishImport(const ImportRecord& record, std::span<const RowError> errors) override;
  Result<std::optional<ImportRecord>> GetImport(int64_t id) override;
  Result<std::vector<RowError>> ImportErrors(int64_t id) override;

  Result<RewardRule> CreateRewardRule(const RewardRule& rule) override;
  Result<std::vector<RewardRule>> ListRewardRules(std::optional<int64_t> campaign_id,
                                                  bool include_removed) override;
  Result<bool> RemoveRewardRule(int64_t id, Micros at) override;
  Result<void> InsertRewards(std::span<const NewReward> rewards) override;
  Result<std::vector<Reward>> ListRewards(const RewardFilter& filter) override;
  Result<int64_t> MarkRewardsPaid(std::span<const int64_t> ids, Micros at) override;

  Result<ApiKey> CreateApiKey(const ApiKey& key) override;
  Result<std::optional<ApiKey>> FindApiKey(std::string_view hash) override;
  Result<std::vector<ApiKey>> ListApiKeys() override;
  Result<bool> RevokeApiKey(int64_t id, Micros at) override;
  Result<User> CreateUser(const User& user) override;
  Result<std::optional<User>> FindUser(std::string_view email) override;
  Result<int64_t> CountUsers() override;
  Result<void> CreateSession(const Session& session) override;
  Result<std::optional<Session>> FindSession(std::string_view token_hash, Micros now) override;
  Result<void> DeleteSession(std::string_view token_hash) override;
  Result<std::vector<StatusCount>> CountReferrals() override;
  Result<std::vector<StatusChange>> History(int64_t referral_id) override;

  Result<void> ForEachStoredReferral(const StoredReferralFn& each) override;
  Result<void> ForEachRewardKey(const StoredRewardFn& each) override;
  Result<std::optional<std::vector<std::string>>> IntegrityCheck(bool quick) override;
  Result<BackupResult> Backup(const std::string& path) override;

 protected:
  Result<void> CommitWrite() override;
  void RollbackWrite() override;
  void EndRead() override;

 private:
  explicit SqliteStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {}
  Result<void> Configure(bool map_file);
  Result<void> Migrate();
  // A statement prepared once and kept for the store's lifetime; `sql` must be a
  // string literal (its address is the cache key).
  Result<sqlite::Statement*> Cached(const char* sql);
  Result<std::vector<Referral>> QueryReferrals(sqlite::Statement& stmt);
  // Runs `sql`, whose IN list has kLookupBatch parameters, over `values` in batches,
  // appending the referrals found to `out`.
  template <class T>
  Result<void> LookUpInBatches(const char* sql, std::span<const T> values,
                               std::vector<Referral>& out);
  Result<void> WriteStatuses(std::span<const StatusWrite> writes, Micros at);
  Result<void> AppendHistory(const StatusChange& change);
  // The rows in order, several to a statement.
  Result<void> AppendHistory(std::span<const StatusChange> changes);
  // Ends what BeginWrite's bulk modes changed: foreign keys checked again, the usual cache.
  void EndBulk();
  Result<void> SetCacheKiB(int kib);

  // referral_counts, the counts CountReferrals reads, follow every write in its
  // transaction. An UPDATE of a referral calls reftrack_count_change() with the
  // row's old and new state (SQL sees the old row in SET), which notes it in
  // row_change_; a statement that succeeded adds it to count_deltas_, and each write
  // method ends by adding those to the table (FlushCounts), inside the caller's
  // transaction or savepoint, so a rollback undoes them with the rows.
  // A count's slot in a campaign's deltas: status * 2 + ever qualified.
  struct RowChange {
    bool set = false;
    int64_t campaign_id = 0;
    int old_slot = 0, new_slot = 0;
  };
  static void CountChangeFunction(sqlite3_context* context, int argc, sqlite3_value** args);
  void TakeRowChange(bool statement_ok);
  void CountInserted(int64_t campaign_id, int64_t n);
  Result<void> FlushCounts();

  std::unique_ptr<sqlite::Database> db_;
  std::unordered_map<const char*, std::unique_ptr<sqlite::Statement>> statements_;
  int write_depth_ = 0;  // 1 in a write transaction, more in nested ones (savepoints)
  bool bulk_ = false;  // foreign keys are off for a bulk write
  int cache_kib_ = 0;  // the page cache's size now (Configure sets it)
  RowChange row_change_;
  // Per campaign (few: searched in order), the deltas of its eight counts.
  std::vector<std::pair<int64_t, std::array<int64_t, 8>>> count_deltas_;
  std::array<int64_t, 8>& DeltasOf(int64_t campaign_id);
};

}  // namespace reftrack
