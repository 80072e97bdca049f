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
#include "engine/engine.h"

namespace reftrack {

struct RowError {
  int64_t row = 0;      // as a spreadsheet shows it: the header is row 1
  std::string column;   // the column at fault, or empty for the whole row
  std::string message;
};

struct LoadReport {
  int64_t rows = 0;     // data rows read (blank lines not counted)
  int64_t created = 0;
  std::vector<RowError> errors;
  std::vector<std::string> warnings;
};

// Called now and then with the bytes read so far.
using ProgressFn = std::function<void(uint64_t bytes_read)>;

// Refuses the whole file (nothing created) when its header lacks a required column.
Result<LoadReport> LoadReferrals(Engine& engine, csv::Reader& reader, const ProgressFn& progress);
Result<LoadReport> LoadMembers(Engine& engine, csv::Reader& reader, const ProgressFn& progress);

}  // namespace reftrack
