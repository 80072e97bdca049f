#include "http/progress_board.h"

namespace reftrack::http {

bool ProgressBoard::IsValidId(std::string_view id) {
  if (id.size() < 8 || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

void ProgressBoard::Start(const std::string& owner, const std::string& id, uint64_t bytes_total) {
  std::lock_guard lock(mutex_);
  uploads_[{owner, id}] = UploadProgress{0, bytes_total};
}

void ProgressBoard::Update(const std::string& owner, const std::string& id, uint64_t bytes_read) {
  std::lock_guard lock(mutex_);
  if (auto it = uploads_.find({owner, id}); it != uploads_.end()) it->second.bytes_read = bytes_read;
}

void ProgressBoard::Finish(const std::string& owner, const std::string& id) {
  std::lock_guard lock(mutex_);
  uploads_.erase({owner, id});
}

std::optional<UploadProgress> ProgressBoard::Find(const std::string& owner,
                                                  const std::string& id) const {
  std::lock_guard lock(mutex_);
  auto it = uploads_.find({owner, id});
  if (it == uploads_.end()) return std::nullopt;
  return it->second;
}

}  // namespace reftrack::http
