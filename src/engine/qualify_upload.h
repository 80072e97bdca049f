// Qualify by upload (SPEC §4.2; Referral Factory's "Qualify Referred Users"): a
// headerless list of converted customers qualifies the referrals it names.
//
// The list is read once into a set of distinct normalized values; the store matches
// the set against the referrals in one set operation. The estimate (dry run) is that
// match, classified, changing nothing. Applying runs the same match inside one write
// transaction against the data as it is then and qualifies exactly the referrals the
// estimate of the same list against the same data counts as `qualified`, each through
// the rules (ApplyTransition), with a history row of source qualify_upload.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "csv/reader.h"
#include "engine/bulk_update.h"
#include "engine/csv_header.h"
#include "engine/engine.h"
#include "util/result.h"

namespace reftrack {

// What the list's values are.
enum class QualifyBy { kEmail, kReferralCode, kCouponCode };

// "email", "referral_code", "coupon_code": as the record and the HTTP API name them.
std::string_view QualifyByName(QualifyBy by);
// Also accepts the CLI's spelling with a dash ("referral-code").
std::optional<QualifyBy> ParseQualifyBy(std::string_view text);

struct QualifyRequest {
  QualifyBy by = QualifyBy::kEmail;
  std::string campaign;  // name; required for kEmail, narrows the codes otherwise
};

// The counts of SPEC §4.2: recognized = matched + unmatched and
// matched = qualified + already_qualified + not_allowed.
struct QualifyReport {
  int64_t lines = 0;           // non-blank lines read
  int64_t recognized = 0;      // distinct valid values
  int64_t not_recognized = 0;  // lines whose value cannot be what was chosen
  int64_t matched = 0;         // recognized values that name a referral
  int64_t qualified = 0;       // referrals qualified (or, in the estimate, to be)
  int64_t already_qualified = 0;
  int64_t not_allowed = 0;  // qualified before and denied since
  int64_t unmatched = 0;
  bool applied = false;
  std::optional<int64_t> upload_id;  // set when applied

  // Lines repeating a value listed above them.
  int64_t duplicates() const { return lines - not_recognized - recognized; }
};

// The estimate: reads the whole list and matches it against one snapshot of the
// data, changing nothing. Refuses (an error, not a report) an email list without a
// campaign, an unknown campaign, and a file with no values at all.
Result<QualifyReport> EstimateQualify(Engine& engine, csv::Reader& reader,
                                      const QualifyRequest& request, const ProgressFn& progress);

// Applying: reads the list, then in one transaction matches it, qualifies every
// referral the estimate counts as `qualified`, records the upload with its counts,
// and commits. Refuses what EstimateQualify refuses.
Result<QualifyReport> ApplyQualify(Engine& engine, csv::Reader& reader,
                                   const QualifyRequest& request, const ImportSource& source,
                                   const ProgressFn& progress);

// The report's counts as the upload's record keeps them (a JSON object).
std::string QualifyCounts(const QualifyReport& report);

}  // namespace reftrack
