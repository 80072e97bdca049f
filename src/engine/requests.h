// What callers (CLI, HTTP, bulk files) hand the engine: raw text as a person typed
// it. The engine trims, normalizes and validates.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/status.h"

namespace reftrack {

struct MemberInput {
  std::string campaign;
  std::string email;
  std::string name;
  std::string referral_code;
};

struct ReferralInput {
  std::string campaign;
  std::string email;
  std::string name;
  std::string external_id;
  std::string referral_code;
  std::string coupon_code;
  std::string referrer_email;
};

// A reward rule as typed: on "pending", "qualified" or "approved", to "referrer",
// "referred" or "both"; an amount (with its currency) or a description, or both.
struct RewardRuleInput {
  std::string campaign;
  std::string on;
  std::string to;
  std::string amount;
  std::string currency;
  std::string description;
};

// How a person names one referral: `42`, `id:42`, `external:X` or `email:E`, with an
// optional campaign that narrows it.
struct ReferralKey {
  enum class Kind { kId, kExternalId, kEmail };
  Kind kind = Kind::kId;
  int64_t id = 0;
  std::string value;
  std::string campaign;  // empty: any campaign
};

// Who is making a change, and through which way in.
struct ChangeContext {
  ChangeSource source = ChangeSource::kManual;
  std::string actor;
  std::optional<int64_t> batch_id;
};

struct StatusChangeOutcome {
  int64_t referral_id = 0;
  Status from = Status::kPending;
  Status to = Status::kPending;
  bool changed = false;  // false: it already had that status
};

}  // namespace reftrack
