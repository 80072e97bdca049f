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

bool Matches(const std::vector<std::string>& want, const std::vector<std::string_view>& got,
             std::vector<std::string>& params) {
  if (want.size() != got.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    bool param = want[i].size() > 1 && want[i].front() == '{' && want[i].back() == '}';
    if (param ? got[i].empty() : want[i] != got[i]) return false;
  }
  params.clear();
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 1 && want[i].front() == '{') params.emplace_back(got[i]);
  }
  return true;
}

}  // namespace

void Router::Add(Route route) {
  for (std::string_view segment : Segments(route.pattern)) route.segments.emplace_back(segment);
  routes_.push_back(std::move(route));
}

Router::Match Router::Find(Method method, std::string_view path) const {
  Match match;
  match.status = 404;
  auto got = Segments(path);
  std::vector<std::string> params;
  for (size_t i = 0; i < routes_.size(); ++i) {
    const Route& route = routes_[i];
    if (!Matches(route.segments, got, params)) continue;
    if (route.method == method) {
      match.route = &route;
      match.index = i;
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
