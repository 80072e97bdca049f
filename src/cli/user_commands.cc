// reftrack user add EMAIL   a person who signs in to the web page; the password is read
//                           from stdin (asked for twice, unechoed, on a terminal)
#include <fmt/format.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include "cli/common.h"

namespace reftrack::cli {

namespace {

// One line of stdin without its line ending. On a terminal: asks with `prompt` and
// does not echo what is typed.
std::optional<std::string> ReadPassword(const char* prompt) {
  bool tty = isatty(STDIN_FILENO) != 0;
  termios saved{};
  if (tty) {
    fmt::print(stderr, "{}", prompt);
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  bool got = static_cast<bool>(std::getline(std::cin, line));
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    fmt::print(stderr, "\n");
  }
  if (!got) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void AddUserCommands(CLI::App& app, Context& ctx) {
  CLI::App* group = app.add_subcommand("user", "people who sign in to the web page");

  auto email = std::make_shared<std::string>();
  CLI::App* add = group->add_subcommand(
      "add", "add a person; the password is read from stdin (one line, at least " +
                 std::to_string(kMinPasswordLength) + " characters), only its hash is kept");
  add->add_option("EMAIL", *email, "what they sign in with")->required();
  add->callback([&ctx, email] {
    auto password = ReadPassword("Password: ");
    if (!password) {
      return ReportError(ctx, Error{ErrorCode::kInvalidInput,
                                    "no password on stdin: echo PASSWORD | reftrack user add "
                                    "EMAIL"});
    }
    if (isatty(STDIN_FILENO) != 0) {
      auto again = ReadPassword("Again: ");
      if (!again || *again != *password) {
        return ReportError(ctx,
                           Error{ErrorCode::kInvalidInput, "the two passwords are not the same"});
      }
    }
    auto session = OpenSession(ctx);
    if (!session) return;
    auto user = session->engine->AddUser(*email, *password);
    if (!user) return ReportError(ctx, user.error());
    if (ctx.json) return PrintJson({{"id", user->id}, {"email", user->email}});
    fmt::print("user {} added: {} can sign in to the web page\n", user->id, user->email);
  });
}

}  // namespace reftrack::cli
