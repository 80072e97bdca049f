#include "engine/referral_loader.h"

#include <fmt/format.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "domain/normalize.h"
#include "engine/csv_header.h"
#include "engine/referral_validator.h"
#include "engine/status_writer.h"

namespace reftrack {

namespace {

// Rows handed to the store at once: large enough to amortize, small enough to keep
// memory flat.
constexpr size_t kBatchSize = 16384;

// Reads the header, refuses it without `required`, then hands each good row to `on_row`.
Result<void> ReadRows(
    csv::Reader& reader, const std::vector<std::string_view>& known,
    const std::vector<std::string_view>& required, LoadReport& report, const ProgressFn& progress,
    const std::function<Result<void>(const CsvHeader&, const csv::Record&)>& on_row) {
  auto header = ReadHeader(reader, known);
  if (!header) return std::unexpected(header.error());
  if (auto ok = header->Require(required); !ok) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("{}; the first row must name the columns: {}",
                                                      ok.error().message, fmt::join(known, ",")));
  }
  report.warnings = header->warnings();
  return ForEachDataRow(reader, *header, report.rows, report.errors, progress,
                        [&](const csv::Record& record) { return on_row(*header, record); });
}

}  // namespace

Result<LoadReport> LoadReferrals(Engine& engine, csv::Reader& reader, const ProgressFn& progress) {
  static const std::vector<std::string_view> kColumns = {
      "campaign", "email", "name", "external_id", "referral_code", "coupon_code", "referrer_email"};
  Store& store = engine.store();
  auto tx = store.BeginWrite(Store::WriteMode::kBulk);
  if (!tx) return std::unexpected(tx.error());

  LoadReport report;
  ReferralValidator validator(store, /*bulk=*/true);
  const Micros at = engine.Now();
  std::vector<NewReferral> batch;
  std::vector<int64_t> batch_rows;
  std::vector<DuplicateOf> outcomes;
  batch.reserve(kBatchSize);

  // Creating a referral enters pending: the campaigns' pending rules issue rewards.
  StatusWriter writer(store, at, {});
  std::unordered_map<int64_t, bool> rewarded;  // by campaign id: RewardsOnCreation
  std::vector<std::string> created_emails;
  std::unordered_set<std::string> created_keys;  // "campaign id:email" of the new ones
  auto key = [](int64_t campaign_id, std::string_view email) {
    return fmt::format("{}:{}", campaign_id, email);
  };
  std::vector<CreatedReferral> created;
  // The batch's new referrals in campaigns with pending rules, read back for their ids
  // (one batched look-up), for the rewards those rules issue them.
  auto issue_rewards = [&]() -> Result<void> {
    created_emails.clear();
    created_keys.clear();
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes[i] != DuplicateOf::kNone) continue;
      auto [known, added] = rewarded.try_emplace(batch[i].campaign_id, false);
      if (added) {
        auto on = writer.RewardsOnCreation(batch[i].campaign_id);
        if (!on) return std::unexpected(on.error());
        known->second = *on;
      }
      if (known->second) {
        created_emails.push_back(batch[i].email);
        created_keys.insert(key(batch[i].campaign_id, batch[i].email));
      }
    }
    if (created_emails.empty()) return {};
    auto found = store.FindReferralsBy(LookupColumn::kEmail, created_emails);
    if (!found) return std::unexpected(found.error());
    created.clear();
    for (const Referral& r : *found) {
      if (created_keys.contains(key(r.campaign_id, r.email))) {
        created.push_back({r.id, r.campaign_id, r.referrer_id});
      }
    }
    return writer.Created(created);
  };

  auto flush = [&]() -> Result<void> {
    if (batch.empty()) return {};
    if (auto ok = store.InsertReferrals(batch, outcomes); !ok) {
      std::optional<size_t> item = store.FailedItem();
      return std::unexpected(InBulkWork(
          ok.error(), "referral load",
          item && *item < batch_rows.size() ? std::optional(batch_rows[*item]) : std::nullopt));
    }
    if (auto ok = issue_rewards(); !ok) {
      return std::unexpected(InBulkWork(ok.error(), "referral load", std::nullopt));
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      if (outcomes[i] == DuplicateOf::kNone) {
        ++report.created;
      } else {
        report.errors.push_back({batch_rows[i], DuplicateColumn(outcomes[i]),
                                 DuplicateMessage(outcomes[i], batch[i],
                                                  validator.CampaignName(batch[i].campaign_id))});
      }
    }
    batch.clear();
    batch_rows.clear();
    return {};
  };

  ReferralInput input;
  auto on_row = [&](const CsvHeader& h, const csv::Record& record) -> Result<void> {
    const auto& f = record.fields;
    input.campaign = FieldAt(f, h.Index("campaign"));
    input.email = FieldAt(f, h.Index("email"));
    input.name = FieldAt(f, h.Index("name"));
    input.external_id = FieldAt(f, h.Index("external_id"));
    input.referral_code = FieldAt(f, h.Index("referral_code"));
    input.coupon_code = FieldAt(f, h.Index("coupon_code"));
    input.referrer_email = FieldAt(f, h.Index("referrer_email"));
    auto valid = validator.Validate(input, at);
    if (!valid) {
      if (valid.error().code == ErrorCode::kStorage) {
        return Fail(ErrorCode::kStorage, valid.error().message);
      }
      report.errors.push_back({record.row, valid.error().column, valid.error().message});
      return {};
    }
    batch.push_back(std::move(*valid));
    batch_rows.push_back(record.row);
    if (batch.size() == kBatchSize) return flush();
    return {};
  };

  if (auto ok = ReadRows(reader, kColumns, {"campaign", "email"}, report, progress, on_row); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = flush(); !ok) return std::unexpected(ok.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  SortByRow(report.errors);
  return report;
}

