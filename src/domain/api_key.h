// API keys (SPEC §6): what a key may do, and how it is made and recognized. The
// store keeps only a key's hash: the key itself is shown once, when it is made.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/time.h"

namespace reftrack {

// Each scope includes the ones before it: read < write < admin.
enum class Scope { kRead, kWrite, kAdmin };

std::string_view ScopeName(Scope s);
std::optional<Scope> ParseScope(std::string_view text);
inline bool Allows(Scope held, Scope needed) { return held >= needed; }

struct ApiKey {
  int64_t id = 0;
  std::string name;
  Scope scope = Scope::kRead;
  std::string prefix;  // the key's first characters, to tell keys apart in listings
  std::string hash;    // HashApiKey() of the key
  Micros created_at = 0;
  std::optional<Micros> revoked_at;
};

// A new key: "rt_" and 64 hex digits of randomness (256 bits).
std::string GenerateApiKey();

// What the store keeps of a key: its SHA-256 as hex. A key is 256 random bits, not a
// password a person chose, so a fast hash is as safe as a slow one here and lets
// every request be checked without a cost that caps the request rate.
std::string HashApiKey(std::string_view key);

// The part of a key shown in listings.
std::string ApiKeyPrefix(std::string_view key);

}  // namespace reftrack
