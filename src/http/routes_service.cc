// The routes of the service itself: health, metrics, the OpenAPI document.
#include "http/api.h"
#include "http/route_helpers.h"

namespace reftrack::http {

using nlohmann::json;

void Api::AddServiceRoutes() {
  router_.Add(Route{Method::kGet, "/healthz", std::nullopt, BodyKind::kSmall,
                    [](Request&, Respond respond) { respond(Json(200, R"({"status":"ok"})")); }});
  router_.Add(Route{Method::kGet, "/metrics", std::nullopt, BodyKind::kSmall,
                    [this](Request&, Respond respond) {
                      Response r;
                      r.content_type = "text/plain; version=0.0.4";
                      r.body = metrics_.Render();
                      respond(std::move(r));
                    }});
  router_.Add(
      Route{Method::kGet, "/api/v1/openapi.json", Scope::kRead, BodyKind::kSmall,
            [](Request&, Respond respond) { respond(Json(200, std::string(OpenApiDocument()))); }});
}

}  // namespace reftrack::http
