// What the HTTP layer hands the application and gets back: plain values, so handlers
// never see Beast (which lives in server.cc alone).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "domain/api_key.h"
#include "domain/user.h"
#include "util/result.h"

namespace reftrack::http {

enum class Method { kGet, kPost, kPatch, kPut, kDelete, kHead, kOptions, kOther };
std::string_view MethodName(Method m);

// How much of a body a route reads, and where it keeps it.
enum class BodyKind {
  kSmall,  // in memory: JSON documents
  kFile,   // streamed to a temporary file: uploads
};

struct Request {
  Method method = Method::kOther;
  std::string target;  // as sent: path and query
  std::string path;    // decoded, without the query
  std::map<std::string, std::string> query;  // decoded; a repeated name keeps the last
  std::string content_type;
  std::string authorization;
  std::string cookie;      // the Cookie header
  std::string csrf_token;  // the X-CSRF-Token header
  std::optional<uint64_t> content_length;
  std::string remote;  // the peer's address

  // Set by the application once the header is read.
  std::string route;                // the route's pattern, e.g. "/api/v1/referrals/{id}"
  size_t route_index = 0;           // which of the application's routes
  std::vector<std::string> params;  // the pattern's {…} values, in order
  std::optional<ApiKey> caller;     // the key the request came with
  std::optional<Session> user;      // or the web page's session it came with
  std::shared_ptr<void> state;      // what the application keeps from header to handler

  // The body: in `body` (BodyKind::kSmall), or in the file at `body_file` (kFile).
  std::string body;
  std::string body_file;

  std::chrono::steady_clock::time_point received = std::chrono::steady_clock::now();

  // The query parameter `name`, or "" when absent.
  const std::string& Query(const std::string& name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool close = false;  // close the connection after this response
};

// Answers a request; called exactly once, from any thread.
using Respond = std::function<void(Response)>;

// A problem+json response (RFC 9457): `detail` says what was wrong, for a person.
Response Problem(int status, std::string_view detail);
// A JSON response of already serialized `json`.
Response Json(int status, std::string json);
// An error as an HTTP answer: the one place where ErrorCode becomes a status.
Response ProblemFor(const Error& error);

// What a route admits once the header is read: its body's kind and limit, or an
// answer to give at once (unknown route, no key, too big).
struct Admission {
  std::optional<Response> reject;
  BodyKind body = BodyKind::kSmall;
  uint64_t limit = 0;  // bytes
};

// The application behind the server: routes, keys, handlers.
class Application {
 public:
  virtual ~Application() = default;
  // With the header read: which route, whose key, how big a body.
  virtual Admission Admit(Request& request) = 0;
  // With the body read: answers through `respond`, now or later, from any thread.
  virtual void Handle(Request& request, Respond respond) = 0;
  // Once the response is written: metrics and the access log.
  virtual void Completed(const Request& request, const Response& response, size_t bytes) = 0;
};

}  // namespace reftrack::http

namespace reftrack::http {

// Splits a request target into its decoded path and query parameters ('+' is a space
// in the query). False when a %-escape is malformed or decodes to a NUL.
bool ParseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query);

// The origin form ("/path?query") of a request target in absolute form
// ("http://host/path?query", RFC 9112 §3.2.2: what a client sends a proxy, and a server
// must accept; the authority is ignored, as this server has one). The target itself
// when it is in origin form already; nullopt for any other form ("*", "host:port",
// another scheme, no authority), which this server does not serve.
std::optional<std::string> OriginForm(std::string_view target);

}  // namespace reftrack::http
