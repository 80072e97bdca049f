// The one writer of status changes. Every way a status changes (a PATCH, the CLI's
// set-status, an import, a qualify upload, the demo data) hands its changes to a
// StatusWriter, which checks each against the rules (domain/status_rules.h) and
// writes, in the caller's write transaction: the statuses and their timestamps, the
// history rows, and the rewards the campaigns' rules issue. It also issues the
// rewards of referrals created pending, so no other code computes a reward.
//
// This is where every later write that goes with a status change belongs (events,
// reward holds, audit entries): added here, every way in has it. No other code
// calls the store's status-writing methods (scripts/check-one-writer.sh checks it).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

#include "domain/model.h"
#include "domain/reward.h"
#include "engine/requests.h"
#include "store/store.h"
#include "util/result.h"

namespace reftrack {

// One status change to write: referral `referral_id` of `campaign_id` moves from
// `from` to `to`; `was_ever_qualified` is whether it had been qualified before this
// step. A referral may take several steps in one write; each step's `from` is the
// previous one's `to`. 24 bytes, so an import of a million changes keeps them cheaply.
struct StatusStep {
  int64_t referral_id;
  int64_t referrer_id;  // 0: none
  int32_t campaign_id;  // campaigns are few, their ids small
  Status from, to;
  bool was_ever_qualified;
};

// A referral just created (pending), for the rewards its campaign's pending rules give.
struct CreatedReferral {
  int64_t id = 0;
  int64_t campaign_id = 0;
  std::optional<int64_t> referrer_id;
};

class StatusWriter {
 public:
  // Changes made at `at` by `context` (the history's source, actor and batch).
  StatusWriter(Store& store, Micros at, ChangeContext context)
      : store_(store), at_(at), context_(std::move(context)) {}

  // A batch of one: moves `referral` (read by Store::LockReferral in this transaction)
  // to `to` and updates it to what was written. A refusal is ErrorCode::kRefused, naming
  // the rule, and writes nothing; the same status writes nothing and is no error.
  Result<StatusChangeOutcome> Change(Referral& referral, Status to);

  // Writes `steps`, which it reorders: by referral, each referral's steps in the order
  // given (changes of different referrals commute), so the table, the history's index
  // and the rewards' key are each written in one sweep. Every step must be allowed by
  // the rules and change the status: a caller plans them so, and a step that is not is
  // kRefused, failing the write (the caller's transaction then keeps none of it).
  Result<void> Write(std::span<StatusStep> steps);

  // Issues the rewards of referrals created pending.
  Result<void> Created(std::span<const CreatedReferral> referrals);
  // Whether Created() would issue anything for a referral of `campaign_id` (one of its
  // rules is on pending): a bulk load reads back the ids of only those.
  Result<bool> RewardsOnCreation(int64_t campaign_id);

 private:
  Result<void> LoadRules();
  Result<void> WriteSweep(std::span<const StatusStep> steps);
  void Reward(int64_t referral_id, int64_t campaign_id, std::optional<int64_t> referrer_id,
              StatusSet entered);

  Store& store_;
  Micros at_;
  ChangeContext context_;
  // The active reward rules by campaign id, read at the first write that needs them:
  // every campaign's (rules_all_), or for Change() only its referral's campaign's.
  std::optional<std::unordered_map<int64_t, std::vector<RewardRule>>> rules_;
  bool rules_all_ = false;
  std::vector<StatusWrite> statuses_;
  std::vector<StatusChange> history_;
  std::vector<NewReward> rewards_;
};

}  // namespace reftrack
