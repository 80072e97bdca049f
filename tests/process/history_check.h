// The check behind the race tests (process/race_test.cc, http/multi_serve_test.cc):
// a referral's history, read back from the database after a race, replayed against
// the rules as SPEC §2 and §3 state them, written out again here (not taken from
// domain/status_rules.h or domain/reward.h), so a wrong entry in the production
// table is caught too.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/model.h"
#include "domain/reward.h"
#include "util/time.h"

namespace reftrack::testing {

// --- SPEC §2, from its sentences -------------------------------------------------
//
//   pending   -> qualified, approved, denied: yes
//   qualified -> pending, approved, denied: yes
//   approved  -> anything: no ("approved is final")
//   denied    -> pending, approved: yes
//   denied    -> qualified: only if it has never been qualified
//   same status: "unchanged", no history row
inline bool SpecAllows(Status from, Status to, bool ever_qualified) {
  if (from == to) return false;  // never a history row
  if (from == Status::kApproved) return false;
  if (from == Status::kDenied && to == Status::kQualified) return !ever_qualified;
  return true;
}

// What replaying a history found.
struct HistoryReplay {
  std::vector<std::string> problems;  // each way it breaks the rules, or disagrees with the row
  // SPEC §2: entering approved from never qualified passes through qualified, at the
  // same moment. `qualified_at` is the first time the history entered qualified.
  bool ever_qualified = false;
  std::optional<Micros> qualified_at;
  std::optional<Micros> approved_at;
};

inline std::string StatusText(Status s) { return std::string(StatusName(s)); }
inline std::string TimeText(const std::optional<Micros>& t) {
  return t ? FormatTimestamp(*t) : "null";
}

// Replays `history` (oldest first) from a new referral (pending, never qualified) and
// reports every way it breaks the rules or disagrees with `final_row`, the referral
// as stored.
inline HistoryReplay ReplayHistory(const Referral& final_row,
                                   const std::vector<StatusChange>& history) {
  HistoryReplay out;
  auto problem = [&](size_t step, const std::string& what) {
    out.problems.push_back("referral " + std::to_string(final_row.id) + ", history row " +
                           std::to_string(step + 1) + ": " + what);
  };
  Status status = Status::kPending;
  std::optional<Micros> denied_at;
  for (size_t i = 0; i < history.size(); ++i) {
    const StatusChange& c = history[i];
    std::string step = StatusText(c.from) + "->" + StatusText(c.to);
    if (c.referral_id != final_row.id)
      problem(i, "belongs to referral " + std::to_string(c.referral_id));
    if (c.from != status) {
      problem(i, step + " but the previous row left it " + StatusText(status) + " (lost update)");
    }
    if (status == Status::kApproved) problem(i, step + " follows approved, which is final");
    if (c.from == c.to) problem(i, step + " changes nothing and must not be a history row");
    if (!SpecAllows(c.from, c.to, out.ever_qualified)) {
      problem(i, step + " is forbidden" +
                     (out.ever_qualified ? " (it was qualified before)" : " (never qualified)"));
    }
    status = c.to;
    if ((c.to == Status::kQualified || c.to == Status::kApproved) && !out.ever_qualified) {
      out.ever_qualified = true;
      out.qualified_at = c.at;
    }
    if (c.to == Status::kApproved) out.approved_at = c.at;
    if (c.to == Status::kDenied) denied_at = c.at;
  }
  auto final_problem = [&](const std::string& what) {
    out.problems.push_back("referral " + std::to_string(final_row.id) + " as stored: " + what);
  };
  if (final_row.status != status) {
    final_problem("status " + StatusText(final_row.status) + ", its history ends at " +
                  StatusText(status));
  }
  if (final_row.qualified_at.has_value() != out.ever_qualified) {
    final_problem("qualified_at is " + TimeText(final_row.qualified_at) + " but its history " +
                  (out.ever_qualified ? "qualifies" : "never qualifies") + " it");
  } else if (final_row.qualified_at != out.qualified_at) {
    final_problem("qualified_at " + TimeText(final_row.qualified_at) +
                  " is not its first qualification " + TimeText(out.qualified_at));
  }
  if (final_row.approved_at != out.approved_at) {
    final_problem("approved_at " + TimeText(final_row.approved_at) + ", history says " +
                  TimeText(out.approved_at));
  }
  if (final_row.denied_at != denied_at) {
    final_problem("denied_at " + TimeText(final_row.denied_at) + ", the latest denial is " +
                  TimeText(denied_at));
  }
  return out;
}

// --- SPEC §3 -----------------------------------------------------------------------
//
// A rule's rewards are issued when the referral enters the rule's status (creation
// enters pending; approved from never qualified enters qualified too), once per
// (rule, referral, recipient) ever; the referrer gets one only when there is a
// referrer. Checks `rewards`, all the rewards of `row`, against what its replayed
// history entered: each expected reward exactly once, issued when the status was
// first entered, and nothing else.
inline std::vector<std::string> CheckRewards(const Referral& row, const HistoryReplay& replay,
                                             const std::vector<RewardRule>& rules,
                                             const std::vector<Reward>& rewards) {
  std::vector<std::string> problems;
  auto problem = [&](const std::string& what) {
    problems.push_back("referral " + std::to_string(row.id) + ": " + what);
  };
  // (rule, recipient) -> when it must have been issued.
  std::map<std::pair<int64_t, Recipient>, Micros> expected;
  for (const RewardRule& rule : rules) {
    if (rule.campaign_id != row.campaign_id) continue;
    std::optional<Micros> entered;
    switch (rule.on) {
      case Status::kPending: entered = row.created_at; break;
      case Status::kQualified: entered = replay.qualified_at; break;
      case Status::kApproved: entered = replay.approved_at; break;
      case Status::kDenied: problem("rule " + std::to_string(rule.id) + " is on denied"); break;
    }
    if (!entered) continue;
    if (rule.to != RuleRecipients::kReferred && row.referrer_id)
      expected[{rule.id, Recipient::kReferrer}] = *entered;
    if (rule.to != RuleRecipients::kReferrer) expected[{rule.id, Recipient::kReferred}] = *entered;
  }
  std::map<std::pair<int64_t, Recipient>, int> seen;
  for (const Reward& w : rewards) {
    std::string what = "reward " + std::to_string(w.id) + " (rule " + std::to_string(w.rule_id) +
                       ", " + std::string(RecipientName(w.recipient)) + ")";
    if (w.referral_id != row.id) {
      problem(what + " belongs to referral " + std::to_string(w.referral_id));
      continue;
    }
    auto key = std::pair{w.rule_id, w.recipient};
    if (++seen[key] == 2) problem(what + " was issued more than once");
    auto e = expected.find(key);
    if (e == expected.end()) {
      problem(what + " was issued but the history never entered its rule's status");
    } else if (w.issued_at != e->second) {
      problem(what + " issued at " + FormatTimestamp(w.issued_at) +
              ", but the status was first entered at " + FormatTimestamp(e->second));
    }
    if (w.recipient == Recipient::kReferrer && w.member_id != row.referrer_id)
      problem(what + " goes to another member than the referrer");
  }
  for (const auto& [key, at] : expected) {
    if (!seen.contains(key)) {
      problem("no reward of rule " + std::to_string(key.first) + " for the " +
              std::string(RecipientName(key.second)) + ", though the history entered its status at " +
              FormatTimestamp(at));
    }
  }
  return problems;
}

// At most `max` of `lines`, indented, one a line.
inline std::string JoinLines(const std::vector<std::string>& lines, size_t max) {
  std::string out;
  for (size_t i = 0; i < lines.size() && i < max; ++i) out += "  " + lines[i] + "\n";
  if (lines.size() > max) out += "  ... and " + std::to_string(lines.size() - max) + " more\n";
  return out;
}

}  // namespace reftrack::testing
