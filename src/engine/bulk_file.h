// A bulk file opened for reading: its size (for progress), a CSV reader, and the
// SHA-256 of the bytes the reader has read (for the import's record), hashed in the
// same pass. "-" reads standard input. Used by the CLI and by HTTP uploads.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

#include "csv/reader.h"
#include "util/result.h"
#include "util/sha256.h"

namespace reftrack {

class BulkFile {
 public:
  static Result<std::unique_ptr<BulkFile>> Open(const std::string& path);
  ~BulkFile();
  BulkFile(const BulkFile&) = delete;
  BulkFile& operator=(const BulkFile&) = delete;

  csv::Reader& reader() { return *reader_; }
  uint64_t size() const { return size_; }
  // The digest of everything read so far: ask once the reader has reached the end.
  std::string sha256();

 private:
  BulkFile(std::FILE* file, uint64_t size);
  std::FILE* file_;
  uint64_t size_;
  Sha256 hash_;
  std::string digest_;
  std::unique_ptr<csv::Reader> reader_;
};

}  // namespace reftrack
