#include "engine/csv_header.h"

#include <fmt/format.h>

#include <algorithm>

#include "domain/normalize.h"

namespace reftrack {

CsvHeader CsvHeader::Match(const std::vector<std::string>& header,
                           const std::vector<std::string_view>& known) {
  // A header of 100,000 unknown columns makes a few warnings, not 100,000.
  constexpr size_t kWarningsShown = 20;
  size_t ignored = 0;
  CsvHeader h;
  h.width_ = header.size();
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view raw = Trim(header[i]);
    if (i == 0 && raw.starts_with("\xEF\xBB\xBF")) raw = Trim(raw.substr(3));
    std::string name = LowerAscii(raw);
    bool is_known = std::find(known.begin(), known.end(), name) != known.end();
    h.names_.push_back(is_known ? name : std::string(raw));
    bool seen = h.Index(name) >= 0;
    if (is_known && !seen) {
      h.columns_.emplace_back(name, static_cast<int>(i));
    } else if (++ignored > kWarningsShown) {
      continue;
    } else if (is_known) {
      h.warnings_.push_back(
          fmt::format("column \"{}\" appears twice; column {} is ignored", name, i + 1));
    } else {
      h.warnings_.push_back(
          fmt::format("unknown column \"{}\" (column {}) is ignored", Excerpt(raw), i + 1));
    }
  }
  if (ignored > kWarningsShown) {
    h.warnings_.push_back(fmt::format("... and {} more columns are ignored (unknown or repeated)",
                                      ignored - kWarningsShown));
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

namespace {
constexpr int64_t kProgressEveryRows = 16384;
}

Result<CsvHeader> ReadHeader(csv::Reader& reader, const std::vector<std::string_view>& known) {
  if (auto not_csv = csv::NotCsvText(reader.Head())) {
    return Fail(ErrorCode::kInvalidInput, *not_csv);
  }
  csv::Record record;
  auto first = reader.Next(record);
  if (!first && first.error().read_failed) {
    return Fail(ErrorCode::kInvalidInput, first.error().message);
  }
  if (!first) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("row 1 (the header) is not valid CSV: {}", first.error().message));
  }
  if (!*first || record.blank) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("the file has no header; the first row must name the columns: {}",
                            fmt::join(known, ",")));
  }
  for (const std::string& name : record.fields) {
    if (!IsValidText(name)) {
      return Fail(ErrorCode::kInvalidInput,
                  "row 1 (the header) is not UTF-8 text (or holds a NUL byte); save the file as "
                  "\"CSV UTF-8\"");
    }
  }
  // One column naming several: the file is separated by something else than commas.
  if (record.fields.size() == 1) {
    for (auto [separator, name] : {std::pair{';', "semicolons (;)"}, std::pair{'\t', "tabs"},
                                   std::pair{'|', "vertical bars (|)"}}) {
      if (record.fields[0].find(separator) == std::string::npos) continue;
      return Fail(ErrorCode::kInvalidInput,
                  fmt::format("row 1 (the header) is one column, \"{}\": the file is separated "
                              "by {}, not commas; save it as \"CSV UTF-8 (Comma delimited)\"",
                              Excerpt(record.fields[0]), name));
    }
  }
  return CsvHeader::Match(record.fields, known);
}

Result<void> ForEachDataRow(csv::Reader& reader, const CsvHeader& header, int64_t& rows,
                            std::vector<RowError>& errors, const ProgressFn& progress,
                            const std::function<Result<void>(const csv::Record&)>& on_row) {
  csv::Record record;
  while (true) {
    auto next = reader.Next(record);
    if (!next) {
      const csv::ParseError& e = next.error();
      if (e.read_failed) return Fail(ErrorCode::kInvalidInput, e.message);
      ++rows;
      errors.push_back({e.row, std::string(header.NameAt(e.column - 1)),
                        fmt::format("malformed CSV: {} (column {})", e.message, e.column)});
      continue;
    }
    if (!*next) break;
    // A blank line, or a row of empty cells as spreadsheets write below the data.
    if (record.blank || std::all_of(record.fields.begin(), record.fields.end(),
                                    [](const std::string& f) { return f.empty(); })) {
      continue;
    }
    ++rows;
    if (progress && rows % kProgressEveryRows == 0) progress(reader.bytes_read());
    if (record.fields.size() != header.width()) {
      errors.push_back({record.row, "",
                        fmt::format("the row has {} fields but the header has {}",
                                    record.fields.size(), header.width())});
      continue;
    }
    auto bad = std::find_if(record.fields.begin(), record.fields.end(),
                            [](const std::string& f) { return !IsValidText(f); });
    if (bad != record.fields.end()) {
      size_t column = bad - record.fields.begin();
      errors.push_back({record.row, std::string(header.NameAt(column)),
                        fmt::format("column {} is not UTF-8 text (or holds a NUL byte); save the "
                                    "file as \"CSV UTF-8\"",
                                    column + 1)});
      continue;
    }
    if (auto ok = on_row(record); !ok) return ok;
  }
  if (progress) progress(reader.bytes_read());
  return {};
}

void SortByRow(std::vector<RowError>& errors) {
  // Most often they are in order already; sorting a million would take a copy's memory.
  auto by_row = [](const RowError& a, const RowError& b) { return a.row < b.row; };
  if (std::is_sorted(errors.begin(), errors.end(), by_row)) return;
  std::stable_sort(errors.begin(), errors.end(), by_row);
}

}  // namespace reftrack
