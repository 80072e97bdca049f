// Bulk creation from a CSV file with the header
// campaign,email,name,external_id,referral_code,coupon_code,referrer_email
// (members: campaign,email,name,referral_code). The whole file is one transaction:
// every valid row is created, rows in error are reported and skipped, and a kill at
// any moment leaves none of the file's rows.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "csv/reader.h"
#include "engine/csv_header.h"
#include "engine/engine.h"

namespace reftrack {

struct LoadReport {
  int64_t rows = 0;     // data rows read (blank lines not counted)
  int64_t created = 0;
  std::vector<RowError> errors;
  std::vector<std::string> warnings;
};

// Refuses the whole file (nothing created) when its header lacks a required column.
Result<LoadReport> LoadReferrals(Engine& engine, csv::Reader& reader, const ProgressFn& progress);
Result<LoadReport> LoadMembers(Engine& engine, csv::Reader& reader, const ProgressFn& progress);

}  // namespace reftrack
