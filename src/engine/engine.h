// The engine: every way in (CLI, HTTP, bulk files) calls these, and every status
// change goes through the one StatusWriter (engine/status_writer.h), which checks
// the rules and writes status, timestamps, history and rewards in the caller's
// transaction.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "domain/model.h"
#include "engine/requests.h"
#include "store/store.h"
#include "util/result.h"
#include "util/time.h"

namespace reftrack {

struct ReferralDetails {
  Referral referral;
  std::vector<StatusChange> history;
  std::vector<Reward> rewards;
};

struct RewardQuery {
  std::string campaign;  // name; empty: all
  std::optional<int64_t> referral_id;
  std::optional<RewardState> state;
  std::string member;  // a referrer's email: the rewards they earned; empty: all
};

struct ListRequest {
  std::optional<Status> status;
  std::string campaign;  // name; empty: all
  std::string query;
  std::string cursor;  // from an earlier page's next_cursor; empty: first page
  int limit = 50;
};

struct ListResult {
  std::vector<Referral> referrals;
  std::string next_cursor;  // empty on the last page
};

// Referrals counted by status, and how many of them were ever qualified.
struct StatusCounts {
  int64_t total = 0;
  std::array<int64_t, 4> by_status{};  // indexed by Status
  int64_t ever_qualified = 0;
};

struct CampaignCounts {
  Campaign campaign;
  StatusCounts counts;
};

// What the web page's lists and dashboard show: all referrals (of one campaign when
// asked), and each campaign's.
struct ReferralStats {
  StatusCounts all;
  std::vector<CampaignCounts> campaigns;
};

// An import or qualify upload as recorded, with its errors by row.
struct ImportWithErrors {
  ImportRecord record;
  std::vector<RowError> errors;
};

// Parses `42`, `id:42`, `external:X`, `email:E`.
Result<ReferralKey> ParseReferralKey(std::string_view text);

class Engine {
 public:
  // `store` must outlive the engine. Not thread-safe: one engine per thread.
  explicit Engine(Store& store, Clock clock = NowMicros)
      : store_(store), clock_(std::move(clock)) {}

  // An engine on a store of its own, opened from `url` (Store::Open: a file path,
  // "sqlite:PATH" or "postgresql://..."; pending migrations applied). The ways in
  // (cli/, http/) open the database only this way.
  using Use = Store::Use;
  static Result<std::unique_ptr<Engine>> Open(std::string_view url, Use use = Use::kCommand);

  // --- transactions (engine/transactions.cc)
  // A read snapshot: until it ends, every read of this engine sees the database as of
  // one moment. Inside an open transaction it is that transaction's.
  Result<ReadSnapshot> BeginRead();

  // The retry policy of writes. A write that the database refused for a conflict with
  // another transaction (Error::conflict: on PostgreSQL a deadlock victim or a
  // serialization failure) kept nothing and is run again, up to kWriteTries times in
  // all, waiting kRetryBackoff times the number of failed tries before each new one.
  // Any other error is final. SQLite never reports a conflict: its writers wait for
  // the one write lock.
  static constexpr int kWriteTries = 4;
  static constexpr std::chrono::milliseconds kRetryBackoff{5};
  static bool IsRetryable(const Error& error);

  // Runs `fn` (returning Result<T>) inside one write transaction and commits it when
  // `fn` succeeds; an error of `fn` rolls back what it wrote. Engine writes inside
  // `fn` nest in it (each its own savepoint), so they commit together. When `fn` or
  // the commit fails retryably, all of it is rolled back and run again, at most
  // `tries` times in all. Inside another InWriteTransaction it nests and is tried
  // once: a conflict fails the outer transaction too, which is the one run again.
  template <class Fn>
  std::invoke_result_t<Fn&> InWriteTransaction(Fn&& fn, int tries = kWriteTries);
  // Runs `fn` (returning Result<T>), which writes in transactions of its own (a bulk
  // import opens one in its own mode), again while it fails retryably, at most `tries`
  // times in all: each run must start its work over (read its file again).
  template <class Fn>
  std::invoke_result_t<Fn&> RetryingWrites(Fn&& fn, int tries = kWriteTries);

  // Housekeeping a long-running server does off the request path, from an engine of
  // its own (SQLite: a passive checkpoint; PostgreSQL: nothing). A failure is retried
  // at the next turn.
  Result<void> Housekeep();

  // --- what the ways in list and look up (engine/listings.cc)
  Result<std::vector<Campaign>> Campaigns();
  // The campaign named `name` (trimmed), if there is one.
  Result<std::optional<Campaign>> FindCampaign(std::string_view name);
  // The members (referrers) of the campaign named `campaign`, or kNotFound.
  Result<std::vector<Member>> Members(std::string_view campaign);
  // An import's (or qualify upload's) record and errors, read in one snapshot, or
  // kNotFound ("no import ID").
  Result<ImportWithErrors> ImportErrors(int64_t import_id);
  // Copies the database into a new file at `path` (Store::Backup; SQLite only).
  Result<Store::BackupResult> Backup(const std::string& path);

