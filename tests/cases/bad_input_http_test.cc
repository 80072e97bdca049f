// The bad-input corpus (bad_input/, read as bad_input_cases_test.cc does) replayed
// over HTTP: every import and qualify case's file POSTed to a real `reftrack serve`,
// one server per store on one database with the corpus's starting data, as
// /api/v1/imports?dry_run=... or /api/v1/qualifications?by=...&dry_run=... (SPEC §6).
// `member load` and `referral load` have no route and stay with the CLI driver.
//
// First every case whose run changes nothing, in the data the expectations are
// written for: each dry run, and each run of a refused file. A refused file is a 4xx
// problem+json whose detail names the file and the reason and says nothing was
// changed (a body over the server's limit is a 413 before any byte of it is read);
// a report holds the expected fields and is the CLI's dry-run report of the same file
// on the same data, whole. Neither changes any table. Then the runs that apply, one
// after the other, each the CLI's dry run on the data as the runs before it left them:
// the HTTP import applies exactly what the CLI previews, and its record is whole.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cases/bad_input_support.h"
#include "cases/case_support.h"
#include "http/http_client.h"
#include "http/http_fixture.h"

namespace reftrack::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr uint64_t kMaxUploadMb = 512;  // the server's default, given explicitly

// The target, without dry_run, of a case's command (command.txt, FILE for the file);
// nullopt for a command without a route.
std::optional<std::string> HttpTarget(const std::string& command) {
  std::istringstream words(command);
  std::vector<std::string> w;
  for (std::string word; words >> word;) w.push_back(word);
  if (w.size() == 2 && w[0] == "import") return "/api/v1/imports?filename=input.csv";
  if (w.empty() || w[0] != "qualify") return std::nullopt;
  std::string target = "/api/v1/qualifications?filename=input.csv";
  for (size_t i = 2; i + 1 < w.size(); i += 2) {
    std::string value = w[i + 1];
    if (w[i] == "--by") {
      for (char& c : value) c = c == '-' ? '_' : c;  // referral-code: referral_code
      target += "&by=" + value;
    } else if (w[i] == "--campaign") {
      target += "&campaign=" + value;  // the corpus's names need no escaping
    } else {
      ADD_FAILURE() << "command.txt: no HTTP parameter for " << w[i] << " in " << command;
    }
  }
  return target;
}

// A raw answer's status and body (the server closes the connection after it).
struct RawAnswer {
  int status = 0;
  std::string content_type;
  json body;
};

// The header of an upload of `size` bytes, without the body: the server must answer
// before reading any.
RawAnswer PostHeaderOnly(uint16_t port, const std::string& target, const std::string& key,
                         uint64_t size) {
  RawConnection connection(port);
  EXPECT_TRUE(connection.Write(
      "POST " + target + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key +
      "\r\nContent-Type: text/csv\r\nContent-Length: " + std::to_string(size) + "\r\n\r\n"));
  const std::string text = connection.ReadUntil("never in an answer", std::chrono::seconds(10));
  RawAnswer answer;
  if (text.starts_with("HTTP/1.1 ")) answer.status = std::stoi(text.substr(9, 3));
  const std::string field = "Content-Type: ";
  if (size_t at = text.find(field); at != std::string::npos) {
    answer.content_type = text.substr(at + field.size(), text.find("\r\n", at) - at - field.size());
  }
  if (size_t at = text.find("\r\n\r\n"); at != std::string::npos) {
    answer.body = json::parse(text.substr(at + 4), nullptr, false);
  }
  return answer;
}

struct ReplayCase {
  std::string name;
  fs::path dir;
  std::string target;  // without dry_run
  std::string input;
  json expected;
};

