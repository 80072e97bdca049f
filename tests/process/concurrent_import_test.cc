// Two imports at once on one database (SPEC §2, §7: several servers on one
// PostgreSQL). Each locks half the referrals by id and the other half by email, in
// the opposite order to the other: without bulk writers waiting for each other, one
// of them deadlocks and is refused. Both must succeed, one after the other.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <fstream>

#include "process/child_process.h"
#include "support/test_db.h"

namespace reftrack::testing {
namespace {

constexpr int kReferrals = 20'000;

class ConcurrentImport : public ::testing::TestWithParam<std::string> {};

void WriteUpdates(const std::string& path, int ids_from, int emails_from, const char* status) {
  std::ofstream out(path);
  out << "referralkey_id,referralkey_email,status\n";
  for (int i = ids_from; i < ids_from + kReferrals / 2; ++i) out << i << ",," << status << "\n";
  for (int i = emails_from; i < emails_from + kReferrals / 2; ++i) {
    out << ",u" << i << "@x.com," << status << "\n";
  }
}

TEST_P(ConcurrentImport, TwoImportsBothSucceed) {
  TempDir dir;
  const std::string url = FreshDatabaseUrl(GetParam(), dir);
  const std::string referrals = dir.File("referrals.csv");
  {
    std::ofstream out(referrals);
    out << "campaign,email\n";
    for (int i = 1; i <= kReferrals; ++i) out << "S,u" << i << "@x.com\n";
  }
  for (const std::string& args : {std::string("campaign add S"), "referral load " + referrals}) {
    CommandResult r = RunReftrack("--db '" + url + "' " + args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // A: ids of the second half, emails of the first; B the other way round.
  const std::string a = dir.File("a.csv"), b = dir.File("b.csv");
  WriteUpdates(a, kReferrals / 2 + 1, 1, "qualified");
  WriteUpdates(b, 1, kReferrals / 2 + 1, "denied");

  pid_t pa =
      SpawnChild(REFTRACK_BIN, {"--db", url, "import", a}, dir.File("a.out"), dir.File("a.err"));
  pid_t pb =
      SpawnChild(REFTRACK_BIN, {"--db", url, "import", b}, dir.File("b.out"), dir.File("b.err"));
  for (auto [pid, name] : {std::pair{pa, "a"}, std::pair{pb, "b"}}) {
    auto status = WaitChild(pid, std::chrono::seconds(90));
    ASSERT_TRUE(status.has_value()) << name << " did not finish";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
        << name << ": " << DescribeWaitStatus(*status) << "\n"
        << ReadWholeFile(dir.File(std::string(name) + ".err"));
  }
  auto rows = QueryRows(url, "SELECT count(*) FROM status_changes");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][0], std::to_string(2 * kReferrals)) << "both imports change every referral";
  rows = QueryRows(url, "SELECT count(*) FROM imports");
  EXPECT_EQ(rows[0][0], "2");
}

INSTANTIATE_TEST_SUITE_P(Stores, ConcurrentImport, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