  // A new campaign; its currency is USD unless `currency` names another.
  Result<Campaign> AddCampaign(std::string_view name, std::string_view currency = {});
  Result<Member> AddMember(const MemberInput& input);
  Result<Referral> AddReferral(const ReferralInput& input);

  // The id of the campaign named `name` (trimmed), or kNotFound saying it does not exist.
  Result<int64_t> RequireCampaign(std::string_view name);

  // Exactly one referral, or kNotFound / kAmbiguous with a message that says what to add.
  Result<Referral> Resolve(const ReferralKey& key);
  // The referral, its history and rewards, read in one snapshot; by key, resolved in
  // that snapshot too.
  Result<ReferralDetails> Details(int64_t referral_id);
  Result<ReferralDetails> Details(const ReferralKey& key);
  Result<ListResult> List(const ListRequest& request);
  // Counts of every campaign, or of the one named `campaign` when not empty.
  Result<ReferralStats> CountReferrals(std::string_view campaign);

  // Reward rules (SPEC §3). A rule on denied is refused, naming why.
  Result<RewardRule> AddRewardRule(const RewardRuleInput& input);
  Result<std::vector<RewardRule>> RewardRules(std::string_view campaign);
  // Sets the currency of the campaign named `name` (three letters): what its reward
  // rules' amounts are in when a rule names none. New campaigns have USD.
  Result<Campaign> SetCampaignCurrency(std::string_view name, std::string_view currency);
  Result<void> RemoveRewardRule(int64_t id);
  Result<std::vector<Reward>> Rewards(const RewardQuery& query);
  // Marks issued rewards paid; returns how many were issued (the others were paid or
  // do not exist).
  Result<int64_t> MarkRewardsPaid(std::span<const int64_t> ids);

  // One status change in its own transaction. A `note` replaces the referral's note in
  // the same transaction (also when the status is unchanged).
  Result<StatusChangeOutcome> ChangeStatus(int64_t referral_id, Status to,
                                           const ChangeContext& context,
                                           const std::optional<std::string>& note = std::nullopt);

  // API keys (SPEC §6). AddApiKey returns the key itself, which is never stored; an
  // empty `name` becomes "key-N".
  struct NewApiKey {
    ApiKey key;
    std::string secret;
  };
  Result<NewApiKey> AddApiKey(std::string_view name, std::string_view scope);
  Result<std::vector<ApiKey>> ApiKeys();
  Result<void> RevokeApiKey(int64_t id);
  // The active key whose secret is `secret`, or kNotFound.
  Result<ApiKey> Authenticate(std::string_view secret);

  // People who sign in to the web page (engine/users.cc). A password is at least
  // kMinPasswordLength characters and is stored only as its argon2id hash.
  Result<User> AddUser(std::string_view email, std::string_view password);
  Result<int64_t> UserCount();
  // The user whose password this is, or kUnauthenticated (the same answer, after the
  // same wait, for an unknown email and a wrong password). Reads only: it takes about
  // 0.1 s, so the server runs it off its writer.
  Result<User> CheckPassword(std::string_view email, std::string_view password);
  // A new session for `user`, and the token for its cookie (stored only as a hash).
  struct SignedIn {
    Session session;
    std::string token;
  };
  Result<SignedIn> StartSession(const User& user);
  // The live session whose cookie token is `token`, or kUnauthenticated.
  Result<Session> SessionFor(std::string_view token);
  Result<void> SignOut(std::string_view token);

  // The engine's store, for the engine's own files (bulk plans, the check) and for
  // tests. cli/ and http/ never call it: they reach the database through the methods
  // above.
  Store& store() { return store_; }
  Micros Now() { return clock_(); }

 private:
  Result<std::optional<int64_t>> CampaignId(std::string_view name);
  // One try of InWriteTransaction / RetryingWrites, type-erased.
  using Attempt = std::function<Result<void>()>;
  Result<void> RunInWriteTransaction(const Attempt& attempt, int tries);
  Result<void> RunRetrying(const Attempt& attempt, int tries);

  std::unique_ptr<Store> owned_;  // set by Open
  Store& store_;
  Clock clock_;
  int write_depth_ = 0;  // InWriteTransaction calls open
};

namespace engine_detail {

// Runs `fn` through `run` (which may call it several times), keeping its last value.
template <class Fn, class Run>
std::invoke_result_t<Fn&> KeepingValue(Fn& fn, const Run& run) {
  using R = std::invoke_result_t<Fn&>;
  std::optional<R> last;
  Result<void> done = run([&]() -> Result<void> {
    last.emplace(fn());
    if (!*last) return std::unexpected(last->error());
    return {};
  });
  if (!done) return R(std::unexpected(done.error()));
  return std::move(*last);
}

}  // namespace engine_detail

template <class Fn>
std::invoke_result_t<Fn&> Engine::InWriteTransaction(Fn&& fn, int tries) {
  return engine_detail::KeepingValue(
      fn, [&](const Attempt& attempt) { return RunInWriteTransaction(attempt, tries); });
}

template <class Fn>
std::invoke_result_t<Fn&> Engine::RetryingWrites(Fn&& fn, int tries) {
  return engine_detail::KeepingValue(
      fn, [&](const Attempt& attempt) { return RunRetrying(attempt, tries); });
}

}  // namespace reftrack
