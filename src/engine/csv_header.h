// Matches a CSV header against the columns a bulk file may have: names compared
// trimmed and case-insensitively; unknown names are reported once as warnings.
#pragma once

#include <string>
#include <string_view>
#include <vector>

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

 private:
  std::vector<std::pair<std::string, int>> columns_;
  std::vector<std::string> warnings_;
  size_t width_ = 0;
};

// The field at `index` of `row`, or empty when the index is -1 or past the row's end.
inline std::string_view FieldAt(const std::vector<std::string>& row, int index) {
  if (index < 0 || static_cast<size_t>(index) >= row.size()) return {};
  return row[index];
}

}  // namespace reftrack
