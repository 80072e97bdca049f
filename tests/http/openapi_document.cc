#include "http/openapi_document.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <stdexcept>

namespace reftrack::testing {

using nlohmann::json;

namespace {

constexpr const char* kMethods[] = {"get", "put", "post", "patch", "delete", "head", "options"};

std::string Upper(std::string s) {
  std::ranges::transform(s, s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// The scope an operation needs: none when its `security` is empty; otherwise the one
// its description names ("Requires an API key with scope `write`").
std::string ScopeOf(const json& operation) {
  if (operation.contains("security") && operation["security"].empty()) return "none";
  static const std::regex kScope("Requires an API key with scope `(\\w+)`");
  std::smatch m;
  std::string description = operation.value("description", "");
  if (std::regex_search(description, m, kScope)) return m[1].str();
  return "(not said)";
}

}  // namespace

const json& OpenApi() {
  static const json document = [] {
    std::ifstream in(OPENAPI_JSON_PATH);
    if (!in) throw std::runtime_error("cannot read " OPENAPI_JSON_PATH);
    return json::parse(in);
  }();
  return document;
}

std::set<Operation> DocumentedOperations() {
  std::set<Operation> out;
  for (const auto& [path, item] : OpenApi().at("paths").items()) {
    for (const char* method : kMethods) {
      if (item.contains(method)) out.emplace(Upper(method), path, ScopeOf(item[method]));
    }
  }
  return out;
}

std::optional<bool> DocumentsStatus(const std::string& method, const std::string& path,
                                    int status) {
  const json& paths = OpenApi().at("paths");
  std::string lower = method;
  std::ranges::transform(lower, lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!paths.contains(path) || !paths[path].contains(lower)) return std::nullopt;
  const json& responses = paths[path][lower].value("responses", json::object());
  return responses.contains(std::to_string(status)) || responses.contains("default");
}

}  // namespace reftrack::testing
