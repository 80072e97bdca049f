// Expected outcomes (a refused change, an unknown key, bad input) are values, not
// exceptions. Each way out (CLI exit status, HTTP code) maps ErrorCode in one place.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace reftrack {

enum class ErrorCode {
  kInvalidInput,  // the caller sent something malformed
  kNotFound,      // no such campaign, member or referral
  kAmbiguous,     // a key matches several referrals
  kDuplicate,     // would create something that already exists
  kRefused,       // a status change the rules forbid
  kStorage,       // the database failed
  kUnauthenticated,  // no valid key, session or password
  kInternal,      // nothing the caller can fix (out of memory)
};

struct Error {
  ErrorCode code;
  std::string message;
  // kStorage only: the database refused this transaction for a conflict with another
  // one (PostgreSQL: a deadlock victim, a serialization failure). Nothing of it was
  // kept, and the same work may pass when run again; the engine decides whether it
  // is (Engine::IsRetryable).
  bool conflict = false;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

}  // namespace reftrack
