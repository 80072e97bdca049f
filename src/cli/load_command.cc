#include "cli/load_command.h"

#include <fmt/format.h>

#include "cli/bulk_file.h"
#include "cli/progress.h"
#include "engine/json.h"

namespace reftrack::cli {

namespace {
constexpr size_t kErrorsShown = 20;
}

void RunLoad(Context& ctx, const std::string& path, LoadFn load, const char* what) {
  auto file = BulkFile::Open(path);
  if (!file) return ReportError(ctx, file.error());
  auto session = OpenSession(ctx);
  if (!session) return;
  ProgressBar bar(fmt::format("Loading {}", path), (*file)->size());
  auto report = WithFileRetried(*session->engine, path, *file, [&] {
    return load(*session->engine, (*file)->reader(), [&bar](uint64_t done) { bar.Update(done); });
  });
  bar.Finish();
  if (!report) {
    return ReportError(ctx, Error{report.error().code,
                                  fmt::format("{}: {}; nothing was loaded", InputName(path),
                                              report.error().message)});
  }
  if (ctx.json) {
    WriteJson(std::cout, *report);
    std::cout << '\n';
    std::cout.flush();
    return;
  }
  for (const std::string& w : report->warnings) fmt::print(stderr, "warning: {}\n", w);
  fmt::print("{} rows read, {} {} created, {} errors\n", report->rows, report->created, what,
             report->errors.size());
  for (size_t i = 0; i < report->errors.size() && i < kErrorsShown; ++i) {
    const RowError& e = report->errors[i];
    fmt::print("  row {}{}: {}\n", e.row, e.column.empty() ? "" : fmt::format(" ({})", e.column),
               e.message);
  }
  if (report->errors.size() > kErrorsShown) {
    fmt::print("  ... and {} more (use --json for all)\n", report->errors.size() - kErrorsShown);
  }
}

}  // namespace reftrack::cli
