#include "cli/bulk_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace reftrack::cli {

Result<std::unique_ptr<BulkFile>> BulkFile::Open(const std::string& path) {
  std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Fail(ErrorCode::kInvalidInput, fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  struct stat st {};
  uint64_t size = fstat(fileno(file), &st) == 0 && S_ISREG(st.st_mode) ? st.st_size : 0;
  return std::unique_ptr<BulkFile>(new BulkFile(file, size));
}

BulkFile::BulkFile(std::FILE* file, uint64_t size)
    : file_(file), size_(size), reader_(std::make_unique<csv::Reader>(file)) {}

BulkFile::~BulkFile() {
  reader_.reset();
  if (file_ != stdin) std::fclose(file_);
}

}  // namespace reftrack::cli
