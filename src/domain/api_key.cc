#include "domain/api_key.h"

#include <sodium.h>

#include <array>

#include "util/sha256.h"

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

std::string GenerateApiKey() {
  if (sodium_init() < 0) std::abort();  // no randomness source: nothing safe to do
  std::array<unsigned char, 32> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 65> hex;
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return "rt_" + std::string(hex.data(), 64);
}

std::string HashApiKey(std::string_view key) {
  Sha256 sha;
  sha.Update(key);
  return sha.HexDigest();
}

std::string ApiKeyPrefix(std::string_view key) { return std::string(key.substr(0, 11)); }

}  // namespace reftrack
