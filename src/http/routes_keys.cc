// /api/v1/keys: API keys, for admins.
#include "engine/json.h"
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"

namespace reftrack::http {

using nlohmann::json;

void Api::AddKeyRoutes() {
  Read(Method::kGet, "/api/v1/keys", Scope::kAdmin,
       [](Engine& engine, const Request&) -> Result<Response> {
         auto keys = engine.ApiKeys();
         if (!keys) return std::unexpected(keys.error());
         json out = json::array();
         for (const ApiKey& key : *keys) out.push_back(ToJson(key));
         return JsonOf(200, {{"keys", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/keys", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto input = ApiKeyBody(*body);
          if (!input) return std::unexpected(input.error());
          auto made = engine.AddApiKey(input->name, input->scope);
          if (!made) return std::unexpected(made.error());
          return JsonOf(201, ToJson(*made));
        });
  Write(Method::kDelete, "/api/v1/keys/{id}", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "an API key");
          if (!id) return std::unexpected(id.error());
          if (auto ok = engine.RevokeApiKey(*id); !ok) return std::unexpected(ok.error());
          return NoContent();
        });
}

}  // namespace reftrack::http
