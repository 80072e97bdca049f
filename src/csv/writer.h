// Writing CSV for people to open in a spreadsheet: RFC 4180 quoting, and formula
// injection neutralized (a field starting with =, +, -, @, tab or carriage return
// gets a leading apostrophe, so a spreadsheet shows it as text and runs nothing).
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>

namespace reftrack::csv {

// `value` as one CSV field: neutralized, then quoted when it holds a comma, quote or
// line break (quotes doubled).
std::string Field(std::string_view value);

// One CSV line of `fields`, ending in CRLF as RFC 4180 says.
std::string Line(std::initializer_list<std::string_view> fields);

}  // namespace reftrack::csv
