#include "engine/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "domain/case_fold.h"
#include "domain/normalize.h"
#include "domain/transition.h"
#include "engine/referral_validator.h"
#include "engine/status_writer.h"

namespace reftrack {

namespace {

std::optional<int64_t> ParseId(std::string_view text) {
  text = Trim(text);
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

// A currency as typed: three letters (any case), upper-cased; nullopt otherwise.
std::optional<std::string> ParseCurrency(std::string_view text) {
  std::string currency = UpperAscii(Trim(text));
  if (currency.size() != 3 ||
      !std::ranges::all_of(currency, [](char c) { return c >= 'A' && c <= 'Z'; })) {
    return std::nullopt;
  }
  return currency;
}

Error NotACurrency(std::string_view text) {
  return Error{ErrorCode::kInvalidInput,
               fmt::format("\"{}\" is not a currency: use three letters like USD or EUR",
                           Trim(text))};
}

// A search for a whole email address or an exact external id means that referral:
// the referrals whose email or external id `query` is, within `filter` (its cursor
// aside), found through the unique indexes instead of a scan of every name. Empty
// when there are none: the search is then a substring search. Whether there are is
// decided without the cursor, so every page of one search is of one kind.
Result<std::vector<Referral>> ExactMatches(Store& store, std::string_view query,
                                           const ReferralFilter& filter) {
  std::vector<Referral> found;
  std::string email = NormalizeEmail(query);
  if (IsValidEmail(email)) {
    auto by_email = store.FindReferralsByEmail(email, filter.campaign_id);
    if (!by_email) return std::unexpected(by_email.error());
    found = std::move(*by_email);
  }
  if (std::string code = NormalizeCode(query); !code.empty()) {
    auto by_id = store.FindReferralsByExternalId(code, filter.campaign_id);
    if (!by_id) return std::unexpected(by_id.error());
    for (Referral& r : *by_id) found.push_back(std::move(r));
  }
  std::erase_if(found, [&](const Referral& r) { return filter.status && r.status != *filter.status; });
  std::sort(found.begin(), found.end(),
            [](const Referral& a, const Referral& b) { return a.id > b.id; });
  found.erase(std::unique(found.begin(), found.end(),
                          [](const Referral& a, const Referral& b) { return a.id == b.id; }),
              found.end());
  return found;
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

Result<Campaign> Engine::AddCampaign(std::string_view name, std::string_view currency) {
  std::string trimmed(Trim(name));
  if (trimmed.empty()) return Fail(ErrorCode::kInvalidInput, "campaign name is empty");
  std::optional<std::string> parsed;
  if (!Trim(currency).empty()) {
    parsed = ParseCurrency(currency);
    if (!parsed) return std::unexpected(NotACurrency(currency));
  }
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign = store_.CreateCampaign(trimmed, Now());
  if (!campaign) return campaign;
  if (parsed) {
    if (auto set = store_.SetCampaignCurrency(campaign->id, *parsed); !set) {
      return std::unexpected(set.error());
    }
    campaign->currency = std::move(*parsed);
  }
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return campaign;
}

Result<Member> Engine::AddMember(const MemberInput& input) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign_id = RequireCampaign(input.campaign);
  if (!campaign_id) return std::unexpected(campaign_id.error());
  NewMember m{*campaign_id, NormalizeEmail(input.email), std::string(Trim(input.name)),
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
  // Creating a referral enters pending.
  CreatedReferral fresh{(*created)->id, (*created)->campaign_id, (*created)->referrer_id};
  if (auto ok = StatusWriter(store_, valid->created_at, {}).Created({&fresh, 1}); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return std::move(**created);
}

Result<RewardRule> Engine::AddRewardRule(const RewardRuleInput& input) {
  auto on = ParseStatus(input.on);
  if (!on) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not a status; a reward rule is on pending, qualified or "
                            "approved",
                            input.on));
  }
  if (*on == Status::kDenied) {
    return Fail(ErrorCode::kInvalidInput,
                "a reward rule cannot be on denied: rewards are issued on pending, qualified or "
                "approved");
  }
  auto to = ParseRuleRecipients(input.to);
  if (!to) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not a recipient; use referrer, referred or both", input.to));
  }
  RewardRule rule;
  rule.on = *on;
  rule.to = *to;
  rule.description = std::string(Trim(input.description));
  std::string_view amount = Trim(input.amount);
  if (!amount.empty()) {
    if (!IsDecimalAmount(amount)) {
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("amount \"{}\" is not a decimal like 50 or 49.99", amount));
    }
    // Without a currency the amount is in the campaign's (read below).
    if (!Trim(input.currency).empty()) {
      auto currency = ParseCurrency(input.currency);
      if (!currency) return std::unexpected(NotACurrency(input.currency));
      rule.currency = std::move(*currency);
    }
    rule.amount = std::string(amount);
  } else if (!Trim(input.currency).empty()) {
    return Fail(ErrorCode::kInvalidInput, "a currency needs an amount");
  }
  if (!rule.amount && rule.description.empty()) {
    return Fail(ErrorCode::kInvalidInput,
                "a reward rule needs an amount (with its currency) or a description");
  }
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign = store_.FindCampaign(Trim(input.campaign));
  if (!campaign) return std::unexpected(campaign.error());
  if (!*campaign) {
    return Fail(ErrorCode::kNotFound,
                fmt::format("campaign \"{}\" does not exist", Trim(input.campaign)));
  }
  rule.campaign_id = (*campaign)->id;
  if (rule.amount && rule.currency.empty()) rule.currency = (*campaign)->currency;
  rule.created_at = Now();
  auto created = store_.CreateRewardRule(rule);
  if (!created) return created;
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return created;
}

