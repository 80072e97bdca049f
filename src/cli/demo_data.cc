// `reftrack serve --demo`: a campaign a newcomer can click through at once, with
// referrers, referrals in every status (walked there through the rules, so their
// history is real) and a reward rule.
#include "cli/demo_data.h"

#include <fmt/format.h>

#include <array>

namespace reftrack::cli {

namespace {

constexpr const char* kCampaign = "Demo";

constexpr std::array<const char*, 24> kNames = {
    "Ada Lovelace",    "Grace Hopper",   "Alan Turing",     "Katherine Johnson",
    "Edsger Dijkstra", "Barbara Liskov", "Donald Knuth",    "Frances Allen",
    "John Backus",     "Radia Perlman",  "Ken Thompson",    "Margaret Hamilton",
    "Dennis Ritchie",  "Hedy Lamarr",    "Tim Berners-Lee", "Anita Borg",
    "Niklaus Wirth",   "Sophie Wilson",  "Bjarne Stroustrup", "Adele Goldberg",
    "Linus Torvalds",  "Shafi Goldwasser", "Leslie Lamport", "Joan Clarke"};

// The statuses each referral walks through, in order, after pending.
std::vector<Status> StepsFor(size_t i) {
  switch (i % 6) {
    case 0: return {};
    case 1: return {Status::kQualified};
    case 2: return {Status::kQualified, Status::kApproved};
    case 3: return {Status::kDenied};
    case 4: return {Status::kQualified, Status::kDenied};
    default: return i % 4 == 1 ? std::vector<Status>{} : std::vector<Status>{Status::kQualified};
  }
}

std::string EmailOf(std::string_view name) {
  std::string email;
  for (char c : name) {
    if (c == ' ') email += '.';
    else if (c != '-') email += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return email + "@demo.example";
}

}  // namespace

Result<bool> AddDemoData(Engine& engine) {
  auto existing = engine.FindCampaign(kCampaign);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) return false;
  if (auto ok = engine.AddCampaign(kCampaign); !ok) return std::unexpected(ok.error());
  const char* referrers[] = {"Marie Curie", "Rosalind Franklin", "Carl Sagan"};
  for (size_t i = 0; i < 3; ++i) {
    auto ok = engine.AddMember(MemberInput{kCampaign, EmailOf(referrers[i]), referrers[i],
                                           fmt::format("FRIEND{}", i + 1)});
    if (!ok) return std::unexpected(ok.error());
  }
  auto rule = engine.AddRewardRule(
      RewardRuleInput{kCampaign, "approved", "both", "50", "USD", "Thank-you credit"});
  if (!rule) return std::unexpected(rule.error());
  ChangeContext context{ChangeSource::kManual, "demo", std::nullopt};
  for (size_t i = 0; i < kNames.size(); ++i) {
    ReferralInput input{kCampaign,
                        EmailOf(kNames[i]),
                        kNames[i],
                        fmt::format("CRM-{:04}", 1001 + i),
                        "",
                        fmt::format("WELCOME{:03}", i + 1),
                        EmailOf(referrers[i % 3])};
    auto referral = engine.AddReferral(input);
    if (!referral) return std::unexpected(referral.error());
    for (Status to : StepsFor(i)) {
      auto changed = engine.ChangeStatus(referral->id, to, context);
      if (!changed) return std::unexpected(changed.error());
    }
  }
  return true;
}

}  // namespace reftrack::cli
