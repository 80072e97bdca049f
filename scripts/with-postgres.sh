#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL server: a new cluster in a temporary
# folder, on a free loopback port, owned by a non-root user (initdb refuses root),
# stopped and removed afterwards whatever the command does. The command sees the
# server's URL in REFTRACK_TEST_POSTGRES_URL.
#
#   scripts/with-postgres.sh ctest --output-on-failure
set -euo pipefail

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  echo "with-postgres: no PostgreSQL server found (run scripts/install-deps.sh)" >&2
  exit 1
fi

workdir=$(mktemp -d /tmp/reftrack-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
  chown nobody:nogroup "$workdir"
  as_owner=(runuser -u nobody --)
fi

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$workdir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$workdir/data" -A trust -U reftrack -E UTF8 \
  --locale=C --no-sync >"$workdir/initdb.log" 2>&1 || {
  cat "$workdir/initdb.log" >&2
  exit 1
}

# A test server: durability off for speed (nothing here outlives the run).
started=""
for attempt in 1 2 3 4 5 6 7 8; do
  port=$((20000 + RANDOM % 30000))
  if "${as_owner[@]}" "$bindir/pg_ctl" -D "$workdir/data" -l "$workdir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$workdir \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=200" start >/dev/null 2>&1; then
    started=yes
    break
  fi
done
if [ -z "$started" ]; then
  echo "with-postgres: the server did not start; its log:" >&2
  cat "$workdir/server.log" >&2 || true
  exit 1
fi

export REFTRACK_TEST_POSTGRES_URL="postgresql://reftrack@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
status=0
"$@" || status=$?
exit $status
