// What the engine needs from a database. SqliteStore (and later PostgresStore)
// implement it; nothing above this interface knows which one runs.
//
// A Store object is used by one thread at a time. Separate Store objects (in one
// process or several) may share one database: write transactions serialize, and
// LockReferral() holds the referral until the transaction ends.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/api_key.h"
#include "domain/model.h"
#include "domain/reward.h"
#include "domain/user.h"
#include "util/result.h"

namespace reftrack {

class Store;
class ValueSet;  // util/value_set.h

// A write transaction: rolled back when destroyed without Commit().
class WriteTransaction {
 public:
  explicit WriteTransaction(Store* store) : store_(store) {}
  WriteTransaction(WriteTransaction&& other) noexcept : store_(other.store_) {
    other.store_ = nullptr;
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;
  ~WriteTransaction();

  Result<void> Commit();

 private:
  Store* store_;
};

// A read snapshot: until it ends (when destroyed), every read of its store sees the
// database as it was at one moment, whatever other writers commit meanwhile.
class ReadSnapshot {
 public:
  explicit ReadSnapshot(Store* store) : store_(store) {}
  ReadSnapshot(ReadSnapshot&& other) noexcept : store_(other.store_) { other.store_ = nullptr; }
  ReadSnapshot(const ReadSnapshot&) = delete;
  ReadSnapshot& operator=(const ReadSnapshot&) = delete;
  ~ReadSnapshot();

 private:
  Store* store_;
};

// Which unique value an insert would have duplicated.
enum class DuplicateOf { kNone, kEmail, kExternalId, kReferralCode, kCouponCode };

// Outcome of inserting one referral of a batch: its new id, or what it duplicates.
struct InsertOutcome {
  int64_t id = 0;
  DuplicateOf duplicate = DuplicateOf::kNone;
};

// A column that identifies referrals in a bulk look-up.
enum class LookupColumn { kEmail, kExternalId, kReferralCode, kCouponCode };

// Where one write's status changes left one referral: its last status, and the
// statuses it entered on the way. Every change of one write happens at one moment
// (`at` of WriteStatusChanges), so the timestamps it sets are that moment, as
// ApplyTransition sets them: qualified_at when the referral entered qualified or
// approved and had none, approved_at and denied_at when it entered those.
struct StatusWrite {
  int64_t id = 0;
  Status status = Status::kPending;
  bool entered_qualified = false;  // qualified or approved
  bool entered_approved = false;
  bool entered_denied = false;
};

// Which rewards a listing returns; every field narrows it.
struct RewardFilter {
  std::optional<int64_t> campaign_id;
  std::optional<int64_t> referral_id;
  std::optional<RewardState> state;
  std::optional<std::string> member_email;  // normalized: the rewards this referrer earned
};

// How many referrals of one campaign have one status, split by whether they were
// ever qualified (qualified_at set): what the dashboard's funnel adds up.
struct StatusCount {
  int64_t campaign_id = 0;
  Status status = Status::kPending;
  bool ever_qualified = false;
  int64_t count = 0;
};

// A page of `limit` referrals from `rows`, which the store read with LIMIT limit + 1:
// an extra row means there is a next page, which starts below the page's last id.
ReferralPage PageOf(std::vector<Referral> rows, int limit);

// The messages both stores give for a duplicate campaign or member.
Error DuplicateCampaign(std::string_view name);
Error DuplicateUser(std::string_view email);
Error DuplicateMember(const NewMember& member, DuplicateOf what);
// A store's error with where in bulk work it happened: "storage error while
// inserting referrals: x" becomes "storage error while inserting referrals
// (referral load, row 12): x" for `work` "referral load" and `row` 12.
Error InBulkWork(Error error, std::string_view work, std::optional<int64_t> row);

class Store {
 public:
  virtual ~Store() = default;

  // Who opens the store: a command that runs and ends (its memory should be its
  // own), or the server, which keeps connections open for many concurrent readers
  // (SQLite then maps the database file, shared by every connection).
  enum class Use { kCommand, kServer };

