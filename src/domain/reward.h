// Reward rules and rewards (SPEC §3): which statuses a change enters, and which
// rewards a campaign's rules issue for it. Plain values and pure functions; the store
// keeps each (rule, referral, recipient) at most once.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "domain/status.h"
#include "util/time.h"

namespace reftrack {

// Who a rule rewards, and who one reward goes to.
enum class RuleRecipients { kReferrer, kReferred, kBoth };
enum class Recipient { kReferrer, kReferred };
enum class RewardState { kIssued, kPaid };

std::string_view RuleRecipientsName(RuleRecipients r);
std::optional<RuleRecipients> ParseRuleRecipients(std::string_view text);
std::string_view RecipientName(Recipient r);
std::optional<Recipient> ParseRecipient(std::string_view text);
std::string_view RewardStateName(RewardState s);
std::optional<RewardState> ParseRewardState(std::string_view text);

struct RewardRule {
  int64_t id = 0;
  int64_t campaign_id = 0;
  Status on = Status::kApproved;  // never denied
  RuleRecipients to = RuleRecipients::kReferrer;
  std::optional<std::string> amount;  // a decimal, e.g. "50.00"
  std::string currency;               // with an amount: ISO 4217, e.g. "USD"
  std::string description;            // e.g. "a free month"
  Micros created_at = 0;
  std::optional<Micros> removed_at;  // a removed rule issues nothing more
};

struct Reward {
  int64_t id = 0;
  int64_t rule_id = 0;
  int64_t referral_id = 0;
  Recipient recipient = Recipient::kReferrer;
  std::optional<int64_t> member_id;  // the referrer, for a referrer's reward
  // The rule's terms (rules never change, so the store keeps them with the rule).
  std::optional<std::string> amount;
  std::string currency;
  std::string description;
  RewardState state = RewardState::kIssued;
  Micros issued_at = 0;
  std::optional<Micros> paid_at;
  // Filled by listings: the campaign's name and the email of whom it goes to.
  std::string campaign;
  std::string recipient_email;
};

// A reward to issue: all the store keeps of it (its terms are its rule's, its
// referrer its referral's, and it starts issued).
struct NewReward {
  int64_t referral_id = 0;
  int64_t rule_id = 0;
  Recipient recipient = Recipient::kReferrer;
  Micros issued_at = 0;
};

// A set of statuses, one bit each.
class StatusSet {
 public:
  StatusSet() = default;
  StatusSet(std::initializer_list<Status> statuses) {
    for (Status s : statuses) Add(s);
  }
  void Add(Status s) { bits_ |= 1u << static_cast<int>(s); }
  bool Has(Status s) const { return (bits_ & (1u << static_cast<int>(s))) != 0; }
  bool empty() const { return bits_ == 0; }

 private:
  unsigned bits_ = 0;
};

// The statuses a referral enters by moving to `to`: `to` itself, and qualified too
// when it is approved without having been qualified before (the pass-through of
// SPEC §2). Creating a referral enters pending.
StatusSet EnteredStatuses(Status to, bool was_ever_qualified);

// The rewards `rules` (the referral's campaign's active rules) issue to a referral
// entering `entered` at `at`: one per rule and recipient; none to a referrer the
// referral does not have. The store drops any it has issued before.
void RewardsFor(std::span<const RewardRule> rules, int64_t referral_id,
                std::optional<int64_t> referrer_id, StatusSet entered, Micros at,
                std::vector<NewReward>& out);

}  // namespace reftrack
