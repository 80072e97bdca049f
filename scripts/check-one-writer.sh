#!/bin/sh
# One write path: only the engine's StatusWriter (src/engine/status_writer.cc) calls
# the store's status-writing methods and computes rewards. Run by ctest (one_writer)
# and `make check`; prints each call elsewhere and fails.
set -eu
cd "$(dirname "$0")/.."
calls=$(grep -rnE '\b(WriteStatusChanges|InsertRewards|RewardsFor)\(' src \
  | grep -vE '^src/engine/status_writer\.(cc|h):' \
  | grep -vE '^src/store/' \
  | grep -vE '^src/domain/reward\.(cc|h):' || true)
if [ -n "$calls" ]; then
  echo "only src/engine/status_writer.cc may write statuses or issue rewards; found:" >&2
  echo "$calls" >&2
  exit 1
fi
echo "one writer: ok"
