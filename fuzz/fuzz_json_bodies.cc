// The JSON request bodies of the HTTP API: parsed and checked as the handlers of
// src/http/api.cc do (http/request_body.h), handed to the engine inside a write
// transaction that is rolled back, and answered (rendered as the response's JSON).
// The first byte chooses the route (the seed files start with a digit), the rest is
// the body:
//   '0' POST /api/v1/referrals             '1' PATCH /api/v1/referrals/{id}
//   '2' POST /api/v1/referrals/update      '3' POST /api/v1/campaigns
//   '4' POST /api/v1/campaigns/Spring/reward-rules
//   '5' POST /api/v1/keys                  '6' POST /api/v1/session (parsing only)
// Checks: no exception and no crash; a bad body is a 4xx, never a storage or internal
// error; the seeded store is left as it was.
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/json.h"
#include "fuzz_support.h"
#include "http/request_body.h"
#include "http/write_queue.h"

namespace {

using namespace reftrack;
using namespace reftrack::http;
using nlohmann::json;

Result<json> Handle(Engine& engine, int route, int64_t id, std::string_view text) {
  auto body = BodyObject(text);
  if (!body) return std::unexpected(body.error());
  ChangeContext context{.source = ChangeSource::kApi, .actor = "api:fuzz"};
  switch (route) {
    case 0: {  // POST /api/v1/referrals
      auto input = ReferralBody(*body);
      if (!input) return std::unexpected(input.error());
      auto referral = engine.AddReferral(*input);
      if (!referral) return std::unexpected(referral.error());
      return ToJson(*referral);
    }
    case 1:    // PATCH /api/v1/referrals/{id}
    case 2: {  // POST /api/v1/referrals/update
      std::optional<ReferralKey> key;
      if (route == 2) {
        auto parsed = KeyField(*body);
        if (!parsed) return std::unexpected(parsed.error());
        key = *parsed;
      }
      auto status = StatusField(*body);
      if (!status) return std::unexpected(status.error());
      auto note = NoteField(*body);
      if (!note) return std::unexpected(note.error());
      if (key) {
        auto referral = engine.Resolve(*key);
        if (!referral) return std::unexpected(referral.error());
        id = referral->id;
      }
      auto outcome = engine.ChangeStatus(id, *status, context, *note);
      if (!outcome) return std::unexpected(outcome.error());
      return ToJson(*outcome);
    }
    case 3: {  // POST /api/v1/campaigns
      auto name = StringField(*body, "name", true);
      if (!name) return std::unexpected(name.error());
      auto campaign = engine.AddCampaign(*name);
      if (!campaign) return std::unexpected(campaign.error());
      return ToJson(*campaign);
    }
    case 4: {  // POST /api/v1/campaigns/{id}/reward-rules
      auto input = RewardRuleBody(*body);
      if (!input) return std::unexpected(input.error());
      input->campaign = "Spring";
      auto rule = engine.AddRewardRule(*input);
      if (!rule) return std::unexpected(rule.error());
      return ToJson(*rule);
    }
    case 5: {  // POST /api/v1/keys
      auto input = ApiKeyBody(*body);
      if (!input) return std::unexpected(input.error());
      auto made = engine.AddApiKey(input->name, input->scope);
      if (!made) return std::unexpected(made.error());
      return ToJson(*made);
    }
    default: {  // POST /api/v1/session: the password check itself takes 0.1 s
      auto credentials = SignInBody(*body);
      if (!credentials) return std::unexpected(credentials.error());
      return json{{"email", credentials->email}};
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  int route = static_cast<uint8_t>(data[0] - '0') % 7;
  int64_t id = 1 + (data[0] / 7) % 10;  // 10 does not exist
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  Engine& engine = fuzz::SeededEngine();
  {
    auto tx = engine.store().BeginWrite();
    FUZZ_CHECK(tx.has_value(), "begin");
    auto answer = Handle(engine, route, id, text);
    Response response;
    if (answer) {
      response = Json(200, answer->dump(-1, ' ', false, json::error_handler_t::replace));
    } else {
      FUZZ_CHECK(answer.error().code != ErrorCode::kStorage &&
                     answer.error().code != ErrorCode::kInternal,
                 "route %d: a bad body made error %d: %s", route,
                 static_cast<int>(answer.error().code), answer.error().message.c_str());
      FUZZ_CHECK(!answer.error().message.empty(), "an error without a message");
      response = ProblemFor(answer.error());
      FUZZ_CHECK(response.status >= 400 && response.status < 500, "status %d", response.status);
    }
    FUZZ_CHECK(json::accept(response.body), "the response is not JSON: %s",
               response.body.c_str());
  }  // rolled back
  auto counts = engine.CountReferrals("");
  FUZZ_CHECK(counts && counts->all.by_status == fuzz::SeededCounts().by_status &&
                 counts->all.total == fuzz::SeededCounts().total,
             "the seeded store changed");
  return 0;
}
