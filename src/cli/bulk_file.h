// Opening a bulk file for the CLI: its size (for the progress bar) and a CSV reader.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "csv/reader.h"
#include "util/result.h"

namespace reftrack::cli {

class BulkFile {
 public:
  static Result<std::unique_ptr<BulkFile>> Open(const std::string& path);
  ~BulkFile();
  BulkFile(const BulkFile&) = delete;
  BulkFile& operator=(const BulkFile&) = delete;

  csv::Reader& reader() { return *reader_; }
  uint64_t size() const { return size_; }

 private:
  BulkFile(std::FILE* file, uint64_t size);
  std::FILE* file_;
  uint64_t size_;
  std::unique_ptr<csv::Reader> reader_;
};

}  // namespace reftrack::cli
