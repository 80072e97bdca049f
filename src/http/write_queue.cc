#include "http/write_queue.h"

namespace reftrack::http {

WriteQueue::WriteQueue(std::vector<std::unique_ptr<Engine>> engines, size_t max_group)
    : max_group_(max_group), engines_(std::move(engines)) {
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
// another writer on PostgreSQL, a full disk), nothing of the group is kept, and each
// job is run again in a transaction of its own, so one bad job fails alone. A job
// alone is retried as the engine's policy says (Engine::InWriteTransaction): a
// deadlock victim passes when tried again; other failures are its answer.
void WriteQueue::RunGroup(Engine& engine, std::vector<Item>& items) {
  std::vector<Response> answers;
  answers.reserve(items.size());
  auto done = engine.InWriteTransaction(
      [&]() -> Result<void> {
        answers.clear();
        for (Item& item : items) {
          auto answer = item.job(engine);
          if (!answer && answer.error().code == ErrorCode::kStorage) {
            return std::unexpected(answer.error());
          }
          answers.push_back(answer ? std::move(*answer) : ProblemFor(answer.error()));
        }
        return {};
      },
      items.size() == 1 ? Engine::kWriteTries : 1);
  if (done) {
    ++groups_;
    grouped_jobs_ += items.size();
    for (size_t i = 0; i < items.size(); ++i) items[i].respond(std::move(answers[i]));
    return;
  }
  if (items.size() == 1) return items[0].respond(ProblemFor(done.error()));
  for (Item& item : items) {
    std::vector<Item> alone;
    alone.push_back(std::move(item));
    RunGroup(engine, alone);
  }
}

}  // namespace reftrack::http
