// Engines on their own store connections, lent one per request: readers for GET
// routes and dry runs. A connection returned is kept for the next request.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "store/store.h"
#include "util/result.h"

namespace reftrack::http {

class EnginePool {
 public:
  explicit EnginePool(std::string db_url) : db_url_(std::move(db_url)) {}

  struct Slot {
    std::unique_ptr<Store> store;
    std::unique_ptr<Engine> engine;
  };

  class Lease {
   public:
    Lease(EnginePool* pool, std::unique_ptr<Slot> slot) : pool_(pool), slot_(std::move(slot)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (slot_) pool_->Return(std::move(slot_));
    }
    Engine& engine() { return *slot_->engine; }
    Store& store() { return *slot_->store; }

   private:
    EnginePool* pool_;
    std::unique_ptr<Slot> slot_;
  };

  // An idle connection's engine, or one on a new connection.
  Result<Lease> Acquire() {
    {
      std::lock_guard lock(mutex_);
      if (!idle_.empty()) {
        auto slot = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(slot));
      }
    }
    auto store = Store::Open(db_url_, Store::Use::kServer);
    if (!store) return std::unexpected(store.error());
    auto slot = std::make_unique<Slot>();
    slot->store = std::move(*store);
    slot->engine = std::make_unique<Engine>(*slot->store);
    return Lease(this, std::move(slot));
  }

 private:
  void Return(std::unique_ptr<Slot> slot) {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(slot));
  }

  std::string db_url_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Slot>> idle_;
};

}  // namespace reftrack::http
