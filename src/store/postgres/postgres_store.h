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

  Result<Campaign> CreateCampaign(std::string_view name, Micros at) override;
  Result<std::optional<Campaign>> FindCampaign(std::string_view name) override;
  Result<std::vector<Campaign>> ListCampaigns() override;

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

  Result<void> WriteStatusChange(const Referral& after, const StatusChange& change) override;
  Result<std::vector<StatusChange>> History(int64_t referral_id) override;

 protected:
  Result<void> CommitWrite() override;
  void RollbackWrite() override;

 private:
  explicit PostgresStore(std::unique_ptr<pg::Connection> conn) : conn_(std::move(conn)) {}
  Result<void> Migrate();
  Result<std::vector<Referral>> QueryReferrals(std::string_view sql, const pg::Params& params);
  // The slow path of InsertReferrals, for a batch that holds a duplicate.
  Result<void> InsertSkippingDuplicates(size_t count, const std::string& rows,
                                        std::vector<DuplicateOf>& outcomes);

  std::unique_ptr<pg::Connection> conn_;
  bool in_transaction_ = false;
};

}  // namespace reftrack
