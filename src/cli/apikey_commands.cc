// reftrack apikey add [--name N] --scope read|write|admin prints the new key, once
// reftrack apikey list                                    the keys (never the keys themselves)
// reftrack apikey revoke ID                               the key stops working at once
#include <fmt/format.h>

#include <memory>

#include "cli/common.h"
#include "engine/json.h"

namespace reftrack::cli {

void AddApiKeyCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("apikey", "API keys for the HTTP API (reftrack serve)");

  auto name = std::make_shared<std::string>();
  auto scope = std::make_shared<std::string>("read");
  CLI::App* add = group->add_subcommand(
      "add", "make a key and print it: it is shown this once, only its hash is kept");
  add->add_option("--name", *name, "what uses it, e.g. crm-sync (default: key-N)");
  add->add_option("--scope", *scope,
                  "read (only reads), write (also changes referrals), admin (also campaigns, "
                  "rules and keys)")
      ->capture_default_str();
  add->callback([&ctx, name, scope] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto made = session->engine->InWriteTransaction(
        [&] { return session->engine->AddApiKey(*name, *scope); });
    if (!made) return ReportError(ctx, made.error());
    if (ctx.json) return PrintJson(ToJson(*made));
    fmt::print("{}\n", made->secret);
    fmt::print(stderr,
               "API key {} \"{}\" ({}): store it now, it cannot be shown again.\n"
               "Send it as: Authorization: Bearer {}...\n",
               made->key.id, made->key.name, ScopeName(made->key.scope), made->key.prefix);
  });

  CLI::App* list = group->add_subcommand("list", "the keys, with their scope and prefix");
  list->callback([&ctx] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto keys = session->engine->ApiKeys();
    if (!keys) return ReportError(ctx, keys.error());
    if (ctx.json) {
      nlohmann::json rows = nlohmann::json::array();
      for (const ApiKey& key : *keys) rows.push_back(ToJson(key));
      return PrintJson({{"keys", rows}});
    }
    fmt::print("{:>4}  {:<20} {:<6} {:<12} {:<28} {}\n", "id", "name", "scope", "prefix",
               "created", "revoked");
    for (const ApiKey& key : *keys) {
      fmt::print("{:>4}  {:<20} {:<6} {:<12} {:<28} {}\n", key.id, key.name, ScopeName(key.scope),
                 key.prefix, FormatTimestamp(key.created_at),
                 key.revoked_at ? FormatTimestamp(*key.revoked_at) : "-");
    }
  });

  auto id = std::make_shared<int64_t>(0);
  CLI::App* revoke = group->add_subcommand("revoke", "revoke a key: it stops working at once");
  revoke->add_option("ID", *id, "the key's id, from apikey list")->required();
  revoke->callback([&ctx, id] {
    auto session = OpenSession(ctx);
    if (!session) return;
    auto revoked =
        session->engine->InWriteTransaction([&] { return session->engine->RevokeApiKey(*id); });
    if (!revoked) return ReportError(ctx, revoked.error());
    if (ctx.json) return PrintJson({{"id", *id}, {"revoked", true}});
    fmt::print("revoked API key {}\n", *id);
  });
  RequireCommand(group);
}

}  // namespace reftrack::cli
