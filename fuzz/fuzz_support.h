// What the fuzz targets share: a check that stops the run, and a small store seeded
// with referrals in every state the rules tell apart.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "engine/engine.h"
#include "store/store.h"

// Stops the run (a crash for libFuzzer, a failure for the regression runner) when an
// invariant does not hold.
#define FUZZ_CHECK(cond, ...)                                                  \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::fprintf(stderr, "  " __VA_ARGS__);                                  \
      std::fprintf(stderr, "\n");                                              \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace reftrack::fuzz {

// An in-memory SQLite store, made once per process (the caller must leave it as it
// found it: changes go in a write transaction that is rolled back). Campaigns Spring
// and Fall; in Spring, referrals 1..8:
//   1 pending (ext crm-1, code ANN1, coupon SAVE-1)  2 denied, never qualified
//   3 qualified  4 approved after qualified  5 pending after qualified
//   6 denied after qualified  7 approved directly  8 pending, referred by a member
// and 9, pending in Fall with 1's email and external id crm-1 (so both are ambiguous
// without a campaign). Spring has a reward rule on qualified.
Store& SeededStore();
Engine& SeededEngine();

// The counts by status of the seeded store, to check it is left unchanged.
StatusCounts SeededCounts();

// Stops the run when the seeded store's counts differ from SeededCounts(): what an
// input did must have been rolled back.
void CheckSeededStoreUnchanged(Engine& engine);

}  // namespace reftrack::fuzz
