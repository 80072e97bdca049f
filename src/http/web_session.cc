#include "http/web_session.h"

#include <fmt/format.h>
#include <sodium.h>

#include "domain/normalize.h"

namespace reftrack::http {

std::string SessionCookieFor(std::string_view token, Micros lifetime) {
  return fmt::format("{}={}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict", kSessionCookie,
                     token, lifetime / 1'000'000);
}

std::string ExpiredSessionCookie() {
  return fmt::format("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict", kSessionCookie);
}

std::string SessionCookie(std::string_view header) {
  while (!header.empty()) {
    size_t end = header.find(';');
    std::string_view pair = Trim(header.substr(0, end));
    header = end == std::string_view::npos ? std::string_view() : header.substr(end + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || Trim(pair.substr(0, eq)) != kSessionCookie) continue;
    std::string_view value = Trim(pair.substr(eq + 1));
    if (value.size() != 64) return "";
    for (char c : value) {
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
    }
    return std::string(value);
  }
  return "";
}

bool SameSecret(std::string_view given, std::string_view expected) {
  if (given.size() != expected.size() || expected.empty()) return false;
  return sodium_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace reftrack::http
