#include "engine/status_writer.h"

#include <fmt/format.h>

#include <algorithm>

#include "domain/status_rules.h"
#include "domain/transition.h"

namespace reftrack {

namespace {

// Referrals whose changes go to the store per call, with their history rows and
// rewards: bounds the memory of a write of a million changes.
constexpr size_t kWriteBatch = 10'000;

// A referral's write, after one more of its steps, which entered `to`: it ends in the
// last step's status, with the timestamp of every status entered on the way set
// (approved is entered through qualified).
void Entered(StatusWrite& write, Status to) {
  write.status = to;
  write.entered_qualified |= to == Status::kQualified || to == Status::kApproved;
  write.entered_approved |= to == Status::kApproved;
  write.entered_denied |= to == Status::kDenied;
}

}  // namespace

Result<StatusChangeOutcome> StatusWriter::Change(Referral& referral, Status to) {
  auto transition = ComputeTransition(referral, to, at_);
  if (!transition) return Fail(ErrorCode::kRefused, transition.error().message);
  StatusChangeOutcome outcome{referral.id, referral.status, to, transition->changed};
  if (!transition->changed) return outcome;
  if (!rules_) {
    // One referral: its campaign's rules are all it needs.
    auto rules = store_.ListRewardRules(referral.campaign_id, false);
    if (!rules) return std::unexpected(rules.error());
    rules_.emplace();
    if (!rules->empty()) (*rules_)[referral.campaign_id] = std::move(*rules);
  }
  StatusStep step{referral.id, referral.referrer_id.value_or(0),
                  static_cast<int32_t>(referral.campaign_id), referral.status, to,
                  referral.ever_qualified()};
  if (auto ok = WriteSweep({&step, 1}); !ok) return std::unexpected(ok.error());
  referral = std::move(transition->after);
  return outcome;
}

Result<void> StatusWriter::Write(std::span<StatusStep> steps) {
  if (steps.empty()) return {};
  if (auto ok = LoadRules(); !ok) return ok;
  std::stable_sort(steps.begin(), steps.end(), [](const StatusStep& a, const StatusStep& b) {
    return a.referral_id < b.referral_id;
  });
  for (size_t start = 0; start < steps.size();) {
    size_t end = std::min(start + kWriteBatch, steps.size());
    while (end < steps.size() && steps[end].referral_id == steps[end - 1].referral_id) ++end;
    if (auto ok = WriteSweep(steps.subspan(start, end - start)); !ok) return ok;
    start = end;
  }
  return {};
}

Result<void> StatusWriter::Created(std::span<const CreatedReferral> referrals) {
  if (referrals.empty()) return {};
  if (auto ok = LoadRules(); !ok) return ok;
  rewards_.clear();
  for (const CreatedReferral& r : referrals) {
    Reward(r.id, r.campaign_id, r.referrer_id, StatusSet{Status::kPending});
  }
  return store_.InsertRewards(rewards_);
}

Result<bool> StatusWriter::RewardsOnCreation(int64_t campaign_id) {
  if (auto ok = LoadRules(); !ok) return std::unexpected(ok.error());
  auto rules = rules_->find(campaign_id);
  return rules != rules_->end() &&
         std::ranges::any_of(rules->second,
                             [](const RewardRule& r) { return r.on == Status::kPending; });
}

Result<void> StatusWriter::LoadRules() {
  if (rules_ && rules_all_) return {};
  auto rules = store_.ListRewardRules(std::nullopt, false);
  if (!rules) return std::unexpected(rules.error());
  rules_.emplace();
  for (RewardRule& rule : *rules) (*rules_)[rule.campaign_id].push_back(std::move(rule));
  rules_all_ = true;
  return {};
}

// `steps`: whole referrals' steps, by referral. Checks each step against the rules
// and the one before it, then writes statuses, history and rewards.
Result<void> StatusWriter::WriteSweep(std::span<const StatusStep> steps) {
  statuses_.clear();
  history_.clear();
  rewards_.clear();
  for (size_t k = 0; k < steps.size(); ++k) {
    const StatusStep& step = steps[k];
    const bool first = k == 0 || steps[k - 1].referral_id != step.referral_id;
    const bool follows = first || (steps[k - 1].to == step.from &&
                                   (steps[k - 1].was_ever_qualified ||
                                    statuses_.back().entered_qualified) == step.was_ever_qualified);
    Verdict verdict = Decide(step.from, step.to, step.was_ever_qualified);
    if (verdict != Verdict::kChange || !follows) {
      return Fail(ErrorCode::kRefused,
                  !follows ? fmt::format("referral {}: a step from {} does not follow its last "
                                         "step to {}",
                                         step.referral_id, StatusName(step.from),
                                         StatusName(steps[k - 1].to))
                  : verdict == Verdict::kUnchanged
                      ? fmt::format("referral {} is {} already", step.referral_id,
                                    StatusName(step.to))
                      : RefusalMessage(step.referral_id, step.from, step.to, verdict));
    }
    history_.push_back({step.referral_id, step.from, step.to, at_, context_.source,
                        context_.actor, context_.batch_id});
    if (first) statuses_.push_back({step.referral_id, step.to, false, false, false});
    Entered(statuses_.back(), step.to);
    Reward(step.referral_id, step.campaign_id,
           step.referrer_id ? std::optional(step.referrer_id) : std::nullopt,
           EnteredStatuses(step.to, step.was_ever_qualified));
  }
  if (auto ok = store_.WriteStatusChanges(statuses_, history_, at_); !ok) return ok;
  return store_.InsertRewards(rewards_);
}

void StatusWriter::Reward(int64_t referral_id, int64_t campaign_id,
                          std::optional<int64_t> referrer_id, StatusSet entered) {
  if (auto rules = rules_->find(campaign_id); rules != rules_->end()) {
    RewardsFor(rules->second, referral_id, referrer_id, entered, at_, rewards_);
  }
}

}  // namespace reftrack
