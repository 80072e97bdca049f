// The CSV writer: what it writes, read back by our reader, is what was given (but for
// the apostrophe that neutralizes a formula), and no field can start a formula.
#include "csv/writer.h"

#include <gtest/gtest.h>

#include "csv/reader.h"

namespace reftrack::csv {
namespace {

TEST(CsvWriter, QuotesOnlyWhatNeedsQuoting) {
  EXPECT_EQ(Field("plain"), "plain");
  EXPECT_EQ(Field(""), "");
  EXPECT_EQ(Field("a,b"), "\"a,b\"");
  EXPECT_EQ(Field("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(Field("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(Field("cr\rhere"), "\"cr\rhere\"");
}

TEST(CsvWriter, NeutralizesFormulas) {
  for (const char* formula : {"=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"}) {
    std::string written = Field(formula);
    std::string_view unquoted = written;
    if (unquoted.starts_with('"')) unquoted.remove_prefix(1);
    EXPECT_EQ(unquoted.front(), '\'') << formula;
  }
  EXPECT_EQ(Field("=HYPERLINK(\"x\",\"y\")"), "\"'=HYPERLINK(\"\"x\"\",\"\"y\"\")\"");
  EXPECT_EQ(Field("a=b"), "a=b");
}

TEST(CsvWriter, LinesReadBack) {
  std::string text = Line({"row", "column", "message"}) +
                     Line({"12", "status", "\"done\" is not a status, use, commas"}) +
                     Line({"13", "", "two\r\nlines"});
  Reader reader(text);
  Record record;
  std::vector<std::vector<std::string>> rows;
  while (*reader.Next(record)) rows.push_back(record.fields);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1], (std::vector<std::string>{"12", "status",
                                               "\"done\" is not a status, use, commas"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"13", "", "two\r\nlines"}));
}

}  // namespace
}  // namespace reftrack::csv
