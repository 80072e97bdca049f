// A test process that dies takes its servers with it: a helper (this binary again,
// running only ChildDeathHelper) starts a server through ServerProcess and another
// through RunReftrack, is then killed with SIGKILL, and both servers must be gone
// within two seconds instead of serving on, orphaned, until someone notices.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/http_fixture.h"
#include "process/child_process.h"

namespace reftrack::testing {
namespace {

constexpr const char* kPidFileVariable = "REFTRACK_CHILD_DEATH_PID_FILE";

// Whether `pid` is a process that has not ended (a zombie has ended).
bool Alive(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // "PID (COMM) STATE ...": COMM may hold spaces and parentheses, the last ')' ends it.
  size_t close = line.rfind(')');
  return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

// The pids of the processes whose parent is `parent`.
std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc", ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(it->path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    size_t close = line.rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent) children.push_back(std::stoi(name));
  }
  return children;
}

// Run only as the helper: starts two servers and waits to be killed.
TEST(ChildDeathHelper, StartServersAndWait) {
  const char* pid_file = std::getenv(kPidFileVariable);
  if (pid_file == nullptr) GTEST_SKIP() << "only run by ChildDeath.ServersEndWithTheTestProcess";
  TempDir dir, other;
  ServerProcess server("sqlite:" + dir.File("a.db"), dir, {"--api-only"});
  ASSERT_TRUE(server.Start());
  // RunReftrack waits for its command, here one that never ends, so from a thread.
  std::thread([url = "sqlite:" + other.File("b.db")] {
    RunReftrack("--db '" + url + "' serve --api-only --listen 127.0.0.1:0");
  }).detach();
  // Both children running: the pid file names them, then the parent kills this process.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::vector<pid_t> children;
  while (children.size() < 2 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    children = ChildrenOf(getpid());
  }
  ASSERT_EQ(children.size(), 2u);
  {
    std::ofstream out(std::string(pid_file) + ".tmp");
    for (pid_t child : children) out << child << "\n";
  }
  std::filesystem::rename(std::string(pid_file) + ".tmp", pid_file);
  for (;;) pause();
}

TEST(ChildDeath, ServersEndWithTheTestProcess) {
  TempDir dir;
  const std::string pid_file = dir.File("children");
  setenv(kPidFileVariable, pid_file.c_str(), 1);
  pid_t helper = SpawnChild("/proc/self/exe", {"--gtest_filter=ChildDeathHelper.*"},
                            dir.File("helper.out"), dir.File("helper.err"));
  unsetenv(kPidFileVariable);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!std::filesystem::exists(pid_file) && std::chrono::steady_clock::now() < deadline) {
    if (TryReap(helper)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::vector<pid_t> servers;
  {
    std::ifstream in(pid_file);
    for (pid_t pid; in >> pid;) servers.push_back(pid);
  }
  kill(helper, SIGKILL);
  WaitChild(helper, std::chrono::seconds(5));
  ASSERT_EQ(servers.size(), 2u) << "the helper did not start its servers:\n"
                                << ReadWholeFile(dir.File("helper.out"))
                                << ReadWholeFile(dir.File("helper.err"));

  const auto killed = std::chrono::steady_clock::now();
  for (pid_t server : servers) {
    while (Alive(server) && std::chrono::steady_clock::now() - killed < std::chrono::seconds(2)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_FALSE(Alive(server)) << "server " << server
                                << " still runs 2 s after its test process was killed";
    // Not ours to leave running, whatever the outcome.
    if (Alive(server)) kill(server, SIGKILL);
  }
}

}  // namespace
}  // namespace reftrack::testing
