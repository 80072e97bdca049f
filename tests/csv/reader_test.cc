#include "csv/reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "../support/failing_input.h"

namespace reftrack::csv {
namespace {

using Fields = std::vector<std::string>;

constexpr size_t kChunk = size_t{1} << 20;

// A record or an error, as one Next() call returned it.
struct Outcome {
  bool ok = true;
  Record record;
  ParseError error;
};

std::vector<Outcome> ReadAll(Reader& reader) {
  std::vector<Outcome> out;
  Record record;
  for (;;) {
    auto next = reader.Next(record);
    if (!next) {
      out.push_back({false, {}, next.error()});
    } else if (*next) {
      out.push_back({true, record, {}});
    } else {
      return out;
    }
  }
}

std::vector<Outcome> ReadAll(std::string_view text) {
  Reader reader(text);
  return ReadAll(reader);
}

std::vector<Fields> FieldsOf(const std::vector<Outcome>& outcomes) {
  std::vector<Fields> out;
  for (const Outcome& o : outcomes) {
    EXPECT_TRUE(o.ok) << o.error.message;
    out.push_back(o.record.fields);
  }
  return out;
}

std::vector<Fields> Parse(std::string_view text) { return FieldsOf(ReadAll(text)); }

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

File TempFileWith(std::string_view text) {
  File file(std::tmpfile());
  EXPECT_NE(file, nullptr);
  EXPECT_EQ(std::fwrite(text.data(), 1, text.size(), file.get()), text.size());
  std::rewind(file.get());
  return file;
}

std::vector<Outcome> ReadAllFromFile(std::string_view text) {
  File file = TempFileWith(text);
  Reader reader(file.get());
  return ReadAll(reader);
}

TEST(ReaderTest, EmptyInputHasNoRecords) {
  Reader reader(std::string_view{});
  Record record;
  EXPECT_EQ(reader.Next(record), false);
  EXPECT_EQ(reader.Next(record), false);
}

TEST(ReaderTest, LfLines) {
  EXPECT_EQ(Parse("a,b\n1,2\n"), (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
}

TEST(ReaderTest, CrlfLines) {
  EXPECT_EQ(Parse("a,b\r\n1,2\r\n"), (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
}

TEST(ReaderTest, LoneCrEndsALine) {
  EXPECT_EQ(Parse("a,b\r1,2\r"), (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
}

TEST(ReaderTest, MixedLineEnds) {
  auto out = ReadAll("a\r\nb\nc\rd");
  EXPECT_EQ(FieldsOf(out), (std::vector<Fields>{{"a"}, {"b"}, {"c"}, {"d"}}));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i].record.row, i + 1);
    EXPECT_EQ(out[i].record.line, i + 1);
  }
}

TEST(ReaderTest, LastLineWithoutLineEnd) {
  EXPECT_EQ(Parse("a,b\n1,2"), (std::vector<Fields>{{"a", "b"}, {"1", "2"}}));
  EXPECT_EQ(Parse("\"x\""), (std::vector<Fields>{{"x"}}));
}

TEST(ReaderTest, TrailingLineEndAddsNoRecord) {
  EXPECT_EQ(Parse("a\n").size(), 1u);
  EXPECT_EQ(Parse("a\r\n").size(), 1u);
  EXPECT_EQ(Parse("a\r").size(), 1u);
}

TEST(ReaderTest, BomIsSkipped) {
  EXPECT_EQ(Parse("\xEF\xBB\xBFid,name\n1,x\n"), (std::vector<Fields>{{"id", "name"}, {"1", "x"}}));
  EXPECT_TRUE(ReadAll("\xEF\xBB\xBF").empty());
}

TEST(ReaderTest, BomOnlyAtTheStartIsSkipped) {
  EXPECT_EQ(Parse("a\n\xEF\xBB\xBF"
                  "b\n"),
            (std::vector<Fields>{{"a"}, {"\xEF\xBB\xBF"
                                         "b"}}));
}

TEST(ReaderTest, BlankLinesAreRecordsOfTheirOwn) {
  auto out = ReadAll("\na,b\n\r\n\nc\n\n");
  ASSERT_EQ(out.size(), 6u);
  const bool blank[] = {true, false, true, true, false, true};
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(out[i].ok);
    EXPECT_EQ(out[i].record.blank, blank[i]) << i;
    EXPECT_EQ(out[i].record.fields.empty(), blank[i]) << i;
    EXPECT_EQ(out[i].record.row, static_cast<int64_t>(i + 1));
    EXPECT_EQ(out[i].record.line, static_cast<int64_t>(i + 1));
  }
  EXPECT_EQ(out[4].record.fields, Fields{"c"});
}

TEST(ReaderTest, EmptyQuotedFieldIsNotBlank) {
  auto out = ReadAll("\"\"\n");
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].record.blank);
  EXPECT_EQ(out[0].record.fields, Fields{""});
}

TEST(ReaderTest, QuotedFieldsHoldCommasAndQuotes) {
  EXPECT_EQ(Parse("\"a,b\",\"say \"\"hi\"\"\",\"\"\"\"\n"),
            (std::vector<Fields>{{"a,b", "say \"hi\"", "\""}}));
}

TEST(ReaderTest, EmbeddedLineBreaksAreKeptAndCounted) {
  auto out = ReadAll("h1,h2\n1,\"x\ny\r\nz\"\n2,\"\rw\"\n3,4\n");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[1].record.fields, (Fields{"1", "x\ny\r\nz"}));
  EXPECT_EQ(out[2].record.fields, (Fields{"2", "\rw"}));
  const int64_t lines[] = {1, 2, 5, 7};
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].record.row, static_cast<int64_t>(i + 1));
    EXPECT_EQ(out[i].record.line, lines[i]);
  }
}

