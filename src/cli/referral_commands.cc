// reftrack referral add|load|show|list|set-status
#include <fmt/format.h>

#include "cli/common.h"
#include "cli/load_command.h"
#include "engine/json.h"

namespace reftrack::cli {

namespace {

std::string OrDash(const std::optional<std::string>& v) { return v ? *v : "-"; }
std::string TimeOrDash(const std::optional<Micros>& t) { return t ? FormatTimestamp(*t) : "-"; }

// Resolves KEY (with --campaign) to one referral, or reports why not.
std::optional<Referral> ResolveKey(Context& ctx, Engine& engine, const std::string& text,
                                   const std::string& campaign) {
  auto key = ParseReferralKey(text);
  if (!key) {
    ReportError(ctx, key.error());
    return std::nullopt;
  }
  key->campaign = campaign;
  auto referral = engine.Resolve(*key);
  if (!referral) {
    ReportError(ctx, referral.error());
    return std::nullopt;
  }
  return std::move(*referral);
}

void PrintDetails(const ReferralDetails& d) {
  const Referral& r = d.referral;
  fmt::print("referral {}  {}  ({})\n", r.id, r.email, StatusName(r.status));
  fmt::print("  campaign       {}\n", r.campaign);
  fmt::print("  name           {}\n", r.name.empty() ? "-" : r.name);
  fmt::print("  referrer       {}\n", OrDash(r.referrer_email));
  fmt::print("  external id    {}\n", OrDash(r.external_id));
  fmt::print("  referral code  {}\n", OrDash(r.referral_code));
  fmt::print("  coupon code    {}\n", OrDash(r.coupon_code));
  fmt::print("  created        {}\n", FormatTimestamp(r.created_at));
  fmt::print("  qualified      {}\n", TimeOrDash(r.qualified_at));
  fmt::print("  approved       {}\n", TimeOrDash(r.approved_at));
  fmt::print("  denied         {}\n", TimeOrDash(r.denied_at));
  if (d.history.empty()) {
    fmt::print("  history        (no changes)\n");
  } else {
    fmt::print("  history\n");
  }
  for (const StatusChange& c : d.history) {
    fmt::print("    {}  {:>9} -> {:<9} {:<14} {}\n", FormatTimestamp(c.at), StatusName(c.from),
               StatusName(c.to), SourceName(c.source), c.actor);
  }
  if (d.rewards.empty()) return;
  fmt::print("  rewards\n");
  for (const Reward& w : d.rewards) {
    std::string what = w.amount ? fmt::format("{} {}", *w.amount, w.currency) : "";
    if (!w.description.empty()) what += (what.empty() ? "" : ", ") + w.description;
    fmt::print("    {}  to the {:<8} {:<24} {:<7} (rule {})\n", FormatTimestamp(w.issued_at),
               RecipientName(w.recipient), what, RewardStateName(w.state), w.rule_id);
  }
}

}  // namespace

void AddReferralCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("referral", "referred people and their statuses");

