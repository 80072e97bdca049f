#include "http/write_queue.h"

#include <fmt/format.h>

namespace reftrack::http {

Response ProblemFor(const Error& error) {
  switch (error.code) {
    case ErrorCode::kInvalidInput:
      return Problem(400, error.message);
    case ErrorCode::kNotFound:
      return Problem(404, error.message);
    case ErrorCode::kAmbiguous:
    case ErrorCode::kDuplicate:
    case ErrorCode::kRefused:
      return Problem(409, error.message);
    case ErrorCode::kStorage:
      return Problem(503, fmt::format("the database failed: {}", error.message));
    case ErrorCode::kUnauthenticated:
      return Problem(401, error.message);
    case ErrorCode::kInternal:
      return Problem(500, error.message);
  }
  return Problem(500, error.message);
}

WriteQueue::WriteQueue(std::vector<std::unique_ptr<Store>> stores, size_t max_group)
    : max_group_(max_group), stores_(std::move(stores)) {
  for (auto& store : stores_) engines_.push_back(std::make_unique<Engine>(*store));
  for (auto& engine : engines_) {
    threads_.emplace_back([this, e = engine.get()] { Run(*e); });
  }
}

WriteQueue::~WriteQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void WriteQueue::Submit(Job job, Respond respond) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Item{std::move(job), nullptr, std::move(respond)});
  }
  ready_.notify_one();
}

void WriteQueue::SubmitAlone(AloneJob job, Respond respond) {
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(Item{nullptr, std::move(job), std::move(respond)});
  }
  ready_.notify_one();
}

void WriteQueue::Run(Engine& engine) {
  std::vector<Item> group;
  for (;;) {
    group.clear();
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left
      if (queue_.front().alone) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      } else {
        while (!queue_.empty() && !queue_.front().alone && group.size() < max_group_) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
    }
    if (group.front().alone) {
      group.front().respond(group.front().alone(engine));
      continue;
    }
    RunGroup(engine, group);
  }
}

// One transaction for the whole group. When the database fails (a deadlock with
// another server on PostgreSQL, a full disk), nothing of the group is kept, and each
// job is tried again in a transaction of its own, so one bad job fails alone.
void WriteQueue::RunGroup(Engine& engine, std::vector<Item>& items) {
  std::vector<Response> answers;
  answers.reserve(items.size());
  std::optional<Error> failure;
  {
    auto tx = engine.store().BeginWrite();
    if (!tx) {
      failure = tx.error();
    } else {
      for (Item& item : items) {
        auto answer = item.job(engine);
        if (!answer && answer.error().code == ErrorCode::kStorage) {
          failure = answer.error();
          break;
        }
        answers.push_back(answer ? std::move(*answer) : ProblemFor(answer.error()));
      }
      if (!failure) {
        if (auto ok = tx->Commit(); !ok) failure = ok.error();
      }
    }
  }
  if (!failure) {
    ++groups_;
    grouped_jobs_ += items.size();
    for (size_t i = 0; i < items.size(); ++i) items[i].respond(std::move(answers[i]));
    return;
  }
  if (items.size() == 1) {
    // Alone and failed: on PostgreSQL the victim of a deadlock with another writer
    // (row locks taken in different orders), which passes when tried again. Nothing
    // of a failed try was committed, so a job is tried up to kTries times.
    if (++items[0].tries < kTries) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5 * items[0].tries));
      return RunGroup(engine, items);
    }
    items[0].respond(ProblemFor(*failure));
    return;
  }
  for (Item& item : items) {
    std::vector<Item> alone;
    alone.push_back(std::move(item));
    RunGroup(engine, alone);
  }
}

}  // namespace reftrack::http
