// A progress bar on stderr, drawn only when stderr is a terminal (scripts and
// pipes see nothing). Redraws at most ten times a second.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace reftrack::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, uint64_t total_bytes);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void Update(uint64_t done_bytes);
  // Clears the bar's line.
  void Finish();

 private:
  std::string label_;
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace reftrack::cli
