#include "engine/qualify_upload.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

#include "domain/normalize.h"
#include "engine/json.h"
#include "engine/status_writer.h"
#include "store/store.h"
#include "util/value_set.h"

namespace reftrack {

namespace {

// Progress is reported every this many lines.
constexpr int64_t kProgressEveryLines = 16'384;
// Longer values cannot be a code (nor, by RFC 5321, an email address).
constexpr size_t kMaxValueBytes = 320;

// What a first line holding a column title may say instead of a value.
constexpr std::array<std::string_view, 12> kHeaderWords = {
    "email",         "e-mail",       "email address", "referral_code",
    "referral code", "referralcode", "referral-code", "coupon_code",
    "coupon code",   "couponcode",   "coupon-code",   "code"};

LookupColumn ColumnOf(QualifyBy by) {
  switch (by) {
    case QualifyBy::kEmail:
      return LookupColumn::kEmail;
    case QualifyBy::kReferralCode:
      return LookupColumn::kReferralCode;
    case QualifyBy::kCouponCode:
      return LookupColumn::kCouponCode;
  }
  return LookupColumn::kEmail;
}

bool IsHeaderWord(std::string_view value) {
  std::string lower = LowerAscii(value);
  return std::ranges::find(kHeaderWords, lower) != kHeaderWords.end();
}

bool HasControlCharacter(std::string_view s) {
  return std::ranges::any_of(s, [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

// The list as read: its distinct valid values (normalized) and the line counts.
class ValueList {
 public:
  explicit ValueList(QualifyBy by) : by_(by) {}

  const ValueSet& values() const { return values_; }
  int64_t lines() const { return lines_; }
  int64_t not_recognized() const { return not_recognized_; }

  // Reads every line of `reader`; only a file that cannot be read fails.
  Result<void> Read(csv::Reader& reader, const ProgressFn& progress) {
    if (auto not_csv = csv::NotCsvText(reader.Head())) {
      return Fail(ErrorCode::kInvalidInput, *not_csv);
    }
    csv::Record record;
    while (true) {
      auto next = reader.Next(record);
      if (!next) {
        if (next.error().read_failed) return Fail(ErrorCode::kInvalidInput, next.error().message);
        ++lines_;  // a malformed line holds no value this can trust
        ++not_recognized_;
        continue;
      }
      if (!*next) break;
      Add(record);
      if (progress && lines_ % kProgressEveryLines == 0) progress(reader.bytes_read());
    }
    if (progress) progress(reader.bytes_read());
    return {};
  }

 private:
  void Add(const csv::Record& record) {
    bool blank =
        std::ranges::all_of(record.fields, [](const std::string& f) { return Trim(f).empty(); });
    if (blank) return;
    bool first = lines_ == 0;
    ++lines_;
    if (by_ == QualifyBy::kEmail) {
      NormalizeEmail(record.fields[0], value_);
    } else {
      NormalizeCode(record.fields[0], value_);
    }
    if (!Valid(value_, first)) {
      ++not_recognized_;
      return;
    }
    values_.Insert(value_);
  }

  bool Valid(std::string_view value, bool first_line) const {
    if (value.empty() || value.size() > kMaxValueBytes || !IsValidText(value)) return false;
    if (by_ == QualifyBy::kEmail) return IsValidEmail(value);
    if (HasControlCharacter(value)) return false;
    // A column title on the first line is a header row, not a code.
    return !(first_line && IsHeaderWord(value));
  }

  QualifyBy by_;
  ValueSet values_;
  std::string value_;  // the line being read, normalized
  int64_t lines_ = 0;
  int64_t not_recognized_ = 0;
};

// Which campaign the request names: none for codes without one.
Result<std::optional<int64_t>> CampaignOf(Engine& engine, const QualifyRequest& request) {
  if (Trim(request.campaign).empty()) {
    if (request.by == QualifyBy::kEmail) {
      return Fail(ErrorCode::kInvalidInput,
                  "qualifying by email needs a campaign: one person may take part "
                  "in several campaigns");
    }
    return std::optional<int64_t>();
  }
  auto id = engine.RequireCampaign(request.campaign);
  if (!id) return std::unexpected(id.error());
  return std::optional<int64_t>(*id);
}

Result<void> ReadList(csv::Reader& reader, ValueList& list, const ProgressFn& progress) {
  if (auto ok = list.Read(reader, progress); !ok) return ok;
  if (list.lines() == 0) {
    return Fail(ErrorCode::kInvalidInput,
                "the file has no values: it is empty or holds only blank lines");
  }
  return {};
}

// Counts the matched referrals into `report` and keeps in `matched` only the ones an
// upload qualifies: never qualified before, and pending or denied. One qualified
// before is already_qualified, or not_allowed when it is denied now (SPEC §4.2).
void Classify(std::vector<ReferralState>& matched, const ValueList& list, QualifyReport& report) {
  report.lines = list.lines();
  report.not_recognized = list.not_recognized();
  report.recognized = static_cast<int64_t>(list.values().size());
  report.matched = static_cast<int64_t>(matched.size());
  report.unmatched = report.recognized - report.matched;
  std::erase_if(matched, [&report](const ReferralState& r) {
    if (r.status == Status::kQualified || r.status == Status::kApproved) {
      ++report.already_qualified;
    } else if (r.ever_qualified()) {
      ++(r.status == Status::kDenied ? report.not_allowed : report.already_qualified);
    } else {
      ++report.qualified;
      return false;
    }
    return true;
  });
}

Result<std::vector<ReferralState>> Match(Store& store, const QualifyRequest& request,
                                         std::optional<int64_t> campaign_id,
                                         const ValueList& list) {
  return store.MatchReferrals(ColumnOf(request.by), campaign_id, list.values());
}

// Qualifies `referrals` (each never qualified before, pending or denied) through
// the one writer: statuses, history and the rewards their campaigns' rules issue.
Result<void> Qualify(Store& store, std::span<const ReferralState> referrals, Micros at,
                     const ChangeContext& context) {
  std::vector<StatusStep> steps;
  steps.reserve(referrals.size());
  for (const ReferralState& r : referrals) {
    steps.push_back({r.id, r.referrer_id.value_or(0), static_cast<int32_t>(r.campaign_id),
                     r.status, Status::kQualified, r.ever_qualified()});
  }
  return StatusWriter(store, at, context).Write(steps);
}

}  // namespace

std::string_view QualifyByName(QualifyBy by) {
  switch (by) {
    case QualifyBy::kEmail:
      return "email";
    case QualifyBy::kReferralCode:
      return "referral_code";
    case QualifyBy::kCouponCode:
      return "coupon_code";
  }
  return "email";
}

std::optional<QualifyBy> ParseQualifyBy(std::string_view text) {
  std::string name = LowerAscii(Trim(text));
  std::ranges::replace(name, '-', '_');
  for (QualifyBy by : {QualifyBy::kEmail, QualifyBy::kReferralCode, QualifyBy::kCouponCode}) {
    if (name == QualifyByName(by)) return by;
  }
  return std::nullopt;
}

std::string QualifyCounts(const QualifyReport& report) {
  nlohmann::json counts = ToJson(report);
  counts.erase("applied");
  counts.erase("upload_id");
  return counts.dump();
}

Result<QualifyReport> EstimateQualify(Engine& engine, csv::Reader& reader,
                                      const QualifyRequest& request, const ProgressFn& progress) {
  Store& store = engine.store();
  auto campaign_id = CampaignOf(engine, request);
  if (!campaign_id) return std::unexpected(campaign_id.error());
  ValueList list(request.by);
  if (auto ok = ReadList(reader, list, progress); !ok) return std::unexpected(ok.error());
  auto snapshot = store.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto matched = Match(store, request, *campaign_id, list);
  if (!matched) return std::unexpected(matched.error());
  QualifyReport report;
  Classify(*matched, list, report);
  return report;
}

Result<QualifyReport> ApplyQualify(Engine& engine, csv::Reader& reader,
                                   const QualifyRequest& request, const ImportSource& source,
                                   const ProgressFn& progress) {
  Store& store = engine.store();
  auto campaign_id = CampaignOf(engine, request);
  if (!campaign_id) return std::unexpected(campaign_id.error());
  ValueList list(request.by);
  Micros started = engine.Now();
  // The list is read before the transaction: the write lock is held only to match
  // and write.
  if (auto ok = ReadList(reader, list, progress); !ok) return std::unexpected(ok.error());

  // Matches come sorted by id, and are written in that order.
  auto tx = store.BeginWrite(Store::WriteMode::kBulkInIdOrder);
  if (!tx) return std::unexpected(tx.error());
  ImportRecord record{0,
                      "qualify_upload",
                      source.file_name,
                      source.sha256 ? source.sha256() : "",
                      source.actor,
                      started,
                      0,
                      "{}",
                      std::string(QualifyByName(request.by)),
                      *campaign_id};
  auto id = store.CreateImport(record);
  if (!id) return std::unexpected(id.error());
  record.id = *id;

  auto matched = Match(store, request, *campaign_id, list);
  if (!matched) return std::unexpected(matched.error());
  QualifyReport report;
  Classify(*matched, list, report);
  Micros at = engine.Now();
  ChangeContext context{ChangeSource::kQualifyUpload, source.actor, *id};
  if (auto ok = Qualify(store, *matched, at, context); !ok) return std::unexpected(ok.error());

  record.finished_at = engine.Now();
  record.counts = QualifyCounts(report);
  if (auto ok = store.FinishImport(record, {}); !ok) return std::unexpected(ok.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  report.applied = true;
  report.upload_id = *id;
  return report;
}

}  // namespace reftrack
