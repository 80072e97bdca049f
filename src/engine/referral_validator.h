// Turns a ReferralInput into a NewReferral: finds the campaign and the referrer,
// normalizes, and refuses bad emails and self-referrals. Look-ups are cached, so a
// bulk load asks the store once per campaign and once per referrer.
#pragma once

#include <string>
#include <unordered_map>

#include "domain/model.h"
#include "engine/requests.h"
#include "store/store.h"

namespace reftrack {

struct InvalidField {
  ErrorCode code;       // kInvalidInput, or kNotFound for an unknown campaign or referrer
  std::string column;   // the input field at fault, e.g. "referrer_email"
  std::string message;
};

class ReferralValidator {
 public:
  // `store` must outlive the validator. The cache is only valid while the campaigns
  // and members it saw do not change: use one validator per request or transaction.
  // With `bulk`, a campaign's members are read in one query the first time the
  // campaign is seen, instead of one query per referrer.
  explicit ReferralValidator(Store& store, bool bulk = false) : store_(store), bulk_(bulk) {}

  std::expected<NewReferral, InvalidField> Validate(const ReferralInput& input, Micros at);

  // The campaign's name, for messages (the campaign must have been validated).
  const std::string& CampaignName(int64_t campaign_id) const;

 private:
  // Fills members_[campaign_id] with every member of the campaign.
  std::optional<InvalidField> LoadMembers(int64_t campaign_id);

  Store& store_;
  bool bulk_;
  std::unordered_map<std::string, std::optional<Campaign>> campaigns_;
  std::unordered_map<int64_t, std::string> campaign_names_;
  // campaign id -> member email -> member id (or none)
  std::unordered_map<int64_t, std::unordered_map<std::string, std::optional<int64_t>>> members_;
};

// "email a@b.com is already referred in campaign C", for a duplicate insert.
std::string DuplicateMessage(DuplicateOf what, const NewReferral& r, const std::string& campaign);
// The input column a duplicate is about.
std::string DuplicateColumn(DuplicateOf what);

}  // namespace reftrack
