#include "csv/reader.h"

#include <fmt/format.h>

#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <utility>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace reftrack::csv {

namespace {

constexpr size_t kChunkSize = size_t{1} << 20;

// Returns the first byte in [p, end) equal to one of kStops, or end.
template <char... kStops>
const char* Find(const char* p, const char* end) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_setzero_si128();
    ((hits = _mm_or_si128(hits, _mm_cmpeq_epi8(bytes, _mm_set1_epi8(kStops)))), ...);
    if (unsigned mask = _mm_movemask_epi8(hits)) return p + std::countr_zero(mask);
    p += 16;
  }
#endif
  while (p < end && ((*p != kStops) && ...)) ++p;
  return p;
}

// Returns field `i`, emptied, keeping the string's capacity from earlier records.
inline std::string& StartField(std::vector<std::string>& fields, size_t i) {
  if (i < fields.size()) {
    fields[i].clear();
    return fields[i];
  }
  return fields.emplace_back();
}

}  // namespace

std::optional<std::string> NotCsvText(std::string_view head) {
  constexpr std::string_view kSaveAs = "save it as \"CSV UTF-8\"";
  auto encoding = [&](std::string_view name) {
    return fmt::format("the file is {} text, not UTF-8; {}", name, kSaveAs);
  };
  // UTF-32 first: its little-endian BOM starts like UTF-16's.
  using namespace std::string_view_literals;
  if (head.starts_with("\xFF\xFE\0\0"sv)) return encoding("UTF-32 (little-endian)");
  if (head.starts_with("\0\0\xFE\xFF"sv)) return encoding("UTF-32 (big-endian)");
  if (head.starts_with("\xFF\xFE"sv)) return encoding("UTF-16 (little-endian)");
  if (head.starts_with("\xFE\xFF"sv)) return encoding("UTF-16 (big-endian)");
  // UTF-16 without a BOM: ASCII text with a NUL before or after every character.
  if (size_t n = head.size() / 2 * 2; n >= 4) {
    bool le = true, be = true;
    for (size_t i = 0; i < n; i += 2) {
      le = le && head[i] != '\0' && head[i + 1] == '\0';
      be = be && head[i] == '\0' && head[i + 1] != '\0';
    }
    if (le) return encoding("UTF-16 (little-endian, without a byte-order mark)");
    if (be) return encoding("UTF-16 (big-endian, without a byte-order mark)");
  }
  struct Signature {
    std::string_view magic;
    std::string_view what;
  };
  static constexpr Signature kBinary[] = {
      {"PK\x03\x04"sv, "a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?)"},
      {"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv,
       "an Excel 97-2003 workbook (.xls) or another Office file"},
      {"%PDF-"sv, "a PDF document"},
      {"\x89PNG\r\n\x1A\n"sv, "a PNG image"},
      {"\xFF\xD8\xFF"sv, "a JPEG image"},
      {"GIF8"sv, "a GIF image"},
      {"\x1F\x8B"sv, "a gzip archive"},
  };
  for (const Signature& s : kBinary) {
    if (head.starts_with(s.magic)) {
      return fmt::format(
          "the file is {}, not CSV text; save the sheet as \"CSV UTF-8\" and "
          "use that file",
          s.what);
    }
  }
  return std::nullopt;
}

struct Reader::Impl {
  std::FILE* file_ = nullptr;
  std::unique_ptr<char[]> chunk_;
  const char* base_ = nullptr;  // first byte in hand
  const char* pos_ = nullptr;   // next unconsumed byte
  const char* end_ = nullptr;
  uint64_t consumed_before_ = 0;  // input bytes preceding base_
  uint64_t size_ = 0;             // 0: not known
  // For a regular file: the bytes it held past the reader's start when it was opened.
  // Reaching its end sooner means it was cut short while being read.
  std::optional<uint64_t> expected_;
  bool started_ = false;
  std::string read_error_;  // why the file could not be read; empty while it can
  std::function<void(std::string_view)> tap_;
  int64_t row_ = 0;
  int64_t line_ = 1;  // physical line of the next record

