#include "http/message.h"

#include <fmt/format.h>

#include <cctype>
#include <nlohmann/json.hpp>

namespace reftrack::http {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet:
      return "GET";
    case Method::kPost:
      return "POST";
    case Method::kPatch:
      return "PATCH";
    case Method::kPut:
      return "PUT";
    case Method::kDelete:
      return "DELETE";
    case Method::kHead:
      return "HEAD";
    case Method::kOptions:
      return "OPTIONS";
    case Method::kOther:
      return "OTHER";
  }
  return "OTHER";
}

const std::string& Request::Query(const std::string& name) const {
  static const std::string kEmpty;
  auto it = query.find(name);
  return it == query.end() ? kEmpty : it->second;
}

namespace {

std::string_view Title(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 503:
      return "Service Unavailable";
    default:
      return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

Response Problem(int status, std::string_view detail) {
  nlohmann::json body = {
      {"type", "about:blank"}, {"title", Title(status)}, {"status", status}, {"detail", detail}};
  Response r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Json(int status, std::string json) {
  Response r;
  r.status = status;
  r.body = std::move(json);
  return r;
}

Response ProblemFor(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidInput:
      return Problem(400, error.message);
    case ErrorCode::kNotFound:
      return Problem(404, error.message);
    case ErrorCode::kAmbiguous:
    case ErrorCode::kDuplicate:
    case ErrorCode::kRefused:
      return Problem(409, error.message);
    case ErrorCode::kStorage:
      return Problem(503, fmt::format("the database failed: {}", error.message));
    case ErrorCode::kUnauthenticated:
      return Problem(401, error.message);
    case ErrorCode::kInternal:
      return Problem(500, error.message);
  }
  return Problem(500, error.message);
}

}  // namespace reftrack::http

namespace reftrack::http {

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Decode(std::string_view in, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string> OriginForm(std::string_view target) {
  if (target.starts_with('/')) return std::string(target);
  size_t colon = target.find("://");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string scheme(target.substr(0, colon));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return std::nullopt;
  std::string_view rest = target.substr(colon + 3);
  size_t end = rest.find_first_of("/?#");
  if (end == 0 || rest.empty()) return std::nullopt;  // no authority
  if (end == std::string_view::npos) return std::string("/");
  if (rest[end] == '#') return std::nullopt;  // a fragment is never sent
  std::string origin(rest.substr(end));
  if (origin[0] == '?') origin.insert(origin.begin(), '/');
  return origin;
}

bool ParseTarget(std::string_view target, std::string& path,
                 std::map<std::string, std::string>& query) {
  size_t q = target.find('?');
  if (!Decode(target.substr(0, q), false, path)) return false;
  if (path.empty() || path[0] != '/') return false;
  query.clear();
  if (q == std::string_view::npos) return true;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string name, value;
    if (!Decode(pair.substr(0, eq), true, name)) return false;
    if (eq != std::string_view::npos && !Decode(pair.substr(eq + 1), true, value)) return false;
    query[std::move(name)] = std::move(value);
  }
  return true;
}

}  // namespace reftrack::http
