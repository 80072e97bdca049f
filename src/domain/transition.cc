#include "domain/transition.h"

namespace reftrack {

std::expected<Transition, TransitionRefused> ComputeTransition(const Referral& before, Status to,
                                                                Micros at) {
  Verdict verdict = Decide(before.status, to, before.ever_qualified());
  if (IsRefused(verdict)) {
    return std::unexpected(
        TransitionRefused{verdict, RefusalMessage(before.id, before.status, to, verdict)});
  }
  Transition t{before, false};
  if (verdict == Verdict::kUnchanged) return t;

  Referral& r = t.after;
  r.status = to;
  r.status_changed_at = at;
  switch (to) {
    case Status::kQualified:
    case Status::kApproved:
      if (!r.qualified_at) r.qualified_at = at;
      if (to == Status::kApproved) r.approved_at = at;
      break;
    case Status::kDenied:
      r.denied_at = at;
      break;
    case Status::kPending:
      break;
  }
  t.changed = true;
  return t;
}

}  // namespace reftrack