  auto input = std::make_shared<ReferralInput>();
  CLI::App* add = group->add_subcommand("add", "add a referral (pending); prints its id");
  add->add_option("--campaign", input->campaign, "campaign name")->required();
  add->add_option("--email", input->email, "the referred person's email")->required();
  add->add_option("--name", input->name, "the referred person's name");
  add->add_option("--external-id", input->external_id, "the id in your CRM");
  add->add_option("--referral-code", input->referral_code, "referral code");
  add->add_option("--coupon-code", input->coupon_code, "coupon code");
  add->add_option("--referrer", input->referrer_email, "the referring member's email");
  add->callback([&ctx, input] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto referral =
        session->engine->InWriteTransaction([&] { return session->engine->AddReferral(*input); });
    if (!referral) return ReportError(ctx, referral.error());
    if (ctx.json) return PrintJson(ToJson(ReferralDetails{*referral, {}}));
    fmt::print("{}\n", referral->id);
  });

  auto load_file = std::make_shared<std::string>();
  CLI::App* load = group->add_subcommand(
      "load",
      "add referrals in bulk from a CSV with header "
      "campaign,email,name,external_id,referral_code,coupon_code,referrer_email");
  load->add_option("FILE", *load_file, "the CSV file ('-' for stdin)")->required();
  load->callback([&ctx, load_file] { RunLoad(ctx, *load_file, &LoadReferrals, "referrals"); });

  struct KeyArgs {
    std::string key;
    std::string campaign;
    std::string status;
  };
  auto show_args = std::make_shared<KeyArgs>();
  CLI::App* show = group->add_subcommand("show", "a referral with its history and rewards");
  show->add_option("KEY", show_args->key, "ID, id:ID, external:X or email:E")->required();
  show->add_option("--campaign", show_args->campaign, "narrow the key to one campaign");
  show->callback([&ctx, show_args] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto key = ParseReferralKey(show_args->key);
    if (!key) return ReportError(ctx, key.error());
    key->campaign = show_args->campaign;
    auto details = session->engine->Details(*key);
    if (!details) return ReportError(ctx, details.error());
    if (ctx.json) return PrintJson(ToJson(*details));
    PrintDetails(*details);
  });

  struct ListArgs {
    std::string status;
    ListRequest request;
  };
  auto list_args = std::make_shared<ListArgs>();
  CLI::App* list = group->add_subcommand("list", "referrals, newest first");
  list->add_option("--status", list_args->status, "pending, qualified, approved or denied");
  list->add_option("--campaign", list_args->request.campaign, "campaign name");
  list->add_option("--search", list_args->request.query, "part of the email or name");
  list->add_option("--limit", list_args->request.limit, "rows per page (1-1000, default 50)");
  list->add_option("--after", list_args->request.cursor, "next_cursor of the previous page");
  list->callback([&ctx, list_args] {
    ListRequest request = list_args->request;
    if (!list_args->status.empty()) {
      request.status = ParseStatus(list_args->status);
      if (!request.status) {
        return ReportError(ctx, {ErrorCode::kInvalidInput,
                                 fmt::format("\"{}\" is not a status; use pending, qualified, "
                                             "approved or denied",
                                             list_args->status)});
      }
    }
    auto session = OpenSession(ctx);
    if (!session) return;
    auto page = session->engine->List(request);
    if (!page) return ReportError(ctx, page.error());
    if (ctx.json) return PrintJson(ToJson(*page));
    for (const Referral& r : page->referrals) {
      fmt::print("{:>9}  {:<10} {:<36} {:<16} {}\n", r.id, StatusName(r.status), r.email,
                 r.campaign, FormatTimestamp(r.created_at));
    }
    if (!page->next_cursor.empty()) fmt::print("more: --after {}\n", page->next_cursor);
  });

  auto set_args = std::make_shared<KeyArgs>();
  CLI::App* set = group->add_subcommand("set-status", "change one referral's status");
  set->add_option("KEY", set_args->key, "ID, id:ID, external:X or email:E")->required();
  set->add_option("STATUS", set_args->status, "pending, qualified, approved or denied")->required();
  set->add_option("--campaign", set_args->campaign, "narrow the key to one campaign");
  set->callback([&ctx, set_args] {
    auto status = ParseStatus(set_args->status);
    if (!status) {
      return ReportError(ctx, {ErrorCode::kInvalidInput,
                               fmt::format("\"{}\" is not a status; use pending, qualified, "
                                           "approved or denied",
                                           set_args->status)});
    }
    auto session = OpenSession(ctx);
    if (!session) return;
    auto referral = ResolveKey(ctx, *session->engine, set_args->key, set_args->campaign);
    if (!referral) return;
    ChangeContext context{ChangeSource::kManual, CliActor(), std::nullopt};
    auto outcome = session->engine->InWriteTransaction(
        [&] { return session->engine->ChangeStatus(referral->id, *status, context); });
    if (!outcome) return ReportError(ctx, outcome.error());
    if (ctx.json) return PrintJson(ToJson(*outcome));
    if (outcome->changed) {
      fmt::print("referral {}: {} -> {}\n", outcome->referral_id, StatusName(outcome->from),
                 StatusName(outcome->to));
    } else {
      fmt::print("referral {}: already {}, unchanged\n", outcome->referral_id,
                 StatusName(outcome->to));
    }
  });
  RequireCommand(group);
}

}  // namespace reftrack::cli
