#include "http/router.h"

namespace reftrack::http {

namespace {

// Splits "/a/b/c" into its segments; an empty path is "/".
std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool Matches(std::string_view pattern, std::string_view path, std::vector<std::string>& params) {
  auto want = Segments(pattern);
  auto got = Segments(path);
  if (want.size() != got.size()) return false;
  std::vector<std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].starts_with('{') && want[i].ends_with('}')) {
      if (got[i].empty()) return false;
      found.emplace_back(got[i]);
    } else if (want[i] != got[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

}  // namespace

void Router::Add(Route route) { routes_.push_back(std::move(route)); }

Router::Match Router::Find(Method method, std::string_view path) const {
  Match match;
  match.status = 404;
  std::vector<std::string> params;
  for (const Route& route : routes_) {
    if (!Matches(route.pattern, path, params)) continue;
    if (route.method == method) {
      match.route = &route;
      match.params = std::move(params);
      match.status = 200;
      return match;
    }
    match.status = 405;
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += MethodName(route.method);
  }
  return match;
}

}  // namespace reftrack::http