TEST(ReaderTest, RowsMayHaveAnyNumberOfFields) {
  auto out = Parse("a,b,c\n1\n1,2,3,4,5\nx,y\n");
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].size(), 3u);
  EXPECT_EQ(out[1], Fields{"1"});
  EXPECT_EQ(out[2], (Fields{"1", "2", "3", "4", "5"}));
  EXPECT_EQ(out[3], (Fields{"x", "y"}));
}

TEST(ReaderTest, EmptyFields) {
  EXPECT_EQ(Parse("a,,b\n"), (std::vector<Fields>{{"a", "", "b"}}));
  EXPECT_EQ(Parse("a,b,\n"), (std::vector<Fields>{{"a", "b", ""}}));
  EXPECT_EQ(Parse("a,b,"), (std::vector<Fields>{{"a", "b", ""}}));
  EXPECT_EQ(Parse(",\n"), (std::vector<Fields>{{"", ""}}));
  EXPECT_EQ(Parse("\"\",\"\"\r\n"), (std::vector<Fields>{{"", ""}}));
}

TEST(ReaderTest, UnexpectedQuoteInUnquotedField) {
  auto out = ReadAll("a,b\n1,ab\"c,3\n4,5\n");
  ASSERT_EQ(out.size(), 3u);
  ASSERT_FALSE(out[1].ok);
  EXPECT_EQ(out[1].error.row, 2);
  EXPECT_EQ(out[1].error.line, 2);
  EXPECT_EQ(out[1].error.column, 2);
  EXPECT_EQ(out[1].error.message, "unexpected quote in an unquoted field");
  ASSERT_TRUE(out[2].ok);
  EXPECT_EQ(out[2].record.fields, (Fields{"4", "5"}));
  EXPECT_EQ(out[2].record.row, 3);
  EXPECT_EQ(out[2].record.line, 3);
}

TEST(ReaderTest, UnexpectedCharacterAfterClosingQuote) {
  auto out = ReadAll("\"ab\"c,x\r\n\"y\",\"z\"\r\n");
  ASSERT_EQ(out.size(), 2u);
  ASSERT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].error.row, 1);
  EXPECT_EQ(out[0].error.line, 1);
  EXPECT_EQ(out[0].error.column, 1);
  EXPECT_EQ(out[0].error.message, "unexpected character after a closing quote");
  ASSERT_TRUE(out[1].ok);
  EXPECT_EQ(out[1].record.fields, (Fields{"y", "z"}));
  EXPECT_EQ(out[1].record.row, 2);
  EXPECT_EQ(out[1].record.line, 2);
}

TEST(ReaderTest, ErrorAfterAMultiLineFieldKeepsLineNumbers) {
  auto out = ReadAll("\"a\nb\",x\"y\nnext\n");
  ASSERT_EQ(out.size(), 2u);
  ASSERT_FALSE(out[0].ok);
  EXPECT_EQ(out[0].error.line, 1);
  EXPECT_EQ(out[0].error.column, 2);
  ASSERT_TRUE(out[1].ok);
  EXPECT_EQ(out[1].record.fields, Fields{"next"});
  EXPECT_EQ(out[1].record.row, 2);
  EXPECT_EQ(out[1].record.line, 3);
}

