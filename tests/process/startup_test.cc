// Several reftrack processes opening one new database at the same moment: each
// migration is applied exactly once and every process works.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "support/test_db.h"

namespace reftrack::testing {
namespace {

class ConcurrentStartup : public ::testing::TestWithParam<std::string> {};

TEST_P(ConcurrentStartup, MigrationsApplyOnceWhenProcessesStartTogether) {
  TempDir dir;
  const std::string url = FreshDatabaseUrl(GetParam(), dir);
  constexpr int kProcesses = 6;
  std::vector<CommandResult> results(kProcesses);
  std::vector<std::thread> threads;
  for (int i = 0; i < kProcesses; ++i) {
    threads.emplace_back([&, i] {
      results[i] = RunReftrack("--db '" + url + "' campaign add 'Campaign " + std::to_string(i) + "'");
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kProcesses; ++i) {
    EXPECT_EQ(results[i].exit_code, 0) << "process " << i << ": " << results[i].err;
  }
  auto versions = QueryRows(url, "SELECT version, count(*) FROM schema_migrations GROUP BY version");
  ASSERT_FALSE(versions.empty());
  for (const auto& row : versions) EXPECT_EQ(row[1], "1") << "version " << row[0];
  auto campaigns = QueryRows(url, "SELECT count(*) FROM campaigns");
  ASSERT_EQ(campaigns.size(), 1u);
  EXPECT_EQ(campaigns[0][0], std::to_string(kProcesses));
}

INSTANTIATE_TEST_SUITE_P(Stores, ConcurrentStartup, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
