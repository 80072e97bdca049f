// reftrack campaign add|set|list
#include <fmt/format.h>

#include "cli/common.h"
#include "engine/json.h"

namespace reftrack::cli {

void AddCampaignCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("campaign", "referral programs");

  struct Args {
    std::string name;
    std::string currency;
  };
  auto args = std::make_shared<Args>();
  CLI::App* add = group->add_subcommand("add", "create a campaign; prints its id");
  add->add_option("NAME", args->name, "the campaign's name")->required();
  add->add_option("--currency", args->currency,
                  "what its reward rules' amounts are in when a rule names none (default USD)");
  add->callback([&ctx, args] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto campaign = session->engine->InWriteTransaction(
        [&] { return session->engine->AddCampaign(args->name, args->currency); });
    if (!campaign) return ReportError(ctx, campaign.error());
    if (ctx.json) return PrintJson(ToJson(*campaign));
    fmt::print("{}\n", campaign->id);
  });

  auto set_args = std::make_shared<Args>();
  CLI::App* set = group->add_subcommand("set", "change a campaign's settings");
  set->add_option("NAME", set_args->name, "the campaign's name")->required();
  set->add_option("--currency", set_args->currency,
                  "what its reward rules' amounts are in when a rule names none, e.g. EUR "
                  "(rules added before keep theirs)")
      ->required();
  set->callback([&ctx, set_args] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto campaign = session->engine->InWriteTransaction(
        [&] { return session->engine->SetCampaignCurrency(set_args->name, set_args->currency); });
    if (!campaign) return ReportError(ctx, campaign.error());
    if (ctx.json) return PrintJson(ToJson(*campaign));
    fmt::print("campaign {} \"{}\": currency {}\n", campaign->id, campaign->name,
               campaign->currency);
  });

  CLI::App* list = group->add_subcommand("list", "list campaigns");
  list->callback([&ctx] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto campaigns = session->engine->Campaigns();
    if (!campaigns) return ReportError(ctx, campaigns.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const Campaign& c : *campaigns) rows.push_back(ToJson(c));
      return PrintJson({{"campaigns", rows}});
    }
    for (const Campaign& c : *campaigns) fmt::print("{:>6}  {}  {}\n", c.id, c.currency, c.name);
  });
  RequireCommand(group);
}

}  // namespace reftrack::cli
