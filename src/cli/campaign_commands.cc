// reftrack campaign add|list
#include <fmt/format.h>

#include "cli/common.h"
#include "engine/json.h"

namespace reftrack::cli {

void AddCampaignCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("campaign", "referral programs");

  auto name = std::make_shared<std::string>();
  CLI::App* add = group->add_subcommand("add", "create a campaign; prints its id");
  add->add_option("NAME", *name, "the campaign's name")->required();
  add->callback([&ctx, name] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto campaign = session->engine->AddCampaign(*name);
    if (!campaign) return ReportError(ctx, campaign.error());
    if (ctx.json) return PrintJson(ToJson(*campaign));
    fmt::print("{}\n", campaign->id);
  });

  CLI::App* list = group->add_subcommand("list", "list campaigns");
  list->callback([&ctx] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto campaigns = session->store->ListCampaigns();
    if (!campaigns) return ReportError(ctx, campaigns.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const Campaign& c : *campaigns) rows.push_back(ToJson(c));
      return PrintJson({{"campaigns", rows}});
    }
    for (const Campaign& c : *campaigns) fmt::print("{:>6}  {}\n", c.id, c.name);
  });
  RequireCommand(group);
}

}  // namespace reftrack::cli
