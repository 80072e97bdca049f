#include "store/store.h"

#include "store/sqlite/sqlite_store.h"

namespace reftrack {

WriteTransaction::~WriteTransaction() {
  if (store_ != nullptr) store_->RollbackWrite();
}

Result<void> WriteTransaction::Commit() {
  Store* store = store_;
  store_ = nullptr;
  if (store == nullptr) return Fail(ErrorCode::kStorage, "transaction already finished");
  auto committed = store->CommitWrite();
  if (!committed) store->RollbackWrite();
  return committed;
}

Result<std::unique_ptr<Store>> Store::Open(std::string_view url) {
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return Fail(ErrorCode::kInvalidInput,
                "PostgreSQL is not supported by this build yet; use a file path or sqlite:PATH");
  }
  std::string_view path = url;
  if (path.starts_with("sqlite:")) path.remove_prefix(7);
  if (path.empty()) return Fail(ErrorCode::kInvalidInput, "empty database path");
  return SqliteStore::Open(std::string(path));
}

}  // namespace reftrack
