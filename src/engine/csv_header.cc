#include "engine/csv_header.h"

#include <algorithm>

#include <fmt/format.h>

#include "domain/normalize.h"

namespace reftrack {

CsvHeader CsvHeader::Match(const std::vector<std::string>& header,
                           const std::vector<std::string_view>& known) {
  CsvHeader h;
  h.width_ = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = LowerAscii(Trim(header[i]));
    if (i == 0 && name.starts_with("\xEF\xBB\xBF")) name.erase(0, 3);
    bool is_known = std::find(known.begin(), known.end(), name) != known.end();
    bool seen = h.Index(name) >= 0;
    if (is_known && seen) {
      h.warnings_.push_back(
          fmt::format("column \"{}\" appears twice; column {} is ignored", name, i + 1));
    } else if (is_known) {
      h.columns_.emplace_back(name, static_cast<int>(i));
    } else {
      h.warnings_.push_back(fmt::format("unknown column \"{}\" (column {}) is ignored",
                                        Trim(header[i]), i + 1));
    }
  }
  return h;
}

int CsvHeader::Index(std::string_view name) const {
  for (const auto& [n, i] : columns_) {
    if (n == name) return i;
  }
  return -1;
}

Result<void> CsvHeader::Require(const std::vector<std::string_view>& names) const {
  std::string missing;
  for (std::string_view n : names) {
    if (Has(n)) continue;
    missing += missing.empty() ? "" : ", ";
    missing += n;
  }
  if (missing.empty()) return {};
  return Fail(ErrorCode::kInvalidInput, fmt::format("the header has no column {}", missing));
}

}  // namespace reftrack