TEST(ReaderTest, UnclosedQuoteAtEndOfFile) {
  Reader reader(std::string_view("a,b\n1,\"open\n2,3\n"));
  Record record;
  ASSERT_EQ(reader.Next(record), true);
  auto next = reader.Next(record);
  ASSERT_FALSE(next);
  EXPECT_EQ(next.error().row, 2);
  EXPECT_EQ(next.error().line, 2);
  EXPECT_EQ(next.error().column, 2);
  EXPECT_EQ(next.error().message, "quoted field not closed before the end of the file");
  EXPECT_EQ(reader.Next(record), false);
}

TEST(ReaderTest, BytesRead) {
  std::string_view text = "\xEF\xBB\xBF"
                          "ab,c\r\n\"x\ny\"\nlast";
  Reader reader(text);
  Record record;
  EXPECT_EQ(reader.bytes_read(), 0u);
  ASSERT_EQ(reader.Next(record), true);
  EXPECT_EQ(reader.bytes_read(), 9u);
  ASSERT_EQ(reader.Next(record), true);
  EXPECT_EQ(reader.bytes_read(), 15u);
  ASSERT_EQ(reader.Next(record), true);
  EXPECT_EQ(reader.bytes_read(), text.size());
  ASSERT_EQ(reader.Next(record), false);
  EXPECT_EQ(reader.bytes_read(), text.size());
}

TEST(ReaderTest, ReusesRecordStorage) {
  Reader reader(std::string_view("a,b,c\nd\n"));
  Record record;
  ASSERT_EQ(reader.Next(record), true);
  const std::string* first = record.fields.data();
  ASSERT_EQ(reader.Next(record), true);
  EXPECT_EQ(record.fields, Fields{"d"});
  EXPECT_EQ(record.fields.data(), first);
}

TEST(ReaderFileTest, ReadsFromAFile) {
  auto out = ReadAllFromFile("\xEF\xBB\xBF"
                             "a,b\r\n1,\"2\n3\"\n");
  EXPECT_EQ(FieldsOf(out), (std::vector<Fields>{{"a", "b"}, {"1", "2\n3"}}));
}

TEST(ReaderFileTest, ReadErrorIsReported) {
  File file(std::fopen("/dev/null", "w"));
  ASSERT_NE(file, nullptr);
  Reader reader(file.get());
  Record record;
  auto next = reader.Next(record);
  ASSERT_FALSE(next);
  EXPECT_TRUE(next.error().read_failed);
  EXPECT_EQ(next.error().message,
            "the file could not be read after its first 0 bytes: Bad file descriptor");
  EXPECT_EQ(reader.Next(record), false);
}

// A read(2) that fails after some bytes: the records before it are read, the one it
// cuts is not a malformed record but the file's failure, with the system's reason.
TEST(ReaderFileTest, ReadErrorMidwayEndsTheFileWithItsCause) {
  File file(fdopen(testing::InputFailingAfter("a,b\n1,2\n3,\"cut"), "rb"));
  ASSERT_NE(file, nullptr);
  Reader reader(file.get());
  auto out = ReadAll(reader);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].record.fields, (Fields{"a", "b"}));
  EXPECT_EQ(out[1].record.fields, (Fields{"1", "2"}));
  ASSERT_FALSE(out[2].ok);
  EXPECT_TRUE(out[2].error.read_failed);
  EXPECT_EQ(out[2].error.message,
            "the file could not be read after its first 14 bytes: Input/output error");
}

// A regular file truncated while it is read ends early without any read error: that
// is a failure too, not a shorter file.
TEST(ReaderFileTest, FileCutShortWhileReadIsAReadError) {
  std::string text;
  while (text.size() < 3 * kChunk) text += "filler,0123456789\n";
  File file(std::tmpfile());
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(std::fwrite(text.data(), 1, text.size(), file.get()), text.size());
  std::rewind(file.get());
  Reader reader(file.get());
  Record record;
  ASSERT_EQ(reader.Next(record), true);  // the first block is in hand
  ASSERT_EQ(ftruncate(fileno(file.get()), static_cast<off_t>(kChunk + kChunk / 2)), 0);
  std::expected<bool, ParseError> next;
  int64_t records = 1;
  while ((next = reader.Next(record)) && *next) ++records;
  ASSERT_FALSE(next) << records << " records, then the end";
  EXPECT_TRUE(next.error().read_failed);
  EXPECT_EQ(next.error().message,
            fmt::format("the file could not be read after its first {} bytes: it held {} when "
                        "reading began and was cut short while being read",
                        kChunk + kChunk / 2, text.size()));
  EXPECT_LT(records, static_cast<int64_t>(text.size() / 18));
}

