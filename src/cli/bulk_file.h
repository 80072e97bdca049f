// Running a bulk command (import, qualify) on a file from the command line: a
// progress bar while it runs, then its report.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <type_traits>

#include "cli/common.h"
#include "cli/progress.h"
#include "csv/reader.h"
#include "engine/bulk_file.h"
#include "engine/bulk_update.h"
#include "engine/json.h"
#include "util/result.h"
#include "util/sha256.h"

namespace reftrack::cli {

// How messages name the file at `path`: "-" is standard input.
inline std::string InputName(const std::string& path) {
  return path == "-" ? "standard input" : path;
}

// Runs `run` on the file at `path`, opened as `file`, through the engine's retry of
// writes: a write the database refused for a conflict (a deadlock on PostgreSQL)
// changed nothing, and is run again on the file reopened, from its start. Standard
// input is read once, so a bulk command on it is tried once.
template <class Run>
std::invoke_result_t<Run&> WithFileRetried(Engine& engine, const std::string& path,
                                           std::unique_ptr<BulkFile>& file, Run run) {
  bool first = true;
  return engine.RetryingWrites(
      [&]() -> std::invoke_result_t<Run&> {
        if (!first) {
          auto again = BulkFile::Open(path);
          if (!again) return std::unexpected(again.error());
          file = std::move(*again);
        }
        first = false;
        return run();
      },
      path == "-" ? 1 : Engine::kWriteTries);
}

// What a bulk command runs on the file: the engine, the file's reader, who reads which
// file (for the record), and the progress callback.
template <class Report>
using BulkRun =
    std::function<Result<Report>(Engine&, csv::Reader&, const ImportSource&, const ProgressFn&)>;

// Runs a bulk command on the file at `path` with a progress bar labelled `label`, then
// prints its report: the JSON of SPEC §5 with --json, else `print`'s text. A file
// refused whole is reported with its path and "nothing was changed".
template <class Report>
void RunBulkFile(Context& ctx, const std::string& path, const std::string& label,
                 const BulkRun<Report>& run,
                 const std::function<void(const std::string&, const Report&)>& print) {
  auto file = BulkFile::Open(path);
  if (!file) return ReportError(ctx, file.error());
  auto session = OpenSession(ctx);
  if (!session) return;
  ProgressBar bar(fmt::format("{} {}", label, path), (*file)->size());
  ProgressFn progress = [&bar](uint64_t done) { bar.Update(done); };
  std::string name = path == "-" ? "-" : std::filesystem::path(path).filename().string();
  ImportSource source{name, CliActor(), [&file] { return (*file)->sha256(); }};
  auto report = WithFileRetried(*session->engine, path, *file, [&] {
    return run(*session->engine, (*file)->reader(), source, progress);
  });
  bar.Finish();
  if (!report) {
    return ReportError(ctx, Error{report.error().code,
                                  fmt::format("{}: {}; nothing was changed", InputName(path),
                                              report.error().message)});
  }
  if (ctx.json) {
    // Written as it is rendered: a million errors never make a JSON tree.
    WriteJson(std::cout, *report);
    std::cout << '\n';
    std::cout.flush();
    return;
  }
  print(path, *report);
}

}  // namespace reftrack::cli
