// `reftrack check` (SPEC §13): the database's invariants, checked from a stream of
// what is stored. Checker is pure: it is fed referrals (with their history) in id
// order and reward keys in (referral, rule, recipient) order and keeps only what one
// referral needs, so a million referrals check in bounded memory. RunCheck feeds it
// from a store.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"
#include "util/result.h"

namespace reftrack {

// The kinds of problem, as `--json` names them.
inline constexpr const char* kProblemIntegrity = "integrity";       // the database file
inline constexpr const char* kProblemHistory = "history";           // a step the rules forbid
inline constexpr const char* kProblemStatus = "status";             // status vs. its history
inline constexpr const char* kProblemQualifiedAt = "qualified_at";  // not the first qualification
inline constexpr const char* kProblemDuplicateReward = "duplicate_reward";
inline constexpr const char* kProblemNotNormalized = "not_normalized";
inline constexpr const char* kProblemDuplicate = "duplicate";  // equal once normalized

struct CheckProblem {
  std::string kind;
  int64_t referral = 0;  // 0 when the problem is not one referral's
  std::string message;   // what, expected vs found
};

struct CheckReport {
  int64_t referrals_checked = 0;
  int64_t history_rows_checked = 0;
  int64_t rewards_checked = 0;
  // False on a store without a file check of its own (PostgreSQL).
  bool integrity_checked = false;
  std::vector<CheckProblem> problems;     // the first `max_listed`, in the order found
  std::map<std::string, int64_t> counts;  // every problem, by kind
  int64_t problem_count = 0;
  // What was not checked, and why.
  std::vector<std::string> notes;

  bool ok() const { return problem_count == 0; }
};

// A stored key that is not in its normalized form: the look-up RunCheck makes for
// what it would collide with.
struct UnnormalizedKey {
  LookupColumn column;
  int64_t referral = 0;
  int64_t campaign_id = 0;
  std::string normalized;
};

class Checker {
 public:
  explicit Checker(size_t max_listed = 1000) : max_listed_(max_listed) {}

  void AddIntegrityMessages(const std::vector<std::string>& messages);
  // In id order. Replays its history from pending through domain/status_rules.h;
  // rows with source `override` (SPEC §10) may make any change.
  void AddReferral(const Store::StoredReferral& referral);
  // In (referral, rule, recipient) order: equal neighbours are duplicates.
  void AddReward(const Store::StoredRewardKey& reward);
  // Two referrals whose `column` values are equal once normalized.
  void AddCollision(LookupColumn column, int64_t a, int64_t b, const std::string& normalized);

  // The keys AddReferral found not normalized (the first 100,000; the rest are
  // counted but not looked up).
  const std::vector<UnnormalizedKey>& unnormalized() const { return unnormalized_; }

  void Note(std::string note) { report_.notes.push_back(std::move(note)); }
  void SetIntegrityChecked() { report_.integrity_checked = true; }
  CheckReport Finish() { return std::move(report_); }

 private:
  void Problem(const char* kind, int64_t referral, std::string message);
  void CheckKey(LookupColumn column, const Store::StoredReferral& r, const std::string& value);

  size_t max_listed_;
  CheckReport report_;
  std::optional<Store::StoredRewardKey> last_reward_;
  std::vector<UnnormalizedKey> unnormalized_;
};

// The name a column has in messages: "email", "external id", ...
const char* KeyName(LookupColumn column);

struct CheckOptions {
  size_t max_listed = 1000;
  bool quick = false;  // the store's quicker file check (SQLite: PRAGMA quick_check)
};

// Runs every check on `store` inside one read snapshot.
Result<CheckReport> RunCheck(Store& store, const CheckOptions& options = {});
// The same on the engine's database (what `reftrack check` runs).
inline Result<CheckReport> RunCheck(Engine& engine, const CheckOptions& options = {}) {
  return RunCheck(engine.store(), options);
}

}  // namespace reftrack