// Standard input redirected from a file the shell has read some of: what is left is
// the whole input, not a file cut short.
TEST(ReaderFileTest, FileReadFromPastItsStartIsNotCutShort) {
  File file(std::tmpfile());
  ASSERT_NE(file, nullptr);
  std::fputs("skipped\na,b\n", file.get());
  ASSERT_EQ(std::fseek(file.get(), 8, SEEK_SET), 0);
  Reader reader(file.get());
  auto out = ReadAll(reader);
  EXPECT_EQ(FieldsOf(out), (std::vector<Fields>{{"a", "b"}}));
}

// Places `tail` so that it starts `offset` bytes before the first chunk boundary.
std::string Straddling(size_t offset, std::string_view tail) {
  std::string text;
  size_t target = kChunk - offset;
  while (text.size() + 20 < target) text += "filler,0123456789\n";
  text += std::string(target - text.size() - 1, 'f');
  text += '\n';
  text += tail;
  return text;
}

TEST(ReaderFileTest, RecordsStraddlingTheChunkBoundary) {
  const std::string_view tail = "\"q,\r\n\"\"u\"\"\",plain,\"\"\r\nend,\"\r\"\r\nlast";
  for (size_t offset = 0; offset <= tail.size(); ++offset) {
    std::string text = Straddling(offset, tail);
    auto from_file = ReadAllFromFile(text);
    auto from_text = ReadAll(text);
    ASSERT_EQ(from_file.size(), from_text.size()) << offset;
    for (size_t i = 0; i < from_file.size(); ++i) {
      ASSERT_TRUE(from_file[i].ok) << offset << ": " << from_file[i].error.message;
      EXPECT_EQ(from_file[i].record.fields, from_text[i].record.fields) << offset;
      EXPECT_EQ(from_file[i].record.line, from_text[i].record.line) << offset;
    }
    size_t n = from_file.size();
    ASSERT_GE(n, 3u);
    EXPECT_EQ(from_file[n - 3].record.fields, (Fields{"q,\r\n\"u\"", "plain", ""})) << offset;
    EXPECT_EQ(from_file[n - 2].record.fields, (Fields{"end", "\r"})) << offset;
    EXPECT_EQ(from_file[n - 1].record.fields, Fields{"last"}) << offset;
    EXPECT_EQ(from_file[n - 1].record.line, from_file[n - 3].record.line + 4) << offset;
  }
}

TEST(ReaderFileTest, MalformedRecordAtTheChunkBoundary) {
  for (size_t offset = 1; offset <= 6; ++offset) {
    auto out = ReadAllFromFile(Straddling(offset, "x\"yz\r\nok\n"));
    ASSERT_GE(out.size(), 2u);
    const Outcome& bad = out[out.size() - 2];
    ASSERT_FALSE(bad.ok) << offset;
    EXPECT_EQ(bad.error.column, 1);
    ASSERT_TRUE(out.back().ok) << offset;
    EXPECT_EQ(out.back().record.fields, Fields{"ok"});
    EXPECT_EQ(out.back().record.row, bad.error.row + 1);
  }
}

