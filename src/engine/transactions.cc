// The engine's hold on its database: opening it, read snapshots, write transactions
// and the retry policy of writes (engine.h), housekeeping.
#include <fmt/format.h>

#include <thread>

#include "engine/engine.h"

namespace reftrack {

Result<std::unique_ptr<Engine>> Engine::Open(std::string_view url, Use use) {
  auto store = Store::Open(url, use);
  if (!store) return std::unexpected(store.error());
  auto engine = std::make_unique<Engine>(**store);
  engine->owned_ = std::move(*store);
  return engine;
}

Result<ReadSnapshot> Engine::BeginRead() { return store_.BeginRead(); }

bool Engine::IsRetryable(const Error& error) {
  return error.code == ErrorCode::kStorage && error.conflict;
}

Result<void> Engine::RunRetrying(const Attempt& attempt, int tries) {
  for (int tried = 1;; ++tried) {
    Result<void> done = attempt();
    if (done || tried >= tries || !IsRetryable(done.error())) return done;
    std::this_thread::sleep_for(kRetryBackoff * tried);
  }
}

Result<void> Engine::RunInWriteTransaction(const Attempt& attempt, int tries) {
  if (write_depth_ > 0) tries = 1;
  return RunRetrying(
      [&]() -> Result<void> {
        auto tx = store_.BeginWrite();
        if (!tx) return std::unexpected(tx.error());
        ++write_depth_;
        Result<void> done = attempt();
        --write_depth_;
        if (!done) return done;  // `tx` rolls back
        return tx->Commit();
      },
      tries);
}

Result<void> Engine::Housekeep() { return store_.Checkpoint(); }

Result<Store::BackupResult> Engine::Backup(const std::string& path) { return store_.Backup(path); }

}  // namespace reftrack
