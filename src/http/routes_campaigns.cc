// /api/v1/campaigns and their reward rules.
#include <fmt/format.h>

#include "engine/json.h"
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"

namespace reftrack::http {

using nlohmann::json;

namespace {

// The campaign a path's {id} names: its id, or its name.
Result<Campaign> CampaignParam(Engine& engine, const std::string& text) {
  auto campaigns = engine.Campaigns();
  if (!campaigns) return std::unexpected(campaigns.error());
  for (Campaign& c : *campaigns) {
    if (std::to_string(c.id) == text || c.name == text) return std::move(c);
  }
  return Fail(ErrorCode::kNotFound, fmt::format("campaign \"{}\" does not exist", text));
}

}  // namespace

void Api::AddCampaignRoutes() {
  Read(Method::kGet, "/api/v1/campaigns", Scope::kRead,
       [](Engine& engine, const Request&) -> Result<Response> {
         auto campaigns = engine.Campaigns();
         if (!campaigns) return std::unexpected(campaigns.error());
         json out = json::array();
         for (const Campaign& c : *campaigns) out.push_back(ToJson(c));
         return JsonOf(200, {{"campaigns", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/campaigns", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto name = StringField(*body, "name", true);
          if (!name) return std::unexpected(name.error());
          auto currency = StringField(*body, "currency", false);
          if (!currency) return std::unexpected(currency.error());
          auto campaign = engine.AddCampaign(*name, *currency);
          if (!campaign) return std::unexpected(campaign.error());
          return JsonOf(201, ToJson(*campaign));
        });
  Read(Method::kGet, "/api/v1/campaigns/{id}/reward-rules", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto campaign = CampaignParam(engine, request.params[0]);
         if (!campaign) return std::unexpected(campaign.error());
         auto rules = engine.RewardRules(campaign->name);
         if (!rules) return std::unexpected(rules.error());
         json out = json::array();
         for (const RewardRule& rule : *rules) out.push_back(ToJson(rule));
         return JsonOf(200, {{"reward_rules", std::move(out)}});
       });
  Write(Method::kPost, "/api/v1/campaigns/{id}/reward-rules", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto campaign = CampaignParam(engine, request.params[0]);
          if (!campaign) return std::unexpected(campaign.error());
          auto input = RewardRuleBody(*body);
          if (!input) return std::unexpected(input.error());
          input->campaign = campaign->name;
          auto rule = engine.AddRewardRule(*input);
          if (!rule) return std::unexpected(rule.error());
          return JsonOf(201, ToJson(*rule));
        });
  Write(Method::kDelete, "/api/v1/reward-rules/{id}", Scope::kAdmin,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "a reward rule");
          if (!id) return std::unexpected(id.error());
          if (auto ok = engine.RemoveRewardRule(*id); !ok) return std::unexpected(ok.error());
          return NoContent();
        });
}

}  // namespace reftrack::http
