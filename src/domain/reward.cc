#include "domain/reward.h"

#include <array>
#include <utility>

#include "domain/normalize.h"

namespace reftrack {

namespace {

template <class E, size_t N>
std::optional<E> ParseName(const std::array<std::pair<E, std::string_view>, N>& names,
                           std::string_view text) {
  std::string lower = LowerAscii(Trim(text));
  for (const auto& [value, name] : names) {
    if (lower == name) return value;
  }
  return std::nullopt;
}

template <class E, size_t N>
std::string_view NameOf(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "";
}

constexpr std::array<std::pair<RuleRecipients, std::string_view>, 3> kRuleRecipients = {
    {{RuleRecipients::kReferrer, "referrer"},
     {RuleRecipients::kReferred, "referred"},
     {RuleRecipients::kBoth, "both"}}};
constexpr std::array<std::pair<Recipient, std::string_view>, 2> kRecipients = {
    {{Recipient::kReferrer, "referrer"}, {Recipient::kReferred, "referred"}}};
constexpr std::array<std::pair<RewardState, std::string_view>, 2> kStates = {
    {{RewardState::kIssued, "issued"}, {RewardState::kPaid, "paid"}}};

}  // namespace

std::string_view RuleRecipientsName(RuleRecipients r) { return NameOf(kRuleRecipients, r); }
std::optional<RuleRecipients> ParseRuleRecipients(std::string_view text) {
  return ParseName(kRuleRecipients, text);
}
std::string_view RecipientName(Recipient r) { return NameOf(kRecipients, r); }
std::optional<Recipient> ParseRecipient(std::string_view text) {
  return ParseName(kRecipients, text);
}
std::string_view RewardStateName(RewardState s) { return NameOf(kStates, s); }
std::optional<RewardState> ParseRewardState(std::string_view text) {
  return ParseName(kStates, text);
}

StatusSet EnteredStatuses(Status to, bool was_ever_qualified) {
  StatusSet entered{to};
  if (to == Status::kApproved && !was_ever_qualified) entered.Add(Status::kQualified);
  return entered;
}

void RewardsFor(std::span<const RewardRule> rules, int64_t referral_id,
                std::optional<int64_t> referrer_id, StatusSet entered, Micros at,
                std::vector<NewReward>& out) {
  for (const RewardRule& rule : rules) {
    if (rule.removed_at || !entered.Has(rule.on)) continue;
    if (rule.to != RuleRecipients::kReferred && referrer_id) {
      out.push_back({referral_id, rule.id, Recipient::kReferrer, at});
    }
    if (rule.to != RuleRecipients::kReferrer) {
      out.push_back({referral_id, rule.id, Recipient::kReferred, at});
    }
  }
}

}  // namespace reftrack
