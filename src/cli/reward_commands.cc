// reftrack reward-rule add|list|remove    the campaigns' reward rules (SPEC §3)
// reftrack reward list|export|mark-paid    the rewards they issued, as a payout list
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/common.h"
#include "engine/json.h"

namespace reftrack::cli {

namespace {

std::string Amount(const Reward& r) {
  if (!r.amount) return "";
  return fmt::format("{} {}", *r.amount, r.currency);
}

std::string What(const RewardRule& r) {
  std::string what = r.amount ? fmt::format("{} {}", *r.amount, r.currency) : "";
  if (!r.description.empty()) what += (what.empty() ? "" : ", ") + r.description;
  return what;
}

void AddRuleCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand(
      "reward-rule", "reward rules: on which status a campaign rewards whom, with what");

  auto input = std::make_shared<RewardRuleInput>();
  CLI::App* add = group->add_subcommand("add", "add a reward rule; prints its id");
  add->add_option("--campaign", input->campaign, "the campaign")->required();
  add->add_option("--on", input->on, "the status that issues it: pending, qualified or approved")
      ->required();
  add->add_option("--to", input->to, "who gets it: referrer, referred or both")->required();
  add->add_option("--amount", input->amount, "how much, e.g. 50 or 49.99");
  add->add_option("--currency", input->currency,
                  "the amount's currency, e.g. USD (default: the campaign's, `campaign set`)");
  add->add_option("--description", input->description, "what it is, e.g. \"a free month\"");
  add->callback([&ctx, input] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto rule =
        session->engine->InWriteTransaction([&] { return session->engine->AddRewardRule(*input); });
    if (!rule) return ReportError(ctx, rule.error());
    if (ctx.json) return PrintJson(ToJson(*rule));
    fmt::print("{}\n", rule->id);
  });

  auto campaign = std::make_shared<std::string>();
  CLI::App* list = group->add_subcommand("list", "the active reward rules");
  list->add_option("--campaign", *campaign, "only this campaign's");
  list->callback([&ctx, campaign] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto rules = session->engine->RewardRules(*campaign);
    if (!rules) return ReportError(ctx, rules.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const RewardRule& r : *rules) rows.push_back(ToJson(r));
      return PrintJson({{"rules", rows}});
    }
    for (const RewardRule& r : *rules) {
      fmt::print("{:>6}  campaign {}  on {:<9}  to {:<8}  {}\n", r.id, r.campaign_id,
                 StatusName(r.on), RuleRecipientsName(r.to), What(r));
    }
  });

  auto id = std::make_shared<int64_t>(0);
  CLI::App* remove = group->add_subcommand(
      "remove", "remove a reward rule: it issues nothing more; what it issued stays");
  remove->add_option("ID", *id, "the rule's id")->required();
  remove->callback([&ctx, id] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto removed =
        session->engine->InWriteTransaction([&] { return session->engine->RemoveRewardRule(*id); });
    if (!removed) return ReportError(ctx, removed.error());
    if (ctx.json) return PrintJson({{"id", *id}, {"removed", true}});
    fmt::print("reward rule {} removed\n", *id);
  });
  RequireCommand(group);
}

struct RewardArgs {
  RewardQuery query;
  std::string state;
  std::string file;
  std::vector<int64_t> ids;
};

// The query with its state parsed; false (after reporting) when the state is unknown.
bool ParseState(Context& ctx, RewardArgs& args) {
  if (args.state.empty()) return true;
  args.query.state = ParseRewardState(args.state);
  if (args.query.state) return true;
  ReportError(ctx, Error{ErrorCode::kInvalidInput,
                         fmt::format("--state {}: use issued or paid", args.state)});
  return false;
}

void AddFilterOptions(CLI::App* cmd, RewardArgs& args) {
  cmd->add_option("--campaign", args.query.campaign, "only this campaign's");
  cmd->add_option("--referral", args.query.referral_id, "only this referral's (its id)");
  cmd->add_option("--member", args.query.member, "only those this referrer (email) earned");
  cmd->add_option("--state", args.state, "issued or paid");
}

void AddRewardCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("reward", "issued rewards: list, payout export, paid");
  auto args = std::make_shared<RewardArgs>();

  CLI::App* list = group->add_subcommand("list", "rewards, oldest first");
  AddFilterOptions(list, *args);
  list->callback([&ctx, args] {
    if (!ParseState(ctx, *args)) return;
    auto session = OpenSession(ctx);
    if (!session) return;
    auto rewards = session->engine->Rewards(args->query);
    if (!rewards) return ReportError(ctx, rewards.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const Reward& r : *rewards) rows.push_back(ToJson(r));
      return PrintJson({{"rewards", rows}});
    }
    for (const Reward& r : *rewards) {
      fmt::print("{:>6}  {:<7} referral {:<8} {:<8} {:<32} {:<14} {}\n", r.id,
                 RewardStateName(r.state), r.referral_id, RecipientName(r.recipient),
                 r.recipient_email, Amount(r), r.description);
    }
  });

  CLI::App* export_cmd = group->add_subcommand(
      "export", "write rewards as CSV, a payout list (cells a spreadsheet would run are quoted)");
  export_cmd->add_option("FILE", args->file, "the CSV file to write ('-' for stdout)")->required();
  AddFilterOptions(export_cmd, *args);
  export_cmd->callback([&ctx, args] {
    if (!ParseState(ctx, *args)) return;
    auto session = OpenSession(ctx);
    if (!session) return;
    auto rewards = session->engine->Rewards(args->query);
    if (!rewards) return ReportError(ctx, rewards.error());
    std::string out = PayoutCsv(*rewards);
    std::FILE* f = args->file == "-" ? stdout : std::fopen(args->file.c_str(), "wb");
    if (f == nullptr) {
      return ReportError(
          ctx, Error{ErrorCode::kInvalidInput, fmt::format("cannot write {}", args->file)});
    }
    bool written = std::fwrite(out.data(), 1, out.size(), f) == out.size();
    if (f != stdout) written = std::fclose(f) == 0 && written;
    if (!written) {
      return ReportError(
          ctx, Error{ErrorCode::kInvalidInput, fmt::format("cannot write {}", args->file)});
    }
    if (args->file == "-") return;
    if (ctx.json) return PrintJson({{"file", args->file}, {"rewards", rewards->size()}});
    fmt::print("{} rewards written to {}\n", rewards->size(), args->file);
  });

  CLI::App* paid = group->add_subcommand("mark-paid", "mark issued rewards paid");
  paid->add_option("ID", args->ids, "the rewards' ids")->required();
  paid->callback([&ctx, args] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto marked = session->engine->InWriteTransaction(
        [&] { return session->engine->MarkRewardsPaid(args->ids); });
    if (!marked) return ReportError(ctx, marked.error());
    if (ctx.json) return PrintJson({{"marked_paid", *marked}});
    fmt::print("{} of {} rewards marked paid\n", *marked, args->ids.size());
  });
  RequireCommand(group);
}

}  // namespace

void AddRewardCommandGroups(CLI::App& app, Context& ctx) {
  AddRuleCommands(app, ctx);
  AddRewardCommands(app, ctx);
}

}  // namespace reftrack::cli
