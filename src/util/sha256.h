// SHA-256 of a stream of bytes (libsodium), as lower-case hex: what an import
// records of the file it read.
#pragma once

#include <sodium.h>

#include <string>
#include <string_view>

namespace reftrack {

class Sha256 {
 public:
  Sha256();
  void Update(std::string_view bytes);
  // The digest of everything given so far, as 64 hex digits. Ends the hash.
  std::string HexDigest();

 private:
  crypto_hash_sha256_state state_;
};

}  // namespace reftrack
