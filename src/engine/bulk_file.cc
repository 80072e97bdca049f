#include "engine/bulk_file.h"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace reftrack {

Result<std::unique_ptr<BulkFile>> BulkFile::Open(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Fail(ErrorCode::kInvalidInput,
                fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  if (fstat(fileno(file), &st) == 0 && S_ISDIR(st.st_mode)) {
    if (file != stdin) std::fclose(file);
    return Fail(ErrorCode::kInvalidInput, fmt::format("{} is a folder, not a file", path));
  }
  uint64_t size = S_ISREG(st.st_mode) ? st.st_size : 0;
  return std::unique_ptr<BulkFile>(new BulkFile(file, size));
}

BulkFile::BulkFile(std::FILE* file, uint64_t size)
    : file_(file), size_(size), reader_(std::make_unique<csv::Reader>(file)) {
  reader_->SetTap([this](std::string_view bytes) { hash_.Update(bytes); });
}

std::string BulkFile::sha256() {
  if (digest_.empty()) digest_ = hash_.HexDigest();
  return digest_;
}

BulkFile::~BulkFile() {
  reader_.reset();
  if (file_ != stdin) std::fclose(file_);
}

}  // namespace reftrack