TEST(ReaderFileTest, FieldLongerThanAChunk) {
  std::string big(kChunk * 5 / 2, 'x');
  auto out = ReadAllFromFile("a,\"" + big + "\",b\n" + big + "\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].record.fields, (Fields{"a", big, "b"}));
  EXPECT_EQ(out[1].record.fields, Fields{big});
}

TEST(ReaderFileTest, BytesReadCountsTheWholeFile) {
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "12345,\"ab\",xyz\n";
  File file = TempFileWith(text);
  Reader reader(file.get());
  Record record;
  int64_t rows = 0;
  while (reader.Next(record).value()) ++rows;
  EXPECT_EQ(rows, 200000);
  EXPECT_EQ(record.row, 200000);
  EXPECT_EQ(reader.bytes_read(), text.size());
}

TEST(ReaderFileTest, RecordLongerThanTheLimitIsAnErrorAndSkipped) {
  // A quoted field and an unquoted one past kMaxRecordBytes, then a good line: each
  // long row is an error at its own row, and reading goes on at the next line.
  std::string big(kMaxRecordBytes + 1, 'x');
  auto out = ReadAllFromFile("a,b\n1,\"" + big + "\"\n2,3\n" + big + "\n4,5");
  ASSERT_EQ(out.size(), 5u);
  ASSERT_FALSE(out[1].ok);
  EXPECT_EQ(out[1].error.row, 2);
  EXPECT_EQ(out[1].error.column, 2);
  EXPECT_EQ(out[1].error.message, "the row is longer than 16 MiB (is this a CSV file?)");
  EXPECT_EQ(out[2].record.fields, (Fields{"2", "3"}));
  ASSERT_FALSE(out[3].ok);
  EXPECT_EQ(out[3].error.row, 4);
  EXPECT_EQ(out[3].error.column, 1);
  EXPECT_EQ(out[4].record.fields, (Fields{"4", "5"}));
  EXPECT_EQ(out[4].record.row, 5);
  // Up to the limit, a record is read whole.
  std::string most(kMaxRecordBytes - 2, 'y');
  EXPECT_EQ(Parse("1," + most + "\n"), (std::vector<Fields>{{"1", most}}));
}

TEST(ReaderTest, RecordWithTooManyFieldsIsAnError) {
  std::string commas(kMaxRecordFields + 5, ',');
  auto out = ReadAll("a\n" + commas + "\nb\n");
  ASSERT_EQ(out.size(), 3u);
  ASSERT_FALSE(out[1].ok);
  EXPECT_EQ(out[1].error.message, "the row has more than 1048576 fields");
  EXPECT_EQ(out[1].error.column, static_cast<int64_t>(kMaxRecordFields) + 1);
  EXPECT_EQ(out[2].record.fields, Fields{"b"});
}

TEST(ReaderTest, HeadShowsTheFirstBytesWithoutConsumingThem) {
  Reader reader(std::string_view("\xEF\xBB\xBF" "a,b\n1,2\n"));
  EXPECT_EQ(reader.Head(), "\xEF\xBB\xBF" "a,b\n1,2\n");
  EXPECT_EQ(ReadAll(reader).size(), 2u);
  EXPECT_EQ(reader.Head(), "");
  File file = TempFileWith(std::string(100, 'z') + "\n");
  Reader from_file(file.get());
  EXPECT_EQ(from_file.Head(), std::string(64, 'z'));
  EXPECT_EQ(from_file.bytes_read(), 0u);
  EXPECT_EQ(FieldsOf(ReadAll(from_file)), std::vector<Fields>{Fields{std::string(100, 'z')}});
}

TEST(NotCsvTextTest, NamesOtherEncodingsAndBinaryFiles) {
  using namespace std::string_view_literals;
  auto reason = [](std::string_view head) { return NotCsvText(head).value_or("(none)"); };
  EXPECT_EQ(reason("\xFF\xFE" "a\0,\0"sv),
            "the file is UTF-16 (little-endian) text, not UTF-8; save it as \"CSV UTF-8\"");
  EXPECT_EQ(reason("\xFE\xFF\0a"sv).substr(0, 36), "the file is UTF-16 (big-endian) text");
  EXPECT_EQ(reason("\xFF\xFE\0\0a\0\0\0"sv).substr(0, 39),
            "the file is UTF-32 (little-endian) text");
  EXPECT_EQ(reason("\0\0\xFE\xFF"sv).substr(0, 36), "the file is UTF-32 (big-endian) text");
  EXPECT_EQ(reason("a\0,\0b\0"sv).substr(0, 66),
            "the file is UTF-16 (little-endian, without a byte-order mark) text");
  EXPECT_EQ(reason("\0a\0,"sv).substr(0, 63),
            "the file is UTF-16 (big-endian, without a byte-order mark) text");
  EXPECT_EQ(reason("PK\x03\x04\x14\0"sv),
            "the file is a ZIP archive (an Excel .xlsx or OpenDocument .ods workbook?), not CSV "
            "text; save the sheet as \"CSV UTF-8\" and use that file");
  EXPECT_EQ(reason("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"sv).substr(0, 46),
            "the file is an Excel 97-2003 workbook (.xls) o");
  EXPECT_EQ(reason("%PDF-1.4"sv).substr(0, 26), "the file is a PDF document");
  EXPECT_EQ(reason("\x89PNG\r\n\x1A\n"sv).substr(0, 23), "the file is a PNG image");
  // CSV text, with or without a UTF-8 BOM, even with a NUL in a cell, is not refused.
  for (std::string_view csv : {"a,b\n"sv, "\xEF\xBB\xBF" "a,b"sv, ""sv, "a"sv, "ab,\0c"sv, "P,K"sv}) {
    EXPECT_EQ(NotCsvText(csv), std::nullopt) << csv;
  }
}

}  // namespace
}  // namespace reftrack::csv
