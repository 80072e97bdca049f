// /api/v1/session: the web page's sign-in, its session, sign-out.
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"
#include "http/web_session.h"
#include "http/workers.h"

namespace reftrack::http {

using nlohmann::json;

namespace {

// /api/v1/session asked with an API key.
std::unexpected<Error> NotASession() {
  return Fail(ErrorCode::kInvalidInput,
              "/api/v1/session is the web page's sign-in; an API key has no session");
}

}  // namespace

// The web page's sign-in. Checking a password takes about 0.1 s and 64 MiB (argon2id),
// so it runs on the small preview pool, never on the server's threads or the writer;
// only the new session goes through the write queue.
void Api::AddSessionRoutes() {
  router_.Add(Route{Method::kPost, "/api/v1/session", std::nullopt, BodyKind::kSmall,
                    [this](Request& request, Respond respond) {
                      auto body = BodyObject(request.body);
                      if (!body) return respond(ProblemFor(body.error()));
                      auto credentials = SignInBody(*body);
                      if (!credentials) return respond(ProblemFor(credentials.error()));
                      previews_->Post([this, credentials = std::move(*credentials),
                                       respond = std::move(respond)]() mutable {
                        auto lease = readers_.Acquire();
                        if (!lease) return respond(ProblemFor(lease.error()));
                        auto user =
                            lease->engine().CheckPassword(credentials.email, credentials.password);
                        if (!user) return respond(ProblemFor(user.error()));
                        writer_->Submit(
                            [user = std::move(*user)](Engine& engine) -> Result<Response> {
                              auto made = engine.StartSession(user);
                              if (!made) return std::unexpected(made.error());
                              Response r = JsonOf(200, {{"email", made->session.email},
                                                        {"csrf_token", made->session.csrf_token}});
                              r.headers.emplace_back(
                                  "Set-Cookie", SessionCookieFor(made->token, kSessionLifetime));
                              return r;
                            },
                            std::move(respond));
                      });
                    }});
  Read(Method::kGet, "/api/v1/session", Scope::kRead,
       [](Engine&, const Request& request) -> Result<Response> {
         if (!request.user) return NotASession();
         return JsonOf(200,
                       {{"email", request.user->email}, {"csrf_token", request.user->csrf_token}});
       });
  Write(Method::kDelete, "/api/v1/session", Scope::kRead,
        [](Engine& engine, const Request& request) -> Result<Response> {
          if (!request.user) return NotASession();
          if (auto ok = engine.SignOut(SessionCookie(request.cookie)); !ok) {
            return std::unexpected(ok.error());
          }
          Response r = NoContent();
          r.headers.emplace_back("Set-Cookie", ExpiredSessionCookie());
          return r;
        });
}

}  // namespace reftrack::http
