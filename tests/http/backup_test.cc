// `reftrack backup` (SPEC §13) while `reftrack serve` takes a stream of writes: the
// copy is a sound database on its own, and `reftrack check` passes on it.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

using BackupUnderLoad = HttpApiTest;

TEST_P(BackupUnderLoad, CopyTakenDuringWritesIsSoundAndChecksClean) {
  AddCampaign("spring");
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i)
    ids.push_back(AddReferral("spring", "r" + std::to_string(i) + "@x.com"));
  ASSERT_FALSE(HasFailure());
  if (GetParam() == "postgres") {
    CommandResult refused = RunReftrack("--db '" + url_ + "' backup '" + dir_.File("b.db") + "'");
    EXPECT_NE(refused.exit_code, 0);
    EXPECT_NE(refused.err.find("pg_dump"), std::string::npos) << refused.err;
    return;
  }

  // Bulk beside them (SQLite only: PostgreSQL was refused above), so the copy takes
  // several steps of the backup and writes land between them.
  std::string csv = "campaign,email\n";
  for (int i = 0; i < 60'000; ++i) csv += "spring,bulk" + std::to_string(i) + "@x.com\n";
  WriteFile(dir_.File("bulk.csv"), csv);
  CommandResult loaded =
      RunReftrack("--db '" + url_ + "' referral load '" + dir_.File("bulk.csv") + "'");
  ASSERT_EQ(loaded.exit_code, 0) << loaded.err;

  // One writer PATCHing referrals back and forth between pending and qualified (and
  // some to denied) as fast as the server answers, while the backups run.
  std::atomic<bool> stop = false;
  std::atomic<int> changed = 0;
  std::string failure;
  std::thread writer([&] {
    try {
      HttpClient client(server_->port());
      const char* kStatuses[] = {"qualified", "pending", "denied", "pending"};
      for (int i = 0; !stop; ++i) {
        HttpRequest request{"PATCH", "/api/v1/referrals/" + std::to_string(ids[i % ids.size()])};
        request.headers = {{"Authorization", "Bearer " + write_key_},
                           {"Content-Type", "application/json"}};
        request.body = json({{"status", kStatuses[(i / ids.size()) % 4]}}).dump();
        HttpResponse r = client.Send(request);
        if (r.status == 200) ++changed;
      }
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  while (changed < 50 && failure.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::vector<int> during;  // writes answered while each backup ran
  for (int b = 0; b < 3; ++b) {
    const std::string copy = dir_.File("backup" + std::to_string(b) + ".db");
    const int before = changed;
    CommandResult r = RunReftrack("--db '" + url_ + "' backup --json '" + copy + "'");
    during.push_back(changed - before);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    if (b == 0) std::printf("backup: %s", r.out.c_str());
    EXPECT_EQ(QueryRows(copy, "PRAGMA integrity_check")[0][0], "ok");
    EXPECT_EQ(QueryRows(copy, "SELECT count(*) FROM referrals")[0][0], "60020");
    CommandResult checked = RunReftrack("--db '" + copy + "' check");
    EXPECT_EQ(checked.exit_code, 0) << checked.out << checked.err;
  }
  stop = true;
  writer.join();
  ASSERT_EQ(failure, "");
  int overlapping = 0;
  for (int n : during) overlapping += n > 0;
  std::printf("backup under load: %d writes in all; during the 3 backups: %d, %d, %d\n",
              changed.load(), during[0], during[1], during[2]);
  EXPECT_GE(overlapping, 1) << "no write was answered while a backup ran: nothing raced";
  CommandResult live = RunReftrack("--db '" + url_ + "' check");
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
}

INSTANTIATE_TEST_SUITE_P(Stores, BackupUnderLoad, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
