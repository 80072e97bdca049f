// What a status change does to a referral, computed without touching storage: the
// rules (status_rules.h) and the timestamps of SPEC §2. Bulk plans run it in memory;
// the engine runs it and then writes the result.
#pragma once

#include <expected>
#include <string>

#include "domain/model.h"
#include "domain/status_rules.h"

namespace reftrack {

struct Transition {
  Referral after;     // the referral once changed (equal to before when unchanged)
  bool changed = false;
};

struct TransitionRefused {
  Verdict verdict;
  std::string message;  // names the rule
};

// Moving `before` to `to` at time `at`:
// - qualified_at is set the first time the referral becomes qualified, never again;
// - entering approved without an earlier qualification sets qualified_at too;
// - approved_at, denied_at (the latest denial) and status_changed_at follow the change.
std::expected<Transition, TransitionRefused> ComputeTransition(const Referral& before, Status to,
                                                                Micros at);

// The same, in place: moves `referral` to `to` and returns whether it changed, or
// leaves it untouched and returns the refusal. Bulk plans use it to copy nothing.
std::expected<bool, TransitionRefused> ApplyTransition(Referral& referral, Status to, Micros at);

}  // namespace reftrack
