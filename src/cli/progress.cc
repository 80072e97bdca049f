#include "cli/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace reftrack::cli {

ProgressBar::ProgressBar(std::string label, uint64_t total_bytes)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(isatty(STDERR_FILENO) == 1 && total_bytes > 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(uint64_t done) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  drawn_ = true;
  double fraction = total_ ? std::min(1.0, static_cast<double>(done) / total_) : 0.0;
  constexpr int kWidth = 30;
  int filled = static_cast<int>(fraction * kWidth);
  double seconds = std::chrono::duration<double>(now - start_).count();
  fmt::print(stderr, "\r{} [{}{}] {:3.0f}%  {:.1f} MB  {:.1f}s ", label_, std::string(filled, '#'),
             std::string(kWidth - filled, '.'), fraction * 100, done / 1e6, seconds);
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!enabled_ || !drawn_) return;
  fmt::print(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace reftrack::cli
