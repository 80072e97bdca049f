// Bulk status update from a CSV file with a header (SPEC §4.1; Referral Rock's
// "Referrals: Update Existing").
//
// Planning checks every row, in file order, against the state the rows above it
// left. A status-only file (no name, email, external id or note column) changes no
// key, so it is read whole first and every referral it names is looked up at once,
// as the store finds best (one pass over the table when the file names much of it),
// keeping of each referral only what the rules need. A file that changes fields is
// read in chunks, whose referrals are looked up in batches, since a row may give a
// key to a referral that a later row names.
//
// The preview is that plan, changing nothing. The import is the same plan run inside
// one write transaction against the data as it is then, writing field changes chunk
// by chunk and status changes in referral order at the end, then committing: what it
// applies is exactly what the preview of the same file against the same data
// reports, and a kill at any moment leaves none of it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "csv/reader.h"
#include "engine/csv_header.h"
#include "engine/engine.h"

namespace reftrack {

struct ImportReport {
  int64_t rows = 0;              // data rows read (blank lines not counted)
  int64_t changed = 0;           // rows that change the referral: status or a field
  int64_t unchanged = 0;         // rows that name a referral and change nothing
  std::vector<RowError> errors;  // by row; every row in error is skipped whole
  std::vector<std::string> warnings;
  std::map<std::string, int64_t> transitions;  // status changes only, "pending->qualified"
  bool applied = false;
  std::optional<int64_t> import_id;  // set when applied
};

// Who imported which file, for the import's record.
struct ImportSource {
  std::string file_name;
  std::string actor;
  // The SHA-256 of the file's bytes, asked once the whole file has been read.
  std::function<std::string()> sha256;
};

// The columns a bulk update file may have.
inline constexpr std::string_view kKeyColumns[] = {"referralkey_id", "referralkey_externalid",
                                                   "referralkey_email"};
inline constexpr std::string_view kUpdateColumns[] = {"status", "name", "email", "external_id",
                                                      "note"};

// The preview (dry run): reads the whole file against one snapshot of the data and
// changes nothing. Refuses the file
// as a whole (an error, not a report) when its header has no key column or nothing
// to update.
Result<ImportReport> PreviewImport(Engine& engine, csv::Reader& reader, const ProgressFn& progress);

// The import: in one transaction, plans the file against the data as it is now,
// applies every valid row through the rules, records the import with its counts and
// errors, and commits. Refuses the file as a whole as PreviewImport does.
Result<ImportReport> ApplyImport(Engine& engine, csv::Reader& reader, const ImportSource& source,
                                 const ProgressFn& progress);

// The report's counts as the import's record keeps them (a JSON object).
std::string ImportCounts(const ImportReport& report);

}  // namespace reftrack
