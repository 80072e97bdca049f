#include "store/store.h"

#include <fmt/format.h>

#include <algorithm>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"
#include "util/value_set.h"

namespace reftrack {

WriteTransaction::~WriteTransaction() {
  if (store_ != nullptr) store_->RollbackWrite();
}

ReadSnapshot::~ReadSnapshot() {
  if (store_ != nullptr) store_->EndRead();
}

Result<std::vector<ReferralState>> Store::MatchReferrals(LookupColumn column,
                                                        std::optional<int64_t> campaign_id,
                                                        const ValueSet& values) {
  std::vector<ReferralState> out;
  auto ok = ForEachMatch(column, campaign_id, values,
                         [&out](const ReferralState& r, uint32_t) { out.push_back(r); });
  if (!ok) return std::unexpected(ok.error());
  if (!std::ranges::is_sorted(out, {}, &ReferralState::id)) {
    std::ranges::sort(out, {}, &ReferralState::id);
  }
  return out;
}

Result<void> WriteTransaction::Commit() {
  Store* store = store_;
  store_ = nullptr;
  if (store == nullptr) return Fail(ErrorCode::kStorage, "transaction already finished");
  auto committed = store->CommitWrite();
  if (!committed) store->RollbackWrite();
  return committed;
}

ReferralPage PageOf(std::vector<Referral> rows, int limit) {
  ReferralPage page;
  if (rows.size() > static_cast<size_t>(limit)) {
    rows.resize(limit);
    page.next_before_id = rows.back().id;
  }
  page.referrals = std::move(rows);
  return page;
}

Error DuplicateUser(std::string_view email) {
  return Error{ErrorCode::kDuplicate, fmt::format("user {} exists already", email)};
}

Error DuplicateCampaign(std::string_view name) {
  return Error{ErrorCode::kDuplicate, fmt::format("campaign \"{}\" already exists", name)};
}

Error DuplicateMember(const NewMember& member, DuplicateOf what) {
  if (what == DuplicateOf::kReferralCode) {
    return Error{ErrorCode::kDuplicate, fmt::format("referral code \"{}\" is already taken",
                                                    member.referral_code.value_or(""))};
  }
  return Error{ErrorCode::kDuplicate,
               fmt::format("{} is already a member of this campaign", member.email)};
}

Error InBulkWork(Error error, std::string_view work, std::optional<int64_t> row) {
  std::string where = row ? fmt::format(" ({}, row {})", work, *row) : fmt::format(" ({})", work);
  // Only the stores' own "storage error while ...: " messages have a place for it.
  size_t colon = error.message.find(": ");
  if (error.code == ErrorCode::kStorage && error.message.starts_with("storage error while ") &&
      colon != std::string::npos) {
    error.message.insert(colon, where);
  }
  return error;
}

Result<std::unique_ptr<Store>> Store::Open(std::string_view url, Use use) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return PostgresStore::Open(std::string(url));
  }
  std::string_view path = url;
  if (path.starts_with("sqlite:")) path.remove_prefix(7);
  if (path.empty()) return Fail(ErrorCode::kInvalidInput, "empty database path");
  return SqliteStore::Open(std::string(path), use == Use::kServer);
}

}  // namespace reftrack