  // Opens `url`: a file path, "sqlite:PATH", or "postgresql://...".
  // Applies pending migrations before returning.
  static Result<std::unique_ptr<Store>> Open(std::string_view url, Use use = Use::kCommand);

  // How a write transaction will be used.
  enum class WriteMode {
    kNormal,
    // A bulk load or import whose every reference (campaign, referrer) the engine has
    // checked inside this transaction: the store may skip re-checking them row by row.
    // Bulk writers also wait for each other (on PostgreSQL an advisory lock; SQLite's
    // write lock already does), so two imports locking many rows cannot deadlock.
    kBulk,
    // A bulk write (as kBulk) whose changes come in id order, so each page is written
    // once and then left: the store may keep a small page cache for it.
    kBulkInIdOrder,
  };

  // Starts a write transaction. Blocks (up to a timeout) while another writer holds one.
  // Inside an open write transaction it starts a nested one (a savepoint; `mode` is
  // ignored): its Commit() keeps its changes for the outer one to commit, its rollback
  // undoes only them. That is how the HTTP server commits many requests at once.
  virtual Result<WriteTransaction> BeginWrite(WriteMode mode = WriteMode::kNormal) = 0;
  // Starts a read snapshot (no writes until it ends). Never blocks writers. Inside an
  // open transaction (read or write) it is that transaction's, and ending it ends nothing.
  virtual Result<ReadSnapshot> BeginRead() = 0;

  // --- housekeeping for a long-running server
  // Work a store can do off the request path, from a connection of its own. SQLite:
  // copies the write-ahead log into the database file (a passive checkpoint), without
  // blocking readers or writers, so that the checkpoint a commit runs when the log is
  // long finds little left to copy. PostgreSQL: nothing.
  virtual Result<void> Checkpoint() { return {}; }

  // --- campaigns
  virtual Result<Campaign> CreateCampaign(std::string_view name, Micros at) = 0;
  virtual Result<std::optional<Campaign>> FindCampaign(std::string_view name) = 0;
  virtual Result<std::vector<Campaign>> ListCampaigns() = 0;
  // Inside a write transaction: false when no campaign has that id.
  virtual Result<bool> SetCampaignCurrency(int64_t id, std::string_view currency) = 0;

  // --- members
  virtual Result<Member> CreateMember(const NewMember& member, Micros at) = 0;
  virtual Result<std::optional<Member>> FindMember(int64_t campaign_id, std::string_view email) = 0;
  virtual Result<std::vector<Member>> ListMembers(int64_t campaign_id) = 0;

  // --- referrals
  // Inserts one referral inside the caller's write transaction: its new id, or, when
  // it would duplicate an existing one (email or external id in its campaign,
  // referral or coupon code anywhere), what it duplicates.
  virtual Result<InsertOutcome> InsertReferral(const NewReferral& referral) = 0;
  // The same for a batch, in order: outcomes[i] is kNone when referrals[i] was
  // inserted, else what it duplicates (in the table or earlier in the batch).
  virtual Result<void> InsertReferrals(std::span<const NewReferral> referrals,
                                       std::vector<DuplicateOf>& outcomes) = 0;
  virtual Result<std::optional<Referral>> GetReferral(int64_t id) = 0;
  // Inside a write transaction: reads the referral and holds it until the end of the
  // transaction, so no other writer can change it meanwhile.
  virtual Result<std::optional<Referral>> LockReferral(int64_t id) = 0;
  // Referrals whose email (normalized) or external id is `value`, in one campaign or all.
  virtual Result<std::vector<Referral>> FindReferralsByEmail(
      std::string_view email, std::optional<int64_t> campaign_id) = 0;
  virtual Result<std::vector<Referral>> FindReferralsByExternalId(
      std::string_view external_id, std::optional<int64_t> campaign_id) = 0;
  virtual Result<ReferralPage> ListReferrals(const ReferralFilter& filter) = 0;

