// How values are compared (SPEC §1): emails trimmed and lower-cased; referral codes,
// coupon codes and external ids trimmed and compared exactly. Trimmed means of Unicode
// white space (U+00A0 from a spreadsheet as well as ASCII spaces), and U+200B and
// U+FEFF.
#pragma once

#include <string>
#include <string_view>

namespace reftrack {

// `s` without the white space at either end: every Unicode White_Space character
// (U+0009-000D, 0020, 0085, 00A0, 1680, 2000-200A, 2028, 2029, 202F, 205F, 3000) and
// U+200B (zero width space) and U+FEFF (byte order mark), which spreadsheets leave.
std::string_view Trim(std::string_view s);
std::string LowerAscii(std::string_view s);
std::string UpperAscii(std::string_view s);
// Digits, with at most one point followed by one to four digits: "50", "49.99".
bool IsDecimalAmount(std::string_view s);

// Trimmed and lower-cased. Lower-casing is ASCII only: the domain part is
// case-insensitive, and so is the local part in every mail system users meet.
std::string NormalizeEmail(std::string_view email);
// The same into `out`, reusing its storage (for a million values in a row).
void NormalizeEmail(std::string_view email, std::string& out);
// The longest email address there can be (RFC 5321: a path of 256 bytes, brackets
// included).
constexpr size_t kMaxEmailBytes = 254;
// A normalized email of at most kMaxEmailBytes that has one '@', a non-empty local
// part, a domain with a dot that neither starts nor ends it, and no spaces, control
// characters, commas, semicolons, quotes or angle brackets.
bool IsValidEmail(std::string_view normalized);
// Trimmed.
std::string NormalizeCode(std::string_view code);
void NormalizeCode(std::string_view code, std::string& out);

// `value` to quote in a message: whole when short, else its first 64 bytes (whole
// characters), "…" and its length in bytes, so a 10 MB cell makes a short message.
std::string Excerpt(std::string_view value);

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF) with
// no NUL byte: text every store can keep and every output can show.
bool IsValidText(std::string_view s);

}  // namespace reftrack
