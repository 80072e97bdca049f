#!/usr/bin/env bash
# Benchmarks reftrack against rule-free baselines (the sqlite3 shell, psql); `make
# bench` runs it.
#
#   bench/run.sh BUILD_DIR
#   scripts/with-postgres.sh bench/run.sh BUILD_DIR
#
# The benchmarks are the case files of bench/cases/ (one TOML file each; adding a
# benchmark is adding a file), run by bench/run.py, which times them, checks their
# results and writes bench/out/results.json and docs/BENCHMARKS.md. This script
# only checks the tools and starts the servers: a throwaway PostgreSQL
# (scripts/with-postgres.sh) when a selected case needs one; bench/http.sh starts
# `reftrack serve` and wrk for the http case.
#
# Environment:
#   BENCH_ROWS     rows per load and update file   (default 1000000)
#   BENCH_RUNS     timed runs of each side          (default 3)
#   BENCH_MEMBERS  members referrers are drawn from (default 10000)
#   BENCH_ONLY     benchmarks to run, space-separated (default: all, the files of bench/cases/)
#   BENCH_HTTP_S   seconds of each wrk run of the http benchmark (default 20)
#   BENCH_KEEP     1 keeps the generated data and the last databases in bench/out/
#   BENCH_COMMIT   label of the code measured (default: git HEAD, +local-changes if src/ is dirty)
#   REFTRACK_TEST_POSTGRES_URL  the server of referral_load_postgres and qualify_postgres, a
#                  superuser's postgresql://USER@HOST:PORT/DB URL (scripts/with-postgres.sh sets it);
#                  unset, run.sh runs itself again under scripts/with-postgres.sh
set -euo pipefail
export LC_ALL=C

die() {
  echo "bench: error: $*" >&2
  exit 1
}

[ $# -eq 1 ] || die "usage: bench/run.sh BUILD_DIR"
[ -d "$1" ] || die "build directory $1 does not exist; build first (make build)"
BUILD_DIR=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PYTHON=/usr/bin/python3

[ -x "$PYTHON" ] || die "$PYTHON is missing (apt-get install python3)"
for f in reftrack reftrack_datagen; do
  [ -x "$BUILD_DIR/$f" ] || die "$BUILD_DIR/$f is missing; build first (make build)"
done
command -v sqlite3 >/dev/null || die "sqlite3 is missing (apt-get install sqlite3)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

# What the selected cases need (run.py checks BENCH_* and BENCH_ONLY on the way).
needs=$("$PYTHON" "$ROOT/bench/run.py" --needs "$BUILD_DIR")
for tool in $needs; do
  if [ "$tool" = postgres ]; then
    command -v psql >/dev/null || die "psql is missing (scripts/install-deps.sh)"
    if [ -z "${REFTRACK_TEST_POSTGRES_URL:-}" ]; then
      echo "bench: no REFTRACK_TEST_POSTGRES_URL; running under scripts/with-postgres.sh" >&2
      exec "$ROOT/scripts/with-postgres.sh" "$ROOT/bench/run.sh" "$BUILD_DIR"
    fi
  else
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps.sh)"
  fi
done

exec "$PYTHON" "$ROOT/bench/run.py" "$BUILD_DIR"
