// reftrack qualify FILE --by email|referral-code|coupon-code [--campaign C] [--dry-run]
// qualifies the referrals a headerless list of converted customers names (SPEC §4.2).
#include <fmt/format.h>

#include <filesystem>

#include "cli/bulk_file.h"
#include "cli/common.h"
#include "cli/progress.h"
#include "engine/json.h"
#include "engine/qualify_upload.h"

namespace reftrack::cli {

namespace {

void PrintReport(const std::string& path, const QualifyReport& r) {
  if (r.applied) {
    fmt::print("Qualified from {} (upload {}):\n", path, r.upload_id.value_or(0));
  } else {
    fmt::print("Estimate for {} (nothing changed):\n", path);
  }
  fmt::print("  {:<28} {}\n", "lines read", r.lines);
  fmt::print(
      "  {:<28} {}{}\n", "data points recognized", r.recognized,
      r.duplicates() > 0 ? fmt::format(" ({} repeated lines counted once)", r.duplicates()) : "");
  fmt::print("  {:<28} {}\n", "not recognized", r.not_recognized);
  fmt::print("  {:<28} {}\n", r.applied ? "qualified" : "will be qualified", r.qualified);
  fmt::print("  {:<28} {}\n", "already qualified", r.already_qualified);
  fmt::print("  {:<28} {}\n", "not allowed (denied since)", r.not_allowed);
  fmt::print("  {:<28} {}\n", "matched nobody", r.unmatched);
}

void RunQualify(Context& ctx, const std::string& path, const std::string& by_text,
                const std::string& campaign, bool dry_run) {
  auto by = ParseQualifyBy(by_text);
  if (!by) {
    return ReportError(
        ctx, Error{ErrorCode::kInvalidInput,
                   fmt::format("--by {}: use email, referral-code or coupon-code", by_text)});
  }
  auto file = BulkFile::Open(path);
  if (!file) return ReportError(ctx, file.error());
  auto session = OpenSession(ctx);
  if (!session) return;
  ProgressBar bar(fmt::format("Reading {}", path), (*file)->size());
  ProgressFn progress = [&bar](uint64_t done) { bar.Update(done); };
  std::string name = path == "-" ? "-" : std::filesystem::path(path).filename().string();
  QualifyRequest request{*by, campaign};
  auto report =
      dry_run ? EstimateQualify(*session->engine, (*file)->reader(), request, progress)
              : ApplyQualify(*session->engine, (*file)->reader(), request,
                             ImportSource{name, CliActor(), [&file] { return (*file)->sha256(); }},
                             progress);
  bar.Finish();
  if (!report) {
    return ReportError(ctx, Error{report.error().code, fmt::format("{}: {}; nothing was changed",
                                                                   path, report.error().message)});
  }
  if (ctx.json) return PrintJson(ToJson(*report));
  PrintReport(path, *report);
}

}  // namespace

void AddQualifyCommand(CLI::App& app, Context& ctx) {
  CLI::App* qualify = app.add_subcommand(
      "qualify",
      "qualify the referrals a headerless list of converted customers names (one value a line, "
      "first column used); never re-qualifies or unqualifies");
  auto path = std::make_shared<std::string>();
  auto by = std::make_shared<std::string>();
  auto campaign = std::make_shared<std::string>();
  auto dry_run = std::make_shared<bool>(false);
  qualify->add_option("FILE", *path, "the list ('-' for stdin)")->required();
  qualify->add_option("--by", *by, "what the values are: email, referral-code or coupon-code")
      ->required();
  qualify->add_option("--campaign", *campaign,
                      "the campaign (needed with --by email; narrows codes otherwise)");
  qualify->add_flag("--dry-run", *dry_run,
                    "the estimate: how many would be qualified, changing nothing");
  qualify->callback(
      [&ctx, path, by, campaign, dry_run] { RunQualify(ctx, *path, *by, *campaign, *dry_run); });
}

}  // namespace reftrack::cli
