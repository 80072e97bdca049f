// The header and data rows of a bulk CSV file: header names compared trimmed and
// case-insensitively, unknown and repeated names reported once as warnings (the first
// 20, then how many more); malformed and wrong-width rows reported with their
// spreadsheet row and skipped.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "csv/reader.h"
#include "domain/model.h"
#include "util/result.h"

namespace reftrack {

class CsvHeader {
 public:
  // `known` lists the column names this kind of file understands (lower case).
  static CsvHeader Match(const std::vector<std::string>& header,
                         const std::vector<std::string_view>& known);

  // Index of the column in the row, or -1 when the file has no such column.
  int Index(std::string_view name) const;
  bool Has(std::string_view name) const { return Index(name) >= 0; }
  // Fails naming every missing column, e.g. "the header has no column email".
  Result<void> Require(const std::vector<std::string_view>& names) const;

  // "unknown column \"foo\" (column 4) is ignored", one per unknown column.
  const std::vector<std::string>& warnings() const { return warnings_; }
  size_t width() const { return width_; }
  // Column `index` (0-based): its known name, or the file's name for it, trimmed;
  // empty past the header.
  std::string_view NameAt(size_t index) const {
    return index < names_.size() ? std::string_view(names_[index]) : std::string_view();
  }

 private:
  std::vector<std::pair<std::string, int>> columns_;
  std::vector<std::string> names_;
  std::vector<std::string> warnings_;
  size_t width_ = 0;
};

// The field at `index` of `row`, or empty when the index is -1 or past the row's end.
inline std::string_view FieldAt(const std::vector<std::string>& row, int index) {
  if (index < 0 || static_cast<size_t>(index) >= row.size()) return {};
  return row[index];
}

// Called now and then with the bytes read so far.
using ProgressFn = std::function<void(uint64_t bytes_read)>;

// Reads row 1 and matches it against `known`; refuses a missing or malformed header,
// naming the columns the file may have.
Result<CsvHeader> ReadHeader(csv::Reader& reader, const std::vector<std::string_view>& known);

// Reads the data rows after the header, skipping blank lines and rows of empty cells.
// Each row read counts in `rows`; a malformed row, one whose width differs from the
// header's, or one with a cell that is not UTF-8 text goes to `errors`; the others go
// to `on_row`, whose failure stops the reading. A file that cannot be read to its end
// fails as a whole.
Result<void> ForEachDataRow(csv::Reader& reader, const CsvHeader& header, int64_t& rows,
                            std::vector<RowError>& errors, const ProgressFn& progress,
                            const std::function<Result<void>(const csv::Record&)>& on_row);

// Orders errors by row, keeping the order of a row's errors.
void SortByRow(std::vector<RowError>& errors);

}  // namespace reftrack
