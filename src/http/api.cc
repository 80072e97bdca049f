// The API as the server's Application: routes added, requests admitted (route, key,
// body), handled and logged. The routes are in routes_*.cc, the key check in auth.cc.
#include "http/api.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/normalize.h"
#include "http/route_helpers.h"
#include "http/workers.h"

namespace reftrack::http {

using nlohmann::json;

namespace {

// Request::route_index of a request for one of the web page's files.
constexpr size_t kPageRoute = static_cast<size_t>(-1);

bool IsJsonType(std::string_view content_type) {
  std::string type = LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
  return type == "application/json" || (type.starts_with("application/") && type.ends_with("+json"));
}

bool IsCsvType(std::string_view content_type) {
  std::string type = LowerAscii(Trim(content_type.substr(0, content_type.find(';'))));
  return type == "text/csv" || type == "text/plain";
}

}  // namespace

Api::Api(ApiOptions options) : options_(std::move(options)), readers_(options_.db_url) {}

Api::~Api() = default;

Result<std::unique_ptr<Api>> Api::Create(ApiOptions options) {
  std::unique_ptr<Api> api(new Api(std::move(options)));
  std::vector<std::unique_ptr<Engine>> writers;
  for (int i = 0; i < std::max(1, api->options_.writers); ++i) {
    auto engine = Engine::Open(api->options_.db_url, Engine::Use::kServer);
    if (!engine) return std::unexpected(engine.error());
    writers.push_back(std::move(*engine));
  }
  auto housekeeping = Engine::Open(api->options_.db_url, Engine::Use::kServer);
  if (!housekeeping) return std::unexpected(housekeeping.error());
  api->housekeeper_ = std::make_unique<Housekeeper>(std::move(*housekeeping), [a = api.get()] {
    if (a->options_.access_log == nullptr) return;
    std::lock_guard lock(a->log_mutex_);
    std::fflush(a->options_.access_log);
  });
  api->writer_ = std::make_unique<WriteQueue>(std::move(writers));
  api->previews_ = std::make_unique<TaskPool>(2);
  api->AddRoutes();
  return api;
}

void Api::Read(Method method, std::string pattern, Scope scope, ReadFn fn) {
  router_.Add(Route{method, std::move(pattern), scope, BodyKind::kSmall,
                    [this, fn = std::move(fn)](Request& request, Respond respond) {
                      std::shared_ptr<ReadSession> session =
                          std::static_pointer_cast<ReadSession>(std::move(request.state));
                      if (!session) {
                        auto lease = readers_.Acquire();
                        if (!lease) return respond(ProblemFor(lease.error()));
                        session = std::make_shared<ReadSession>(std::move(*lease));
                      }
                      auto answer = fn(session->lease.engine(), request);
                      session.reset();  // ends the snapshot before the answer is written
                      respond(answer ? std::move(*answer) : ProblemFor(answer.error()));
                    }});
}

void Api::Write(Method method, std::string pattern, Scope scope, WriteFn fn) {
  router_.Add(Route{method, std::move(pattern), scope, BodyKind::kSmall,
                    [this, fn](Request& request, Respond respond) {
                      writer_->Submit([fn, &request](Engine& engine) { return fn(engine, request); },
                                      std::move(respond));
                    }});
}

// Each resource's routes are in a file of their own (routes_*.cc). A path's methods
// are answered in 405's Allow in the order added.
void Api::AddRoutes() {
  AddServiceRoutes();
  AddReferralRoutes();
  AddImportRoutes();
  AddRewardRoutes();
  AddCampaignRoutes();
  AddKeyRoutes();
  AddSessionRoutes();
}

Admission Api::Admit(Request& request) {
  Admission admission;
  auto match = router_.Find(request.method, request.path);
  if (!match.route) {
    if (match.status == 405) {
      Response r = Problem(405, fmt::format("{} does not take {}; it takes {}", request.path,
                                            MethodName(request.method), match.allow));
      r.headers.emplace_back("Allow", match.allow);
      admission.reject = std::move(r);
    } else if (options_.web && request.method == Method::kGet &&
               !request.path.starts_with("/api/")) {
      request.route = "/{page}";  // the web page's files: Handle serves them
      request.route_index = kPageRoute;
    } else {
      admission.reject = Problem(404, fmt::format("no route {}", request.path));
    }
    return admission;
  }
  const Route& route = *match.route;
  request.route = route.pattern;
  request.route_index = match.index;
  request.params = std::move(match.params);
  if (route.scope) {
    if (auto reject = Authorize(request, route)) {
      admission.reject = std::move(*reject);
      return admission;
    }
  }
  admission.body = route.body;
  if (route.body == BodyKind::kFile) {
    admission.limit = options_.max_upload_bytes;
    if (!IsCsvType(request.content_type)) {
      admission.reject = Problem(
          415, fmt::format("{} takes the file as the body: send Content-Type: text/csv{}",
                           route.pattern,
                           request.content_type.empty() ? "" : ", not " + request.content_type));
    }
  } else {
    admission.limit = options_.max_json_bytes;
    bool has_body = request.method == Method::kPost || request.method == Method::kPatch;
    if (has_body && !IsJsonType(request.content_type)) {
      admission.reject = Problem(
          415, fmt::format("{} takes a JSON body: send Content-Type: application/json{}",
                           route.pattern,
                           request.content_type.empty() ? "" : ", not " + request.content_type));
    }
  }
  return admission;
}

void Api::Handle(Request& request, Respond respond) {
  if (request.route_index == kPageRoute) return respond(options_.web->Serve(request.path));
  router_.routes()[request.route_index].handler(request, std::move(respond));
}

void Api::Completed(const Request& request, const Response& response, size_t bytes) {
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received).count();
  metrics_.CountRequest(request.route, MethodName(request.method), response.status, seconds);
  if (options_.access_log == nullptr) return;
  // fmt rather than a JSON object: this runs for every request. Strings that come
  // from the client are quoted and escaped by the JSON library.
  std::string text = fmt::format(
      R"({{"ts":"{}","remote":{},"method":"{}","target":{},"route":"{}","status":{},)"
      R"("bytes":{},"ms":{:.3f},"key":{}}})"
      "\n",
      FormatTimestamp(NowMicros()), json(request.remote).dump(), MethodName(request.method),
      json(request.target).dump(-1, ' ', false, json::error_handler_t::replace), request.route,
      response.status, bytes, seconds * 1e3,
      request.caller ? std::to_string(request.caller->id) : "null");
  std::lock_guard lock(log_mutex_);
  std::fwrite(text.data(), 1, text.size(), options_.access_log);
}

}  // namespace reftrack::http
