// Test helpers: a fresh database per test, on every store this build can reach.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace reftrack::testing {

// A folder under the system temp dir, removed with everything in it when destroyed.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The kinds of store the suites run against: "sqlite" always, "postgres" when
// REFTRACK_TEST_POSTGRES_URL names a server.
std::vector<std::string> StoreKinds();

// A new, empty database of `kind`; its URL stays valid while `dir` lives.
std::string FreshDatabaseUrl(const std::string& kind, const TempDir& dir);

// Runs `sql` (no parameters) straight on the database at `url`, bypassing reftrack,
// and returns every row as text (NULL as ""). Fails the current test on error.
std::vector<std::vector<std::string>> QueryRows(const std::string& url, const std::string& sql);

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text);

// Runs the reftrack binary with `args` (shell-quoted by the caller), returning its
// exit status and capturing stdout and stderr.
struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
CommandResult RunReftrack(const std::string& args, const std::string& stdin_text = "");

}  // namespace reftrack::testing
