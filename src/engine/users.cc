// Engine: the people who sign in to the web page, and their sessions.

#include <fmt/format.h>

#include "domain/normalize.h"
#include "domain/user.h"
#include "engine/engine.h"

namespace reftrack {

namespace {

// A sign-in name: something@somewhere, without spaces. Looser than a referral's
// email, so that `admin@localhost` is one.
bool IsSignInEmail(std::string_view email) {
  size_t at = email.find('@');
  if (at == 0 || at == std::string_view::npos || at + 1 == email.size() ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  for (char c : email) {
    if (static_cast<unsigned char>(c) <= ' ') return false;
  }
  return true;
}

}  // namespace

Result<User> Engine::AddUser(std::string_view email, std::string_view password) {
  std::string normalized = NormalizeEmail(email);
  if (!IsSignInEmail(normalized)) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("\"{}\" is not an email address", Trim(email)));
  }
  if (password.size() < kMinPasswordLength) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("the password is {} characters long; use at least {}",
                            password.size(), kMinPasswordLength));
  }
  auto hash = HashPassword(password);
  if (!hash) return std::unexpected(hash.error());
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  auto user = store_.CreateUser(User{0, normalized, std::move(*hash), Now()});
  if (!user) return std::unexpected(user.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return user;
}

Result<int64_t> Engine::UserCount() { return store_.CountUsers(); }

Result<User> Engine::CheckPassword(std::string_view email, std::string_view password) {
  auto user = store_.FindUser(NormalizeEmail(email));
  if (!user) return std::unexpected(user.error());
  if (!*user) {
    VerifyNoPassword(password);
    return Fail(ErrorCode::kUnauthenticated, "wrong email or password");
  }
  if (!VerifyPassword((*user)->password_hash, password)) {
    return Fail(ErrorCode::kUnauthenticated, "wrong email or password");
  }
  return std::move(**user);
}

Result<Engine::SignedIn> Engine::StartSession(const User& user) {
  SignedIn made;
  made.token = RandomHex32();
  Micros now = Now();
  made.session = Session{HashSecret(made.token), user.id, user.email, RandomHex32(), now,
                         now + kSessionLifetime};
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  if (auto ok = store_.CreateSession(made.session); !ok) return std::unexpected(ok.error());
  if (auto ok = tx->Commit(); !ok) return std::unexpected(ok.error());
  return made;
}

Result<Session> Engine::SessionFor(std::string_view token) {
  auto session = store_.FindSession(HashSecret(token), Now());
  if (!session) return std::unexpected(session.error());
  if (!*session) {
    return Fail(ErrorCode::kUnauthenticated, "the session has ended: sign in again");
  }
  return std::move(**session);
}

Result<void> Engine::SignOut(std::string_view token) {
  auto tx = store_.BeginWrite();
  if (!tx) return std::unexpected(tx.error());
  if (auto ok = store_.DeleteSession(HashSecret(token)); !ok) return ok;
  return tx->Commit();
}

}  // namespace reftrack
