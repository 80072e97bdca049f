// Versioned migrations, the part both stores share: which to run, in which order,
// and the refusal of a database newer than this build.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "util/result.h"

namespace reftrack {

// Runs migrations[current], migrations[current + 1], ... through `apply`, which
// executes the SQL and records `version` (1-based) in the same transaction.
Result<void> ApplyMigrations(int64_t current, std::span<const char* const> migrations,
                             const std::function<Result<void>(int64_t version, const char* sql)>& apply);

}  // namespace reftrack
