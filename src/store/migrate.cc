#include "store/migrate.h"

#include <fmt/format.h>

namespace reftrack {

Result<void> ApplyMigrations(int64_t current, std::span<const char* const> migrations,
                             const std::function<Result<void>(int64_t version, const char* sql)>& apply) {
  const auto known = static_cast<int64_t>(migrations.size());
  if (current > known) {
    return Fail(ErrorCode::kStorage,
                fmt::format("the database has schema version {}, newer than this reftrack knows "
                            "({}); upgrade reftrack",
                            current, known));
  }
  for (int64_t version = current + 1; version <= known; ++version) {
    if (auto ok = apply(version, migrations[version - 1]); !ok) {
      return Fail(ErrorCode::kStorage,
                  fmt::format("migration {} failed: {}", version, ok.error().message));
    }
  }
  return {};
}

}  // namespace reftrack
