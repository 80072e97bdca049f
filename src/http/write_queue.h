// Every change made over HTTP goes through writer threads, each with its own engine
// (and database connection). Jobs waiting together are run in one write transaction
// (each in a nested one, so a refused change undoes only itself) and committed at
// once: group commit. Each job is answered only after that commit, so an answer means
// the change is durable. SQLite has one writer thread (it has one write lock anyway);
// PostgreSQL a few.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "http/message.h"
#include "util/result.h"

namespace reftrack::http {

class WriteQueue {
 public:
  // Runs inside the group's write transaction; an error other than kStorage is the
  // job's answer (ProblemFor), and undoes what the job wrote.
  using Job = std::function<Result<Response>(Engine&)>;
  // Runs with no transaction of the queue's (a bulk import opens its own).
  using AloneJob = std::function<Response(Engine&)>;

  // `engines`: one per writer thread. Jobs in a group: at most `max_group`.
  WriteQueue(std::vector<std::unique_ptr<Engine>> engines, size_t max_group = 256);
  // Runs what is queued, then joins the writers.
  ~WriteQueue();

  void Submit(Job job, Respond respond);
  void SubmitAlone(AloneJob job, Respond respond);

  // Groups committed, and jobs in them (for /metrics).
  uint64_t groups() const { return groups_; }
  uint64_t grouped_jobs() const { return grouped_jobs_; }

 private:
  struct Item {
    Job job;
    AloneJob alone;
    Respond respond;
  };

  void Run(Engine& engine);
  void RunGroup(Engine& engine, std::vector<Item>& items);

  size_t max_group_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Item> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> groups_{0};
  std::atomic<uint64_t> grouped_jobs_{0};
};

}  // namespace reftrack::http
