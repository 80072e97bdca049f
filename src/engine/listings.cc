// What the ways in list and look up beside referrals: campaigns, members, recorded
// imports (engine.h).
#include <fmt/format.h>

#include "domain/normalize.h"
#include "engine/engine.h"

namespace reftrack {

Result<std::vector<Campaign>> Engine::Campaigns() { return store_.ListCampaigns(); }

Result<std::optional<Campaign>> Engine::FindCampaign(std::string_view name) {
  return store_.FindCampaign(Trim(name));
}

Result<std::vector<Member>> Engine::Members(std::string_view campaign) {
  auto found = store_.FindCampaign(campaign);
  if (!found) return std::unexpected(found.error());
  if (!*found) {
    return Fail(ErrorCode::kNotFound, fmt::format("campaign \"{}\" does not exist", campaign));
  }
  return store_.ListMembers((*found)->id);
}

Result<ImportWithErrors> Engine::ImportErrors(int64_t import_id) {
  auto snapshot = store_.BeginRead();
  if (!snapshot) return std::unexpected(snapshot.error());
  auto record = store_.GetImport(import_id);
  if (!record) return std::unexpected(record.error());
  if (!*record) return Fail(ErrorCode::kNotFound, fmt::format("no import {}", import_id));
  auto errors = store_.ImportErrors(import_id);
  if (!errors) return std::unexpected(errors.error());
  return ImportWithErrors{std::move(**record), std::move(*errors)};
}

}  // namespace reftrack
