#include "domain/normalize.h"

#include <algorithm>
#include <cstdint>
#include <string>

namespace reftrack {

namespace {

bool IsAsciiSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// The length of the white space character that `s` starts with, 0 if none: Unicode's
// White_Space set, and U+200B and U+FEFF, which spreadsheets leave around values.
size_t SpaceAtFront(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  if (s.empty()) return 0;
  if (p[0] < 0x80) return IsAsciiSpace(p[0]) ? 1 : 0;
  if (s.size() >= 2 && p[0] == 0xC2 && (p[1] == 0x85 || p[1] == 0xA0)) return 2;  // NEL, NBSP
  if (s.size() < 3) return 0;
  unsigned a = p[0], b = p[1], c = p[2];
  bool space = (a == 0xE1 && b == 0x9A && c == 0x80) ||  // U+1680
               (a == 0xE2 && b == 0x80 &&
                ((c >= 0x80 && c <= 0x8B) ||             // U+2000-200B
                 c == 0xA8 || c == 0xA9 ||               // U+2028, 2029
                 c == 0xAF)) ||                          // U+202F
               (a == 0xE2 && b == 0x81 && c == 0x9F) ||  // U+205F
               (a == 0xE3 && b == 0x80 && c == 0x80) ||  // U+3000
               (a == 0xEF && b == 0xBB && c == 0xBF);    // U+FEFF
  return space ? 3 : 0;
}

// The same for the character that `s` ends with.
size_t SpaceAtBack(std::string_view s) {
  if (s.empty()) return 0;
  if (static_cast<unsigned char>(s.back()) < 0x80) {
    return IsAsciiSpace(static_cast<unsigned char>(s.back())) ? 1 : 0;
  }
  for (size_t n : {size_t{2}, size_t{3}}) {
    if (s.size() >= n && SpaceAtFront(s.substr(s.size() - n)) == n) return n;
  }
  return 0;
}

}  // namespace

std::string_view Trim(std::string_view s) {
  // The common case, a value with a letter or digit at each end, decides on two bytes.
  if (s.empty()) return s;
  auto front = static_cast<unsigned char>(s.front());
  auto back = static_cast<unsigned char>(s.back());
  if (front < 0x80 && back < 0x80 && !IsAsciiSpace(front) && !IsAsciiSpace(back)) return s;
  while (size_t n = SpaceAtFront(s)) s.remove_prefix(n);
  while (size_t n = SpaceAtBack(s)) s.remove_suffix(n);
  return s;
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string UpperAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

bool IsDecimalAmount(std::string_view s) {
  size_t point = s.find('.');
  std::string_view whole = s.substr(0, point);
  std::string_view fraction = point == std::string_view::npos ? "" : s.substr(point + 1);
  auto digits = [](std::string_view d) {
    return std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (whole.empty() || whole.size() > 12 || !digits(whole)) return false;
  if (point == std::string_view::npos) return true;
  return !fraction.empty() && fraction.size() <= 4 && digits(fraction);
}

std::string NormalizeEmail(std::string_view email) { return LowerAscii(Trim(email)); }

void NormalizeEmail(std::string_view email, std::string& out) {
  out.assign(Trim(email));
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
}

bool IsValidEmail(std::string_view e) {
  if (e.size() > kMaxEmailBytes) return false;
  size_t at = e.find('@');
  if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  std::string_view domain = e.substr(at + 1);
  size_t dot = domain.find('.');
  if (domain.empty() || dot == std::string_view::npos || domain.front() == '.' ||
      domain.back() == '.' || domain.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : e) {
    if (static_cast<unsigned char>(c) <= ' ' || c == ',' || c == ';' || c == '"' || c == '<' ||
        c == '>') {
      return false;
    }
  }
  return true;
}

std::string Excerpt(std::string_view value) {
  constexpr size_t kShown = 64;
  if (value.size() <= kShown + 16) return std::string(value);
  size_t cut = kShown;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return std::string(value.substr(0, cut)) + "… (" + std::to_string(value.size()) + " bytes)";
}

std::string NormalizeCode(std::string_view code) { return std::string(Trim(code)); }

void NormalizeCode(std::string_view code, std::string& out) { out.assign(Trim(code)); }

bool IsValidText(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c == 0) return false;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

}  // namespace reftrack
