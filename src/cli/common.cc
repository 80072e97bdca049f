#include "cli/common.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <vector>

#include <pwd.h>
#include <unistd.h>

#include <fmt/format.h>

namespace reftrack::cli {

std::string DatabaseUrl(const Context& ctx) {
  if (!ctx.db_url.empty()) return ctx.db_url;
  const char* env = std::getenv("REFTRACK_DB");
  return env && *env ? env : "reftrack.db";
}

std::unique_ptr<Session> OpenSession(Context& ctx) {
  auto engine = Engine::Open(DatabaseUrl(ctx));
  if (!engine) {
    ReportError(ctx, engine.error());
    return nullptr;
  }
  auto session = std::make_unique<Session>();
  session->engine = std::move(*engine);
  return session;
}

void ReportError(Context& ctx, const Error& error) {
  std::fflush(stdout);
  // The engine says what to add; on the command line that is the --campaign option.
  fmt::print(stderr, "reftrack: {}{}\n", error.message,
             error.code == ErrorCode::kAmbiguous ? " (--campaign C)" : "");
  ctx.exit_code = error.code == ErrorCode::kStorage ? kExitStorage : kExitFailed;
}

void PrintJson(const nlohmann::json& value) {
  // Text is checked when it comes in; should invalid UTF-8 slip through, it is shown
  // replaced rather than ending the program after its work is done.
  std::cout << value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  std::cout.flush();
}

namespace {

class MissingCommand : public CLI::ParseError {
 public:
  explicit MissingCommand(std::string message)
      : CLI::ParseError("MissingCommand", std::move(message), CLI::ExitCodes::RequiredError) {}
};

}  // namespace

void RequireCommand(CLI::App* group) {
  group->require_subcommand(0, 1);
  group->final_callback([group] {
    if (!group->get_subcommands().empty()) return;
    std::string names;
    for (const CLI::App* sub : group->get_subcommands({})) {
      names += names.empty() ? "" : ", ";
      names += sub->get_name();
    }
    std::string who = group->get_parent() ? "reftrack " + group->get_name() : "reftrack";
    throw MissingCommand(fmt::format("{} needs a command: {}", who, names));
  });
}

std::string CliActor() {
  // The process's user as the system knows it: $USER may be unset (cron, CI, sudo)
  // or say anything.
  uid_t uid = geteuid();
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found != nullptr &&
      found->pw_name != nullptr && *found->pw_name != '\0') {
    return fmt::format("cli:{}", found->pw_name);
  }
  return fmt::format("cli:uid{}", uid);
}

}  // namespace reftrack::cli
