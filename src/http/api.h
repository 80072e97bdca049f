// The HTTP API of SPEC §6 as an Application for the server: the routes, the keys and
// their scopes, and thin handlers that parse, call the engine and render. Reads run on
// the server's threads with pooled read connections; changes go through the write
// queue (group commit); dry runs of uploads on a small pool of their own.
//
// api.cc admits, hands over and logs requests; each resource's routes are in a file
// of their own (routes_referrals.cc, routes_imports.cc, routes_rewards.cc,
// routes_campaigns.cc, routes_keys.cc, routes_session.cc, routes_service.cc), with
// what they share in route_helpers.h; auth.cc checks keys and sessions.
#pragma once

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/engine_pool.h"
#include "http/message.h"
#include "http/metrics.h"
#include "http/progress_board.h"
#include "http/router.h"
#include "http/static_files.h"
#include "http/write_queue.h"

namespace reftrack::http {

class TaskPool;
class Housekeeper;

struct ApiOptions {
  std::string db_url;
  uint64_t max_json_bytes = 1 << 20;
  uint64_t max_upload_bytes = 512ull << 20;
  int writers = 1;  // writer threads (SQLite: 1)
  std::FILE* access_log = nullptr;  // one JSON line per request; null: none
  std::optional<StaticFiles> web;   // the web page's files, served at /; none: API only
};

class Api : public Application {
 public:
  // Opens the writer connections (which apply pending migrations).
  static Result<std::unique_ptr<Api>> Create(ApiOptions options);
  ~Api() override;

  Admission Admit(Request& request) override;
  void Handle(Request& request, Respond respond) override;
  void Completed(const Request& request, const Response& response, size_t bytes) override;

  const Router& router() const { return router_; }

 private:
  explicit Api(ApiOptions options);
  // Every route, resource by resource (each in its routes_*.cc).
  void AddRoutes();
  void AddServiceRoutes();   // /healthz, /metrics, /api/v1/openapi.json
  void AddReferralRoutes();  // /api/v1/referrals, /api/v1/stats
  void AddImportRoutes();    // /api/v1/imports, /api/v1/qualifications, /api/v1/progress
  void AddRewardRoutes();    // /api/v1/rewards
  void AddCampaignRoutes();  // /api/v1/campaigns, their reward rules
  void AddKeyRoutes();       // /api/v1/keys
  // Sign-in, the session, sign-out (web page).
  void AddSessionRoutes();

  // Route kinds: a read on a lent read connection, now; a change through the write
  // queue; an uploaded file (dry run on the pool, applying through the queue).
  using ReadFn = std::function<Result<Response>(Engine&, const Request&)>;
  using WriteFn = std::function<Result<Response>(Engine&, const Request&)>;
  void Read(Method method, std::string pattern, Scope scope, ReadFn fn);
  void Write(Method method, std::string pattern, Scope scope, WriteFn fn);

  void Upload(Request& request, Respond respond, bool qualify);
  // auth.cc: the caller's key or session, checked against the route's scope.
  std::optional<Response> Authorize(Request& request, const Route& route);

  ApiOptions options_;
  Router router_;
  EnginePool readers_;
  std::unique_ptr<WriteQueue> writer_;
  std::unique_ptr<TaskPool> previews_;
  std::unique_ptr<Housekeeper> housekeeper_;
  Metrics metrics_;
  ProgressBoard progress_;
  std::mutex log_mutex_;
};

// The OpenAPI document served at /api/v1/openapi.json.
std::string_view OpenApiDocument();

}  // namespace reftrack::http
