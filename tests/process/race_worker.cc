// reftrack_race_worker: one of the processes of race_test.cc.
//
//   reftrack_race_worker DB_URL SEED ITERATIONS REFERRALS PAUSE_US [READY_FD GO_FD]
//
// Opens the store, then (when READY_FD and GO_FD are given) writes one byte to
// READY_FD and blocks until GO_FD reaches end of file, so that several workers start
// racing at the same moment. Then, ITERATIONS times, picks a random referral among
// ids 1..REFERRALS and a random target status (never qualified for ids that are
// multiples of 5), calls Engine::ChangeStatus with
// source manual and actor "worker-SEED", and pauses a random 0..PAUSE_US
// microseconds (as a client between two requests). Without the pause, SQLite's busy
// handler lets the process that just committed take the write lock again and again
// while the other sleeps, and the two barely interleave.
//
// Refused changes (ErrorCode::kRefused) are expected and counted; any other error
// is printed on stderr with its code and ends the worker with status 2. On success
// prints one line on stdout:
//   actor=worker-SEED changed=N unchanged=N refused=N
// where `changed` counts the ChangeStatus calls that reported a committed change.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "engine/engine.h"
#include "store/store.h"

namespace {

const char* CodeName(reftrack::ErrorCode code) {
  using reftrack::ErrorCode;
  switch (code) {
    case ErrorCode::kInvalidInput: return "kInvalidInput";
    case ErrorCode::kNotFound: return "kNotFound";
    case ErrorCode::kAmbiguous: return "kAmbiguous";
    case ErrorCode::kDuplicate: return "kDuplicate";
    case ErrorCode::kRefused: return "kRefused";
    case ErrorCode::kStorage: return "kStorage";
    case ErrorCode::kUnauthenticated: return "kUnauthenticated";
    case ErrorCode::kInternal: return "kInternal";
  }
  return "unknown";
}

// Approved is final, so a referral that reaches it takes no further part in the
// race. Drawing it rarely keeps most referrals moving for the whole run while still
// making approvals (and the races around them) happen. Referrals whose id is a
// multiple of 5 are never asked to become qualified (pending instead), so that their
// approval, when it comes, passes through qualified (SPEC §2).
reftrack::Status DrawStatus(std::mt19937_64& rng, int64_t id) {
  std::uniform_int_distribution<int> pick(0, 199);
  int n = pick(rng);
  if (n < 1) return reftrack::Status::kApproved;  // 0.5%
  if (n < 67) return reftrack::Status::kPending;
  if (n < 134) return id % 5 == 0 ? reftrack::Status::kPending : reftrack::Status::kQualified;
  return reftrack::Status::kDenied;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6 && argc != 8) {
    std::fprintf(stderr,
                 "usage: %s DB_URL SEED ITERATIONS REFERRALS PAUSE_US [READY_FD GO_FD]\n",
                 argv[0]);
    return 64;
  }
  const std::string url = argv[1];
  const uint64_t seed = std::strtoull(argv[2], nullptr, 10);
  const long iterations = std::strtol(argv[3], nullptr, 10);
  const int64_t referrals = std::strtoll(argv[4], nullptr, 10);
  const long pause_us = std::strtol(argv[5], nullptr, 10);
  if (iterations <= 0 || referrals <= 0 || pause_us < 0) {
    std::fprintf(stderr, "ITERATIONS and REFERRALS must be positive, PAUSE_US not negative\n");
    return 64;
  }
  const std::string actor = "worker-" + std::to_string(seed);

  auto store = reftrack::Store::Open(url);
  if (!store) {
    std::fprintf(stderr, "%s: Store::Open failed: %s: %s\n", actor.c_str(),
                 CodeName(store.error().code), store.error().message.c_str());
    return 2;
  }
  reftrack::Engine engine(**store);

  if (argc == 8) {
    int ready_fd = std::atoi(argv[6]);
    int go_fd = std::atoi(argv[7]);
    char byte = 'r';
    if (write(ready_fd, &byte, 1) != 1) {
      std::perror("write ready");
      return 2;
    }
    close(ready_fd);
    while (read(go_fd, &byte, 1) > 0) {
    }
    close(go_fd);
  }

  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> pick_referral(1, referrals);
  std::uniform_int_distribution<long> pick_pause(0, pause_us);
  const reftrack::ChangeContext context{reftrack::ChangeSource::kManual, actor, std::nullopt};
  long changed = 0, unchanged = 0, refused = 0;
  for (long i = 0; i < iterations; ++i) {
    int64_t id = pick_referral(rng);
    reftrack::Status to = DrawStatus(rng, id);
    auto outcome = engine.ChangeStatus(id, to, context);
    if (pause_us > 0) usleep(static_cast<useconds_t>(pick_pause(rng)));
    if (outcome) {
      if (outcome->changed) {
        ++changed;
      } else {
        ++unchanged;
      }
      continue;
    }
    if (outcome.error().code == reftrack::ErrorCode::kRefused) {
      ++refused;
      continue;
    }
    std::fprintf(stderr,
                 "%s: iteration %ld: ChangeStatus(%lld, %s) failed with %s: %s "
                 "(after changed=%ld unchanged=%ld refused=%ld)\n",
                 actor.c_str(), i, static_cast<long long>(id),
                 std::string(reftrack::StatusName(to)).c_str(), CodeName(outcome.error().code),
                 outcome.error().message.c_str(), changed, unchanged, refused);
    return 2;
  }
  std::printf("actor=%s changed=%ld unchanged=%ld refused=%ld\n", actor.c_str(), changed,
              unchanged, refused);
  return 0;
}
