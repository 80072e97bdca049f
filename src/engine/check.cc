#include "engine/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <tuple>

#include "domain/normalize.h"
#include "domain/status_rules.h"

namespace reftrack {

namespace {

// The stored name of a status exactly, not parsed loosely as input is.
std::optional<Status> StoredStatus(std::string_view text) {
  for (Status s : kAllStatuses) {
    if (text == StatusName(s)) return s;
  }
  return std::nullopt;
}

// A value as JSON writes it, so white space one cannot see shows: "x@y.com\u00a0".
std::string Shown(std::string_view value) {
  return nlohmann::json(std::string(value))
      .dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

std::string TimeOrNull(const std::optional<Micros>& t) {
  return t ? FormatTimestamp(*t) : std::string("NULL");
}

// The support overrides of SPEC §10 may make any change; they do not exist yet.
constexpr std::string_view kOverrideSource = "override";
constexpr size_t kMaxUnnormalizedLookedUp = 100'000;

}  // namespace

const char* KeyName(LookupColumn column) {
  switch (column) {
    case LookupColumn::kEmail:
      return "email";
    case LookupColumn::kExternalId:
      return "external id";
    case LookupColumn::kReferralCode:
      return "referral code";
    case LookupColumn::kCouponCode:
      return "coupon code";
  }
  return "?";
}

void Checker::Problem(const char* kind, int64_t referral, std::string message) {
  ++report_.problem_count;
  ++report_.counts[kind];
  if (report_.problems.size() < max_listed_) {
    report_.problems.push_back({kind, referral, std::move(message)});
  }
}

void Checker::AddIntegrityMessages(const std::vector<std::string>& messages) {
  for (const std::string& m : messages) Problem(kProblemIntegrity, 0, "integrity_check: " + m);
}

void Checker::AddReferral(const Store::StoredReferral& r) {
  ++report_.referrals_checked;
  Status current = Status::kPending;
  bool ever_qualified = false;
  std::optional<Micros> first_qualified;
  bool replayable = true;  // false after a row the replay cannot follow
  for (const Store::StoredChange& row : r.history) {
    ++report_.history_rows_checked;
    std::optional<Status> from = StoredStatus(row.from);
    std::optional<Status> to = StoredStatus(row.to);
    // Only a problem needs the words: most rows are sound.
    auto step = [&] { return fmt::format("history row {} ({} -> {})", row.id, row.from, row.to); };
    if (!from || !to) {
      Problem(kProblemHistory, r.id, step() + ": not a status");
      replayable = false;
      continue;
    }
    if (!row.at) Problem(kProblemHistory, r.id, step() + ": its time is not a timestamp");
    const bool override = row.source == kOverrideSource;
    if (!override && !ParseSource(row.source)) {
      Problem(kProblemHistory, r.id,
              fmt::format("{}: unknown source {}", step(), Shown(row.source)));
    }
    if (replayable && *from != current) {
      Problem(kProblemHistory, r.id,
              fmt::format("{}: expected a change from {}, the status the rows before left it in, "
                          "found one from {}",
                          step(), StatusName(current), row.from));
    }
    if (!override) {
      Verdict v = Decide(*from, *to, ever_qualified);
      if (v == Verdict::kUnchanged) {
        Problem(kProblemHistory, r.id,
                step() + ": changes nothing, so it must not be a history row");
      } else if (IsRefused(v)) {
        Problem(kProblemHistory, r.id,
                fmt::format("{} is forbidden: {}", step(), RefusalMessage(r.id, *from, *to, v)));
      }
    }
    current = *to;
    replayable = true;
    if ((*to == Status::kQualified || *to == Status::kApproved) && !ever_qualified) {
      ever_qualified = true;
      first_qualified = row.at;
    }
  }
  if (replayable && r.status != StatusName(current)) {
    Problem(kProblemStatus, r.id,
            fmt::format("status expected {} (where its history ends), found {}",
                        StatusName(current), Shown(r.status)));
  }
  if (r.qualified_at != first_qualified) {
    Problem(kProblemQualifiedAt, r.id,
            fmt::format("qualified_at expected {} (its history's first entry into qualified or "
                        "approved), found {}",
                        TimeOrNull(first_qualified), TimeOrNull(r.qualified_at)));
  }
  CheckKey(LookupColumn::kEmail, r, r.email);
  if (r.external_id) CheckKey(LookupColumn::kExternalId, r, *r.external_id);
  if (r.referral_code) CheckKey(LookupColumn::kReferralCode, r, *r.referral_code);
  if (r.coupon_code) CheckKey(LookupColumn::kCouponCode, r, *r.coupon_code);
}

void Checker::CheckKey(LookupColumn column, const Store::StoredReferral& r,
                       const std::string& value) {
  // The usual case on two bytes and a scan for capitals, without a copy.
  if (Trim(value).size() == value.size() &&
      (column != LookupColumn::kEmail ||
       std::ranges::none_of(value, [](char c) { return c >= 'A' && c <= 'Z'; }))) {
    return;
  }
  std::string normalized =
      column == LookupColumn::kEmail ? NormalizeEmail(value) : NormalizeCode(value);
  if (normalized == value) return;
  Problem(kProblemNotNormalized, r.id,
          fmt::format("{} expected {} (normalized), found {}", KeyName(column), Shown(normalized),
                      Shown(value)));
  if (unnormalized_.size() < kMaxUnnormalizedLookedUp && !normalized.empty()) {
    unnormalized_.push_back({column, r.id, r.campaign_id, std::move(normalized)});
  }
}

void Checker::AddReward(const Store::StoredRewardKey& k) {
  ++report_.rewards_checked;
  if (last_reward_ && last_reward_->referral_id == k.referral_id &&
      last_reward_->rule_id == k.rule_id && last_reward_->recipient == k.recipient) {
    Problem(kProblemDuplicateReward, k.referral_id,
            fmt::format("rewards {} and {}: expected at most one reward per (rule, referral, "
                        "recipient), found two for rule {}, recipient {}",
                        last_reward_->id, k.id, k.rule_id, k.recipient));
  }
  last_reward_ = k;
}

void Checker::AddCollision(LookupColumn column, int64_t a, int64_t b,
                           const std::string& normalized) {
  Problem(kProblemDuplicate, b,
          fmt::format("referrals {} and {}: their {}s differ only by white space or case, "
                      "both are {} once normalized",
                      a, b, KeyName(column), Shown(normalized)));
}

namespace {

// Emails and external ids are unique within a campaign; codes across all of them.
bool ScopedByCampaign(LookupColumn column) {
  return column == LookupColumn::kEmail || column == LookupColumn::kExternalId;
}

const std::optional<std::string>& ValueOf(const Referral& r, LookupColumn column) {
  static const std::optional<std::string> kNone;
  switch (column) {
    case LookupColumn::kExternalId:
      return r.external_id;
    case LookupColumn::kReferralCode:
      return r.referral_code;
    case LookupColumn::kCouponCode:
      return r.coupon_code;
    case LookupColumn::kEmail:
      break;
  }
  return kNone;
}

// Pairs among the unnormalized keys, and each against a stored value equal to its
// normalized form (found with the store's look-up, not a pass over the table).
Result<void> FindCollisions(Store& store, Checker& checker) {
  using Key = std::tuple<LookupColumn, int64_t, std::string>;  // column, scope, value
  std::map<Key, std::vector<int64_t>> groups;
  for (const UnnormalizedKey& k : checker.unnormalized()) {
    int64_t scope = ScopedByCampaign(k.column) ? k.campaign_id : 0;
    groups[{k.column, scope, k.normalized}].push_back(k.referral);
  }
  for (const auto& [key, ids] : groups) {
    for (size_t i = 1; i < ids.size(); ++i) {
      checker.AddCollision(std::get<0>(key), ids[0], ids[i], std::get<2>(key));
    }
  }
  for (LookupColumn column : {LookupColumn::kEmail, LookupColumn::kExternalId,
                              LookupColumn::kReferralCode, LookupColumn::kCouponCode}) {
    std::vector<std::string> values;
    for (const auto& [key, ids] : groups) {
      if (std::get<0>(key) == column) values.push_back(std::get<2>(key));
    }
    if (values.empty()) continue;
    auto found = store.FindReferralsBy(column, values);
    if (!found) return std::unexpected(found.error());
    for (const Referral& r : *found) {
      const std::string& value =
          column == LookupColumn::kEmail ? r.email : ValueOf(r, column).value_or("");
      int64_t scope = ScopedByCampaign(column) ? r.campaign_id : 0;
      auto group = groups.find({column, scope, value});
      if (group == groups.end()) continue;
      for (int64_t id : group->second) checker.AddCollision(column, r.id, id, value);
    }
  }
  return {};
}

}  // namespace

Result<CheckReport> RunCheck(Store& store, const CheckOptions& options) {
  Checker checker(options.max_listed);
  auto snapshot = store.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto integrity = store.IntegrityCheck(options.quick);
  if (!integrity) return std::unexpected(integrity.error());
  if (*integrity) {
    checker.SetIntegrityChecked();
    checker.AddIntegrityMessages(**integrity);
  } else {
    checker.Note(
        "the database's own file check: not run, PostgreSQL has none to call "
        "(it checks its pages itself)");
  }
  if (auto ok = store.ForEachStoredReferral(
          [&](const Store::StoredReferral& r) { checker.AddReferral(r); });
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok =
          store.ForEachRewardKey([&](const Store::StoredRewardKey& k) { checker.AddReward(k); });
      !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = FindCollisions(store, checker); !ok) return std::unexpected(ok.error());
  checker.Note("every event has its change: not applicable, reftrack stores no events yet");
  return checker.Finish();
}

}  // namespace reftrack
