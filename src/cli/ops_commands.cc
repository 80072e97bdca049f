// reftrack backup FILE | reftrack check (SPEC §13): the operator's tools.
#include <fmt/format.h>

#include <filesystem>
#include <optional>

#include "cli/common.h"
#include "engine/check.h"

namespace reftrack::cli {

namespace {

bool IsPostgres(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

// The SQLite file behind `url` (a path or sqlite:PATH).
std::string SqlitePath(std::string_view url) {
  if (url.starts_with("sqlite:")) url.remove_prefix(7);
  return std::string(url);
}

// The database name of a PostgreSQL URL (its path), for a message that must not
// repeat the URL's password.
std::string PostgresDatabase(std::string_view url) {
  size_t scheme = url.find("://");
  std::string_view rest = url.substr(scheme + 3);
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return "";
  std::string_view name = rest.substr(slash + 1);
  return std::string(name.substr(0, name.find('?')));
}

// Opens an SQLite database that must exist already: an operator's command run on a
// mistyped path reports it rather than checking or copying a new empty database.
std::unique_ptr<Session> OpenExisting(Context& ctx) {
  std::string url = DatabaseUrl(ctx);
  if (!IsPostgres(url) && !std::filesystem::exists(SqlitePath(url))) {
    ReportError(ctx, Error{ErrorCode::kNotFound,
                           fmt::format("database {} does not exist", SqlitePath(url))});
    return nullptr;
  }
  return OpenSession(ctx);
}

void Backup(Context& ctx, const std::string& file, bool force) {
  std::string url = DatabaseUrl(ctx);
  if (IsPostgres(url)) {
    std::string db = PostgresDatabase(url);
    return ReportError(
        ctx, Error{ErrorCode::kInvalidInput,
                   fmt::format("reftrack backup copies an SQLite database; back up PostgreSQL{} "
                               "with pg_dump: pg_dump --format=custom --file={} --dbname=URL "
                               "(the URL given to --db)",
                               db.empty() ? "" : fmt::format(" (database {})", db), file)});
  }
  std::error_code ec;
  if (std::filesystem::exists(file, ec)) {
    if (std::filesystem::equivalent(file, SqlitePath(url), ec)) {
      return ReportError(
          ctx, Error{ErrorCode::kInvalidInput, fmt::format("{} is the database itself", file)});
    }
    if (!force) {
      return ReportError(ctx, Error{ErrorCode::kInvalidInput,
                                    fmt::format("{} exists; --force replaces it", file)});
    }
  }
  auto session = OpenExisting(ctx);
  if (!session) return;
  auto done = session->engine->Backup(file);
  if (!done) return ReportError(ctx, done.error());
  if (ctx.json) {
    return PrintJson({{"file", file}, {"bytes", done->bytes}, {"pages", done->pages}});
  }
  fmt::print("backed up to {}: {} pages, {} bytes\n", file, done->pages, done->bytes);
}

nlohmann::json ToJson(const CheckReport& report, size_t max_listed) {
  nlohmann::json problems = nlohmann::json::array();
  for (const CheckProblem& p : report.problems) {
    nlohmann::json one = {{"kind", p.kind}, {"message", p.message}};
    one["referral"] = p.referral ? nlohmann::json(p.referral) : nlohmann::json(nullptr);
    problems.push_back(std::move(one));
  }
  return {{"ok", report.ok()},
          {"referrals_checked", report.referrals_checked},
          {"history_rows_checked", report.history_rows_checked},
          {"rewards_checked", report.rewards_checked},
          {"integrity_checked", report.integrity_checked},
          {"problem_count", report.problem_count},
          {"counts", report.counts},
          {"problems", std::move(problems)},
          {"problems_listed_at_most", max_listed},
          {"notes", report.notes}};
}

void Check(Context& ctx, const CheckOptions& options) {
  const size_t max_listed = options.max_listed;
  auto session = OpenExisting(ctx);
  if (!session) return;
  auto report = RunCheck(*session->engine, options);
  if (!report) return ReportError(ctx, report.error());
  if (!report->ok()) ctx.exit_code = kExitFailed;
  if (ctx.json) return PrintJson(ToJson(*report, max_listed));
  for (const CheckProblem& p : report->problems) {
    if (p.referral) {
      fmt::print("referral {}: {}: {}\n", p.referral, p.kind, p.message);
    } else {
      fmt::print("{}: {}\n", p.kind, p.message);
    }
  }
  for (const std::string& note : report->notes) fmt::print("note: {}\n", note);
  std::string summary =
      fmt::format("checked {} referrals, {} history rows, {} rewards", report->referrals_checked,
                  report->history_rows_checked, report->rewards_checked);
  if (report->ok()) return fmt::print("{}: ok\n", summary);
  std::string counts;
  for (const auto& [kind, n] : report->counts) {
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", kind, n);
  }
  fmt::print("{}: {} problem{} ({}){}\n", summary, report->problem_count,
             report->problem_count == 1 ? "" : "s", counts,
             static_cast<int64_t>(report->problems.size()) < report->problem_count
                 ? fmt::format("; the first {} listed", report->problems.size())
                 : "");
}

}  // namespace

void AddOpsCommands(CLI::App& app, Context& ctx) {
  auto file = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  CLI::App* backup = app.add_subcommand(
      "backup", "a consistent copy of the SQLite database in FILE, also while serve runs");
  backup->footer(
      "SQLite's online backup API, in steps, from one snapshot: writers are not blocked. The "
      "copy is one standalone database file (journal mode DELETE), written beside FILE and "
      "renamed into place when complete. An existing FILE is refused unless --force. On "
      "PostgreSQL it refuses and says to use pg_dump.");
  backup->add_option("FILE", *file, "the copy to write; refused if it exists, unless --force")
      ->required();
  backup->add_flag("--force", *force, "replace FILE if it exists");
  backup->callback([&ctx, file, force] { Backup(ctx, *file, *force); });

  auto options = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand(
      "check", "check the database's integrity and invariants; exit status 1 on a problem");
  check->footer(
      "Checks: SQLite's PRAGMA integrity_check (not on PostgreSQL); every referral's history "
      "replays from pending to its status through changes the rules allow (source override "
      "may make any); qualified_at is the first entry into qualified or approved; at most one "
      "reward per (rule, referral, recipient); emails, codes and external ids stored "
      "normalized, and no two referrals equal once normalized. Prints one line per problem "
      "and a summary; exit status 0 when clean, 1 when a problem is found.");
  check->add_option("--max-problems", options->max_listed,
                    "list at most this many problems (all are counted); default 1000");
  check->add_flag("--quick", options->quick,
                  "SQLite: PRAGMA quick_check instead of integrity_check, which does not match "
                  "every index against its table: quicker on a large database");
  check->callback([&ctx, options] { Check(ctx, *options); });
}

}  // namespace reftrack::cli
