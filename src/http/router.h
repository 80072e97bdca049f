// A small router of our own: a route is a method, a path pattern whose "{name}"
// segments match any one segment, the scope its key needs, its body, and its handler.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/api_key.h"
#include "http/message.h"

namespace reftrack::http {

using Handler = std::function<void(Request&, Respond)>;

struct Route {
  Method method;
  std::string pattern;
  std::optional<Scope> scope;  // none: answers without a key
  BodyKind body = BodyKind::kSmall;
  Handler handler;
  std::vector<std::string> segments;  // the pattern's, filled by Router::Add
};

class Router {
 public:
  void Add(Route route);

  struct Match {
    const Route* route = nullptr;  // null: see `status`
    size_t index = 0;              // the route's, in routes()
    std::vector<std::string> params;
    int status = 200;   // 404 no such path, 405 not with this method
    std::string allow;  // with 405: the methods the path has, e.g. "GET, POST"
  };
  Match Find(Method method, std::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

}  // namespace reftrack::http
