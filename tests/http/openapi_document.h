// The OpenAPI document of the HTTP API (src/http/openapi.json) as the tests read it:
// its operations, the scope each needs and the statuses each may answer.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <tuple>

namespace reftrack::testing {

// The document, parsed from the source tree (OPENAPI_JSON_PATH).
const nlohmann::json& OpenApi();

// An operation: method ("GET"), path pattern ("/api/v1/referrals/{id}") and the scope
// its key needs ("read", "write", "admin"; "none" when it needs no key).
using Operation = std::tuple<std::string, std::string, std::string>;
std::set<Operation> DocumentedOperations();

// Whether the document lists `status` among the answers of `method` `path`; nullopt
// when it has no such operation.
std::optional<bool> DocumentsStatus(const std::string& method, const std::string& path, int status);

}  // namespace reftrack::testing
