// /api/v1/referrals: list, one with its history, add, change a status (by id or by
// key); /api/v1/stats: the counts by status.
#include <fmt/format.h>

#include <charconv>

#include "engine/json.h"
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"

namespace reftrack::http {

using nlohmann::json;

void Api::AddReferralRoutes() {
  Read(Method::kGet, "/api/v1/referrals", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         ListRequest list;
         if (const std::string& s = request.Query("status"); !s.empty()) {
           auto status = ParseStatus(s);
           if (!status) {
             return Fail(ErrorCode::kInvalidInput,
                         fmt::format("status={}: use pending, qualified, approved or denied", s));
           }
           list.status = *status;
         }
         list.campaign = request.Query("campaign");
         list.query = request.Query("q");
         list.cursor = request.Query("cursor");
         if (const std::string& l = request.Query("limit"); !l.empty()) {
           int limit = 0;
           auto [end, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
           if (ec != std::errc() || end != l.data() + l.size() || limit < 1 || limit > 1000) {
             return Fail(ErrorCode::kInvalidInput,
                         fmt::format("limit={}: use a number from 1 to 1000", l));
           }
           list.limit = limit;
         }
         auto page = engine.List(list);
         if (!page) return std::unexpected(page.error());
         return JsonOf(200, ToJson(*page));
       });
  Read(Method::kGet, "/api/v1/referrals/{id}", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto id = ParseId(request.params[0], "a referral");
         if (!id) return std::unexpected(id.error());
         auto details = engine.Details(*id);
         if (!details) return std::unexpected(details.error());
         json out = ToJson(*details);
         out["transitions"] = TransitionsJson(details->referral);
         return JsonOf(200, out);
       });
  Write(Method::kPost, "/api/v1/referrals", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto input = ReferralBody(*body);
          if (!input) return std::unexpected(input.error());
          auto referral = engine.AddReferral(*input);
          if (!referral) return std::unexpected(referral.error());
          Response r = JsonOf(201, ToJson(*referral));
          r.headers.emplace_back("Location", fmt::format("/api/v1/referrals/{}", referral->id));
          return r;
        });
  Write(Method::kPatch, "/api/v1/referrals/{id}", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto id = ParseId(request.params[0], "a referral");
          if (!id) return std::unexpected(id.error());
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto status = StatusField(*body);
          if (!status) return std::unexpected(status.error());
          auto note = NoteField(*body);
          if (!note) return std::unexpected(note.error());
          auto outcome = engine.ChangeStatus(*id, *status, ApiContext(request), *note);
          if (!outcome) return std::unexpected(outcome.error());
          return JsonOf(200, ToJson(*outcome));
        });
  Write(Method::kPost, "/api/v1/referrals/update", Scope::kWrite,
        [](Engine& engine, const Request& request) -> Result<Response> {
          auto body = BodyObject(request.body);
          if (!body) return std::unexpected(body.error());
          auto key = KeyField(*body);
          if (!key) return std::unexpected(key.error());
          auto status = StatusField(*body);
          if (!status) return std::unexpected(status.error());
          auto note = NoteField(*body);
          if (!note) return std::unexpected(note.error());
          auto referral = engine.Resolve(*key);
          if (!referral) return std::unexpected(referral.error());
          auto outcome = engine.ChangeStatus(referral->id, *status, ApiContext(request), *note);
          if (!outcome) return std::unexpected(outcome.error());
          return JsonOf(200, ToJson(*outcome));
        });
  Read(Method::kGet, "/api/v1/stats", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto stats = engine.CountReferrals(request.Query("campaign"));
         if (!stats) return std::unexpected(stats.error());
         return JsonOf(200, ToJson(*stats));
       });
}

}  // namespace reftrack::http
