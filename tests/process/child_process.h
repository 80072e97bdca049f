// Child processes for the process-level tests: fork/execv with stdout and stderr
// sent to files, and waiting with a deadline. POSIX (and Linux /proc for peeking
// at a child's open files).
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace reftrack::testing {

// In a child just forked from `parent`: asks for SIGKILL when the forking thread ends
// (kept across exec), and ends at once if the parent is already gone, since then the
// signal would never come. Async-signal-safe.
inline void DieWithParent(pid_t parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(125);
  if (getppid() != parent) _exit(125);
}

// Starts `path` with `args` (argv[1..]). stdout and stderr go to the files named
// (created or truncated), stdin is /dev/null. `keep_fds` are left open in the child
// (they must not be close-on-exec); `close_fds` are closed in the child before exec.
// The child is killed (SIGKILL) when the thread that spawned it ends, with the test
// process or not, so a crashed or killed test leaves no server behind: spawn from a
// thread that outlives the child (the test's own, or one that waits for it).
inline pid_t SpawnChild(const std::string& path, const std::vector<std::string>& args,
                        const std::string& out_file, const std::string& err_file,
                        const std::vector<int>& close_fds = {}) {
  std::vector<std::string> argv_storage;
  argv_storage.push_back(path);
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  std::fflush(nullptr);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    DieWithParent(parent);
    for (int fd : close_fds) close(fd);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    close(in);
    close(out);
    close(err);
    execv(path.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

// Non-blocking: the child's wait status if it has ended (and is now reaped).
inline std::optional<int> TryReap(pid_t pid) {
  int status = 0;
  pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) return status;
  if (r < 0) throw std::runtime_error("waitpid failed");
  return std::nullopt;
}

// Waits for the child up to `timeout`; past it, kills it with SIGKILL, reaps it and
// returns nullopt.
inline std::optional<int> WaitChild(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto status = TryReap(pid)) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  return std::nullopt;
}

inline std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Size of `path` in bytes, 0 when it does not exist.
inline uint64_t FileSizeOrZero(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(size);
}

// Linux: the value of `field` ("pos:", "flags:", ...) in /proc/PID/fdinfo of the
// child's first descriptor whose target path `matches`; nullopt when it has none (yet).
template <class Match>
std::optional<std::string> ChildFdInfo(pid_t pid, Match matches, const std::string& field) {
  // The child may end at any moment: every step reports errors instead of throwing.
  std::error_code ec;
  const std::string proc = "/proc/" + std::to_string(pid);
  std::filesystem::directory_iterator it(proc + "/fd", ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code link_ec;
    auto target = std::filesystem::read_symlink(it->path(), link_ec);
    if (link_ec || !matches(target)) continue;
    std::ifstream info(proc + "/fdinfo/" + it->path().filename().string());
    std::string key, value;
    while (info >> key >> value) {
      if (key == field) return value;
    }
  }
  return std::nullopt;
}

// Linux: the file offset of the child's descriptor open on `file` (canonical path);
// nullopt when the child has no such descriptor (yet).
inline std::optional<uint64_t> ChildFileOffset(pid_t pid, const std::string& file) {
  auto pos = ChildFdInfo(
      pid, [&file](const std::filesystem::path& target) { return target.string() == file; },
      "pos:");
  if (!pos) return std::nullopt;
  return std::stoull(*pos);
}

}  // namespace reftrack::testing
