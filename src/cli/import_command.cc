// reftrack import FILE [--dry-run]   the bulk status update of SPEC §4.1
// reftrack import errors ID           an earlier import's errors again, as CSV
#include <fmt/format.h>

#include <cstdio>
#include <iostream>

#include "cli/bulk_file.h"
#include "cli/common.h"
#include "csv/writer.h"
#include "engine/bulk_update.h"
#include "engine/json.h"

namespace reftrack::cli {

namespace {

constexpr size_t kErrorsShown = 20;

void PrintReport(const std::string& path, const ImportReport& r) {
  for (const std::string& w : r.warnings) fmt::print(stderr, "warning: {}\n", w);
  if (r.applied) {
    fmt::print("Imported {} (import {}): {} rows read, {} changed, {} unchanged, {} errors\n", path,
               r.import_id.value_or(0), r.rows, r.changed, r.unchanged, r.errors.size());
  } else {
    fmt::print(
        "Preview of {} (nothing changed): {} rows read, {} would change, {} unchanged, {} errors\n",
        path, r.rows, r.changed, r.unchanged, r.errors.size());
  }
  for (const auto& [transition, count] : r.transitions) {
    fmt::print("  {:<22} {}\n", transition, count);
  }
  for (size_t i = 0; i < r.errors.size() && i < kErrorsShown; ++i) {
    const RowError& e = r.errors[i];
    fmt::print("  row {}{}: {}\n", e.row, e.column.empty() ? "" : fmt::format(" ({})", e.column),
               e.message);
  }
  if (r.errors.size() > kErrorsShown) {
    fmt::print("  ... and {} more (use --json for all{})\n", r.errors.size() - kErrorsShown,
               r.import_id ? fmt::format(", or reftrack import errors {}", *r.import_id) : "");
  }
}

void RunImport(Context& ctx, const std::string& path, bool dry_run) {
  RunBulkFile<ImportReport>(
      ctx, path, dry_run ? "Previewing" : "Importing",
      [dry_run](Engine& engine, csv::Reader& reader, const ImportSource& source,
                const ProgressFn& progress) {
        return dry_run ? PreviewImport(engine, reader, progress)
                       : ApplyImport(engine, reader, source, progress);
      },
      PrintReport);
}

void PrintImportErrors(Context& ctx, int64_t id) {
  auto session = OpenSession(ctx);
  if (!session) return;
  auto import = session->engine->ImportErrors(id);
  if (!import) return ReportError(ctx, import.error());
  const ImportRecord& record = import->record;
  const std::vector<RowError>& errors = import->errors;
  // Both written row by row: an import's million errors are not held twice.
  if (ctx.json) {
    WriteJson(std::cout,
              {{"import_id", id},
               {"file_name", record.file_name},
               {"sha256", record.sha256},
               {"errors", nlohmann::json::array()}},
              errors);
    std::cout << '\n';
    std::cout.flush();
    return;
  }
  std::fputs(csv::Line({"row", "column", "message"}).c_str(), stdout);
  for (const RowError& e : errors) {
    std::fputs(csv::Line({std::to_string(e.row), e.column, e.message}).c_str(), stdout);
  }
}

}  // namespace

void AddImportCommands(CLI::App& app, Context& ctx) {
  CLI::App* import = app.add_subcommand(
      "import",
      "bulk status update from a CSV file with a header (referralkey_id, referralkey_externalid "
      "or referralkey_email; status, name, email, external_id, note; campaign)");
  auto path = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  import->add_option("FILE", *path, "the CSV file ('-' for stdin)");
  import->add_flag("--dry-run", *dry_run,
                   "preview: read the whole file and report what would change, changing nothing");

  auto id = std::make_shared<int64_t>(0);
  CLI::App* errors = import->add_subcommand("errors", "an earlier import's errors, as CSV");
  errors->add_option("ID", *id, "the import's id, from its report")->required();
  errors->callback([&ctx, id] { PrintImportErrors(ctx, *id); });

  import->callback([&ctx, import, path, dry_run] {
    if (!import->get_subcommands().empty()) return;
  if (path->empty()) throw CLI::RequiredError("FILE");
  RunImport(ctx, *path, *dry_run);
});
}  // namespace reftrack::cli

}  // namespace reftrack::cli
