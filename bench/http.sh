#!/usr/bin/env bash
# The server side of the http benchmark (bench/cases/http.toml): starts `reftrack
# serve` on DB on a free loopback port, drives it with wrk (2 threads, 64
# connections, SECONDS each) on GET /healthz, GET /api/v1/referrals/{id}
# (bench/wrk/get.lua) and PATCH /api/v1/referrals/{id} (bench/wrk/patch.lua), saves
# /metrics, then stops the server, which must exit cleanly.
#
#   bench/http.sh REFTRACK DB PREFIX SECONDS REFERRALS READ_KEY WRITE_KEY
#
# Writes PREFIX-{healthz,get,patch}.txt (wrk --latency), PREFIX-metrics.txt and the
# server's PREFIX-serve.{out,err,access}; bench/run.py reads them.
set -euo pipefail
[ $# -eq 7 ] || { echo "usage: bench/http.sh REFTRACK DB PREFIX SECONDS REFERRALS READ_KEY WRITE_KEY" >&2; exit 2; }
reftrack=$1 db=$2 prefix=$3 secs=$4 rows=$5 rkey=$6 wkey=$7
wrkdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/wrk

"$reftrack" --db "$db" serve --listen 127.0.0.1:0 --access-log "$prefix-serve.access" \
  >"$prefix-serve.out" 2>"$prefix-serve.err" &
pid=$!
trap 'kill -TERM "$pid" 2>/dev/null || true' EXIT
url=""
for _ in $(seq 100); do
  url=$(sed -n 's/^reftrack: listening on \(http:[^ ]*\).*/\1/p' "$prefix-serve.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "http: the server did not start: $(cat "$prefix-serve.err")" >&2; exit 1; }

wrk -t2 -c64 -d"${secs}s" --latency "$url/healthz" >"$prefix-healthz.txt"
WRK_KEY=$rkey WRK_REFERRALS=$rows wrk -t2 -c64 -d"${secs}s" --latency \
  -s "$wrkdir/get.lua" "$url" >"$prefix-get.txt"
WRK_KEY=$wkey WRK_REFERRALS=$rows WRK_THREADS=2 wrk -t2 -c64 -d"${secs}s" --latency \
  -s "$wrkdir/patch.lua" "$url" >"$prefix-patch.txt"
curl -s "$url/metrics" >"$prefix-metrics.txt"

trap - EXIT
kill -TERM "$pid"
wait "$pid" || { echo "http: the server did not stop cleanly" >&2; exit 1; }
