// Engines on their own database connections, lent one per request: readers for GET
// routes and dry runs. An engine returned is kept for the next request.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "util/result.h"

namespace reftrack::http {

class EnginePool {
 public:
  explicit EnginePool(std::string db_url) : db_url_(std::move(db_url)) {}

  class Lease {
   public:
    Lease(EnginePool* pool, std::unique_ptr<Engine> engine)
        : pool_(pool), engine_(std::move(engine)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (engine_) pool_->Return(std::move(engine_));
    }
    Engine& engine() { return *engine_; }

   private:
    EnginePool* pool_;
    std::unique_ptr<Engine> engine_;
  };

  // An idle engine, or one on a new connection.
  Result<Lease> Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto engine = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(engine));
      }
    }
    auto engine = Engine::Open(db_url_, Engine::Use::kServer);
    if (!engine) return std::unexpected(engine.error());
    return Lease(this, std::move(*engine));
  }

 private:
  void Return(std::unique_ptr<Engine> engine) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(engine));
  }

  std::string db_url_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Engine>> idle_;
};

}  // namespace reftrack::http
