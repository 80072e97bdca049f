#pragma once

#include <string>

#include "cli/common.h"
#include "engine/referral_loader.h"

namespace reftrack::cli {

using LoadFn = Result<LoadReport> (*)(Engine&, csv::Reader&, const ProgressFn&);

// Runs a bulk load of `path` with a progress bar and prints its report.
void RunLoad(Context& ctx, const std::string& path, LoadFn load, const char* what);

}  // namespace reftrack::cli
