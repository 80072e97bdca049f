#include "http/route_helpers.h"

#include <fmt/format.h>

namespace reftrack::http {

using nlohmann::json;

Response JsonOf(int status, const json& value) {
  return Json(status, value.dump(-1, ' ', false, json::error_handler_t::replace));
}

std::string CallerName(const Request& request) {
  if (request.user) return "web:" + request.user->email;
  return "api:" + (request.caller ? std::to_string(request.caller->id) : std::string("?"));
}

ChangeContext ApiContext(const Request& request) {
  ChangeContext context;
  if (request.user) {
    context.source = ChangeSource::kManual;
    context.actor = "web:" + request.user->email;
  } else {
    context.source = ChangeSource::kApi;
    context.actor = "api:" + (request.caller ? request.caller->name : std::string("?"));
  }
  return context;
}

Result<bool> BoolParam(const Request& request, const std::string& name, bool fallback) {
  const std::string& text = request.Query(name);
  if (text.empty()) return fallback;
  if (text == "true" || text == "1") return true;
  if (text == "false" || text == "0") return false;
  return Fail(ErrorCode::kInvalidInput,
              fmt::format("{}={}: use {}=true or {}=false", name, text, name, name));
}

Response CsvAttachment(std::string csv, std::string_view file_name) {
  Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.body = std::move(csv);
  r.headers.emplace_back("Content-Disposition",
                         fmt::format("attachment; filename=\"{}\"", file_name));
  return r;
}

Response NoContent() {
  Response r;
  r.status = 204;
  r.content_type = "application/json";
  return r;
}

}  // namespace reftrack::http
