// The web page's session cookie: how it is set, read back and cleared. The cookie
// holds the session's token (the store keeps only its hash); HttpOnly keeps it from
// scripts, SameSite=Strict from other sites' requests.
#pragma once

#include <string>
#include <string_view>

#include "util/time.h"

namespace reftrack::http {

inline constexpr std::string_view kSessionCookie = "rt_session";

// The Set-Cookie value for a new session that lasts `lifetime`.
std::string SessionCookieFor(std::string_view token, Micros lifetime);
// The Set-Cookie value that makes the browser forget the session.
std::string ExpiredSessionCookie();

// The session token in a Cookie header ("a=1; rt_session=TOKEN"), or "" when there
// is none or it is not 64 hex digits.
std::string SessionCookie(std::string_view cookie_header);

// Whether two secrets are equal, in a time that does not tell how much of them is.
bool SameSecret(std::string_view given, std::string_view expected);

}  // namespace reftrack::http
