// reftrack member add|list|load
#include <fmt/format.h>

#include "cli/common.h"
#include "cli/load_command.h"
#include "engine/json.h"

namespace reftrack::cli {

void AddMemberCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("member", "referrers (advocates)");

  auto input = std::make_shared<MemberInput>();
  CLI::App* add = group->add_subcommand("add", "add a referrer to a campaign; prints its id");
  add->add_option("--campaign", input->campaign, "campaign name")->required();
  add->add_option("--email", input->email, "the referrer's email")->required();
  add->add_option("--name", input->name, "the referrer's name");
  add->add_option("--referral-code", input->referral_code, "the referrer's own referral code");
  add->callback([&ctx, input] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto member =
        session->engine->InWriteTransaction([&] { return session->engine->AddMember(*input); });
    if (!member) return ReportError(ctx, member.error());
    if (ctx.json) return PrintJson(ToJson(*member));
    fmt::print("{}\n", member->id);
  });

  auto campaign = std::make_shared<std::string>();
  CLI::App* list = group->add_subcommand("list", "list a campaign's referrers");
  list->add_option("--campaign", *campaign, "campaign name")->required();
  list->callback([&ctx, campaign] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto members = session->engine->Members(*campaign);
    if (!members) return ReportError(ctx, members.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const Member& m : *members) rows.push_back(ToJson(m));
      return PrintJson({{"members", rows}});
    }
    for (const Member& m : *members) {
      fmt::print("{:>8}  {:<40} {:<24} {}\n", m.id, m.email, m.name, m.referral_code.value_or(""));
    }
  });

  auto file = std::make_shared<std::string>();
  CLI::App* load = group->add_subcommand(
      "load", "add referrers in bulk from a CSV with header campaign,email,name,referral_code");
  load->add_option("FILE", *file, "the CSV file ('-' for stdin)")->required();
  load->callback([&ctx, file] { RunLoad(ctx, *file, &LoadMembers, "members"); });
  RequireCommand(group);
}

}  // namespace reftrack::cli
