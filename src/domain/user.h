// People who sign in to the web page (SPEC §5 `reftrack user add`), and their
// sessions. The store keeps a password only as an argon2id hash and a session only
// as the SHA-256 of its token; the token itself lives in the browser's cookie.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"
#include "util/time.h"

namespace reftrack {

struct User {
  int64_t id = 0;
  std::string email;          // normalized (lower case, trimmed)
  std::string password_hash;  // HashPassword(): an argon2id string with its own salt
  Micros created_at = 0;
};

struct Session {
  std::string token_hash;  // HashSecret() of the cookie's token
  int64_t user_id = 0;
  std::string email;       // the user's, read with the session
  std::string csrf_token;  // sent back by the page on every write (X-CSRF-Token)
  Micros created_at = 0;
  Micros expires_at = 0;
};

// How long a session lasts from sign-in.
inline constexpr Micros kSessionLifetime = Micros{12} * 3600 * 1'000'000;

// The shortest password `user add` accepts.
inline constexpr size_t kMinPasswordLength = 10;

// 256 random bits as 64 hex digits.
std::string RandomHex32();

// SHA-256 as hex: for secrets that are random bits, not chosen by a person.
std::string HashSecret(std::string_view secret);

// argon2id (libsodium's crypto_pwhash, "interactive" limits: 2 passes, 64 MiB),
// about 0.1 s; kInternal if memory cannot be had.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view hash, std::string_view password);

// The same wait for an unknown email as for a known one, so a sign-in does not tell
// which emails have accounts by how long it takes.
void VerifyNoPassword(std::string_view password);

}  // namespace reftrack