Result<Campaign> Engine::SetCampaignCurrency(std::string_view name, std::string_view currency) {
  auto parsed = ParseCurrency(currency);
  if (!parsed) return std::unexpected(NotACurrency(currency));
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto campaign = store_.FindCampaign(Trim(name));
  if (!campaign) return std::unexpected(campaign.error());
  if (!*campaign) {
    return Fail(ErrorCode::kNotFound, fmt::format("campaign \"{}\" does not exist", Trim(name)));
  }
  if (auto set = store_.SetCampaignCurrency((*campaign)->id, *parsed); !set) {
    return std::unexpected(set.error());
  }
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  (*campaign)->currency = std::move(*parsed);
  return std::move(**campaign);
}

Result<std::vector<RewardRule>> Engine::RewardRules(std::string_view campaign) {
  std::optional<int64_t> campaign_id;
  if (!Trim(campaign).empty()) {
    auto id = RequireCampaign(campaign);
    if (!id) return std::unexpected(id.error());
    campaign_id = *id;
  }
  return store_.ListRewardRules(campaign_id, false);
}

Result<void> Engine::RemoveRewardRule(int64_t id) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto removed = store_.RemoveRewardRule(id, Now());
  if (!removed) return std::unexpected(removed.error());
  if (!*removed) return Fail(ErrorCode::kNotFound, fmt::format("no active reward rule {}", id));
  return tx->Commit();
}

Result<std::vector<Reward>> Engine::Rewards(const RewardQuery& query) {
  RewardFilter filter{std::nullopt, query.referral_id, query.state, std::nullopt};
  if (!Trim(query.member).empty()) filter.member_email = NormalizeEmail(query.member);
  if (!Trim(query.campaign).empty()) {
    auto id = RequireCampaign(query.campaign);
    if (!id) return std::unexpected(id.error());
    filter.campaign_id = *id;
  }
  return store_.ListRewards(filter);
}

Result<int64_t> Engine::MarkRewardsPaid(std::span<const int64_t> ids) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto marked = store_.MarkRewardsPaid(ids, Now());
  if (!marked) return marked;
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return marked;
}

Result<ReferralStats> Engine::CountReferrals(std::string_view campaign) {
  std::optional<int64_t> only;
  if (!Trim(campaign).empty()) {
    auto id = RequireCampaign(campaign);
    if (!id) return std::unexpected(id.error());
    only = *id;
  }
  auto campaigns = store_.ListCampaigns();
  if (!campaigns) return std::unexpected(campaigns.error());
  auto counts = store_.CountReferrals();
  if (!counts) return std::unexpected(counts.error());
  ReferralStats stats;
  std::unordered_map<int64_t, size_t> index;
  for (Campaign& c : *campaigns) {
    if (only && c.id != *only) continue;
    index.emplace(c.id, stats.campaigns.size());
    stats.campaigns.push_back(CampaignCounts{std::move(c), {}});
  }
  for (const StatusCount& n : *counts) {
    auto it = index.find(n.campaign_id);
    if (it == index.end()) continue;
    for (StatusCounts* into : {&stats.campaigns[it->second].counts, &stats.all}) {
      into->total += n.count;
      into->by_status[static_cast<size_t>(n.status)] += n.count;
      if (n.ever_qualified) into->ever_qualified += n.count;
    }
  }
  return stats;
}

Result<int64_t> Engine::RequireCampaign(std::string_view name) {
  auto id = CampaignId(name);
  if (!id) return std::unexpected(id.error());
  if (!*id)
    return Fail(ErrorCode::kNotFound, fmt::format("campaign \"{}\" does not exist", Trim(name)));
  return **id;
}

Result<std::optional<int64_t>> Engine::CampaignId(std::string_view name) {
  auto campaign = store_.FindCampaign(Trim(name));
  if (!campaign) return std::unexpected(campaign.error());
  if (!*campaign) return std::optional<int64_t>();
  return std::optional<int64_t>((*campaign)->id);
}

Result<Referral> Engine::Resolve(const ReferralKey& typed) {
  // Compared as stored: emails trimmed and lower-cased, external ids trimmed.
  ReferralKey key = typed;
  if (key.kind == ReferralKey::Kind::kEmail) key.value = NormalizeEmail(key.value);
  if (key.kind == ReferralKey::Kind::kExternalId) key.value = NormalizeCode(key.value);
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
      if (!*one) return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", key.id));
      if (campaign_id && (*one)->campaign_id != *campaign_id) {
        return Fail(ErrorCode::kNotFound,
                    fmt::format("referral {} is in campaign \"{}\", not \"{}\"", key.id,
                                (*one)->campaign, key.campaign));
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
                fmt::format("{} matches referrals in several campaigns ({}); name its campaign "
                            "too",
                            described, campaigns));
  }
  return std::move(found->front());
}

