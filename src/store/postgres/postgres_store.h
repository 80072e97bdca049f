// The scale-out store: PostgreSQL, shared by any number of reftrack processes.
// Writers lock the rows they change (SELECT ... FOR UPDATE), so a read-check-write
// on one referral never interleaves with another server's. Bulk inserts go through
// COPY, never one round trip per row.
#pragma once

#include <memory>
#include <string>

#include "store/postgres/pg_conn.h"
#include "store/store.h"

namespace reftrack {

class PostgresStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> Open(const std::string& url);

  Result<WriteTransaction> BeginWrite(WriteMode mode = WriteMode::kNormal) override;
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
  Result<void> ForEachMatch(LookupColumn column, std::optional<int64_t> campaign_id,
                            const ValueSet& values, const MatchFn& found) override;
  Result<std::vector<Referral>> FindReferralsBy(LookupColumn column,
                                                std::span<const std::string> values) override;
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
  std::optional<size_t> FailedItem() const override { return failed_item_; }

  Result<void> ForEachStoredReferral(const StoredReferralFn& each) override;
  Result<void> ForEachRewardKey(const StoredRewardFn& each) override;
  Result<std::optional<std::vector<std::string>>> IntegrityCheck(bool quick) override;
  Result<BackupResult> Backup(const std::string& path) override;

 protected:
  Result<void> CommitWrite() override;
  void RollbackWrite() override;
  void EndRead() override;

 private:
  explicit PostgresStore(std::unique_ptr<pg::Connection> conn) : conn_(std::move(conn)) {}
  Result<void> Migrate();
  Result<std::vector<Referral>> QueryReferrals(std::string_view sql, const pg::Params& params);
  // The slow path of InsertReferrals, for a batch that holds a duplicate.
  Result<void> InsertSkippingDuplicates(size_t count, const std::string& rows,
                                        std::vector<DuplicateOf>& outcomes);
  // Appends to `out` the referrals that `where`, a fixed condition on the array $1
  // (e.g. "r.email = ANY($1::text[])"), selects for `values`: one query per batch.
  template <class T>
  Result<void> LookUpInBatches(const char* where, std::span<const T> values,
                               std::vector<Referral>& out);
  // WriteStatusChanges' two ways: one statement for a few changes (a PATCH), a COPY
  // of the statuses' flags and one of the history for many (an import).
  Result<void> WriteFewStatusChanges(std::span<const StatusWrite> statuses,
                                     std::span<const StatusChange> history, Micros at);
  Result<void> WriteStatuses(std::span<const StatusWrite> writes, Micros at);
  Result<void> AppendHistory(std::span<const StatusChange> history);
  Result<void> CountInserted(std::span<const NewReferral> referrals,
                             std::span<const DuplicateOf> outcomes);
  Result<void> CompactCounts();

  std::unique_ptr<pg::Connection> conn_;
  bool in_transaction_ = false;
  int nested_ = 0;
  bool in_read_ = false;  // a read snapshot is open  // nested write transactions (savepoints) open inside it
  // Whether this transaction has created WriteStatuses' temp table (ON COMMIT DROP).
  bool bulk_flags_ready_ = false;
  std::optional<size_t> failed_item_;  // FailedItem()
  int count_statements_ = 0;           // since the last CompactCounts
};

}  // namespace reftrack
