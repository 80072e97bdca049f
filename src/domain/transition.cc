#include "domain/transition.h"

namespace reftrack {

std::expected<bool, TransitionRefused> ApplyTransition(Referral& r, Status to, Micros at) {
  Verdict verdict = Decide(r.status, to, r.ever_qualified());
  if (IsRefused(verdict)) {
    return std::unexpected(TransitionRefused{verdict, RefusalMessage(r.id, r.status, to, verdict)});
  }
  if (verdict == Verdict::kUnchanged) return false;
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
  return true;
}

std::expected<Transition, TransitionRefused> ComputeTransition(const Referral& before, Status to,
                                                               Micros at) {
  Transition t{before, false};
  auto changed = ApplyTransition(t.after, to, at);
  if (!changed) return std::unexpected(std::move(changed.error()));
  t.changed = *changed;
  return t;
}

}  // namespace reftrack
