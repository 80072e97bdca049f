#include "engine/engine.h"

#include <fmt/format.h>

#include <charconv>

#include "domain/normalize.h"
#include "domain/transition.h"
#include "engine/referral_validator.h"

namespace reftrack {

namespace {

std::optional<int64_t> ParseId(std::string_view text) {
  text = Trim(text);
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace

Result<ReferralKey> ParseReferralKey(std::string_view text) {
  ReferralKey key;
  text = Trim(text);
  if (text.starts_with("external:")) {
    key.kind = ReferralKey::Kind::kExternalId;
    key.value = NormalizeCode(text.substr(9));
  } else if (text.starts_with("email:")) {
    key.kind = ReferralKey::Kind::kEmail;
    key.value = NormalizeEmail(text.substr(6));
  } else {
    std::string_view digits = text.starts_with("id:") ? text.substr(3) : text;
    auto id = ParseId(digits);
    if (!id) {
      return Fail(
          ErrorCode::kInvalidInput,
          fmt::format("\"{}\" is not a referral key; use ID, id:ID, external:X or email:E", text));
    }
    key.id = *id;
    return key;
  }
  if (key.value.empty()) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("\"{}\" names no value", text));
  }
  return key;
}

Result<StatusChangeOutcome> ApplyStatusChange(Store& store, Referral& referral, Status to,
                                              Micros at, const ChangeContext& context) {
  auto transition = ComputeTransition(referral, to, at);
  if (!transition) return Fail(ErrorCode::kRefused, transition.error().message);
  StatusChangeOutcome outcome{referral.id, referral.status, to, transition->changed};
  if (!transition->changed) return outcome;
  StatusChange change{referral.id,   referral.status, to, at, context.source,
                      context.actor, context.batch_id};
  if (auto ok = store.WriteStatusChange(transition->after, change); !ok) {
    return std::unexpected(ok.error());
  }
  referral = std::move(transition->after);
  return outcome;
}

Result<Campaign> Engine::AddCampaign(std::string_view name) {
  std::string trimmed(Trim(name));
  if (trimmed.empty()) return Fail(ErrorCode::kInvalidInput, "campaign name is empty");
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign = store_.CreateCampaign(trimmed, Now());
  if (!campaign) return campaign;
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return campaign;
}

Result<Member> Engine::AddMember(const MemberInput& input) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign_id = CampaignId(input.campaign);
  if (!campaign_id) return std::unexpected(campaign_id.error());
  if (!*campaign_id) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("campaign \"{}\" does not exist", Trim(input.campaign)));
  }
  NewMember m{**campaign_id, NormalizeEmail(input.email), std::string(Trim(input.name)),
              std::nullopt};
  if (!IsValidEmail(m.email)) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not a valid email address", Trim(input.email)));
  }
  if (std::string code = NormalizeCode(input.referral_code); !code.empty()) m.referral_code = code;
  auto member = store_.CreateMember(m, Now());
  if (!member) return member;
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return member;
}

Result<Referral> Engine::AddReferral(const ReferralInput& input) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  ReferralValidator validator(store_);
  auto valid = validator.Validate(input, Now());
  if (!valid) return Fail(valid.error().code, valid.error().message);
  auto inserted = store_.InsertReferral(*valid);
  if (!inserted) return std::unexpected(inserted.error());
  if (inserted->duplicate != DuplicateOf::kNone) {
    return Fail(
        ErrorCode::kDuplicate,
        DuplicateMessage(inserted->duplicate, *valid, validator.CampaignName(valid->campaign_id)));
  }
  auto created = store_.GetReferral(inserted->id);
  if (!created) return std::unexpected(created.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return std::move(**created);
}

Result<std::optional<int64_t>> Engine::CampaignId(std::string_view name) {
  auto campaign = store_.FindCampaign(Trim(name));
  if (!campaign) return std::unexpected(campaign.error());
  if (!*campaign) return std::optional<int64_t>();
  return std::optional<int64_t>((*campaign)->id);
}

