#!/usr/bin/env bash
# The long kill test (docs/RELIABILITY.md, "Kill tests"): `reftrack import` and
# `reftrack qualify` killed with SIGKILL at chosen and at random moments, on SQLite and
# on a throwaway PostgreSQL server, with a million rows and 20 random kills per
# operation and store by default. Builds nothing: it runs BUILD_DIR's kill test.
#
#   scripts/kill-run.sh [BUILD_DIR]          (default: build)
#
# Environment: REFTRACK_KILL_ROWS (1000000), REFTRACK_KILL_TRIALS (20),
# REFTRACK_KILL_SEED (default: a new one, printed), KILL_FILTER (a gtest filter;
# default: import and qualify on both stores: Stores/ProcessKillOnStore.*/0 is
# SQLite, .../1 PostgreSQL), KILL_LOG (default BUILD_DIR/kill-run.log: the whole
# output goes there, and a summary table follows it).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-${BUILD_DIR:-build}}
test_bin="$build/tests/process/process_kill_test"
if [ ! -x "$test_bin" ]; then
  echo "kill-run: $test_bin not found: build first (make build BUILD_DIR=$build)" >&2
  exit 1
fi

export REFTRACK_KILL_ROWS=${REFTRACK_KILL_ROWS:-1000000}
export REFTRACK_KILL_TRIALS=${REFTRACK_KILL_TRIALS:-20}
if [ -z "${REFTRACK_KILL_SEED:-}" ]; then
  REFTRACK_KILL_SEED=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fi
export REFTRACK_KILL_SEED
filter=${KILL_FILTER:-Stores/ProcessKillOnStore.*}
log=${KILL_LOG:-$build/kill-run.log}

echo "kill-run: $REFTRACK_KILL_ROWS rows, $REFTRACK_KILL_TRIALS random kills per operation" \
  "and store, seed $REFTRACK_KILL_SEED, filter $filter; log in $log"
started=$(date +%s)
status=0
"$here/with-postgres.sh" "$test_bin" --gtest_filter="$filter" 2>&1 | tee "$log" ||
  status=$?
elapsed=$(($(date +%s) - started))

echo
echo "kill-run summary ($elapsed s in all; exit status $status):"
grep '^kill-summary ' "$log" | awk '
  {
    delete f; phases = ""
    for (i = 2; i <= NF; i++) {
      if ($i == "phases:") { for (j = i + 1; j <= NF; j++) phases = phases " " $j; break }
      split($i, kv, "="); f[kv[1]] = kv[2]
    }
    printf "  %-8s %-9s %-7s rows %-8s full run %6ss (shortest %6ss)  kills %3s  none %3s  all %3s  neither %s  integrity ok %-6s rerun ok %s  %5ss  phases:%s\n",
      f["op"], f["store"], f["moments"], f["rows"], f["full_run_s"], f["shortest_run_s"], f["trials"], f["none"],
      f["all"], f["neither"], f["integrity_ok"], f["rerun_ok"], f["test_s"], phases
  }'
grep -E '^\[  (PASSED|FAILED) ' "$log" || true
exit $status
