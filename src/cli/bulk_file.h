// Opening a bulk file for the CLI: its size (for the progress bar), a CSV reader, and
// the SHA-256 of the bytes the reader has read (for the import's record), hashed in
// the same pass. "-" reads standard input.
#pragma once

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "cli/common.h"
#include "cli/progress.h"
#include "csv/reader.h"
#include "engine/bulk_update.h"
#include "engine/json.h"
#include "util/result.h"
#include "util/sha256.h"

namespace reftrack::cli {

class BulkFile {
 public:
  static Result<std::unique_ptr<BulkFile>> Open(const std::string& path);
  ~BulkFile();
  BulkFile(const BulkFile&) = delete;
  BulkFile& operator=(const BulkFile&) = delete;

  csv::Reader& reader() { return *reader_; }
  uint64_t size() const { return size_; }
  // The digest of everything read so far: ask once the reader has reached the end.
  std::string sha256();

 private:
  BulkFile(std::FILE* file, uint64_t size);
  std::FILE* file_;
  uint64_t size_;
  Sha256 hash_;
  std::string digest_;
  std::unique_ptr<csv::Reader> reader_;
};

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
  auto report = run(*session->engine, (*file)->reader(), source, progress);
  bar.Finish();
  if (!report) {
    return ReportError(ctx, Error{report.error().code, fmt::format("{}: {}; nothing was changed",
                                                                   path, report.error().message)});
  }
  if (ctx.json) return PrintJson(ToJson(*report));
  print(path, *report);
}

}  // namespace reftrack::cli
