#include "cases/case_support.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace reftrack::testing {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void PrintTo(const CaseParam& p, std::ostream* os) { *os << p.store << "/" << p.name; }

std::vector<CaseParam> AllCases(const std::string& suite) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fs::path(REFTRACK_CASES_DIR) / suite)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::vector<CaseParam> params;
  for (const std::string& store : StoreKinds()) {
    for (const std::string& name : names) params.push_back({store, name});
  }
  return params;
}

std::string CaseTestName(const ::testing::TestParamInfo<CaseParam>& info) {
  std::string name = info.param.store + "_" + info.param.name;
  for (char& c : name) {
    if (!isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

CaseTest::CaseTest(const std::string& suite)
    : dir_path_(fs::path(REFTRACK_CASES_DIR) / suite / GetParam().name),
      url_(FreshDatabaseUrl(GetParam().store, tmp_)) {}

CommandResult CaseTest::Run(const std::string& args) {
  return RunReftrack("--db '" + url_ + "' " + args);
}

void CaseTest::RunSetup() {
  std::istringstream lines(Slurp(dir_path_ / "setup.txt"));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    CommandResult r = Run(line);
    ASSERT_EQ(r.exit_code, 0) << "setup: " << line << "\n" << r.err;
  }
}

std::string CaseTest::Snapshot() {
  json all = json::array();
  CommandResult list = Run("referral list --limit 1000 --json");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  // Parsed into a variable: a range-for over a member of a temporary would dangle.
  const json page = json::parse(list.out);
  EXPECT_LT(page["referrals"].size(), 1000u) << "more referrals than one page shows";
  for (const json& r : page["referrals"]) {
    CommandResult show = Run("referral show " + std::to_string(r["id"].get<int64_t>()) + " --json");
    all.push_back(json::parse(show.out));
  }
  return all.dump();
}

void CaseTest::CheckRefused(const std::string& dry_run, const std::string& apply,
                            const std::string& words, const std::string& before) {
  for (const std::string& args : {dry_run, apply}) {
    CommandResult r = Run(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_EQ(r.out, "") << args;
    EXPECT_NE(r.err.find(words), std::string::npos) << args << ": " << r.err;
    EXPECT_EQ(Snapshot(), before) << args << ": a refused file changed data";
  }
}

json CaseTest::Expected() const { return json::parse(Slurp(dir_path_ / "expected.json")); }

void CaseTest::CheckAfter(const std::string& source) {
  if (!fs::exists(dir_path_ / "after.json")) return;
  const json after = json::parse(Slurp(dir_path_ / "after.json"));
  for (const auto& [key, fields] : after.items()) {
    CommandResult show = Run("referral show '" + key + "' --json");
    ASSERT_EQ(show.exit_code, 0) << key << ": " << show.err;
    json got = json::parse(show.out);
    for (const auto& [field, value] : fields.items()) {
      if (field == "history") {
        json steps = json::array();
        for (const json& h : got["history"]) {
          std::string step = h["from"].get<std::string>() + "->" + h["to"].get<std::string>();
          if (h["source"] != source) step += " (" + h["source"].get<std::string>() + ")";
          steps.push_back(step);
        }
        EXPECT_EQ(steps, value) << key;
      } else if (value == "set") {
        EXPECT_FALSE(got[field].is_null()) << key << "." << field << " should be set";
      } else {
        EXPECT_EQ(got[field], value) << key << "." << field;
      }
    }
  }
}

}  // namespace reftrack::testing
