#include "domain/api_key.h"

#include "domain/user.h"

namespace reftrack {

std::string_view ScopeName(Scope s) {
  switch (s) {
    case Scope::kRead:
      return "read";
    case Scope::kWrite:
      return "write";
    case Scope::kAdmin:
      return "admin";
  }
  return "read";
}

std::optional<Scope> ParseScope(std::string_view text) {
  if (text == "read") return Scope::kRead;
  if (text == "write") return Scope::kWrite;
  if (text == "admin") return Scope::kAdmin;
  return std::nullopt;
}

std::string GenerateApiKey() { return "rt_" + RandomHex32(); }

std::string HashApiKey(std::string_view key) { return HashSecret(key); }

std::string ApiKeyPrefix(std::string_view key) { return std::string(key.substr(0, 11)); }

}  // namespace reftrack
