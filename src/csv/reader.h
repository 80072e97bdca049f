// A streaming RFC 4180 CSV reader: UTF-8 with or without BOM, LF or CRLF line ends,
// quoted fields holding commas, doubled quotes and line breaks, a last line without
// a line end. Memory stays bounded by the longest record, whatever the file's size.
#pragma once

#include <cstdint>
#include <cstdio>
#include <expected>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reftrack::csv {

// The most bytes one record may hold: a file without line ends (or a binary file) is
// then an error after this much, not a record the size of the file.
constexpr size_t kMaxRecordBytes = size_t{16} << 20;
// The most fields one record may have (each costs memory even when empty).
constexpr size_t kMaxRecordFields = size_t{1} << 20;

// Why input starting with `head` is not CSV text at all, e.g. "the file is UTF-16
// (little-endian) text, not UTF-8", or "the file is a ZIP archive (an Excel .xlsx
// workbook?), not CSV text", with what to do; nothing when it may be CSV text.
// Looks at byte-order marks of other encodings and at the signatures of the binary
// files people upload by mistake (workbooks, PDF, images, archives).
std::optional<std::string> NotCsvText(std::string_view head);

// One record of the file.
struct Record {
  std::vector<std::string> fields;
  // 1-based record number as a spreadsheet shows it: the first record (often the
  // header) is row 1, a quoted field spanning lines is still one row, and a blank
  // line is a row of its own.
  int64_t row = 0;
  // 1-based physical line on which the record starts.
  int64_t line = 0;
  // True when the record is an empty line (no characters at all before its line end).
  bool blank = false;
};

// A record that is not valid CSV. The reader has skipped to the start of the next
// record, so reading can go on.
struct ParseError {
  int64_t row = 0;
  int64_t line = 0;
  int64_t column = 0;   // 1-based field index where the problem is
  std::string message;  // e.g. "unexpected quote in an unquoted field"
  // The file itself could not be read (a read error, or a regular file that ended
  // before the size it had when the reader was made): nothing after this is known, so
  // the file as a whole has failed, not one record. `message` then says how far it was
  // read and why, e.g. "the file could not be read after its first 8890 bytes:
  // Input/output error".
  bool read_failed = false;
};

class Reader {
 public:
  // Reads from `file`, which the caller keeps open and closes after the reader is gone.
  explicit Reader(std::FILE* file);
  // Reads from a string held by the caller for the reader's lifetime.
  explicit Reader(std::string_view text);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // Reads the next record into `record` (reusing its storage). Returns true when a
  // record was read, false at the end of input, or a ParseError for a malformed record.
  std::expected<bool, ParseError> Next(Record& record);

  // The first bytes of the input (up to 64, BOM included), before the first Next();
  // empty after it. Reads the first block of a file if need be, consuming nothing.
  std::string_view Head();

  // Bytes consumed so far, for progress reporting.
  uint64_t bytes_read() const;
  // The input's size in bytes when it is known beforehand (a regular file, a
  // string), else 0.
  uint64_t size() const;

  // For a file reader: `tap` sees every block of bytes as it is read from the file,
  // in order (e.g. to hash the file in the same pass).
  void SetTap(std::function<void(std::string_view)> tap);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace reftrack::csv
