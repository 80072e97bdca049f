// Graceful stop (SIGTERM): the server stops accepting, answers what is in flight,
// and exits 0; an import it was applying is applied whole.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/http_fixture.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

// Linux: the access mode (O_RDONLY, O_WRONLY...) of the server's descriptor on an
// upload's temporary file, nullopt when it has none open. Written while the body
// arrives; read only once it is all there and the import runs.
std::optional<int> UploadFileAccess(pid_t pid) {
  auto flags = ChildFdInfo(
      pid,
      [](const std::filesystem::path& target) {
        return target.filename().string().find("reftrack-upload-") != std::string::npos;
      },
      "flags:");
  if (!flags) return std::nullopt;
  return std::stoi(*flags, nullptr, 8) & O_ACCMODE;
}

using Shutdown = HttpApiTest;

TEST_P(Shutdown, SigtermWaitsForAnImportInFlightAndItIsAppliedWhole) {
  constexpr int kRows = 50'000;
  AddCampaign("spring");
  {
    std::ofstream out(dir_.File("referrals.csv"));
    out << "campaign,email\n";
    for (int i = 1; i <= kRows; ++i) out << "spring,u" << i << "@x.com\n";
  }
  CommandResult load =
      RunReftrack("--db '" + url_ + "' referral load " + dir_.File("referrals.csv"));
  ASSERT_EQ(load.exit_code, 0) << load.err;
  std::string csv = "referralkey_id,status\n";
  for (const auto& row : Sql("SELECT id FROM referrals ORDER BY id"))
    csv += row[0] + ",qualified\n";

  std::atomic<bool> answered = false;
  HttpResponse response;
  std::string failure;
  std::thread uploader([&] {
    try {
      HttpClient client(server_->port());
      HttpRequest request{"POST", "/api/v1/imports?dry_run=false&filename=big.csv"};
      request.headers = {{"Authorization", "Bearer " + write_key_}, {"Content-Type", "text/csv"}};
      request.body = csv;
      response = client.Send(request);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    answered = true;
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  bool running = false;
  while (!answered && std::chrono::steady_clock::now() < deadline) {
    if ((running = UploadFileAccess(server_->pid()) == O_RDONLY)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  // The fixture's client keeps an idle connection open meanwhile: it must not hold
  // the server up.
  ASSERT_TRUE(client_->connected());
  server_->Terminate();
  uploader.join();
  ASSERT_TRUE(running) << "the import ended before SIGTERM could be sent: make the file bigger";

  ASSERT_EQ(failure, "");
  ASSERT_EQ(response.status, 200) << response.body;
  json report = response.Json();
  EXPECT_EQ(report["applied"], true);
  EXPECT_EQ(report["rows"], kRows);
  EXPECT_EQ(report["changed"], kRows);
  EXPECT_EQ(report["error_count"], 0);
  EXPECT_TRUE(server_->ExitedGracefully());

  EXPECT_EQ(SqlValue("SELECT count(*) FROM referrals WHERE status = 'qualified'"),
            std::to_string(kRows));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM status_changes WHERE source = 'import' AND batch_id = " +
                     std::to_string(report.value("import_id", int64_t{0}))),
            std::to_string(kRows));
  EXPECT_EQ(SqlValue("SELECT count(*) FROM imports WHERE finished_at IS NOT NULL"), "1");
}

TEST_P(Shutdown, StopsAcceptingAndEndsPromptlyWhenIdle) {
  ASSERT_EQ(Get("/healthz", "").status, 200);
  ASSERT_TRUE(client_->connected()) << "the connection is kept alive";
  const uint16_t port = server_->port();
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(server_->StopGracefully());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5))
      << "an idle keep-alive connection held the stop up";
  HttpClient late(port);
  EXPECT_THROW(late.Send(HttpRequest{"GET", "/healthz"}), std::runtime_error);
}

// A request is in flight from its header on: an upload still arriving (a large file
// over a slow link) is read to its end and answered, not cut off by the stop.
TEST_P(Shutdown, SigtermWaitsForAnUploadStillArriving) {
  AddCampaign("spring");
  const int64_t id = AddReferral("spring", "ada@example.com");
  const std::string body = "referralkey_id,status\n" + std::to_string(id) + ",qualified\n";
  RawConnection raw(server_->port());
  ASSERT_TRUE(raw.Write(
      "POST /api/v1/imports?dry_run=false HTTP/1.1\r\nHost: test\r\n"
      "Authorization: Bearer " +
      write_key_ + "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\n\r\n" + body.substr(0, 10)));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!UploadFileAccess(server_->pid()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  const std::optional<int> access = UploadFileAccess(server_->pid());
  ASSERT_TRUE(access.has_value() && *access != O_RDONLY) << "the upload is not being received";
  server_->Terminate();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // time to stop, were it to
  raw.Write(body.substr(10));
  const std::string answer = raw.ReadUntil("\"applied\"", std::chrono::seconds(10));
  EXPECT_THAT(answer, ::testing::StartsWith("HTTP/1.1 200 "));
  EXPECT_TRUE(server_->ExitedGracefully());
  EXPECT_EQ(SqlValue("SELECT status FROM referrals"), "qualified");
}

INSTANTIATE_TEST_SUITE_P(Stores, Shutdown, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
