// reftrack qualify FILE --by email|referral-code|coupon-code [--campaign C] [--dry-run]
// qualifies the referrals a headerless list of converted customers names (SPEC §4.2).
#include <fmt/format.h>


#include "cli/bulk_file.h"
#include "cli/common.h"
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
  QualifyRequest request{*by, campaign};
  RunBulkFile<QualifyReport>(
      ctx, path, "Reading",
      [dry_run, &request](Engine& engine, csv::Reader& reader, const ImportSource& source,
                          const ProgressFn& progress) {
        return dry_run ? EstimateQualify(engine, reader, request, progress)
                       : ApplyQualify(engine, reader, request, source, progress);
      },
      PrintReport);
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