  // --- bulk reads and writes (imports, qualify uploads)
  // Referrals with one of `ids`, or whose `column` holds one of `values` (normalized),
  // in any campaign, in no particular order; unknown values are left out. These
  // leave `campaign` and `referrer_email` empty. Inside a write transaction the
  // referrals read are held until it ends, as LockReferral() does. They may leave
  // `created_at` unset too: bulk plans do not need it.
  virtual Result<std::vector<Referral>> FindReferralsByIds(std::span<const int64_t> ids) = 0;
  virtual Result<std::vector<Referral>> FindReferralsBy(LookupColumn column,
                                                        std::span<const std::string> values) = 0;
  // The referrals of `campaign_id` (or of every campaign) whose `column` holds one of
  // `values`, in id order: a set operation, done however suits the store and the
  // sizes (look-ups for a few values, one pass over the table for many). Inside a
  // write transaction the referrals read are held until it ends.
  Result<std::vector<ReferralState>> MatchReferrals(LookupColumn column,
                                                    std::optional<int64_t> campaign_id,
                                                    const ValueSet& values);
  // The same set operation, handing each referral found to `found` with the index in
  // `values` of the value it matched, in no particular order: what a caller that
  // keeps less than the whole state, or needs to know which value matched, asks for.
  using MatchFn = std::function<void(const ReferralState&, uint32_t value)>;
  virtual Result<void> ForEachMatch(LookupColumn column, std::optional<int64_t> campaign_id,
                                    const ValueSet& values, const MatchFn& found) = 0;
  // Inside a write transaction: stores each referral's name, email, external id and
  // note, in order (an email moved away before another takes it). Its status is
  // not written here: statuses change only through WriteStatusChanges.
  virtual Result<void> WriteReferralFields(std::span<const Referral> referrals) = 0;
  // Inside a write transaction, and called by the engine's StatusWriter only
  // (engine/status_writer.h), which decided what the rules allow: sets each
  // referral's status, its status_changed_at to `at` and the timestamps its flags
  // name (SQL only: nothing is read first), and appends `history` in order. The ids
  // of `statuses` are distinct.
  virtual Result<void> WriteStatusChanges(std::span<const StatusWrite> statuses,
                                          std::span<const StatusChange> history, Micros at) = 0;

  // --- imports and uploads
  // Inside a write transaction: records `record` (its id is ignored) and returns its id.
  virtual Result<int64_t> CreateImport(const ImportRecord& record) = 0;
  // Inside the same transaction: stores the import's SHA-256 (known once the file is
  // read), counts, end time and errors.
  virtual Result<void> FinishImport(const ImportRecord& record,
                                    std::span<const RowError> errors) = 0;
  virtual Result<std::optional<ImportRecord>> GetImport(int64_t id) = 0;
  // The import's errors, by row.
  virtual Result<std::vector<RowError>> ImportErrors(int64_t id) = 0;

  // --- reward rules and rewards (SPEC §3)
  // Inside a write transaction: stores `rule` (its id is ignored) and returns it.
  virtual Result<RewardRule> CreateRewardRule(const RewardRule& rule) = 0;
  // The rules of one campaign or of all, oldest first; removed ones only on request.
  virtual Result<std::vector<RewardRule>> ListRewardRules(std::optional<int64_t> campaign_id,
                                                          bool include_removed) = 0;
  // Inside a write transaction: marks the rule removed (it issues nothing more);
  // false when no such rule is active.
  virtual Result<bool> RemoveRewardRule(int64_t id, Micros at) = 0;
  // Inside a write transaction: stores `rewards`, skipping each whose (rule, referral,
  // recipient) is stored already, by this or any other writer (a unique constraint).
  virtual Result<void> InsertRewards(std::span<const NewReward> rewards) = 0;
  // Rewards with their campaign's name and the recipient's email, oldest first.
  virtual Result<std::vector<Reward>> ListRewards(const RewardFilter& filter) = 0;
  // Inside a write transaction: marks the issued rewards among `ids` paid at `at`;
  // returns how many it marked.
  virtual Result<int64_t> MarkRewardsPaid(std::span<const int64_t> ids, Micros at) = 0;

