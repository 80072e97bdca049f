// The API's background threads: a small pool for long work that changes nothing
// (dry runs of uploads, password checks), and the housekeeper.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"

namespace reftrack::http {

// A few threads for work that takes long and changes nothing: dry runs of uploads.
class TaskPool {
 public:
  explicit TaskPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { Run(); });
  }
  ~TaskPool() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void Post(std::function<void()> task) {
    {
      std::lock_guard lock(mutex_);
      tasks_.push_back(std::move(task));
    }
    ready_.notify_one();
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
        if (tasks_.empty()) return;
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// Every 100 ms, on a thread and engine (connection) of its own: the store's housekeeping
// (SQLite's checkpoints: when a commit checkpoints, which SQLite does once the log has
// 1000 pages to keep it from growing without end, it finds the pages already copied,
// and the requests waiting for that commit do not wait for the copying), and `tick`
// (the access log's flush: lines show within 100 ms without a write per request).
class Housekeeper {
 public:
  Housekeeper(std::unique_ptr<Engine> engine, std::function<void()> tick)
      : engine_(std::move(engine)), tick_(std::move(tick)), thread_([this] { Run(); }) {}
  ~Housekeeper() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

 private:
  void Run() {
    std::unique_lock lock(mutex_);
    for (;;) {
      bool stopping =
          wake_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
      lock.unlock();
      (void)engine_->Housekeep();  // a failure now is retried at the next turn
      tick_();
      lock.lock();
      if (stopping) return;
    }
  }

  std::unique_ptr<Engine> engine_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace reftrack::http
