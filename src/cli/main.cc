// reftrack: the command line. Each command group lives in its own file and only
// parses, calls the engine and renders.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <exception>

#include "cli/common.h"

int main(int argc, char** argv) {
  using namespace reftrack::cli;
  Context ctx;
  CLI::App app{"reftrack: referral tracking with exact status rules", "reftrack"};
  app.fallthrough();
  app.add_option("--db", ctx.db_url,
                 "database: a file path, sqlite:PATH or postgresql://... (default $REFTRACK_DB, "
                 "else reftrack.db)");
  app.add_flag("--json", ctx.json, "print one JSON object on stdout");

  AddCampaignCommands(app, ctx);
  AddMemberCommands(app, ctx);
  AddReferralCommands(app, ctx);
  AddImportCommands(app, ctx);
  AddQualifyCommand(app, ctx);
  AddRewardCommandGroups(app, ctx);
  AddApiKeyCommands(app, ctx);
  AddUserCommands(app, ctx);
  AddServeCommand(app, ctx);
  AddOpsCommands(app, ctx);
  RequireCommand(&app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  } catch (const std::exception& e) {
    // Expected failures are values (util/result.h); this is a bug, said plainly in one
    // line, never an abort (exit 134) with the work perhaps done.
    std::fflush(stdout);
    std::fprintf(stderr, "reftrack: unexpected error: %s\n", e.what());
    return kExitFailed;
  } catch (...) {
    std::fflush(stdout);
    std::fprintf(stderr, "reftrack: unexpected error of an unknown kind\n");
    return kExitFailed;
  }
  return ctx.exit_code;
}
