// Bulk files: /api/v1/imports (SPEC §4.1) and /api/v1/qualifications (§4.2), each a
// dry run or applied, an import's errors again, and the progress of one being read.
#include <fmt/format.h>

#include <filesystem>

#include "engine/bulk_file.h"
#include "engine/bulk_update.h"
#include "engine/json.h"
#include "engine/qualify_upload.h"
#include "http/api.h"
#include "http/request_body.h"
#include "http/route_helpers.h"
#include "http/workers.h"

namespace reftrack::http {

using nlohmann::json;

void Api::AddImportRoutes() {
  router_.Add(Route{
      Method::kPost, "/api/v1/imports", Scope::kWrite, BodyKind::kFile,
      [this](Request& request, Respond respond) { Upload(request, std::move(respond), false); }});
  router_.Add(Route{
      Method::kPost, "/api/v1/qualifications", Scope::kWrite, BodyKind::kFile,
      [this](Request& request, Respond respond) { Upload(request, std::move(respond), true); }});
  Read(Method::kGet, "/api/v1/imports/{id}/errors.csv", Scope::kRead,
       [](Engine& engine, const Request& request) -> Result<Response> {
         auto id = ParseId(request.params[0], "an import");
         if (!id) return std::unexpected(id.error());
         auto import = engine.ImportErrors(*id);
         if (!import) return std::unexpected(import.error());
         return CsvAttachment(RowErrorsCsv(import->errors),
                              fmt::format("import-{}-errors.csv", *id));
       });
  Read(Method::kGet, "/api/v1/progress/{id}", Scope::kRead,
       [this](Engine&, const Request& request) -> Result<Response> {
         auto found = progress_.Find(CallerName(request), request.params[0]);
         UploadProgress progress = found.value_or(UploadProgress{});
         return JsonOf(200, {{"reading", found.has_value()},
                             {"bytes_read", progress.bytes_read},
                             {"bytes_total", progress.bytes_total}});
       });
}

// An uploaded bulk file: the dry run reads it on the preview pool against a read
// connection; applying goes through the write queue alone (it is one transaction of
// its own, and other changes wait for it rather than fail).
void Api::Upload(Request& request, Respond respond, bool qualify) {
  std::string_view kind = qualify ? "qualify" : "import";
  auto dry_run = BoolParam(request, "dry_run", false);
  if (!dry_run) return respond(ProblemFor(dry_run.error()));
  QualifyRequest qualify_request;
  if (qualify) {
    const std::string& by = request.Query("by");
    auto parsed = ParseQualifyBy(by);
    if (!parsed) {
      return respond(Problem(400, fmt::format("by={}: use email, referral_code or coupon_code",
                                              by.empty() ? "(missing)" : by)));
    }
    qualify_request = QualifyRequest{*parsed, request.Query("campaign")};
  }
  std::string name = request.Query("filename");
  if (name.empty()) name = qualify ? "upload.csv" : "import.csv";
  // Followed by GET /api/v1/progress/{id} while it is read, when the client named it.
  std::string progress_id = request.Query("progress_id");
  if (!progress_id.empty() && !ProgressBoard::IsValidId(progress_id)) {
    return respond(Problem(
        400, fmt::format("progress_id={}: use 8 to 64 letters, digits, - or _", progress_id)));
  }
  std::string owner = CallerName(request);
  if (!progress_id.empty()) {
    std::error_code ec;
    progress_.Start(owner, progress_id, std::filesystem::file_size(request.body_file, ec));
  }
  ImportSource source{name, ApiContext(request).actor, nullptr};
  std::string path = request.body_file;
  // Runs the import or qualify upload on `engine`, and counts its outcome.
  auto run = [this, path, source, qualify, qualify_request, dry = *dry_run, kind, owner,
              progress_id](Engine& engine) mutable -> Response {
    struct Done {
      ProgressBoard& board;
      const std::string &owner, &id;
      ~Done() {
        if (!id.empty()) board.Finish(owner, id);
      }
    } done{progress_, owner, progress_id};
    ProgressFn progress = [this, &owner, &progress_id](uint64_t bytes) {
      if (!progress_id.empty()) progress_.Update(owner, progress_id, bytes);
    };
    std::optional<Error> unreadable;  // the file, opened again, could not be read
    // The report's text, rendered straight from it: a million errors are not first a
    // JSON tree (about 500 bytes an error). A write that the database refused for a
    // conflict changed nothing (one transaction), and the engine runs it again from
    // the file's start (Engine::RetryingWrites): on PostgreSQL it may be the victim of
    // a deadlock with single changes, whose group commits lock referrals in request
    // order while a bulk write locks them in id order.
    auto out = engine.RetryingWrites(
        [&]() -> Result<std::string> {
          auto file = BulkFile::Open(path);
          if (!file) {
            unreadable = file.error();
            return std::unexpected(file.error());
          }
          source.sha256 = [f = file->get()] { return f->sha256(); };
          if (qualify) {
            auto report =
                dry ? EstimateQualify(engine, (*file)->reader(), qualify_request, progress)
                    : ApplyQualify(engine, (*file)->reader(), qualify_request, source, progress);
            if (!report) return std::unexpected(report.error());
            return ToJson(*report).dump(-1, ' ', false, json::error_handler_t::replace);
          }
          auto report = dry ? PreviewImport(engine, (*file)->reader(), progress)
                            : ApplyImport(engine, (*file)->reader(), source, progress);
          if (!report) return std::unexpected(report.error());
          return JsonText(*report);
        },
        dry ? 1 : Engine::kWriteTries);
    if (unreadable) return ProblemFor(*unreadable);
    if (!out) {
      const Error& error = out.error();
      metrics_.CountBulk(kind, error.code == ErrorCode::kStorage ? "failed" : "refused");
      return ProblemFor(Error{
          error.code, fmt::format("{}: {}; nothing was changed", source.file_name, error.message)});
    }
    metrics_.CountBulk(kind, dry ? "preview" : "applied");
    return Json(200, std::move(*out));
  };
  if (*dry_run) {
    previews_->Post([this, run, respond = std::move(respond)]() mutable {
      auto lease = readers_.Acquire();
      if (!lease) return respond(ProblemFor(lease.error()));
      respond(run(lease->engine()));
    });
    return;
  }
  writer_->SubmitAlone(run, std::move(respond));
}

}  // namespace reftrack::http