Result<Referral> Engine::Resolve(const ReferralKey& key) {
  std::optional<int64_t> campaign_id;
  if (!key.campaign.empty()) {
    auto id = CampaignId(key.campaign);
    if (!id) return std::unexpected(id.error());
    if (!*id) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("campaign \"{}\" does not exist", key.campaign));
    }
    campaign_id = *id;
  }
  Result<std::vector<Referral>> found;
  std::string described;
  switch (key.kind) {
    case ReferralKey::Kind::kId: {
      auto one = store_.GetReferral(key.id);
      if (!one) return std::unexpected(one.error());
      if (!*one || (campaign_id && (*one)->campaign_id != *campaign_id)) {
        return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", key.id));
      }
      return std::move(**one);
    }
    case ReferralKey::Kind::kExternalId:
      found = store_.FindReferralsByExternalId(key.value, campaign_id);
      described = fmt::format("external id \"{}\"", key.value);
      break;
    case ReferralKey::Kind::kEmail:
      found = store_.FindReferralsByEmail(key.value, campaign_id);
      described = fmt::format("email {}", key.value);
      break;
  }
  if (!found) return std::unexpected(found.error());
  if (found->empty()) {
    return Fail(
        ErrorCode::kNotFound,
        fmt::format("no referral with {}{}", described,
                    key.campaign.empty() ? std::string()
                                         : fmt::format(" in campaign \"{}\"", key.campaign)));
  }
  if (found->size() > 1) {
    std::string campaigns;
    for (const Referral& r : *found) {
      campaigns += campaigns.empty() ? "" : ", ";
      campaigns += fmt::format("\"{}\"", r.campaign);
    }
    return Fail(ErrorCode::kAmbiguous,
                fmt::format("{} matches referrals in several campaigns ({}); name one with "
                            "--campaign",
                            described, campaigns));
  }
  return std::move(found->front());
}

Result<ReferralDetails> Engine::Details(int64_t referral_id) {
  // The referral and its history as of one moment.
  auto snapshot = store_.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto referral = store_.GetReferral(referral_id);
  if (!referral) return std::unexpected(referral.error());
  if (!*referral)
    return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", referral_id));
  auto history = store_.History(referral_id);
  if (!history) return std::unexpected(history.error());
  return ReferralDetails{std::move(**referral), std::move(*history)};
}

Result<ListResult> Engine::List(const ListRequest& request) {
  if (request.limit < 1 || request.limit > 1000) {
    return Fail(ErrorCode::kInvalidInput, "limit must be between 1 and 1000");
  }
  ReferralFilter filter;
  filter.status = request.status;
  filter.query = NormalizeEmail(request.query);
  filter.limit = request.limit;
  if (!request.campaign.empty()) {
    auto id = CampaignId(request.campaign);
    if (!id) return std::unexpected(id.error());
    if (!*id) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("campaign \"{}\" does not exist", request.campaign));
    }
    filter.campaign_id = *id;
  }
  if (!request.cursor.empty()) {
    auto before = ParseId(request.cursor);
    if (!before) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("\"{}\" is not a cursor from an earlier page", request.cursor));
    }
    filter.before_id = *before;
  }
  auto page = store_.ListReferrals(filter);
  if (!page) return std::unexpected(page.error());
  ListResult result{std::move(page->referrals), ""};
  if (page->next_before_id) result.next_cursor = std::to_string(*page->next_before_id);
  return result;
}

Result<StatusChangeOutcome> Engine::ChangeStatus(int64_t referral_id, Status to,
                                                 const ChangeContext& context) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto referral = store_.LockReferral(referral_id);
  if (!referral) return std::unexpected(referral.error());
  if (!*referral)
    return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", referral_id));
  auto outcome = ApplyStatusChange(store_, **referral, to, Now(), context);
  if (!outcome) return outcome;
  if (outcome->changed) {
    if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  }
  return outcome;
}

}  // namespace reftrack