Result<LoadReport> LoadMembers(Engine& engine, csv::Reader& reader, const ProgressFn& progress) {
  static const std::vector<std::string_view> kColumns = {"campaign", "email", "name",
                                                         "referral_code"};
  Store& store = engine.store();
  auto tx = store.BeginWrite();
  if (!tx) return std::unexpected(tx.error());

  LoadReport report;
  const Micros at = engine.Now();
  std::unordered_map<std::string, std::optional<int64_t>> campaigns;
  auto on_row = [&](const CsvHeader& h, const csv::Record& record) -> Result<void> {
    const auto& f = record.fields;
    std::string campaign(Trim(FieldAt(f, h.Index("campaign"))));
    auto known = campaigns.find(campaign);
    if (known == campaigns.end()) {
      auto found = store.FindCampaign(campaign);
      if (!found) return std::unexpected(found.error());
      known =
          campaigns.emplace(campaign, *found ? std::optional((*found)->id) : std::nullopt).first;
    }
    if (!known->second) {
      report.errors.push_back({record.row, "campaign",
                               fmt::format("campaign \"{}\" does not exist", Excerpt(campaign))});
      return {};
    }
    NewMember m{*known->second, NormalizeEmail(FieldAt(f, h.Index("email"))),
                std::string(Trim(FieldAt(f, h.Index("name")))), std::nullopt};
    if (!IsValidEmail(m.email)) {
      report.errors.push_back({record.row, "email",
                               fmt::format("\"{}\" is not a valid email address",
                                           Excerpt(Trim(FieldAt(f, h.Index("email")))))});
      return {};
    }
    if (std::string code = NormalizeCode(FieldAt(f, h.Index("referral_code"))); !code.empty()) {
      m.referral_code = code;
    }
    auto created = store.CreateMember(m, at);
    if (created) {
      ++report.created;
    } else if (created.error().code == ErrorCode::kDuplicate) {
      // Which value is taken is what the store holds, not what its message's words say:
      // the member's email in the campaign, else its referral code.
      auto same_email = store.FindMember(m.campaign_id, m.email);
      if (!same_email) return std::unexpected(same_email.error());
      report.errors.push_back({record.row, *same_email ? "email" : "referral_code",
                               created.error().message});
    } else {
      return std::unexpected(created.error());
    }
    return {};
  };
  if (auto ok = ReadRows(reader, kColumns, {"campaign", "email"}, report, progress, on_row); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  SortByRow(report.errors);
  return report;
}

}  // namespace reftrack
