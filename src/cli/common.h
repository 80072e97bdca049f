// What every command shares: the database option, --json, opening the engine, and
// the one place where an engine error becomes a message on stderr and an exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/engine.h"

namespace reftrack::cli {

// Exit statuses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;   // refused change, unknown key, bad input, file refused
inline constexpr int kExitUsage = 2;    // the command line itself is wrong
inline constexpr int kExitStorage = 3;  // the database could not be opened or written

struct Context {
  std::string db_url;
  bool json = false;
  int exit_code = kExitOk;
};

// The engine of one command run, on its own connection to the database. A command's
// write runs through Engine::InWriteTransaction (or RetryingWrites, for bulk files),
// so a write that loses a deadlock on PostgreSQL is tried again.
struct Session {
  std::unique_ptr<Engine> engine;
};

// --db, else $REFTRACK_DB, else reftrack.db.
std::string DatabaseUrl(const Context& ctx);
// Opens --db (or $REFTRACK_DB, or reftrack.db). On failure reports and returns null.
std::unique_ptr<Session> OpenSession(Context& ctx);

// Prints "reftrack: message" on stderr and sets the exit status for the error.
void ReportError(Context& ctx, const Error& error);
void PrintJson(const nlohmann::json& value);
// Who is acting, for history rows: "cli:" and the process's user name (from its uid).
std::string CliActor();

// Makes a command group (`reftrack referral`) refuse to run without one of its
// commands, naming them; an unknown word is reported as not expected.
void RequireCommand(CLI::App* group);

void AddCampaignCommands(CLI::App& app, Context& ctx);
void AddMemberCommands(CLI::App& app, Context& ctx);
void AddReferralCommands(CLI::App& app, Context& ctx);
void AddImportCommands(CLI::App& app, Context& ctx);
void AddQualifyCommand(CLI::App& app, Context& ctx);
void AddRewardCommandGroups(CLI::App& app, Context& ctx);
void AddApiKeyCommands(CLI::App& app, Context& ctx);
void AddServeCommand(CLI::App& app, Context& ctx);
void AddUserCommands(CLI::App& app, Context& ctx);
void AddOpsCommands(CLI::App& app, Context& ctx);

}  // namespace reftrack::cli
