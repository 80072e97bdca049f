// SPEC §5 as a newcomer types it: every command line of its table (the list in
// spec_forms.txt, one place) runs on a fresh database, with and without --json.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "process/child_process.h"
#include "support/test_db.h"

namespace reftrack::testing {
namespace {

using nlohmann::json;

struct Form {
  int line = 0;              // in spec_forms.txt
  std::vector<std::string> args;
  std::string stdin_text;
  std::string Text() const {
    std::string text;
    for (const std::string& a : args) text += (text.empty() ? "" : " ") + a;
    return text;
  }
};

std::vector<Form> ReadForms() {
  std::ifstream in(REFTRACK_SPEC_FORMS);
  EXPECT_TRUE(in.good()) << "cannot read " << REFTRACK_SPEC_FORMS;
  std::vector<Form> forms;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    Form form{n, {}, {}};
    if (size_t lt = line.find(" < "); lt != std::string::npos) {
      form.stdin_text = line.substr(lt + 3) + "\n";
      line.resize(lt);
    }
    std::istringstream words(line);
    for (std::string w; words >> w;) form.args.push_back(w);
    forms.push_back(std::move(form));
  }
  return forms;
}

std::string Quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class SpecFormsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    WriteFile(dir_.File("load.csv"),
              "campaign,email,name,external_id,referral_code,coupon_code,referrer_email\n"
              "Spring,erin@example.com,Erin,crm-5,R-5,C-5,alice@example.com\n"
              "Spring,frank@example.com,Frank,crm-6,R-6,C-6,bob@example.com\n");
    WriteFile(dir_.File("import.csv"),
              "referralkey_email,status\n"
              "erin@example.com,qualified\n"
              "frank@example.com,denied\n");
    WriteFile(dir_.File("emails.txt"), "carol@example.com\nnobody@example.com\n");
    WriteFile(dir_.File("codes.txt"), "R-5\nR-6\n");
    WriteFile(dir_.File("coupons.txt"), "C-5\nC-6\n");
  }

  // The form's words with {FILE} placed in the test's folder, shell-quoted.
  std::string Args(const Form& form) {
    std::string out;
    for (std::string a : form.args) {
      if (a.size() > 2 && a.front() == '{' && a.back() == '}') {
        a = dir_.File(a.substr(1, a.size() - 2));
      }
      out += " " + Quoted(a);
    }
    return out;
  }

  // Starts `reftrack --db URL <form>` and expects it to say it listens; then SIGTERM
  // and a clean end. The bare `serve` listens on 127.0.0.1:8080, which another
  // program may hold: that one answer is accepted as "ran as written".
  void Serve(const std::string& url, const Form& form) {
    std::vector<std::string> args{"--db", url};
    args.insert(args.end(), form.args.begin(), form.args.end());
    const std::string stem = dir_.File("serve-" + std::to_string(form.line));
    const std::string out = stem + ".out", err = stem + ".err";
    pid_t pid = SpawnChild(REFTRACK_BIN, args, out, err);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    bool listening = false;
    std::optional<int> ended;
    while (std::chrono::steady_clock::now() < deadline) {
      if (ReadWholeFile(out).find("reftrack: listening on http://127.0.0.1:") !=
          std::string::npos) {
        listening = true;
        break;
      }
      if ((ended = TryReap(pid))) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (!ended) {
      kill(pid, SIGTERM);
      ended = WaitChild(pid, std::chrono::seconds(20));
    }
    std::string said = ReadWholeFile(out) + ReadWholeFile(err);
    if (!listening && said.find("in use") != std::string::npos && form.args.size() == 1) {
      return;  // 8080 is taken on this machine
    }
    EXPECT_TRUE(listening) << "line " << form.line << ": " << form.Text() << "\n" << said;
    ASSERT_TRUE(ended.has_value()) << "line " << form.line << ": did not stop on SIGTERM";
    EXPECT_TRUE(WIFEXITED(*ended) && WEXITSTATUS(*ended) == 0)
        << "line " << form.line << ": " << DescribeWaitStatus(*ended) << "\n" << said;
  }

  void RunAll(const std::string& url, bool as_json) {
    for (const Form& form : ReadForms()) {
      if (form.args.front() == "serve") {
        Serve(url, form);
        continue;
      }
      CommandResult r = RunReftrack(
          "--db " + Quoted(url) + (as_json ? " --json" : "") + Args(form), form.stdin_text);
      EXPECT_EQ(r.exit_code, 0) << "spec_forms.txt line " << form.line << ": " << form.Text()
                                << "\n" << r.err;
      if (as_json) {
        json parsed = json::parse(r.out, nullptr, false);
        EXPECT_TRUE(parsed.is_object()) << "line " << form.line << ": " << form.Text()
                                        << " printed\n" << r.out;
        outputs_[form.Text()] = parsed;
      }
    }
  }

  TempDir dir_;
  std::map<std::string, json> outputs_;
};

TEST_P(SpecFormsTest, EveryCommandLineRunsAsWritten) {
  RunAll(FreshDatabaseUrl(GetParam(), dir_), false);
}

TEST_P(SpecFormsTest, EveryCommandLineRunsWithJson) {
  ASSERT_FALSE(ReadForms().empty());
  RunAll(FreshDatabaseUrl(GetParam(), dir_), true);
  // The two forms whose defaults the SPEC spells out.
  const json& rule = outputs_["reward-rule add --campaign Spring --on approved --to both --amount 50"];
  EXPECT_EQ(rule.value("currency", ""), "USD") << rule.dump();
  EXPECT_EQ(rule.value("amount", ""), "50") << rule.dump();
  const json& key = outputs_["apikey add --scope write"];
  EXPECT_TRUE(std::regex_match(key.value("name", ""), std::regex("key-[0-9]+"))) << key.dump();
}

INSTANTIATE_TEST_SUITE_P(Stores, SpecFormsTest, ::testing::ValuesIn(StoreKinds()));

}  // namespace
}  // namespace reftrack::testing