Result<ReferralDetails> Engine::Details(const ReferralKey& key) {
  // The key resolved, and the referral, its history and rewards read, as of one moment.
  auto snapshot = store_.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto referral = Resolve(key);
  if (!referral) return std::unexpected(referral.error());
  return Details(referral->id);
}

Result<ReferralDetails> Engine::Details(int64_t referral_id) {
  // The referral, its history and rewards as of one moment (inside an open snapshot,
  // that one).
  auto snapshot = store_.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto referral = store_.GetReferral(referral_id);
  if (!referral) return std::unexpected(referral.error());
  if (!*referral)
    return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", referral_id));
  auto history = store_.History(referral_id);
  if (!history) return std::unexpected(history.error());
  auto rewards = store_.ListRewards(RewardFilter{std::nullopt, referral_id, std::nullopt});
  if (!rewards) return std::unexpected(rewards.error());
  return ReferralDetails{std::move(**referral), std::move(*history), std::move(*rewards)};
}

Result<ListResult> Engine::List(const ListRequest& request) {
  if (request.limit < 1 || request.limit > 1000) {
    return Fail(ErrorCode::kInvalidInput, "limit must be between 1 and 1000");
  }
  ReferralFilter filter;
  filter.status = request.status;
  filter.query = FoldCase(Trim(request.query));
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
  std::optional<ReferralPage> exact;
  if (!filter.query.empty()) {
    auto found = ExactMatches(store_, request.query, filter);
    if (!found) return std::unexpected(found.error());
    if (!found->empty()) {
      std::erase_if(*found, [&](const Referral& r) {
        return filter.before_id && r.id >= *filter.before_id;
      });
      if (found->size() > static_cast<size_t>(filter.limit) + 1) found->resize(filter.limit + 1);
      exact = PageOf(std::move(*found), filter.limit);
    }
  }
  auto page = exact ? Result<ReferralPage>(std::move(*exact)) : store_.ListReferrals(filter);
  if (!page) return std::unexpected(page.error());
  ListResult result{std::move(page->referrals), ""};
  if (page->next_before_id) result.next_cursor = std::to_string(*page->next_before_id);
  return result;
}

Result<StatusChangeOutcome> Engine::ChangeStatus(int64_t referral_id, Status to,
                                                 const ChangeContext& context,
                                                 const std::optional<std::string>& note) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto referral = store_.LockReferral(referral_id);
  if (!referral) return std::unexpected(referral.error());
  if (!*referral)
    return Fail(ErrorCode::kNotFound, fmt::format("no referral with id {}", referral_id));
  bool note_changed = note && *note != (*referral)->note;
  if (note_changed) (*referral)->note = *note;
  auto outcome = StatusWriter(store_, Now(), context).Change(**referral, to);
  if (!outcome) return outcome;
  if (note_changed) {
    if (auto ok = store_.WriteReferralFields({&**referral, 1}); !ok) {
      return std::unexpected(ok.error());
    }
  }
  if (outcome->changed || note_changed) {
    if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  }
  return outcome;
}

Result<Engine::NewApiKey> Engine::AddApiKey(std::string_view name, std::string_view scope) {
  auto parsed = ParseScope(Trim(scope));
  if (!parsed) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not a scope: use read, write or admin", Trim(scope)));
  }
  NewApiKey made;
  made.secret = GenerateApiKey();
  ApiKey key{0, std::string(Trim(name)), *parsed, ApiKeyPrefix(made.secret),
             HashApiKey(made.secret), Now(), {}};
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  if (key.name.empty()) {
    // Unnamed (SPEC §5: `apikey add --scope S`): "key-N", N one past the highest id so
    // far, which is the id the key gets unless another writer races it (names need not
    // be unique).
    auto keys = store_.ListApiKeys();
    if (!keys) return std::unexpected(keys.error());
    int64_t last = 0;
    for (const ApiKey& k : *keys) last = std::max(last, k.id);
    key.name = fmt::format("key-{}", last + 1);
  }
  auto created = store_.CreateApiKey(key);
  if (!created) return std::unexpected(created.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  made.key = std::move(*created);
  return made;
}

Result<std::vector<ApiKey>> Engine::ApiKeys() { return store_.ListApiKeys(); }

Result<void> Engine::RevokeApiKey(int64_t id) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto revoked = store_.RevokeApiKey(id, Now());
  if (!revoked) return std::unexpected(revoked.error());
  if (!*revoked) return Fail(ErrorCode::kNotFound, fmt::format("no active API key with id {}", id));
  return tx->Commit();
}

Result<ApiKey> Engine::Authenticate(std::string_view secret) {
  auto key = store_.FindApiKey(HashApiKey(Trim(secret)));
  if (!key) return std::unexpected(key.error());
  if (!*key || (*key)->revoked_at) return Fail(ErrorCode::kNotFound, "unknown or revoked API key");
  return std::move(**key);
}

}  // namespace reftrack