  // Called once everything in hand is consumed; false at the end of the input.
  bool Fill() {
    consumed_before_ += end_ - base_;
    base_ = pos_ = end_;
    if (file_ == nullptr || !read_error_.empty()) return false;
    errno = 0;
    size_t n = std::fread(chunk_.get(), 1, kChunkSize, file_);
    const int error = errno;
    const uint64_t total = consumed_before_ + n;
    // The bytes before a failed read are good: they are read, then the error reported.
    if (std::ferror(file_)) {
      read_error_ = fmt::format("the file could not be read after its first {} bytes: {}", total,
                                error != 0 ? std::strerror(error) : "unknown error");
    } else if (n == 0 && expected_ && total < *expected_) {
      read_error_ = fmt::format(
          "the file could not be read after its first {} bytes: it held {} when reading "
          "began and was cut short while being read",
          total, *expected_);
    }
    if (n == 0) return false;
    base_ = pos_ = chunk_.get();
    end_ = base_ + n;
    if (tap_) tap_(std::string_view(base_, n));
    return true;
  }

  std::string_view Head() {
    if (started_) return {};
    if (pos_ == end_) Fill();
    return std::string_view(pos_, std::min<size_t>(end_ - pos_, 64));
  }

  // Consumes the LF of a CRLF whose CR was just read.
  void SkipLfAfterCr(const char*& p, const char*& e) {
    if (p == e) {
      pos_ = p;
      if (!Fill()) return;
      p = pos_;
      e = end_;
    }
    if (*p == '\n') ++p;
  }

  std::unexpected<ParseError> Fail(const Record& record, size_t column, int64_t line_breaks,
                                   const char* message, const char* p, const char* e) {
    // Resynchronize at the start of the next physical line.
    for (;;) {
      p = Find<'\r', '\n'>(p, e);
      if (p < e) break;
      pos_ = p;
      if (!Fill()) break;
      p = pos_;
      e = end_;
    }
    if (p < e) {
      if (*p++ == '\r') SkipLfAfterCr(p, e);
    }
    pos_ = p;
    line_ += line_breaks + 1;
    // What is wrong with a record the file stopped being readable in is not known.
    if (!read_error_.empty()) return ReadError();
    return std::unexpected(
        ParseError{record.row, record.line, static_cast<int64_t>(column), message});
  }

