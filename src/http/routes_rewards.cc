// /api/v1/rewards: the rewards issued, as JSON or as the payout CSV.
#include <fmt/format.h>

#include "engine/json.h"
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"

namespace reftrack::http {

using nlohmann::json;

namespace {

// Which rewards ?campaign=&member=&referral=&state= asks for.
Result<RewardQuery> RewardQueryOf(const Request& request) {
  RewardQuery query;
  query.campaign = request.Query("campaign");
  query.member = request.Query("member");
  if (const std::string& r = request.Query("referral"); !r.empty()) {
    auto id = ParseId(r, "a referral");
    if (!id) return Fail(ErrorCode::kInvalidInput, "referral=" + id.error().message);
    query.referral_id = *id;
  }
  if (const std::string& s = request.Query("state"); !s.empty()) {
    auto state = ParseRewardState(s);
    if (!state)
      return Fail(ErrorCode::kInvalidInput, fmt::format("state={}: use issued or paid", s));
    query.state = *state;
  }
  return query;
}

}  // namespace

void Api::AddRewardRoutes() {
  Read(Method::kGet, "/api/v1/rewards", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto query = RewardQueryOf(request);
         if (!query) return std::unexpected(query.error());
         auto rewards = engine.Rewards(*query);
         if (!rewards) return std::unexpected(rewards.error());
         json out = json::array();
         for (const Reward& reward : *rewards) out.push_back(ToJson(reward));
         return JsonOf(200, {{"rewards", std::move(out)}});
       });
  Read(Method::kGet, "/api/v1/rewards/export.csv", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto query = RewardQueryOf(request);
         if (!query) return std::unexpected(query.error());
         auto rewards = engine.Rewards(*query);
         if (!rewards) return std::unexpected(rewards.error());
         return CsvAttachment(PayoutCsv(*rewards), "payouts.csv");
       });
}

}  // namespace reftrack::http
