// What the route files share: JSON answers, who is asking, query parameters, CSV
// downloads, and the read session a GET keeps from its key check to its answer.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/engine.h"
#include "http/engine_pool.h"
#include "http/message.h"
#include "util/result.h"

namespace reftrack::http {

// A JSON answer; text that is not UTF-8 is shown replaced.
Response JsonOf(int status, const nlohmann::json& value);

// Who asked, as the access log and the progress board name them.
std::string CallerName(const Request& request);

// A change over HTTP: by an API key (source api, actor api:NAME), or by a person in
// the web page (source manual, as from the command line; actor web:EMAIL).
ChangeContext ApiContext(const Request& request);

// A query parameter that says yes or no.
Result<bool> BoolParam(const Request& request, const std::string& name, bool fallback);

// A CSV file to save, named `file_name`.
Response CsvAttachment(std::string csv, std::string_view file_name);

// 204, no body.
Response NoContent();

// A GET's read connection and snapshot, from checking its key to answering it: one
// read transaction for both.
struct ReadSession {
  EnginePool::Lease lease;
  std::optional<ReadSnapshot> snapshot;
};

}  // namespace reftrack::http
