#include "domain/user.h"

#include <sodium.h>

#include <array>
#include <cstdlib>
#include <mutex>

#include "util/sha256.h"

namespace reftrack {

namespace {

void InitSodium() {
  if (sodium_init() < 0) std::abort();  // no randomness source: nothing safe to do
}

// A hash of a password nobody has, made once, for VerifyNoPassword.
const std::string& DecoyHash() {
  static const std::string hash = [] {
    auto made = HashPassword(RandomHex32());
    return made ? *made : std::string();
  }();
  return hash;
}

}  // namespace

std::string RandomHex32() {
  InitSodium();
  std::array<unsigned char, 32> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  std::array<char, 65> hex;
  sodium_bin2hex(hex.data(), hex.size(), bytes.data(), bytes.size());
  return std::string(hex.data(), 64);
}

std::string HashSecret(std::string_view secret) {
  Sha256 sha;
  sha.Update(secret);
  return sha.HexDigest();
}

Result<std::string> HashPassword(std::string_view password) {
  InitSodium();
  std::array<char, crypto_pwhash_STRBYTES> out;
  if (crypto_pwhash_str_alg(out.data(), password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Fail(ErrorCode::kInternal, "hashing a password: out of memory");
  }
  return std::string(out.data());
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  InitSodium();
  std::string terminated(hash);  // libsodium reads a NUL-terminated string
  return crypto_pwhash_str_verify(terminated.c_str(), password.data(), password.size()) == 0;
}

void VerifyNoPassword(std::string_view password) {
  const std::string& decoy = DecoyHash();
  if (!decoy.empty()) VerifyPassword(decoy, password);
}

}  // namespace reftrack
