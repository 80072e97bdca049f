// Any bytes through the streaming CSV reader (src/csv/reader.h), read from memory and
// (one input in 8) from a file whose 1 MiB read boundary falls inside the input,
// checking:
// - rows count up by one per record or error, lines never go back, a blank record has
//   no fields and any other at least one, and bytes_read grows to the input's size;
// - reading from a file gives the same records and errors as reading from memory;
// - the records, written back as CSV with every field quoted, read back the same.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "csv/reader.h"
#include "fuzz_support.h"

namespace {

using reftrack::csv::ParseError;
using reftrack::csv::Reader;
using reftrack::csv::Record;

constexpr size_t kChunkSize = size_t{1} << 20;  // the reader's read size (reader.cc)

struct Outcome {
  std::vector<std::string> fields;
  int64_t row = 0, line = 0, column = 0;
  bool blank = false, error = false;
  bool operator==(const Outcome&) const = default;
};

// Reads everything, checking the invariants that hold record by record.
// `skipped` records were read already, the last of them on line 1.
std::vector<Outcome> ReadAll(Reader& reader, uint64_t size, Record& record, size_t skipped = 0) {
  std::vector<Outcome> out;
  int64_t last_line = skipped > 0 ? 1 : 0;
  uint64_t last_bytes = reader.bytes_read();
  for (;;) {
    auto next = reader.Next(record);
    uint64_t bytes = reader.bytes_read();
    FUZZ_CHECK(bytes >= last_bytes && bytes <= size, "bytes_read %llu after %llu of %llu",
               (unsigned long long)bytes, (unsigned long long)last_bytes,
               (unsigned long long)size);
    last_bytes = bytes;
    Outcome o;
    if (!next) {
      const ParseError& e = next.error();
      FUZZ_CHECK(!e.read_failed, "a read from memory failed");
      FUZZ_CHECK(!e.message.empty(), "an error without a message");
      FUZZ_CHECK(e.column >= 1, "error column %lld", (long long)e.column);
      o = {{}, e.row, e.line, e.column, false, true};
    } else if (!*next) {
      break;
    } else {
      FUZZ_CHECK(record.blank ? record.fields.empty() : !record.fields.empty(),
                 "blank=%d with %zu fields", record.blank, record.fields.size());
      o = {record.fields, record.row, record.line, 0, record.blank, false};
    }
    FUZZ_CHECK(o.row == static_cast<int64_t>(skipped + out.size()) + 1,
               "row %lld is record %zu", (long long)o.row, skipped + out.size() + 1);
    FUZZ_CHECK(o.line > last_line, "line %lld after %lld", (long long)o.line,
               (long long)last_line);
    last_line = o.line;
    out.push_back(std::move(o));
  }
  FUZZ_CHECK(last_bytes == size, "read %llu of %llu bytes", (unsigned long long)last_bytes,
             (unsigned long long)size);
  auto again = reader.Next(record);  // the end stays the end
  FUZZ_CHECK(again && !*again, "a record after the end");
  return out;
}

// `text` read from a file in which it starts `offset` bytes before the first read
// boundary, behind a filler record: the outcomes after the filler, renumbered. The
// buffers are kept from one input to the next: fresh megabytes cost page faults that
// would take most of the run.
std::vector<Outcome> ReadFromFile(std::string_view text, size_t offset) {
  static std::string file;
  file.assign(kChunkSize - offset, 'x');
  file.front() = '"';
  file[file.size() - 2] = '"';
  file.back() = '\n';
  file.append(text);
  std::FILE* f = fmemopen(file.data(), file.size(), "rb");
  FUZZ_CHECK(f != nullptr, "fmemopen");
  std::vector<Outcome> out;
  {
    Reader reader(f);
    uint64_t tapped = 0;
    reader.SetTap([&tapped](std::string_view block) { tapped += block.size(); });
    static Record record;
    auto filler = reader.Next(record);
    FUZZ_CHECK(filler && *filler && record.fields.size() == 1 &&
                   record.fields[0].size() == kChunkSize - offset - 3,
               "the filler record");
    out = ReadAll(reader, file.size(), record, 1);
    FUZZ_CHECK(tapped == file.size(), "the tap saw %llu of %zu bytes",
               (unsigned long long)tapped, file.size());
  }
  std::fclose(f);
  for (Outcome& o : out) --o.row, --o.line;
  return out;
}

// The records as CSV again, every field quoted, so it reads back the same.
std::string Rewrite(const std::vector<Outcome>& records, const char* eol) {
  std::string text;
  for (const Outcome& o : records) {
    for (size_t i = 0; i < o.fields.size(); ++i) {
      if (i > 0) text += ',';
      text += '"';
      for (char c : o.fields[i]) {
        if (c == '"') text += '"';
        text += c;
      }
      text += '"';
    }
    text += eol;
  }
  return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<Outcome> memory;
  {
    Reader reader(text);
    Record record;
    memory = ReadAll(reader, size, record);
  }

  // The same from a file, with the read boundary `offset` bytes into the text (a BOM
  // counts only at the file's start, so the comparison leaves it out).
  std::string_view body = text;
  if (body.starts_with("\xEF\xBB\xBF")) body.remove_prefix(3);
  std::vector<Outcome> expected = memory;
  if (body.size() != text.size()) {
    Reader reader(body);
    Record record;
    expected = ReadAll(reader, body.size(), record);
  }
  // Reading 1 MiB more costs page faults, so one input in 8 (by its hash) takes this
  // path, every other one the fast checks alone.
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) hash = (hash ^ c) * 16777619u;
  // A second BOM is text, but the memory reader of `body` would take it as a BOM.
  if (hash % 8 == 0 && !body.starts_with("\xEF\xBB\xBF")) {
    size_t offset = (hash >> 3) % (body.size() + 1);
    FUZZ_CHECK(ReadFromFile(body, offset) == expected, "file and memory differ (offset %zu)",
               offset);
  }

  // Without errors, the records survive being written and read again.
  bool errors = false;
  for (const Outcome& o : memory) errors = errors || o.error;
  if (!errors) {
    for (const char* eol : {"\n", "\r\n"}) {
      std::string again = Rewrite(memory, eol);
      Reader reader(again);
      Record record;
      std::vector<Outcome> reread = ReadAll(reader, again.size(), record);
      FUZZ_CHECK(reread.size() == memory.size(), "%zu records read back as %zu", memory.size(),
                 reread.size());
      for (size_t i = 0; i < reread.size(); ++i) {
        FUZZ_CHECK(reread[i].fields == memory[i].fields && reread[i].blank == memory[i].blank,
                   "record %zu reads back differently", i + 1);
      }
    }
  }
  return 0;
}
