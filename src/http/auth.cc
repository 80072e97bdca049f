// Who is asking, and whether the route lets them: API keys and their scopes, the
// web page's session and its CSRF token.
#include <fmt/format.h>

#include "domain/normalize.h"
#include "http/api.h"
#include "http/route_helpers.h"
#include "http/web_session.h"

namespace reftrack::http {

// Who is asking: an API key (Authorization: Bearer) or the web page's session cookie,
// whose writes must also carry the session's CSRF token. A GET keeps the read
// connection and snapshot it was checked in for its handler. Returns the refusal.
std::optional<Response> Api::Authorize(Request& request, const Route& route) {
  std::string_view auth = Trim(request.authorization);
  std::string token = request.authorization.empty() ? SessionCookie(request.cookie) : "";
  constexpr std::string_view kBearer = "bearer ";
  bool bearer =
      auth.size() > kBearer.size() && LowerAscii(auth.substr(0, kBearer.size())) == kBearer;
  if (!bearer && token.empty()) {
    Response r = Problem(401,
                         "this route needs an API key (Authorization: Bearer KEY) or a "
                         "signed-in session");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  auto lease = readers_.Acquire();
  if (!lease) return ProblemFor(lease.error());
  auto session = std::make_shared<ReadSession>(std::move(*lease));
  if (request.method == Method::kGet) {
    auto snapshot = session->lease.engine().BeginRead();
    if (!snapshot) return ProblemFor(snapshot.error());
    session->snapshot.emplace(std::move(*snapshot));
  }
  if (bearer) {
    auto key = session->lease.engine().Authenticate(auth.substr(kBearer.size()));
    if (!key) {
      if (key.error().code == ErrorCode::kStorage) return ProblemFor(key.error());
      Response r = Problem(401, "unknown or revoked API key");
      r.headers.emplace_back("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      return r;
    }
    if (!Allows(key->scope, *route.scope)) {
      return Problem(403, fmt::format("{} {} needs a key with scope {}; key \"{}\" has scope {}",
                                      MethodName(request.method), route.pattern,
                                      ScopeName(*route.scope), key->name, ScopeName(key->scope)));
    }
    request.caller = std::move(*key);
  } else {
    auto user = session->lease.engine().SessionFor(token);
    if (!user) {
      if (user.error().code == ErrorCode::kStorage) return ProblemFor(user.error());
      Response r = Problem(401, user.error().message);
      r.headers.emplace_back("Set-Cookie", ExpiredSessionCookie());
      return r;
    }
    // A signed-in person may do anything an admin key may; a change needs the token
    // only the page itself can read (a cross-site form cannot send this header).
    if (request.method != Method::kGet && !SameSecret(request.csrf_token, user->csrf_token)) {
      return Problem(403, request.csrf_token.empty()
                              ? "this change needs the X-CSRF-Token header of your session "
                                "(CSRF protection): reload the page"
                              : "the X-CSRF-Token header does not match your session (CSRF "
                                "protection): reload the page");
    }
    request.user = std::move(*user);
  }
  // A GET goes on reading in the same snapshot; other routes let the connection go.
  if (request.method == Method::kGet && route.body == BodyKind::kSmall) {
    request.state = std::move(session);
  }
  return std::nullopt;
}

}  // namespace reftrack::http
