#include "csv/writer.h"

namespace reftrack::csv {

std::string Field(std::string_view value) {
  std::string text;
  if (!value.empty() &&
      std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) {
    text += '\'';
  }
  text += value;
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string Line(std::initializer_list<std::string_view> fields) {
  std::string line;
  bool first = true;
  for (std::string_view f : fields) {
    if (!first) line += ',';
    first = false;
    line += Field(f);
  }
  return line + "\r\n";
}

}  // namespace reftrack::csv
