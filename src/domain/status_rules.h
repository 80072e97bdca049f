// The status rules of SPEC §2, as one table. Every way of changing a status asks
// Decide(); nothing else knows the rules.
#pragma once

#include <cstdint>
#include <string>

#include "domain/status.h"

namespace reftrack {

// What the table says about moving from one status to another.
enum class Rule {
  kSame,               // the referral already has this status
  kAllowed,            // always allowed
  kIfNeverQualified,   // allowed only when the referral has never been qualified
  kFinal,              // refused: approved is final
};

// kTransitionRules[from][to], indexed by Status.
//
//                 to: pending   qualified          approved   denied
// from pending        same      allowed            allowed    allowed
// from qualified      allowed   same               allowed    allowed
// from approved       final     final              same       final
// from denied         allowed   if never qualified allowed    same
inline constexpr Rule kTransitionRules[4][4] = {
    {Rule::kSame, Rule::kAllowed, Rule::kAllowed, Rule::kAllowed},
    {Rule::kAllowed, Rule::kSame, Rule::kAllowed, Rule::kAllowed},
    {Rule::kFinal, Rule::kFinal, Rule::kSame, Rule::kFinal},
    {Rule::kAllowed, Rule::kIfNeverQualified, Rule::kAllowed, Rule::kSame},
};

enum class Verdict {
  kChange,             // allowed: write it
  kUnchanged,          // same status: not an error, no history
  kRefusedFinal,       // from approved
  kRefusedQualifiedBefore,  // denied -> qualified after an earlier qualification
};

// `ever_qualified`: the referral has been qualified at some time (qualified_at is set).
Verdict Decide(Status from, Status to, bool ever_qualified);

bool IsRefused(Verdict v);

// The message for a refused verdict, naming the rule, e.g.
// "referral 42 was qualified before; it cannot be qualified again from denied".
std::string RefusalMessage(int64_t referral_id, Status from, Status to, Verdict v);

}  // namespace reftrack
