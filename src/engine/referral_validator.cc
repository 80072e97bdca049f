#include "engine/referral_validator.h"

#include <fmt/format.h>

#include "domain/normalize.h"

namespace reftrack {

namespace {

std::optional<std::string> OptionalCode(std::string_view text) {
  std::string code = NormalizeCode(text);
  if (code.empty()) return std::nullopt;
  return code;
}

std::unexpected<InvalidField> Invalid(std::string column, std::string message,
                                      ErrorCode code = ErrorCode::kInvalidInput) {
  return std::unexpected(InvalidField{code, std::move(column), std::move(message)});
}

}  // namespace

std::expected<NewReferral, InvalidField> ReferralValidator::Validate(const ReferralInput& input,
                                                                    Micros at) {
  std::string campaign_name(Trim(input.campaign));
  if (campaign_name.empty()) return Invalid("campaign", "campaign is empty");
  auto found = campaigns_.find(campaign_name);
  if (found == campaigns_.end()) {
    auto campaign = store_.FindCampaign(campaign_name);
    if (!campaign) return Invalid("campaign", campaign.error().message, ErrorCode::kStorage);
    found = campaigns_.emplace(campaign_name, *campaign).first;
    if (*campaign) {
      campaign_names_[(*campaign)->id] = (*campaign)->name;
      if (bulk_) {
        if (auto failed = LoadMembers((*campaign)->id)) return std::unexpected(*failed);
      }
    }
  }
  if (!found->second) {
    return Invalid("campaign",
                   fmt::format("campaign \"{}\" does not exist", Excerpt(campaign_name)),
                   ErrorCode::kNotFound);
  }

  NewReferral r;
  r.campaign_id = found->second->id;
  r.created_at = at;
  r.email = NormalizeEmail(input.email);
  if (r.email.empty()) return Invalid("email", "email is empty");
  if (!IsValidEmail(r.email)) {
    return Invalid("email",
                   fmt::format("\"{}\" is not a valid email address", Excerpt(Trim(input.email))));
  }
  r.name = std::string(Trim(input.name));
  r.external_id = OptionalCode(input.external_id);
  r.referral_code = OptionalCode(input.referral_code);
  r.coupon_code = OptionalCode(input.coupon_code);

  std::string referrer = NormalizeEmail(input.referrer_email);
  if (!referrer.empty()) {
    if (referrer == r.email) {
      return Invalid("referrer_email",
                     fmt::format("{} cannot refer themselves (self-referral)", r.email));
    }
    auto& members = members_[r.campaign_id];
    auto member = members.find(referrer);
    if (member == members.end() && !bulk_) {
      auto m = store_.FindMember(r.campaign_id, referrer);
      if (!m) return Invalid("referrer_email", m.error().message, ErrorCode::kStorage);
      member = members.emplace(referrer, *m ? std::optional<int64_t>((*m)->id) : std::nullopt).first;
    }
    if (member == members.end() || !member->second) {
      return Invalid("referrer_email",
                     fmt::format("referrer {} is not a member of campaign \"{}\"", referrer,
                                 campaign_name),
                     ErrorCode::kNotFound);
    }
    r.referrer_id = member->second;
  }
  return r;
}

std::optional<InvalidField> ReferralValidator::LoadMembers(int64_t campaign_id) {
  auto all = store_.ListMembers(campaign_id);
  if (!all) return InvalidField{ErrorCode::kStorage, "referrer_email", all.error().message};
  auto& members = members_[campaign_id];
  members.reserve(all->size());
  for (const Member& m : *all) members.emplace(m.email, m.id);
  return std::nullopt;
}

const std::string& ReferralValidator::CampaignName(int64_t campaign_id) const {
  static const std::string kUnknown = "?";
  auto it = campaign_names_.find(campaign_id);
  return it == campaign_names_.end() ? kUnknown : it->second;
}

std::string DuplicateMessage(DuplicateOf what, const NewReferral& r, const std::string& campaign) {
  switch (what) {
    case DuplicateOf::kEmail:
      return fmt::format("duplicate: {} is already referred in campaign \"{}\"", r.email, campaign);
    case DuplicateOf::kExternalId:
      return fmt::format("duplicate: external id \"{}\" is already used in campaign \"{}\"",
                         r.external_id.value_or(""), campaign);
    case DuplicateOf::kReferralCode:
      return fmt::format("duplicate: referral code \"{}\" is already used",
                         r.referral_code.value_or(""));
    case DuplicateOf::kCouponCode:
      return fmt::format("duplicate: coupon code \"{}\" is already used", r.coupon_code.value_or(""));
    case DuplicateOf::kNone:
      break;
  }
  return "duplicate";
}

std::string DuplicateColumn(DuplicateOf what) {
  switch (what) {
    case DuplicateOf::kEmail: return "email";
    case DuplicateOf::kExternalId: return "external_id";
    case DuplicateOf::kReferralCode: return "referral_code";
    case DuplicateOf::kCouponCode: return "coupon_code";
    case DuplicateOf::kNone: break;
  }
  return "";
}

}  // namespace reftrack