class BadInputOverHttp : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    // The corpus's starting data (the seed every case without a setup.txt starts from),
    // a key for the server, and the server.
    url_ = CorpusDatabase(GetParam(), tmp_);
    ASSERT_FALSE(HasFatalFailure());
    CommandResult key = Cli("--json apikey add --name replay --scope write");
    ASSERT_EQ(key.exit_code, 0) << key.err;
    key_ = json::parse(key.out).value("key", "");
    dump_ = std::make_unique<TableDump>(GetParam(), url_);
    server_ = std::make_unique<ServerProcess>(
        url_, tmp_,
        std::vector<std::string>{"--api-only", "--max-upload-mb", std::to_string(kMaxUploadMb)});
    ASSERT_TRUE(server_->Start());
    client_ = std::make_unique<HttpClient>(server_->port());
  }

  void TearDown() override {
    client_.reset();
    if (server_ && server_->running()) {
      EXPECT_TRUE(server_->StopGracefully());
    }
  }

  CommandResult Cli(const std::string& args) { return RunReftrack("--db '" + url_ + "' " + args); }

  // The replayable cases, their inputs made in `inputs`.
  std::vector<ReplayCase> Cases() {
    std::vector<ReplayCase> cases;
    for (const CaseParam& param : AllCases("bad_input")) {
      if (param.store != GetParam()) continue;
      const fs::path dir = BadInputDir() / param.name;
      auto target = HttpTarget(CaseCommandText(dir));
      // A case with data of its own would need a server of its own: none has yet.
      if (!target || SkipLongCase(dir) || fs::exists(dir / "setup.txt")) continue;
      auto inputs = std::make_unique<TempDir>();
      std::string input = MakeCaseInput(dir, *inputs);
      inputs_.push_back(std::move(inputs));
      cases.push_back({param.name, dir, *target, input, json::parse(Slurp(dir / "expected.json"))});
    }
    return cases;
  }

  HttpResponse Post(const ReplayCase& c, bool dry_run) {
    HttpRequest request{"POST", c.target + (dry_run ? "&dry_run=true" : "&dry_run=false")};
    request.headers = {{"Authorization", "Bearer " + key_}, {"Content-Type", "text/csv"}};
    request.body = Slurp(c.input);
    return client_->Send(request);
  }

  // The run's answer, when it changes nothing: compared with the expectations and with
  // the CLI's dry run of the same file.
  void CheckRunThatChangesNothing(const ReplayCase& c, bool dry_run) {
    SCOPED_TRACE(c.name + (dry_run ? " (dry run)" : ""));
    const auto before = dump_->Dump();
    const uint64_t size = fs::file_size(c.input);
    if (size > (kMaxUploadMb << 20)) {
      RawAnswer answer = PostHeaderOnly(
          server_->port(), c.target + (dry_run ? "&dry_run=true" : "&dry_run=false"), key_, size);
      EXPECT_EQ(answer.status, 413) << answer.body.dump();
      EXPECT_EQ(answer.content_type, "application/problem+json");
      EXPECT_NE(answer.body.value("detail", "").find("this route takes at most"), std::string::npos)
          << answer.body.dump();
      EXPECT_TRUE(dump_->Dump() == before) << "a refused file changed the database";
      return;
    }
    HttpResponse r = Post(c, dry_run);
    if (c.expected.contains("refused")) {
      const std::string words = c.expected["refused"];
      EXPECT_TRUE(r.status >= 400 && r.status < 500) << r.status << " " << r.body;
      EXPECT_TRUE(IsProblem(r, r.status, words));
      EXPECT_TRUE(IsProblem(r, r.status, "input.csv: "));
      EXPECT_TRUE(IsProblem(r, r.status, "; nothing was"));
      EXPECT_LT(r.body.size(), 1200u) << "a long answer: " << r.body.substr(0, 1200);
      EXPECT_TRUE(dump_->Dump() == before) << "a refused file changed the database";
      return;
    }
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
    const json got = r.Json();
    EXPECT_EQ(got["applied"], false);
    for (const auto& [field, value] : c.expected.at("report").items()) {
      EXPECT_TRUE(got[field] == value)
          << field << ": " << Short(got[field]) << "\nexpected: " << Short(value);
    }
    if (c.expected.contains("warning_count")) {
      EXPECT_EQ(got["warnings"].size(), c.expected["warning_count"].get<size_t>());
    }
    CommandResult cli = Cli(CaseCommand(c.dir, c.input, true));
    ASSERT_EQ(cli.exit_code, 0) << cli.err.substr(0, 2000);
    const json cli_report = json::parse(cli.out);
    EXPECT_TRUE(WithoutRunFields(got) == WithoutRunFields(cli_report))
        << "HTTP: " << Short(got) << "\nCLI: " << Short(cli_report);
    EXPECT_TRUE(dump_->Dump() == before) << "the dry run changed the database";
  }

  // The run that applies a file with a report: what the CLI previews just before.
  void CheckRunThatApplies(const ReplayCase& c) {
    SCOPED_TRACE(c.name);
    CommandResult cli = Cli(CaseCommand(c.dir, c.input, true));
    ASSERT_EQ(cli.exit_code, 0) << cli.err.substr(0, 2000);
    const json preview = json::parse(cli.out);
    const auto before = dump_->Dump();
    HttpResponse r = Post(c, false);
    ASSERT_EQ(r.status, 200) << r.body.substr(0, 2000);
    const json got = r.Json();
    EXPECT_EQ(got["applied"], true);
    EXPECT_TRUE(WithoutRunFields(got) == WithoutRunFields(preview))
        << "the HTTP run: " << Short(got) << "\nthe CLI's dry run: " << Short(preview);
    const bool changed =
        got.value("changed", int64_t{0}) > 0 || got.value("qualified", int64_t{0}) > 0;
    if (!changed) {
      auto now = dump_->Dump(), was = before;
      for (const char* own : {"imports", "import_errors"}) now.erase(own), was.erase(own);
      EXPECT_TRUE(now == was) << "a run that changes no referral changed data";
    }
    if (!got.contains("import_id") && !got.contains("upload_id")) return;
    const int64_t id = got.contains("import_id") ? got["import_id"].get<int64_t>()
                                                 : got["upload_id"].get<int64_t>();
    EXPECT_EQ(QueryRows(url_, "SELECT count(*) FROM imports WHERE finished_at IS NULL")[0][0], "0");
    CommandResult record = Cli("import errors " + std::to_string(id) + " --json");
    ASSERT_EQ(record.exit_code, 0) << record.err;
    const json saved = json::parse(record.out);
    EXPECT_EQ(saved["file_name"], "input.csv");
    EXPECT_EQ(saved["sha256"], HashFile(c.input));
    EXPECT_TRUE(saved["errors"] == (got.contains("errors") ? got["errors"] : json::array()))
        << Short(saved["errors"]);
  }

  TempDir tmp_;
  std::string url_, key_;
  std::unique_ptr<TableDump> dump_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::unique_ptr<TempDir>> inputs_;
};

TEST_P(BadInputOverHttp, EveryImportAndQualifyCaseAnswersAsTheCliDoes) {
  const std::vector<ReplayCase> cases = Cases();
  ASSERT_GE(cases.size(), 40u) << "the corpus lost its import and qualify cases";
  for (const ReplayCase& c : cases) {
    CheckRunThatChangesNothing(c, true);
    if (c.expected.contains("refused")) CheckRunThatChangesNothing(c, false);
  }
  size_t applied = 0;
  for (const ReplayCase& c : cases) {
    if (c.expected.contains("refused")) continue;
    CheckRunThatApplies(c);
    ++applied;
  }
  std::cout << "replayed " << cases.size() << " cases over HTTP: " << cases.size() - applied
            << " refused, " << applied << " with a report, applied in turn\n";
}

INSTANTIATE_TEST_SUITE_P(Stores, BadInputOverHttp, ::testing::ValuesIn(StoreKinds()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace reftrack::testing