  std::expected<bool, ParseError> Next(Record& record) {
    if (!started_) {
      started_ = true;
      if (pos_ == end_) Fill();
      if (end_ - pos_ >= 3 && std::memcmp(pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;
    }
    if (pos_ == end_ && !Fill()) return ReadErrorOr(false);

    record.row = ++row_;
    record.line = line_;
    record.blank = false;
    std::vector<std::string>& fields = record.fields;
    size_t count = 1;
    std::string* field = &StartField(fields, 0);
    int64_t line_breaks = 0;  // inside quoted fields
    const uint64_t start = bytes_read();
    auto too_long = [this, start](const char* p) {
      return consumed_before_ + static_cast<uint64_t>(p - base_) - start > kMaxRecordBytes;
    };
    constexpr const char* kTooLong = "the row is longer than 16 MiB (is this a CSV file?)";
    constexpr const char* kTooWide = "the row has more than 1048576 fields";
    static_assert(kMaxRecordBytes == size_t{16} << 20 && kMaxRecordFields == size_t{1} << 20,
                  "kTooLong and kTooWide name the limits");
    enum { kStart, kUnquoted, kQuoted, kAfterQuote } state = kStart;
    const char* p = pos_;
    const char* e = end_;

    for (;;) {
      if (p == e) {
        pos_ = p;
        if (!Fill()) break;
        p = pos_;
        e = end_;
      }
      // Checked at each field, quote and block, and at the end of an unquoted run.
      if (too_long(p)) return Fail(record, count, line_breaks, kTooLong, p, e);
      if (count > kMaxRecordFields) return Fail(record, count, line_breaks, kTooWide, p, e);
      switch (state) {
        case kStart:
          if (*p == '"') {
            ++p;
            state = kQuoted;
            continue;
          }
          state = kUnquoted;
          [[fallthrough]];
        case kUnquoted: {
          const char* run = p;
          p = Find<',', '"', '\r', '\n'>(p, e);
          field->append(run, p - run);
          if (too_long(p)) return Fail(record, count, line_breaks, kTooLong, p, e);
          if (p == e) continue;
          char c = *p++;
          if (c == ',') {
            field = &StartField(fields, count++);
            state = kStart;
            continue;
          }
          if (c == '"') {
            return Fail(record, count, line_breaks, "unexpected quote in an unquoted field", p, e);
          }
          if (c == '\r') SkipLfAfterCr(p, e);
          // Only a line end right at the record's start leaves the first field empty here.
          record.blank = count == 1 && field->empty();
          return Finish(record, count, line_breaks, p);
        }
        case kQuoted: {
          const char* run = p;
          p = Find<'"', '\r', '\n'>(p, e);
          field->append(run, p - run);
          if (p == e) continue;
          char c = *p++;
          if (c == '"') {
            state = kAfterQuote;
            continue;
          }
          // A CRLF counts as one line break; its CR is already in the field.
          if (c == '\r' || field->empty() || field->back() != '\r') ++line_breaks;
          field->push_back(c);
          continue;
        }
        case kAfterQuote: {
          char c = *p++;
          if (c == '"') {
            field->push_back('"');
            state = kQuoted;
            continue;
          }
          if (c == ',') {
            field = &StartField(fields, count++);
            state = kStart;
            continue;
          }
          if (c == '\r' || c == '\n') {
            if (c == '\r') SkipLfAfterCr(p, e);
            return Finish(record, count, line_breaks, p);
          }
          return Fail(record, count, line_breaks, "unexpected character after a closing quote",
                      p - 1, e);
        }
      }
    }

    // The input ended inside the record.
    pos_ = p;
    if (!read_error_.empty()) return ReadError();
    if (state == kQuoted) {
      return std::unexpected(ParseError{record.row, record.line, static_cast<int64_t>(count),
                                        "quoted field not closed before the end of the file"});
    }
    fields.resize(count);
    return true;
  }

  uint64_t bytes_read() const { return consumed_before_ + static_cast<uint64_t>(pos_ - base_); }

  std::expected<bool, ParseError> Finish(Record& record, size_t count, int64_t line_breaks,
                                         const char* p) {
    pos_ = p;
    line_ += line_breaks + 1;
    if (record.blank) {
      record.fields.clear();
    } else {
      record.fields.resize(count);
    }
    return true;
  }

  std::expected<bool, ParseError> ReadErrorOr(bool value) {
    if (read_error_.empty()) return value;
    return ReadError();
  }

  std::unexpected<ParseError> ReadError() {
    file_ = nullptr;  // give up on the stream; later calls report the end
    return std::unexpected(ParseError{row_, line_, 0, std::exchange(read_error_, {}), true});
  }
};

Reader::Reader(std::FILE* file) : impl_(std::make_unique<Impl>()) {
  impl_->file_ = file;
  impl_->chunk_ = std::make_unique_for_overwrite<char[]>(kChunkSize);
  struct stat st {};
  if (fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode)) {
    impl_->size_ = static_cast<uint64_t>(st.st_size);
    // Standard input may be a file the shell opened somewhere past its start.
    off_t at = lseek(fileno(file), 0, SEEK_CUR);
    if (at >= 0 && at <= st.st_size) impl_->expected_ = static_cast<uint64_t>(st.st_size - at);
  }
}

Reader::Reader(std::string_view text) : impl_(std::make_unique<Impl>()) {
  impl_->base_ = impl_->pos_ = text.data();
  impl_->end_ = text.data() + text.size();
  impl_->size_ = text.size();
}

Reader::~Reader() = default;

std::expected<bool, ParseError> Reader::Next(Record& record) { return impl_->Next(record); }

std::string_view Reader::Head() { return impl_->Head(); }

void Reader::SetTap(std::function<void(std::string_view)> tap) { impl_->tap_ = std::move(tap); }

uint64_t Reader::bytes_read() const { return impl_->bytes_read(); }

uint64_t Reader::size() const { return impl_->size_; }

}  // namespace reftrack::csv