  // --- API keys
  // Inside a write transaction: stores `key` (its id is ignored) and returns it.
  virtual Result<ApiKey> CreateApiKey(const ApiKey& key) = 0;
  // The key whose hash is `hash`, revoked or not.
  virtual Result<std::optional<ApiKey>> FindApiKey(std::string_view hash) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys() = 0;
  // Inside a write transaction: false when no such key is active.
  virtual Result<bool> RevokeApiKey(int64_t id, Micros at) = 0;

  // --- users of the web page and their sessions
  // Inside a write transaction: stores `user` (its id is ignored) and returns it;
  // kDuplicate when its email has an account already.
  virtual Result<User> CreateUser(const User& user) = 0;
  virtual Result<std::optional<User>> FindUser(std::string_view email) = 0;
  virtual Result<int64_t> CountUsers() = 0;
  // Inside a write transaction: stores `session` and drops the sessions that expired
  // before it was made.
  virtual Result<void> CreateSession(const Session& session) = 0;
  // The session whose token hash is `token_hash`, with its user's email, unless it
  // expired before `now`.
  virtual Result<std::optional<Session>> FindSession(std::string_view token_hash, Micros now) = 0;
  // Inside a write transaction.
  virtual Result<void> DeleteSession(std::string_view token_hash) = 0;

  // Referrals counted by campaign, status and ever qualified.
  virtual Result<std::vector<StatusCount>> CountReferrals() = 0;

  virtual Result<std::vector<StatusChange>> History(int64_t referral_id) = 0;

  // --- operations (`reftrack check`, `reftrack backup`; SPEC §13)
  // The whole database read in order, a row at a time, so a million referrals take
  // bounded memory. Texts are as stored, not parsed, so a value the domain does not
  // know (a status, a source) is seen as it is. Call inside a ReadSnapshot.
  struct StoredChange {
    int64_t id = 0;
    std::string from, to, source;
    std::optional<Micros> at;  // nullopt when not a timestamp
  };
  struct StoredReferral {
    int64_t id = 0;
    int64_t campaign_id = 0;
    std::string status;
    std::optional<Micros> qualified_at;
    std::string email;
    std::optional<std::string> external_id, referral_code, coupon_code;
    std::vector<StoredChange> history;  // in id order
  };
  // Every referral with its history, in id order.
  using StoredReferralFn = std::function<void(const StoredReferral&)>;
  virtual Result<void> ForEachStoredReferral(const StoredReferralFn& each) = 0;
  struct StoredRewardKey {
    int64_t id = 0, referral_id = 0, rule_id = 0;
    std::string recipient;
  };
  // Every reward's (referral, rule, recipient), ordered by them and then id.
  using StoredRewardFn = std::function<void(const StoredRewardKey&)>;
  virtual Result<void> ForEachRewardKey(const StoredRewardFn& each) = 0;
  // The database engine's own check of its files: its messages (empty when sound),
  // or nullopt when the store has none to run (PostgreSQL). `quick`: skip what is
  // slow (SQLite: that every index matches its table, most of the time).
  virtual Result<std::optional<std::vector<std::string>>> IntegrityCheck(bool quick) = 0;
  struct BackupResult {
    int64_t bytes = 0;
    int64_t pages = 0;
  };
  // Copies the database, consistent as of one moment, into a new file at `path`
  // (replacing one there), while other connections keep writing. PostgreSQL:
  // kInvalidInput, saying to use pg_dump.
  virtual Result<BackupResult> Backup(const std::string& path) = 0;
  // After InsertReferrals or WriteReferralFields failed: the index in its span of the
  // item whose statement the database refused, when the store can tell.
  virtual std::optional<size_t> FailedItem() const { return std::nullopt; }

 protected:
  friend class WriteTransaction;
  friend class ReadSnapshot;
  virtual Result<void> CommitWrite() = 0;
  virtual void RollbackWrite() = 0;
  virtual void EndRead() = 0;
};

}  // namespace reftrack
