// How far the server has read each upload that asked to be followed: the web page
// names its upload (?progress_id=ID) and asks GET /api/v1/progress/{id} while it
// waits, to draw a progress bar for a file the server is still reading.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace reftrack::http {

struct UploadProgress {
  uint64_t bytes_read = 0;
  uint64_t bytes_total = 0;
};

class ProgressBoard {
 public:
  // An id the client chose: 8 to 64 letters, digits, '-' or '_'.
  static bool IsValidId(std::string_view id);

  // `owner` keeps one caller from reading another's: the key's or the user's name.
  void Start(const std::string& owner, const std::string& id, uint64_t bytes_total);
  void Update(const std::string& owner, const std::string& id, uint64_t bytes_read);
  void Finish(const std::string& owner, const std::string& id);
  std::optional<UploadProgress> Find(const std::string& owner, const std::string& id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, UploadProgress> uploads_;
};

}  // namespace reftrack::http
