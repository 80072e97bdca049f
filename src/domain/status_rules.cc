#include "domain/status_rules.h"

#include <fmt/format.h>

namespace reftrack {

Verdict Decide(Status from, Status to, bool ever_qualified) {
  switch (kTransitionRules[static_cast<int>(from)][static_cast<int>(to)]) {
    case Rule::kSame: return Verdict::kUnchanged;
    case Rule::kAllowed: return Verdict::kChange;
    case Rule::kIfNeverQualified:
      return ever_qualified ? Verdict::kRefusedQualifiedBefore : Verdict::kChange;
    case Rule::kFinal: return Verdict::kRefusedFinal;
  }
  return Verdict::kRefusedFinal;
}

bool IsRefused(Verdict v) {
  return v == Verdict::kRefusedFinal || v == Verdict::kRefusedQualifiedBefore;
}

std::string RefusalMessage(int64_t referral_id, Status from, Status to, Verdict v) {
  if (v == Verdict::kRefusedQualifiedBefore) {
    return fmt::format("referral {} was qualified before; it cannot be qualified again from {}",
                       referral_id, StatusName(from));
  }
  return fmt::format("referral {} is approved; approved is final, it cannot become {}",
                     referral_id, StatusName(to));
}

}  // namespace reftrack
