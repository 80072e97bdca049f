#!/usr/bin/env bash
# Benchmarks reftrack against rule-free baselines (the sqlite3 shell, psql); `make
# bench` runs it.
#
#   bench/run.sh BUILD_DIR
#   scripts/with-postgres.sh bench/run.sh BUILD_DIR
#
# Environment:
#   BENCH_ROWS     rows per load and update file   (default 1000000)
#   BENCH_RUNS     timed runs of each side          (default 3)
#   BENCH_MEMBERS  members referrers are drawn from (default 10000)
#   BENCH_ONLY     benchmarks to run, space-separated (default: all, see BENCHMARKS)
#   BENCH_HTTP_S   seconds of each wrk run of the http benchmark (default 20)
#   BENCH_KEEP     1 keeps the generated data and the last databases in bench/out/
#   BENCH_COMMIT   label of the code measured (default: git HEAD, +local-changes if src/ is dirty)
#   REFTRACK_TEST_POSTGRES_URL  the server of referral_load_postgres and qualify_postgres, a
#                  superuser's postgresql://USER@HOST:PORT/DB URL (scripts/with-postgres.sh sets it);
#                  unset, run.sh runs itself again under scripts/with-postgres.sh
#
# Writes bench/out/results.json and regenerates docs/BENCHMARKS.md. Each benchmark is
# a function bench_<name> that leaves two fragments in bench/out/fragments/:
# <order>-<name>.json (its results) and <order>-<name>.md (its section of
# BENCHMARKS.md). The files are assembled from every fragment present, so a
# benchmark left out by BENCH_ONLY keeps the section of its last run.
#
# To add a benchmark: write bench_<name> (use `timed`, `median`, `write_fragment`)
# and append <name> to BENCHMARKS.
set -euo pipefail
export LC_ALL=C

BENCHMARKS=(referral_load referral_load_postgres import qualify qualify_postgres http)

# ---------------------------------------------------------------------------
# Set-up

die() {
  echo "bench: error: $*" >&2
  exit 1
}
log() { echo "bench: $*" >&2; }

[ $# -eq 1 ] || die "usage: bench/run.sh BUILD_DIR"
[ -d "$1" ] || die "build directory $1 does not exist; build first (make build)"
BUILD_DIR=$(cd "$1" && pwd)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$ROOT/bench/out
REFTRACK=$BUILD_DIR/reftrack
DATAGEN=$BUILD_DIR/reftrack_datagen

BENCH_ROWS=${BENCH_ROWS:-1000000}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_MEMBERS=${BENCH_MEMBERS:-10000}
BENCH_ONLY=${BENCH_ONLY:-${BENCHMARKS[*]}}
BENCH_KEEP=${BENCH_KEEP:-0}
BENCH_HTTP_S=${BENCH_HTTP_S:-20}

for v in BENCH_ROWS BENCH_RUNS BENCH_MEMBERS BENCH_HTTP_S; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive whole number, not \"${!v}\""
done
for b in $BENCH_ONLY; do
  [[ " ${BENCHMARKS[*]} " == *" $b "* ]] || die "unknown benchmark \"$b\" (known: ${BENCHMARKS[*]})"
done
for f in "$REFTRACK" "$DATAGEN"; do
  [ -x "$f" ] || die "$f is missing; build first (make build)"
done
command -v sqlite3 >/dev/null || die "sqlite3 is missing (apt-get install sqlite3)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing (apt-get install time)"

# The PostgreSQL benchmarks need a server: without one, run again under a throwaway
# cluster (scripts/with-postgres.sh) that serves both sides of those benchmarks.
for b in referral_load_postgres qualify_postgres; do
  [[ " $BENCH_ONLY " == *" $b "* ]] || continue
  command -v psql >/dev/null || die "psql is missing (scripts/install-deps.sh)"
  if [ -z "${REFTRACK_TEST_POSTGRES_URL:-}" ]; then
    log "$b: no REFTRACK_TEST_POSTGRES_URL; running under scripts/with-postgres.sh"
    exec "$ROOT/scripts/with-postgres.sh" "$ROOT/bench/run.sh" "$BUILD_DIR"
  fi
done

mkdir -p "$OUT/data" "$OUT/db" "$OUT/runs" "$OUT/fragments" "$OUT/bin"

# Run copies, so a rebuild of BUILD_DIR during the benchmark changes nothing.
cp "$REFTRACK" "$DATAGEN" "$OUT/bin/"
REFTRACK=$OUT/bin/reftrack
DATAGEN=$OUT/bin/reftrack_datagen

cleanup() {
  if [ "$BENCH_KEEP" != 1 ]; then
    rm -rf "${OUT:?}/db" "${OUT:?}/data" "${OUT:?}/bin"
  fi
}
trap cleanup EXIT

# Machine facts, recorded with every result.
NPROC=$(nproc)
MEM_KIB=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
RAM_GIB=$(awk -v k="$MEM_KIB" 'BEGIN {printf "%.1f", k / 1048576}')
CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
CPU_MODEL=${CPU_MODEL:-unknown}
KERNEL=$(uname -sr)
# shellcheck disable=SC1091
OS=$( (. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}") || echo unknown)
SQLITE_VERSION=$(sqlite3 --version | awk '{print $1}')
BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
BUILD_TYPE=${BUILD_TYPE:-unknown}
# What was measured; BENCH_COMMIT names it when BUILD_DIR was built from another tree.
COMMIT=${BENCH_COMMIT:-$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)}
if [ -z "${BENCH_COMMIT:-}" ] && [ "$COMMIT" != unknown ] &&
  [ -n "$(git -C "$ROOT" status --porcelain -- src CMakeLists.txt 2>/dev/null)" ]; then
  COMMIT="$COMMIT+local-changes"
fi
DATE=$(date -u +%Y-%m-%dT%H:%M:%SZ)
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# ---------------------------------------------------------------------------
# Helpers shared by the benchmarks

# timed LABEL CMD [ARGS...]
# Runs CMD under /usr/bin/time; stdout and stderr go to bench/out/runs/LABEL.{out,err}.
# Sets TIMED_S (wall seconds), TIMED_KIB (peak RSS, KiB) and TIMED_CPU (user + system
# CPU seconds). A failing CMD stops the benchmark with its stderr shown.
TIMED_S=
TIMED_KIB=
TIMED_CPU=
timed() {
  local label=$1
  shift
  local base=$OUT/runs/$label
  if ! /usr/bin/time -f '%e %M %U %S' -o "$base.time" "$@" >"$base.out" 2>"$base.err"; then
    echo "bench: error: $label failed: $*" >&2
    tail -n 20 "$base.err" >&2
    exit 1
  fi
  local user sys
  read -r TIMED_S TIMED_KIB user sys < <(tail -n 1 "$base.time")
  TIMED_CPU=$(awk -v u="$user" -v s="$sys" 'BEGIN {printf "%.2f", u + s}')
}

# median X... (numbers; the mean of the middle two for an even count)
median() {
  printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1}
    END {if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# max X...
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# ratio A B: A / B to two decimals, or "n/a" when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else printf "n/a"}'; }

# mib KIB: KiB to MB (MiB), one decimal.
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# json_list X...: [X, X, ...] of numbers.
json_list() {
  local IFS=,
  echo "[$*]"
}

# json_str S: S as a JSON string.
json_str() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

# json_num X: X, or null when X is "n/a".
json_num() { if [ "$1" = n/a ]; then echo null; else echo "$1"; fi; }

# json_list_or_null X...: [X, ...], or null when there is no X.
json_list_or_null() { if [ $# -eq 0 ]; then echo null; else json_list "$@"; fi; }

# human N: 1000000 -> 1M, 100000 -> 100k.
human() {
  local n=$1
  if ((n % 1000000 == 0)); then echo "$((n / 1000000))M"
  elif ((n % 1000 == 0)); then echo "$((n / 1000))k"
  else echo "$n"; fi
}

# write_fragment ORDER NAME: moves $OUT/fragments/NAME.{json,md}.new into place as
# ORDER-NAME.{json,md}, replacing the fragments of an earlier run.
write_fragment() {
  local order=$1 name=$2
  rm -f "$OUT/fragments/"*"-$name.json" "$OUT/fragments/"*"-$name.md"
  mv "$OUT/fragments/$name.json.new" "$OUT/fragments/$order-$name.json"
  mv "$OUT/fragments/$name.md.new" "$OUT/fragments/$order-$name.md"
}

# fresh_db PATH: removes a database and its WAL, shared-memory and journal files.
fresh_db() { rm -f "$1" "$1-wal" "$1-shm" "$1-journal"; }

# ---------------------------------------------------------------------------
# Benchmark: referral load
#
# reftrack `referral load` of BENCH_ROWS referrals into an empty database (3
# campaigns and their members loaded first, untimed), against the sqlite3 CLI's
# `.import` of the same CSV into a bare table with the equivalent unique indexes.

# The baseline table: reftrack's referrals indexes (src/store/sqlite/migrations.cc)
# translated to the CSV's columns.
BASELINE_SCHEMA='CREATE TABLE referrals_csv (campaign TEXT, email TEXT, name TEXT, external_id TEXT,
  referral_code TEXT, coupon_code TEXT, referrer_email TEXT);
CREATE UNIQUE INDEX referrals_csv_email_campaign ON referrals_csv (email, campaign);
CREATE UNIQUE INDEX referrals_csv_external_id_campaign ON referrals_csv (external_id, campaign);
CREATE UNIQUE INDEX referrals_csv_referral_code ON referrals_csv (referral_code);
CREATE UNIQUE INDEX referrals_csv_coupon_code ON referrals_csv (coupon_code);
CREATE INDEX referrals_csv_campaign ON referrals_csv (campaign);'

bench_referral_load() {
  local name=referral_load
  local rows=$BENCH_ROWS
  local data=$OUT/data/referrals-$rows-$BENCH_MEMBERS
  local csv=$data/referrals.csv
  local bdb=$OUT/db/baseline.db
  local rdb=$OUT/db/reftrack.db

  log "$name: generating $rows referrals, $BENCH_MEMBERS members"
  timed "$name-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 3 \
    --members "$BENCH_MEMBERS" --out "$data"
  local gen_s=$TIMED_S
  local csv_mb
  csv_mb=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN {printf "%.1f", b / 1e6}')

  # What the sqlite3 CLI uses when nothing is set, shown in the report.
  fresh_db "$bdb"
  local baseline_pragmas
  baseline_pragmas=$(sqlite3 "$bdb" 'PRAGMA journal_mode;' 'PRAGMA synchronous;' \
    'PRAGMA cache_size;' | paste -sd' ' | awk '{
      split("OFF NORMAL FULL EXTRA", sync, " ")
      cache = $3 < 0 ? (-$3 " KiB") : ($3 " pages")
      printf "journal_mode=%s, synchronous=%s, cache_size=%s", $1, sync[$2 + 1], cache}')

  local -a base_s=() base_kib=() base_cpu=() ref_s=() ref_kib=() ref_cpu=()
  local ref_indexes="" ref_journal=""
  local run
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Baseline: schema untimed, then the timed .import.
    fresh_db "$bdb"
    sqlite3 "$bdb" "$BASELINE_SCHEMA"
    timed "$name-baseline-$run" sqlite3 "$bdb" ".import --csv --skip 1 '$csv' referrals_csv"
    base_s+=("$TIMED_S")
    base_kib+=("$TIMED_KIB")
    base_cpu+=("$TIMED_CPU")
    local count
    count=$(sqlite3 "$bdb" 'SELECT count(*) FROM referrals_csv;')
    if [ "$count" != "$rows" ]; then
      head -n 20 "$OUT/runs/$name-baseline-$run.err" >&2
      die "$name: baseline run $run imported $count rows, expected $rows"
    fi
    fresh_db "$bdb"
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  cpu ${base_cpu[-1]} s  $(mib "${base_kib[-1]}") MB  (load $(loadavg))"

    # reftrack: campaigns and members untimed, then the timed referral load.
    fresh_db "$rdb"
    local c
    for c in 1 2 3; do
      "$REFTRACK" --db "$rdb" campaign add "Campaign $c" >/dev/null
    done
    "$REFTRACK" --db "$rdb" member load "$data/members.csv" >"$OUT/runs/$name-members.out"
    timed "$name-reftrack-$run" "$REFTRACK" --db "$rdb" referral load "$csv" --json
    ref_s+=("$TIMED_S")
    ref_kib+=("$TIMED_KIB")
    ref_cpu+=("$TIMED_CPU")
    local created errors
    created=$(grep -o '"created": *[0-9]*' "$OUT/runs/$name-reftrack-$run.out" | grep -o '[0-9]*$' || true)
    errors=$(grep -o '"error_count": *[0-9]*' "$OUT/runs/$name-reftrack-$run.out" | grep -o '[0-9]*$' || true)
    if [ "$created" != "$rows" ]; then
      head -c 2000 "$OUT/runs/$name-reftrack-$run.out" >&2
      echo >&2
      die "$name: reftrack run $run created ${created:-?} referrals (error_count ${errors:-?}), expected $rows"
    fi
    if [ "$run" = 1 ]; then
      # reftrack's own indexes and journal mode, as the schema of this build has them.
      ref_indexes=$(sqlite3 "$rdb" "SELECT sql FROM sqlite_master WHERE type = 'index'
        AND tbl_name = 'referrals' AND sql IS NOT NULL ORDER BY name;" |
        sed -E 's/^CREATE (UNIQUE )?INDEX [a-z_]+ ON referrals ?/\1/; s/UNIQUE /UNIQUE/; s/^\(/INDEX(/' |
        paste -sd';' | sed 's/;/, /g')
      ref_journal=$(sqlite3 "$rdb" 'PRAGMA journal_mode;')
    fi
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then fresh_db "$rdb"; fi
    log "$name: run $run/$BENCH_RUNS reftrack  ${ref_s[-1]} s  cpu ${ref_cpu[-1]} s  $(mib "${ref_kib[-1]}") MB  (load $(loadavg))"
  done

  local base_med ref_med r ref_peak base_peak verdict base_cpu_med ref_cpu_med cpu_r
  base_med=$(median "${base_s[@]}")
  ref_med=$(median "${ref_s[@]}")
  r=$(ratio "$ref_med" "$base_med")
  base_cpu_med=$(median "${base_cpu[@]}")
  ref_cpu_med=$(median "${ref_cpu[@]}")
  cpu_r=$(ratio "$ref_cpu_med" "$base_cpu_med")
  ref_peak=$(mib "$(max "${ref_kib[@]}")")
  base_peak=$(mib "$(max "${base_kib[@]}")")
  if [ "$r" = n/a ]; then verdict="n/a (too fast to time; raise BENCH_ROWS)"
  elif awk -v r="$r" 'BEGIN {exit !(r <= 1.0)}'; then verdict="meets target"
  else verdict="MISSES target"; fi

  local title
  title="referral load ($(human "$rows") rows)"
  {
    echo
    echo "$title, $BENCH_RUNS runs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  %-28s %9s %9s %9s  %s\n' "" "median s" "cpu s" "peak MB" "runs (wall s)"
    printf '  %-28s %9s %9s %9s  %s\n' "baseline (sqlite3 .import)" "$base_med" "$base_cpu_med" \
      "$base_peak" "${base_s[*]}"
    printf '  %-28s %9s %9s %9s  %s\n' "reftrack referral load" "$ref_med" "$ref_cpu_med" \
      "$ref_peak" "${ref_s[*]}"
    printf '  %-28s %9s %9s  (target <= 1.0x on wall time: %s)\n' "ratio reftrack / baseline" \
      "${r}x" "${cpu_r}x" "$verdict"
    echo
  }

  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "runs": $BENCH_RUNS,
  "members": $BENCH_MEMBERS,
  "campaigns": 3,
  "csv_mb": $csv_mb,
  "datagen_s": $gen_s,
  "baseline": {
    "command": "sqlite3 DB \".import --csv --skip 1 referrals.csv referrals_csv\"",
    "pragmas": $(json_str "$baseline_pragmas"),
    "wall_s": $(json_list "${base_s[@]}"),
    "peak_rss_kib": $(json_list "${base_kib[@]}"),
    "median_s": $base_med,
    "cpu_s": $(json_list "${base_cpu[@]}"),
    "median_cpu_s": $base_cpu_med,
    "peak_mb": $base_peak
  },
  "reftrack": {
    "command": "reftrack --db DB referral load referrals.csv --json",
    "indexes": $(json_str "$ref_indexes"),
    "wall_s": $(json_list "${ref_s[@]}"),
    "peak_rss_kib": $(json_list "${ref_kib[@]}"),
    "median_s": $ref_med,
    "cpu_s": $(json_list "${ref_cpu[@]}"),
    "median_cpu_s": $ref_cpu_med,
    "peak_mb": $ref_peak
  },
  "ratio": $([ "$r" = n/a ] && echo null || echo "$r"),
  "cpu_ratio": $([ "$cpu_r" = n/a ] && echo null || echo "$cpu_r"),
  "target_ratio": 1.0,
  "meets_target": $([ "$verdict" = "meets target" ] && echo true || echo false),
  "nproc": $NPROC,
  "ram_gib": $RAM_GIB,
  "sqlite3_version": $(json_str "$SQLITE_VERSION")
}
EOF

  local repro="BENCH_ROWS=$rows BENCH_RUNS=$BENCH_RUNS" repro_note=""
  if [ "$BENCH_MEMBERS" != 10000 ]; then repro="$repro BENCH_MEMBERS=$BENCH_MEMBERS"; fi
  if [ "$rows" = 1000000 ] && [ "$BENCH_RUNS" = 3 ] && [ "$BENCH_MEMBERS" = 10000 ]; then
    repro_note=" (the defaults: plain \`make bench\` does the same)"
  fi
  local mark="✅"
  [ "$verdict" = "meets target" ] || mark="❌"
  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

Loading $rows referrals from one CSV file ($csv_mb MB) into a database that holds
3 campaigns and $BENCH_MEMBERS members, compared with the sqlite3 command-line
shell importing the same file into an equivalent bare table.

| | median wall time | runs (wall s) | median CPU time | peak memory |
|---|---:|---|---:|---:|
| baseline: \`sqlite3 .import\` | $base_med s | ${base_s[*]} | $base_cpu_med s | $base_peak MB |
| reftrack: \`referral load\` | $ref_med s | ${ref_s[*]} | $ref_cpu_med s | $ref_peak MB |
| **ratio reftrack / baseline** | **${r}x** | target ≤ 1.0x: $mark $verdict | ${cpu_r}x | |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\` ($BUILD_TYPE build) on $NPROC CPUs
($CPU_MODEL), $RAM_GIB GiB RAM, $OS, sqlite3 $SQLITE_VERSION; median of $BENCH_RUNS runs.

Reproduce: \`$repro make bench\`$repro_note;
\`BENCH_ROWS=100000 make bench\` gives a quick look. \`bench/run.sh BUILD_DIR\` runs
the benchmarks without rebuilding; \`BENCH_ONLY=$name\` runs this one alone.

What is measured:

- **Data**: \`reftrack_datagen referrals --rows $rows --campaigns 3 --members $BENCH_MEMBERS\`
  (fixed seed, so every machine loads the same bytes). Rows go round-robin to
  "Campaign 1".."Campaign 3"; emails \`first.last<n>@example.com\` are unique with \`<n>\`
  a bijective scramble of the row number, so they reach the indexes in random order;
  5% of them are in mixed case with surrounding spaces; 1% of names are quoted
  (\`"Last, First"\`); external ids \`crm-<row>\`, referral codes \`R<row>\` and coupon
  codes \`C<row>\` are unique; 80% of rows name a referrer among their campaign's
  members (\`member000123@advocates.example\`). Every row is valid: both sides must
  store all $rows rows, or the run fails.
- **Baseline**: a new database file; untimed, the sqlite3 shell creates
  \`referrals_csv(campaign, email, name, external_id, referral_code, coupon_code,
  referrer_email)\`, all TEXT, with the indexes of reftrack's \`referrals\` table
  translated to these columns: UNIQUE(email, campaign), UNIQUE(external_id,
  campaign), UNIQUE(referral_code), UNIQUE(coupon_code), INDEX(campaign). Timed:
  \`sqlite3 baseline.db ".import --csv --skip 1 referrals.csv referrals_csv"\`, which
  inserts every row in one transaction with the shell's defaults
  ($baseline_pragmas). It stores the text as it is: no trimming, no lower-casing,
  no validation, no campaign or referrer look-up, no status or timestamps.
- **reftrack**: a new database file; untimed, \`campaign add\` three times and
  \`member load members.csv\`. Timed: \`reftrack --db reftrack.db referral load
  referrals.csv --json\`: parse, validate and normalize every row, resolve campaign
  and referrer, insert into \`referrals\` in one transaction, with reftrack's own
  settings (journal_mode=$ref_journal; see src/store/sqlite/sqlite_store.cc) and
  the indexes of its schema: $ref_indexes.
- **Timing**: \`/usr/bin/time -f '%e %M %U %S'\` around the load command only (wall
  seconds to 0.01 s, peak resident memory, user and system CPU seconds); runs
  alternate baseline and reftrack to share the machine's noise; the table shows
  the median wall time, the median CPU time (user + system, less sensitive to
  other processes than wall time, blind to time spent waiting for the disk) and
  the largest peak memory. The target applies to the wall-time ratio. Machines
  are shared and noisy: the ratio is what counts, not the absolute times.
EOF
  write_fragment 10 "$name"
}

# ---------------------------------------------------------------------------
# Benchmark: referral load on PostgreSQL
#
# The data of referral_load, loaded into the server of REFTRACK_TEST_POSTGRES_URL
# (under `make bench`, a throwaway cluster of scripts/with-postgres.sh). Each run:
# psql's \copy of the CSV into a new database holding a bare table with the SQLite
# baseline's indexes, then reftrack's `referral load` into another new database.
# Besides each client's time and memory (/usr/bin/time), the CPU time of the whole
# server (postmaster, backends, background processes) over each load is read from
# /proc, when the server runs on this machine.

# psql_admin SQL...: runs each statement on the server's maintenance database.
psql_admin() {
  local -a args=()
  local sql
  for sql in "$@"; do args+=(-c "$sql"); done
  psql -X -q -v ON_ERROR_STOP=1 "$REFTRACK_TEST_POSTGRES_URL" "${args[@]}" >/dev/null
}

# pg_postmaster_pid: the PID of the server's postmaster if it runs on this machine
# and its data directory is readable here, else nothing.
pg_postmaster_pid() {
  local datadir pid
  datadir=$(psql -X -A -t -q "$REFTRACK_TEST_POSTGRES_URL" -c 'SHOW data_directory' 2>/dev/null) ||
    return 0
  [ -r "$datadir/postmaster.pid" ] || return 0
  pid=$(head -n 1 "$datadir/postmaster.pid")
  if [[ $pid =~ ^[0-9]+$ ]] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
    echo "$pid"
  fi
}

# pg_server_cpu PID: CPU seconds (user + system) the server has used so far: its
# live processes (the postmaster's children) and those that have exited (the
# postmaster's cutime and cstime). Children are read before the postmaster, so a
# backend that exits in between is still counted.
pg_server_cpu() {
  local pm=$1 pid
  {
    for pid in $(pgrep -P "$pm" || true); do
      # Fields after "(comm) ": 12 utime, 13 stime, 14 cutime, 15 cstime.
      sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12 + $13}' || true
    done
    sed 's/^.*) //' "/proc/$pm/stat" | awk '{print $12 + $13 + $14 + $15}'
  } | awk -v hz="$(getconf CLK_TCK)" '{s += $1} END {printf "%.2f", s / hz}'
}

bench_referral_load_postgres() {
  local name=referral_load_postgres
  local rows=$BENCH_ROWS
  local data=$OUT/data/referrals-$rows-$BENCH_MEMBERS
  local csv=$data/referrals.csv
  local server=${REFTRACK_TEST_POSTGRES_URL%/*}
  local bdb=reftrack_bench_baseline rdb=reftrack_bench_reftrack
  export PGOPTIONS="-c client_min_messages=warning"

  # The CSV of referral_load when it ran first; the same bytes otherwise.
  if [ ! -s "$csv" ] || [ ! -s "$data/members.csv" ]; then
    log "$name: generating $rows referrals, $BENCH_MEMBERS members"
    timed "$name-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 3 \
      --members "$BENCH_MEMBERS" --out "$data"
  fi
  local csv_mb
  csv_mb=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN {printf "%.1f", b / 1e6}')

  local pg_version pm settings
  pg_version=$(psql -X -A -t -q "$REFTRACK_TEST_POSTGRES_URL" -c 'SHOW server_version')
  settings=$(psql -X -A -t -q -F= "$REFTRACK_TEST_POSTGRES_URL" -c "SELECT name, current_setting(name)
    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
      'shared_buffers', 'max_wal_size', 'wal_level') ORDER BY name" | paste -sd' ' | sed 's/ /, /g')
  pm=$(pg_postmaster_pid)
  if [ -z "$pm" ]; then log "$name: the server is not on this machine; its CPU time is not measured"; fi
  log "$name: PostgreSQL $pg_version, $settings"

  local -a base_s=() base_kib=() base_cpu=() base_srv=() ref_s=() ref_kib=() ref_cpu=() ref_srv=()
  local run s0 s1
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Baseline: new database and bare table untimed, a checkpoint so that no earlier
    # write is flushed during the load, then the timed \copy.
    psql_admin "DROP DATABASE IF EXISTS $bdb" "DROP DATABASE IF EXISTS $rdb" "CREATE DATABASE $bdb"
    psql -X -q -v ON_ERROR_STOP=1 "$server/$bdb" -c "$BASELINE_SCHEMA" >/dev/null
    psql_admin CHECKPOINT
    [ -z "$pm" ] || s0=$(pg_server_cpu "$pm")
    timed "$name-baseline-$run" psql -X -q -v ON_ERROR_STOP=1 "$server/$bdb" \
      -c "\\copy referrals_csv FROM '$csv' WITH (FORMAT csv, HEADER true)"
    base_s+=("$TIMED_S")
    base_kib+=("$TIMED_KIB")
    base_cpu+=("$TIMED_CPU")
    if [ -n "$pm" ]; then
      sleep 0.5 # the backend's exit
      s1=$(pg_server_cpu "$pm")
      base_srv+=("$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", b - a}')")
    fi
    local count
    count=$(psql -X -A -t -q "$server/$bdb" -c 'SELECT count(*) FROM referrals_csv')
    if [ "$count" != "$rows" ]; then
      head -n 20 "$OUT/runs/$name-baseline-$run.err" >&2
      die "$name: baseline run $run copied $count rows, expected $rows"
    fi
    psql_admin "DROP DATABASE $bdb"
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  client cpu ${base_cpu[-1]} s  server cpu $([ -n "$pm" ] && echo "${base_srv[-1]} s" || echo n/a)  $(mib "${base_kib[-1]}") MB  (load $(loadavg))"

    # reftrack: new database, campaigns and members untimed, a checkpoint, then the
    # timed referral load.
    psql_admin "CREATE DATABASE $rdb"
    local c
    for c in 1 2 3; do
      "$REFTRACK" --db "$server/$rdb" campaign add "Campaign $c" >/dev/null
    done
    "$REFTRACK" --db "$server/$rdb" member load "$data/members.csv" >"$OUT/runs/$name-members.out"
    psql_admin CHECKPOINT
    [ -z "$pm" ] || s0=$(pg_server_cpu "$pm")
    timed "$name-reftrack-$run" "$REFTRACK" --db "$server/$rdb" referral load "$csv" --json
    ref_s+=("$TIMED_S")
    ref_kib+=("$TIMED_KIB")
    ref_cpu+=("$TIMED_CPU")
    if [ -n "$pm" ]; then
      sleep 0.5
      s1=$(pg_server_cpu "$pm")
      ref_srv+=("$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.2f", b - a}')")
    fi
    local created errors
    created=$(grep -o '"created": *[0-9]*' "$OUT/runs/$name-reftrack-$run.out" | grep -o '[0-9]*$' || true)
    errors=$(grep -o '"error_count": *[0-9]*' "$OUT/runs/$name-reftrack-$run.out" | grep -o '[0-9]*$' || true)
    if [ "$created" != "$rows" ]; then
      head -c 2000 "$OUT/runs/$name-reftrack-$run.out" >&2
      echo >&2
      die "$name: reftrack run $run created ${created:-?} referrals (error_count ${errors:-?}), expected $rows"
    fi
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then psql_admin "DROP DATABASE $rdb"; fi
    log "$name: run $run/$BENCH_RUNS reftrack  ${ref_s[-1]} s  client cpu ${ref_cpu[-1]} s  server cpu $([ -n "$pm" ] && echo "${ref_srv[-1]} s" || echo n/a)  $(mib "${ref_kib[-1]}") MB  (load $(loadavg))"
  done

  local base_med ref_med r verdict base_cpu_med ref_cpu_med base_peak ref_peak
  local base_srv_med=n/a ref_srv_med=n/a srv_r=n/a
  base_med=$(median "${base_s[@]}")
  ref_med=$(median "${ref_s[@]}")
  r=$(ratio "$ref_med" "$base_med")
  base_cpu_med=$(median "${base_cpu[@]}")
  ref_cpu_med=$(median "${ref_cpu[@]}")
  base_peak=$(mib "$(max "${base_kib[@]}")")
  ref_peak=$(mib "$(max "${ref_kib[@]}")")
  if [ -n "$pm" ]; then
    base_srv_med=$(median "${base_srv[@]}")
    ref_srv_med=$(median "${ref_srv[@]}")
    srv_r=$(ratio "$ref_srv_med" "$base_srv_med")
  fi
  if [ "$r" = n/a ]; then verdict="n/a (too fast to time; raise BENCH_ROWS)"
  elif awk -v r="$r" 'BEGIN {exit !(r <= 1.5)}'; then verdict="meets target"
  else verdict="MISSES target"; fi

  local title
  title="referral load on PostgreSQL ($(human "$rows") rows)"
  {
    echo
    echo "$title, $BENCH_RUNS runs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  %-28s %9s %11s %11s %9s  %s\n' "" "median s" "client cpu" "server cpu" "peak MB" "runs (wall s)"
    printf '  %-28s %9s %11s %11s %9s  %s\n' "baseline (psql \\copy)" "$base_med" "$base_cpu_med" \
      "$base_srv_med" "$base_peak" "${base_s[*]}"
    printf '  %-28s %9s %11s %11s %9s  %s\n' "reftrack referral load" "$ref_med" "$ref_cpu_med" \
      "$ref_srv_med" "$ref_peak" "${ref_s[*]}"
    printf '  %-28s %9s %11s %11s  (target <= 1.5x on wall time: %s)\n' "ratio reftrack / baseline" \
      "${r}x" "" "${srv_r}x" "$verdict"
    echo
  }

  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "runs": $BENCH_RUNS,
  "members": $BENCH_MEMBERS,
  "campaigns": 3,
  "csv_mb": $csv_mb,
  "postgresql_version": $(json_str "$pg_version"),
  "server_settings": $(json_str "$settings"),
  "server_cpu_measured": $([ -n "$pm" ] && echo true || echo false),
  "baseline": {
    "command": $(json_str "psql DB -c \"\\copy referrals_csv FROM 'referrals.csv' WITH (FORMAT csv, HEADER true)\""),
    "wall_s": $(json_list "${base_s[@]}"),
    "peak_rss_kib": $(json_list "${base_kib[@]}"),
    "median_s": $base_med,
    "cpu_s": $(json_list "${base_cpu[@]}"),
    "median_cpu_s": $base_cpu_med,
    "server_cpu_s": $(json_list_or_null "${base_srv[@]}"),
    "median_server_cpu_s": $(json_num "$base_srv_med"),
    "peak_mb": $base_peak
  },
  "reftrack": {
    "command": "reftrack --db postgresql://.../DB referral load referrals.csv --json",
    "wall_s": $(json_list "${ref_s[@]}"),
    "peak_rss_kib": $(json_list "${ref_kib[@]}"),
    "median_s": $ref_med,
    "cpu_s": $(json_list "${ref_cpu[@]}"),
    "median_cpu_s": $ref_cpu_med,
    "server_cpu_s": $(json_list_or_null "${ref_srv[@]}"),
    "median_server_cpu_s": $(json_num "$ref_srv_med"),
    "peak_mb": $ref_peak
  },
  "ratio": $(json_num "$r"),
  "server_cpu_ratio": $(json_num "$srv_r"),
  "target_ratio": 1.5,
  "meets_target": $([ "$verdict" = "meets target" ] && echo true || echo false),
  "nproc": $NPROC,
  "ram_gib": $RAM_GIB
}
EOF

  local repro="BENCH_ROWS=$rows BENCH_RUNS=$BENCH_RUNS" repro_note=""
  if [ "$BENCH_MEMBERS" != 10000 ]; then repro="$repro BENCH_MEMBERS=$BENCH_MEMBERS"; fi
  if [ "$rows" = 1000000 ] && [ "$BENCH_RUNS" = 3 ] && [ "$BENCH_MEMBERS" = 10000 ]; then
    repro_note=" (the defaults)"
  fi
  local mark="✅" srv_unit=" s"
  [ "$verdict" = "meets target" ] || mark="❌"
  [ -n "$pm" ] || srv_unit=""
  local srv_ratio_cell=""
  [ -z "$pm" ] || srv_ratio_cell="${srv_r}x"
  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

The same $rows referrals ($csv_mb MB of CSV) loaded into PostgreSQL $pg_version:
reftrack's \`referral load\` compared with psql's \`\\copy\` of the file into an
equivalent bare table.

| | median wall time | runs (wall s) | median client CPU | median server CPU | client peak memory |
|---|---:|---|---:|---:|---:|
| baseline: \`psql \\copy\` | $base_med s | ${base_s[*]} | $base_cpu_med s | $base_srv_med$srv_unit | $base_peak MB |
| reftrack: \`referral load\` | $ref_med s | ${ref_s[*]} | $ref_cpu_med s | $ref_srv_med$srv_unit | $ref_peak MB |
| **ratio reftrack / baseline** | **${r}x** | target ≤ 1.5x: $mark $verdict | | $srv_ratio_cell | |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\` ($BUILD_TYPE build) on $NPROC CPUs
($CPU_MODEL), $RAM_GIB GiB RAM, $OS, PostgreSQL $pg_version on the same machine;
median of $BENCH_RUNS runs.

Reproduce: \`make bench\` (both stores) or \`BENCH_ONLY=$name make bench\` (this
one alone), with $repro$repro_note. \`bench/run.sh\` starts the throwaway server
itself (\`scripts/with-postgres.sh\`) unless REFTRACK_TEST_POSTGRES_URL names one.

What is measured:

- **Server**: a throwaway test cluster that \`scripts/with-postgres.sh\` creates
  for the run (initdb in a temporary folder, loopback TCP), with durability off as
  that script configures it (fsync=off, synchronous_commit=off,
  full_page_writes=off) and everything else at PostgreSQL's defaults; as measured:
  $settings. Both sides use this same server, one after the other; it is tuned
  for neither.
- **Data**: the CSV and members of the SQLite benchmark above (same generator, same
  seed, same bytes); every row is valid and both sides must store all $rows rows.
- **Baseline**: a new database (\`CREATE DATABASE\` through psql) holding, created
  untimed, \`referrals_csv(campaign, email, name, external_id, referral_code,
  coupon_code, referrer_email)\`, all TEXT, with the SQLite baseline's indexes:
  UNIQUE(email, campaign), UNIQUE(external_id, campaign), UNIQUE(referral_code),
  UNIQUE(coupon_code), INDEX(campaign). Timed: \`psql DB -c "\\copy referrals_csv
  FROM 'referrals.csv' WITH (FORMAT csv, HEADER true)"\`: psql streams the file,
  the server parses the CSV and inserts every row in one transaction. No trimming,
  no lower-casing, no validation, no campaign or referrer look-up. Checked:
  \`count(*)\` = $rows.
- **reftrack**: another new database; untimed, \`campaign add\` three times and
  \`member load members.csv\` (the first command creates reftrack's schema). Timed:
  \`reftrack --db postgresql://…/DB referral load referrals.csv --json\`: reftrack
  parses, validates and normalizes every row, resolves campaign and referrer, and
  sends the rows with \`COPY\` in batches inside one transaction
  (src/engine/referral_loader.cc, src/store/postgres/postgres_store.cc) into its
  \`referrals\` table, which has an identity primary key besides the baseline's
  indexes. Checked: \`"created"\` = $rows in its JSON report.
- **Timing**: a \`CHECKPOINT\` before each timed load, so neither side flushes
  the other's writes; then \`/usr/bin/time\` around the client command only (wall
  seconds, the client's user + system CPU and peak resident memory). Runs
  alternate baseline and reftrack to share the machine's noise. **Server CPU** is
  the user + system CPU of all the cluster's processes (backends, checkpointer,
  WAL writer, autovacuum) over the load, read from /proc. **Memory** is the client
  process's peak only (psql or reftrack); the server's memory is not counted on
  either side. The target applies to the ratio of median wall times.
EOF
  write_fragment 20 "$name"
}

# ---------------------------------------------------------------------------
# Benchmark: import (bulk status update)
#
# A BENCH_ROWS-row update file (`reftrack_datagen updates`: one status for every
# referral, keyed by external id, in scrambled order) against a database of
# BENCH_ROWS pending referrals (the data of referral_load), built once, untimed, and
# copied afresh for every timed command. Each run: the sqlite3 shell's .import of
# the file into a temporary table plus one UPDATE ... FROM (the baseline), reftrack's
# `import --dry-run` (preview), then reftrack's `import`.

# The baseline, all in one sqlite3 process: the file into a bare temporary table,
# then one UPDATE of reftrack's referrals from it. No rules, no history, no report.
IMPORT_BASELINE_TABLE='CREATE TEMP TABLE updates_csv (external_id TEXT, status TEXT);'
IMPORT_BASELINE_UPDATE='UPDATE referrals SET status = updates_csv.status FROM updates_csv
  WHERE referrals.external_id = updates_csv.external_id;'

# import_copy TEMPLATE DB: DB becomes a fresh copy of TEMPLATE, flushed to disk, so
# that the write-back of the copy does not land in the timed command.
import_copy() {
  fresh_db "$2"
  cp "$1" "$2"
  sync "$2"
}

# checkpoint_template DB LABEL: moves DB's WAL into the file and removes the WAL and
# shared-memory files, so that a copy of the file alone is the whole database.
checkpoint_template() {
  sqlite3 "$1" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null
  [ ! -s "$1-wal" ] || die "$2: the template's WAL is not empty after a checkpoint"
  rm -f "$1-wal" "$1-shm"
}

# referral_template DB DATA CAMPAIGNS LABEL: builds the SQLite database DB, untimed, as
# referral_load's reftrack side does: `campaign add` of "Campaign 1".."Campaign
# CAMPAIGNS", `member load` and `referral load` of DATA's files (outputs in
# bench/out/runs/LABEL-{members,referrals}.out), then checkpoint_template. Sets
# TEMPLATE_SETUP_S (wall seconds of it all).
TEMPLATE_SETUP_S=
referral_template() {
  local db=$1 data=$2 campaigns=$3 label=$4
  local start c
  fresh_db "$db"
  start=$(date +%s.%N)
  for ((c = 1; c <= campaigns; c++)); do
    "$REFTRACK" --db "$db" campaign add "Campaign $c" >/dev/null
  done
  "$REFTRACK" --db "$db" member load "$data/members.csv" >"$OUT/runs/$label-members.out"
  "$REFTRACK" --db "$db" referral load "$data/referrals.csv" --json >"$OUT/runs/$label-referrals.out"
  checkpoint_template "$db" "$label"
  TEMPLATE_SETUP_S=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
}

# json_int FILE KEY: the whole number "KEY" has in the JSON report FILE, or nothing.
json_int() { grep -o "\"$2\": *[0-9]*" "$1" | head -n 1 | grep -o '[0-9]*$' || true; }

# status_counts DB: "approved N denied N pending N qualified N", the referrals of DB
# by status (the statuses that have any).
status_counts() {
  sqlite3 "$1" 'SELECT status, count(*) FROM referrals GROUP BY status ORDER BY status;' |
    tr '|' ' ' | paste -sd' '
}

# import_check_report SIDE RUN APPLIED ROWS CHANGED: dies unless the JSON report of
# SIDE's run RUN says rows = ROWS, changed = CHANGED, unchanged = the rest,
# error_count = 0, and applied = APPLIED (true or false).
import_check_report() {
  local side=$1 run=$2 want_applied=$3 want_rows=$4 want_changed=$5
  local out=$OUT/runs/import-$side-$run.out
  local rows changed unchanged errors applied
  rows=$(json_int "$out" rows)
  changed=$(json_int "$out" changed)
  unchanged=$(json_int "$out" unchanged)
  errors=$(json_int "$out" error_count)
  applied=$(grep -o '"applied": *[a-z]*' "$out" | head -n 1 | grep -o '[a-z]*$' || true)
  if [ "$rows" != "$want_rows" ] || [ "$changed" != "$want_changed" ] ||
    [ "$unchanged" != "$((want_rows - want_changed))" ] || [ "$errors" != 0 ] ||
    [ "$applied" != "$want_applied" ]; then
    head -c 2000 "$out" >&2
    echo >&2
    die "import: $side run $run reported rows ${rows:-?} changed ${changed:-?} unchanged ${unchanged:-?} error_count ${errors:-?} applied ${applied:-?}; expected $want_rows, $want_changed, $((want_rows - want_changed)), 0, $want_applied"
  fi
}

# target_verdict VALUE TARGET: "meets target" when VALUE <= TARGET.
target_verdict() {
  if [ "$1" = n/a ]; then echo "n/a (too fast to time; raise BENCH_ROWS)"
  elif awk -v v="$1" -v t="$2" 'BEGIN {exit !(v <= t)}'; then echo "meets target"
  else echo "MISSES target"; fi
}

# verdict_mark VERDICT: the verdict after ✅ or ❌.
verdict_mark() { if [ "$1" = "meets target" ]; then echo "✅ $1"; else echo "❌ $1"; fi; }

# The two reward rules (SPEC §3) of the "with rules" measurements of import and
# qualify (issue 6: within 1.3x of the same command without rules), added to each
# campaign the data uses. An approved referral never qualified before passes
# through qualified, so the first rule fires on it too.
REWARD_RULE_QUALIFIED=(--on qualified --to both --amount 10 --currency USD)
REWARD_RULE_APPROVED=(--on approved --to referrer --amount 50 --currency USD)
REWARD_RULES_TEXT="on qualified to both, 10 USD; on approved to referrer, 50 USD"
REWARDS_TARGET=1.3

# reward_rules_template TEMPLATE DB LABEL CAMPAIGN...: DB becomes a copy of TEMPLATE
# with the two reward rules added to each CAMPAIGN by `reftrack reward-rule add`
# (untimed), then checkpoint_template. Adding rules must issue no reward.
reward_rules_template() {
  local template=$1 db=$2 label=$3
  shift 3
  fresh_db "$db"
  cp "$template" "$db"
  : >"$OUT/runs/$label-rules.out"
  local c
  for c in "$@"; do
    "$REFTRACK" --db "$db" reward-rule add --campaign "$c" "${REWARD_RULE_QUALIFIED[@]}" \
      >>"$OUT/runs/$label-rules.out"
    "$REFTRACK" --db "$db" reward-rule add --campaign "$c" "${REWARD_RULE_APPROVED[@]}" \
      >>"$OUT/runs/$label-rules.out"
  done
  checkpoint_template "$db" "$label"
  local n
  n=$(sqlite3 "$db" 'SELECT count(*) FROM reward_rules WHERE removed_at IS NULL;')
  [ "$n" = "$((2 * $#))" ] || die "$label: the rules template holds $n active reward rules, expected $((2 * $#))"
  n=$(sqlite3 "$db" 'SELECT count(*) FROM rewards;')
  [ "$n" = 0 ] || die "$label: adding the reward rules issued $n rewards, expected none"
}

# The rewards of a database, as one line: their total, then per rule status and
# recipient ("approved/referrer N qualified/referred N qualified/referrer N") the
# rewards consistent with their rule and referral: the rule of the referral's
# campaign, issued, and a referrer's reward only for a referral that has a referrer
# (a reward's terms and referrer are its rule's and its referral's). A reward that is
# not consistent makes the total exceed the sum.
REWARDS_SQL="SELECT (SELECT count(*) FROM rewards) || ifnull(' ' || group_concat(s, ' '), '') FROM (
  SELECT ru.on_status || '/' || rw.recipient || ' ' || count(*) AS s
  FROM rewards rw JOIN reward_rules ru ON ru.id = rw.rule_id JOIN referrals r ON r.id = rw.referral_id
  WHERE ru.campaign_id = r.campaign_id AND rw.state = 'issued'
    AND (rw.recipient = 'referred' OR r.referrer_id IS NOT NULL)
  GROUP BY ru.on_status, rw.recipient ORDER BY ru.on_status, rw.recipient) t;"

# rewards_line APPROVED_REFERRER QUALIFIED_REFERRED QUALIFIED_REFERRER: the line
# REWARDS_SQL gives for these counts (groups of 0 left out).
rewards_line() {
  local line=$(($1 + $2 + $3))
  [ "$1" = 0 ] || line="$line approved/referrer $1"
  [ "$2" = 0 ] || line="$line qualified/referred $2"
  [ "$3" = 0 ] || line="$line qualified/referrer $3"
  echo "$line"
}

# rewards_words LINE: a REWARDS_SQL line in words.
rewards_words() {
  local -a w
  read -ra w <<<"$1"
  local text="${w[0]} rewards" i
  for ((i = 1; i + 1 < ${#w[@]}; i += 2)); do
    text="$text$([ "$i" = 1 ] && echo ": " || echo ", ")${w[i + 1]} on ${w[i]%/*} to the ${w[i]#*/}"
  done
  echo "$text"
}

# rewards_json LINE: a REWARDS_SQL line as a JSON object of counts.
rewards_json() {
  local -a w
  read -ra w <<<"$1"
  local json="{\"issued\": ${w[0]}" i
  for ((i = 1; i + 1 < ${#w[@]}; i += 2)); do json="$json, \"${w[i]/\//_}\": ${w[i + 1]}"; done
  echo "$json}"
}

bench_import() {
  local name=import
  local rows=$BENCH_ROWS
  local data=$OUT/data/referrals-$rows-$BENCH_MEMBERS
  local csv=$data/referrals.csv
  local udata=$OUT/data/updates-$rows
  local upd=$udata/updates.csv
  local template=$OUT/db/import-template.db
  local rtemplate=$OUT/db/import-rules-template.db
  local db=$OUT/db/import.db
  local rdb=$OUT/db/import-rules.db

  # The referrals of referral_load when it ran first; the same bytes otherwise.
  if [ ! -s "$csv" ] || [ ! -s "$data/members.csv" ]; then
    log "$name: generating $rows referrals, $BENCH_MEMBERS members"
    timed "$name-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 3 \
      --members "$BENCH_MEMBERS" --out "$data"
  fi
  log "$name: generating $rows updates"
  timed "$name-datagen-updates" "$DATAGEN" updates --rows "$rows" --out "$udata"
  local gen_s=$TIMED_S
  local upd_mb
  upd_mb=$(awk -v b="$(stat -c %s "$upd")" 'BEGIN {printf "%.1f", b / 1e6}')

  # What the file asks for: every referral once, so the referrals' statuses after
  # the update are the file's statuses, and every row not "pending" is a change.
  local want_counts want_changed want_unchanged
  want_counts=$(awk -F, 'NR > 1 {n[$2]++} END {for (s in n) print s, n[s]}' "$upd" |
    sort | paste -sd' ')
  want_changed=$(awk -F, 'NR > 1 && $2 != "pending" {c++} END {print c + 0}' "$upd")
  want_unchanged=$((rows - want_changed))

  # The template, once, untimed: what referral_load's reftrack side builds, with
  # its WAL checkpointed into the file so that a copy of the file is the database.
  log "$name: building the template database ($rows pending referrals)"
  referral_template "$template" "$data" 3 "$name"
  local setup_s=$TEMPLATE_SETUP_S
  local got
  got=$(status_counts "$template")
  [ "$got" = "pending $rows" ] || die "$name: the template holds \"$got\", expected \"pending $rows\""
  local history0 db_mb
  history0=$(sqlite3 "$template" 'SELECT count(*) FROM status_changes;')
  db_mb=$(awk -v b="$(stat -c %s "$template")" 'BEGIN {printf "%.1f", b / 1e6}')
  log "$name: template built in $setup_s s ($db_mb MB)"

  # What the sqlite3 shell uses on this database when nothing is set (the journal
  # mode is the file's: reftrack made it WAL), and the plan it picks for the UPDATE.
  local baseline_pragmas baseline_plan
  baseline_pragmas=$(sqlite3 "$template" 'PRAGMA journal_mode;' 'PRAGMA synchronous;' \
    'PRAGMA cache_size;' 'PRAGMA temp_store;' | paste -sd' ' | awk '{
      split("OFF NORMAL FULL EXTRA", sync, " ")
      split("DEFAULT FILE MEMORY", temp, " ")
      cache = $3 < 0 ? (-$3 " KiB") : ($3 " pages")
      printf "journal_mode=%s, synchronous=%s, cache_size=%s, temp_store=%s", $1, sync[$2 + 1], cache, temp[$4 + 1]}')
  baseline_plan=$(sqlite3 "$template" "$IMPORT_BASELINE_TABLE" "EXPLAIN QUERY PLAN $IMPORT_BASELINE_UPDATE" |
    sed '1d; s/^[|` -]*//' | paste -sd';' | sed 's/;/; /g')
  # The rewards the import must issue with the rules, counted with plain SQL from
  # the template and the file (every referral is pending and was never qualified):
  # approved with a referrer; qualified or approved; of those, with a referrer.
  local want_rewards
  want_rewards=$(sqlite3 -separator ' ' "$template" "$IMPORT_BASELINE_TABLE" \
    ".import --csv --skip 1 --schema temp '$upd' updates_csv" \
    "SELECT sum(u.status = 'approved' AND r.referrer_id IS NOT NULL),
       sum(u.status IN ('qualified', 'approved')),
       sum(u.status IN ('qualified', 'approved') AND r.referrer_id IS NOT NULL)
     FROM updates_csv u JOIN referrals r ON r.external_id = u.external_id;")
  [[ $want_rewards =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] ||
    die "$name: could not count the rewards expected: \"$want_rewards\""
  # shellcheck disable=SC2086
  want_rewards=$(rewards_line $want_rewards)
  rm -f "$template-wal" "$template-shm"
  log "$name: baseline $baseline_pragmas; plan: $baseline_plan"

  # The template with the two reward rules in each of the 3 campaigns.
  local -a campaigns=("Campaign 1" "Campaign 2" "Campaign 3")
  reward_rules_template "$template" "$rtemplate" "$name" "${campaigns[@]}"
  log "$name: rules template: $REWARD_RULES_TEXT, in each of ${#campaigns[@]} campaigns; the import should issue $(rewards_words "$want_rewards")"

  local -a base_s=() base_kib=() base_cpu=() pre_s=() pre_kib=() pre_cpu=() imp_s=() imp_kib=() imp_cpu=()
  local -a rul_s=() rul_kib=() rul_cpu=()
  local run
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Baseline: a fresh copy, then one timed sqlite3 process: create the temporary
    # table, .import the file into it, UPDATE referrals from it.
    import_copy "$template" "$db"
    timed "$name-baseline-$run" sqlite3 "$db" "$IMPORT_BASELINE_TABLE" \
      ".import --csv --skip 1 --schema temp '$upd' updates_csv" "$IMPORT_BASELINE_UPDATE"
    base_s+=("$TIMED_S")
    base_kib+=("$TIMED_KIB")
    base_cpu+=("$TIMED_CPU")
    got=$(status_counts "$db")
    if [ "$got" != "$want_counts" ]; then
      head -n 20 "$OUT/runs/$name-baseline-$run.err" >&2
      die "$name: after baseline run $run the referrals are \"$got\", expected \"$want_counts\""
    fi
    fresh_db "$db"
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  cpu ${base_cpu[-1]} s  $(mib "${base_kib[-1]}") MB  (load $(loadavg))"

    # reftrack preview: a fresh copy, the timed dry run; it must report every row
    # and change nothing.
    import_copy "$template" "$db"
    timed "$name-preview-$run" "$REFTRACK" --db "$db" import "$upd" --dry-run --json
    pre_s+=("$TIMED_S")
    pre_kib+=("$TIMED_KIB")
    pre_cpu+=("$TIMED_CPU")
    import_check_report preview "$run" false "$rows" "$want_changed"
    got=$(status_counts "$db")
    [ "$got" = "pending $rows" ] || die "$name: preview run $run changed the referrals to \"$got\""
    fresh_db "$db"
    log "$name: run $run/$BENCH_RUNS preview   ${pre_s[-1]} s  cpu ${pre_cpu[-1]} s  $(mib "${pre_kib[-1]}") MB  (load $(loadavg))"

    # reftrack import: a fresh copy, the timed import; the referrals must end as the
    # baseline's do, with one history row for each change.
    import_copy "$template" "$db"
    timed "$name-import-$run" "$REFTRACK" --db "$db" import "$upd" --json
    imp_s+=("$TIMED_S")
    imp_kib+=("$TIMED_KIB")
    imp_cpu+=("$TIMED_CPU")
    import_check_report import "$run" true "$rows" "$want_changed"
    [ -n "$(json_int "$OUT/runs/$name-import-$run.out" import_id)" ] ||
      die "$name: import run $run reported no import_id"
    got=$(status_counts "$db")
    [ "$got" = "$want_counts" ] ||
      die "$name: after import run $run the referrals are \"$got\", expected \"$want_counts\""
    local history
    history=$(sqlite3 "$db" 'SELECT count(*) FROM status_changes;')
    [ "$((history - history0))" = "$want_changed" ] ||
      die "$name: import run $run wrote $((history - history0)) history rows, expected $want_changed"
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then fresh_db "$db"; fi
    log "$name: run $run/$BENCH_RUNS import    ${imp_s[-1]} s  cpu ${imp_cpu[-1]} s  $(mib "${imp_kib[-1]}") MB  (load $(loadavg))"

    # reftrack import with reward rules: a fresh copy of the rules template, the
    # same timed import; the same checks, and the rewards counted from the file.
    import_copy "$rtemplate" "$rdb"
    timed "$name-rules-$run" "$REFTRACK" --db "$rdb" import "$upd" --json
    rul_s+=("$TIMED_S")
    rul_kib+=("$TIMED_KIB")
    rul_cpu+=("$TIMED_CPU")
    import_check_report rules "$run" true "$rows" "$want_changed"
    [ -n "$(json_int "$OUT/runs/$name-rules-$run.out" import_id)" ] ||
      die "$name: import with rules run $run reported no import_id"
    got=$(status_counts "$rdb")
    [ "$got" = "$want_counts" ] ||
      die "$name: after import with rules run $run the referrals are \"$got\", expected \"$want_counts\""
    history=$(sqlite3 "$rdb" 'SELECT count(*) FROM status_changes;')
    [ "$((history - history0))" = "$want_changed" ] ||
      die "$name: import with rules run $run wrote $((history - history0)) history rows, expected $want_changed"
    got=$(sqlite3 "$rdb" "$REWARDS_SQL")
    [ "$got" = "$want_rewards" ] ||
      die "$name: import with rules run $run issued rewards \"$got\", expected \"$want_rewards\" (total, then consistent rewards per rule status/recipient)"
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then fresh_db "$rdb"; fi
    log "$name: run $run/$BENCH_RUNS rules     ${rul_s[-1]} s  cpu ${rul_cpu[-1]} s  $(mib "${rul_kib[-1]}") MB  ${want_rewards%% *} rewards  (load $(loadavg))"
  done
  [ "$BENCH_KEEP" = 1 ] || fresh_db "$template"
  [ "$BENCH_KEEP" = 1 ] || fresh_db "$rtemplate"

  local base_med pre_med imp_med base_cpu_med pre_cpu_med imp_cpu_med
  local pre_r imp_r pre_cpu_r imp_cpu_r base_peak pre_peak imp_peak ref_peak
  base_med=$(median "${base_s[@]}")
  pre_med=$(median "${pre_s[@]}")
  imp_med=$(median "${imp_s[@]}")
  base_cpu_med=$(median "${base_cpu[@]}")
  pre_cpu_med=$(median "${pre_cpu[@]}")
  imp_cpu_med=$(median "${imp_cpu[@]}")
  pre_r=$(ratio "$pre_med" "$base_med")
  imp_r=$(ratio "$imp_med" "$base_med")
  pre_cpu_r=$(ratio "$pre_cpu_med" "$base_cpu_med")
  imp_cpu_r=$(ratio "$imp_cpu_med" "$base_cpu_med")
  base_peak=$(mib "$(max "${base_kib[@]}")")
  pre_peak=$(mib "$(max "${pre_kib[@]}")")
  imp_peak=$(mib "$(max "${imp_kib[@]}")")
  ref_peak=$(mib "$(max "${pre_kib[@]}" "${imp_kib[@]}")")
  local rul_med rul_cpu_med rul_r rul_cpu_r rul_peak rul_verdict
  rul_med=$(median "${rul_s[@]}")
  rul_cpu_med=$(median "${rul_cpu[@]}")
  rul_r=$(ratio "$rul_med" "$imp_med")
  rul_cpu_r=$(ratio "$rul_cpu_med" "$imp_cpu_med")
  rul_peak=$(mib "$(max "${rul_kib[@]}")")
  rul_verdict=$(target_verdict "$rul_r" "$REWARDS_TARGET")
  local rewards_n=${want_rewards%% *}

  local pre_verdict imp_verdict mem_verdict
  pre_verdict=$(target_verdict "$pre_r" 0.3)
  imp_verdict=$(target_verdict "$imp_r" 0.5)
  mem_verdict=$(target_verdict "$ref_peak" 300)
  local all_met=false
  if [ "$pre_verdict" = "meets target" ] && [ "$imp_verdict" = "meets target" ] &&
    [ "$mem_verdict" = "meets target" ]; then all_met=true; fi

  local title
  title="import ($(human "$rows") rows)"
  {
    echo
    echo "$title, $BENCH_RUNS runs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  %-36s %9s %9s %9s  %s\n' "" "median s" "cpu s" "peak MB" "runs (wall s)"
    printf '  %-36s %9s %9s %9s  %s\n' "baseline (sqlite3 .import + UPDATE)" "$base_med" \
      "$base_cpu_med" "$base_peak" "${base_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack import --dry-run" "$pre_med" "$pre_cpu_med" \
      "$pre_peak" "${pre_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack import" "$imp_med" "$imp_cpu_med" \
      "$imp_peak" "${imp_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack import, 2 reward rules" "$rul_med" "$rul_cpu_med" \
      "$rul_peak" "${rul_s[*]}  ($rewards_n rewards)"
    printf '  %-36s %9s %9s  (target <= 0.3x on wall time: %s)\n' "ratio preview / baseline" \
      "${pre_r}x" "${pre_cpu_r}x" "$pre_verdict"
    printf '  %-36s %9s %9s  (target <= 0.5x on wall time: %s)\n' "ratio import / baseline" \
      "${imp_r}x" "${imp_cpu_r}x" "$imp_verdict"
    printf '  %-36s %9s %9s  (target <= %sx on wall time: %s)\n' "ratio import with / without rules" \
      "${rul_r}x" "${rul_cpu_r}x" "$REWARDS_TARGET" "$rul_verdict"
    printf '  %-36s %9s  (target <= 300 MB: %s)\n' "reftrack peak memory" "$ref_peak MB" "$mem_verdict"
    echo
  }

  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "runs": $BENCH_RUNS,
  "members": $BENCH_MEMBERS,
  "campaigns": 3,
  "csv_mb": $upd_mb,
  "datagen_s": $gen_s,
  "changed": $want_changed,
  "unchanged": $want_unchanged,
  "statuses_after": $(json_str "$want_counts"),
  "template_db_mb": $db_mb,
  "template_setup_s": $setup_s,
  "baseline": {
    "command": $(json_str "sqlite3 DB \"$IMPORT_BASELINE_TABLE\" \".import --csv --skip 1 --schema temp updates.csv updates_csv\" \"$(echo "$IMPORT_BASELINE_UPDATE" | paste -sd' ' | tr -s ' ')\""),
    "pragmas": $(json_str "$baseline_pragmas"),
    "update_plan": $(json_str "$baseline_plan"),
    "wall_s": $(json_list "${base_s[@]}"),
    "peak_rss_kib": $(json_list "${base_kib[@]}"),
    "median_s": $base_med,
    "cpu_s": $(json_list "${base_cpu[@]}"),
    "median_cpu_s": $base_cpu_med,
    "peak_mb": $base_peak
  },
  "preview": {
    "command": "reftrack --db DB import updates.csv --dry-run --json",
    "wall_s": $(json_list "${pre_s[@]}"),
    "peak_rss_kib": $(json_list "${pre_kib[@]}"),
    "median_s": $pre_med,
    "cpu_s": $(json_list "${pre_cpu[@]}"),
    "median_cpu_s": $pre_cpu_med,
    "peak_mb": $pre_peak
  },
  "import": {
    "command": "reftrack --db DB import updates.csv --json",
    "wall_s": $(json_list "${imp_s[@]}"),
    "peak_rss_kib": $(json_list "${imp_kib[@]}"),
    "median_s": $imp_med,
    "cpu_s": $(json_list "${imp_cpu[@]}"),
    "median_cpu_s": $imp_cpu_med,
    "peak_mb": $imp_peak
  },
  "import_rules": {
    "command": "reftrack --db DB import updates.csv --json",
    "reward_rules": $(json_str "$REWARD_RULES_TEXT; in each of the ${#campaigns[@]} campaigns"),
    "rewards": $(rewards_json "$want_rewards"),
    "wall_s": $(json_list "${rul_s[@]}"),
    "peak_rss_kib": $(json_list "${rul_kib[@]}"),
    "median_s": $rul_med,
    "cpu_s": $(json_list "${rul_cpu[@]}"),
    "median_cpu_s": $rul_cpu_med,
    "peak_mb": $rul_peak
  },
  "preview_ratio": $(json_num "$pre_r"),
  "preview_cpu_ratio": $(json_num "$pre_cpu_r"),
  "import_ratio": $(json_num "$imp_r"),
  "import_cpu_ratio": $(json_num "$imp_cpu_r"),
  "import_rules_ratio": $(json_num "$rul_r"),
  "import_rules_cpu_ratio": $(json_num "$rul_cpu_r"),
  "target_preview_ratio": 0.3,
  "target_import_ratio": 0.5,
  "target_import_rules_ratio": $REWARDS_TARGET,
  "target_peak_mb": 300,
  "peak_mb": $ref_peak,
  "meets_target": $all_met,
  "meets_import_rules_target": $([ "$rul_verdict" = "meets target" ] && echo true || echo false),
  "nproc": $NPROC,
  "ram_gib": $RAM_GIB,
  "sqlite3_version": $(json_str "$SQLITE_VERSION")
}
EOF

  local repro="BENCH_ONLY=$name BENCH_ROWS=$rows BENCH_RUNS=$BENCH_RUNS" repro_note=""
  if [ "$BENCH_MEMBERS" != 10000 ]; then repro="$repro BENCH_MEMBERS=$BENCH_MEMBERS"; fi
  if [ "$rows" = 1000000 ] && [ "$BENCH_RUNS" = 3 ] && [ "$BENCH_MEMBERS" = 10000 ]; then
    repro_note=" (the defaults: \`BENCH_ONLY=$name make bench\` does the same)"
  fi
  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

A bulk status update of $rows rows ($upd_mb MB of CSV, one status for every referral,
keyed by external id) against a database of $rows pending referrals: reftrack's
preview (\`import --dry-run\`) and \`import\`, each compared with the sqlite3
command-line shell importing the same file into a temporary table and updating
the referrals from it with one statement.

| | median wall time | runs (wall s) | median CPU time | peak memory |
|---|---:|---|---:|---:|
| baseline: \`sqlite3 .import\` + \`UPDATE … FROM\` | $base_med s | ${base_s[*]} | $base_cpu_med s | $base_peak MB |
| reftrack: \`import --dry-run\` (preview) | $pre_med s | ${pre_s[*]} | $pre_cpu_med s | $pre_peak MB |
| reftrack: \`import\` | $imp_med s | ${imp_s[*]} | $imp_cpu_med s | $imp_peak MB |
| reftrack: \`import\` with 2 reward rules per campaign ($rewards_n rewards issued) | $rul_med s | ${rul_s[*]} | $rul_cpu_med s | $rul_peak MB |
| **ratio preview / baseline** | **${pre_r}x** | target ≤ 0.3x: $(verdict_mark "$pre_verdict") | ${pre_cpu_r}x | |
| **ratio import / baseline** | **${imp_r}x** | target ≤ 0.5x: $(verdict_mark "$imp_verdict") | ${imp_cpu_r}x | |
| **ratio import with rules / without** | **${rul_r}x** | target ≤ ${REWARDS_TARGET}x: $(verdict_mark "$rul_verdict") | ${rul_cpu_r}x | |
| **reftrack peak memory** | | target ≤ 300 MB: $(verdict_mark "$mem_verdict") | | **$ref_peak MB** |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\` ($BUILD_TYPE build) on $NPROC CPUs
($CPU_MODEL), $RAM_GIB GiB RAM, $OS, sqlite3 $SQLITE_VERSION; median of $BENCH_RUNS runs.

Reproduce: \`$repro make bench\`$repro_note;
\`BENCH_ONLY=$name BENCH_ROWS=100000 make bench\` gives a quick look.
\`bench/run.sh BUILD_DIR\` runs the benchmarks without rebuilding.

What is measured:

- **Data**: the referrals and members of the referral load benchmark above (same
  generator, same seed, same bytes), and \`reftrack_datagen updates --rows $rows\`
  (fixed seed): header \`referralkey_externalid,status\`, one row for each referral
  \`crm-1\`..\`crm-$rows\` in a scrambled order, so the keys reach the indexes in
  random order; statuses about 40% qualified, 30% approved, 20% denied and 10%
  pending. Against pending referrals every row is valid: $want_changed rows change
  a referral, $want_unchanged (pending to pending) change nothing.
- **Database**: built once, untimed, as the referral load benchmark's reftrack side
  builds it (\`campaign add\` three times, \`member load\`, \`referral load\`:
  $rows pending referrals, $db_mb MB after a WAL checkpoint, $setup_s s). Before
  every timed command, on either side, the file is copied afresh and the copy
  flushed to disk (\`sync\`); all three start from the same bytes, warm in the
  page cache.
- **Baseline**: one timed sqlite3 process on the copy, with the shell's defaults
  ($baseline_pragmas; WAL is the file's own journal mode, set by reftrack):
  \`CREATE TEMP TABLE updates_csv (external_id TEXT, status TEXT)\`,
  \`.import --csv --skip 1 --schema temp updates.csv updates_csv\` (a bare table,
  no index), then \`UPDATE referrals SET status = updates_csv.status FROM
  updates_csv WHERE referrals.external_id = updates_csv.external_id\` (plan:
  $baseline_plan). It checks nothing: no status rules, no key that matches
  nothing or several referrals, no status spelling; it sets no timestamps, writes
  no history, records no import and reports nothing. Checked afterwards, untimed:
  the referrals' statuses count as the file's ($want_counts).
- **reftrack preview**: \`reftrack --db DB import updates.csv --dry-run --json\` on
  its own copy: parses the file, resolves every key to its referral, checks every
  row against the status rules in file order, and reports the counts, the
  transitions and every error, changing nothing. Checked: its JSON says rows =
  $rows, changed = $want_changed, unchanged = $want_unchanged, error_count = 0,
  applied = false, and the referrals are all still pending.
- **reftrack import**: \`reftrack --db DB import updates.csv --json\` on its own
  copy: the same reading and checking, then, in one transaction, every change
  with its timestamps and one history row each, and the import recorded (file
  name, SHA-256, counts), with reftrack's own settings (see
  src/store/sqlite/sqlite_store.cc). Checked: the same JSON counts with
  applied = true and an import_id, the referrals' statuses equal the
  baseline's, and $want_changed new history rows.
- **reftrack import with reward rules** (issue 6): the same command on a copy of a
  second template, the database above plus two reward rules (SPEC §3) in each of
  its ${#campaigns[@]} campaigns, added untimed with \`reftrack reward-rule add\`: $REWARD_RULES_TEXT.
  A referral approved without having been qualified passes through qualified,
  so the first rule fires on every row to qualified or approved, the second on
  every row to approved whose referral has a referrer; the rewards go in the
  import's transaction. Checked: everything the import above is checked for, and
  $(rewards_words "$want_rewards") (counted with plain SQL from the template and the
  file), each with its rule's campaign, amount and currency, the referrer's going to
  the referral's referrer. Target: median wall time with the rules ≤ ${REWARDS_TARGET}x that
  of the import without.
- **Timing**: \`/usr/bin/time -f '%e %M %U %S'\` around the timed command only;
  each run does baseline, preview, import and import with rules in turn to share
  the machine's noise. The ratio targets apply to median wall times; the memory
  target to the largest peak resident memory of any preview or import run
  without rules (the import with rules has its own peak in the table).
EOF
  write_fragment 30 "$name"
}

# ---------------------------------------------------------------------------
# Benchmark: qualify by upload (SPEC §4.2)
#
# A BENCH_ROWS-line headerless list of emails (`reftrack_datagen qualify-list`: 70%
# emails of existing referrals in mixed case, 30% unknown) against BENCH_ROWS
# referrals, all in "Campaign 1" (`reftrack_datagen referrals --campaigns 1`), whose
# statuses were mixed once, untimed, in a template database. Each run, on fresh
# copies of the template: the baseline (the file into a temporary table, one join
# picking the referrals to qualify, one INSERT of history rows, one UPDATE), then
# reftrack's `qualify --dry-run` and `qualify`. qualify works on SQLite,
# qualify_postgres on the server of REFTRACK_TEST_POSTGRES_URL.

QUALIFY_CAMPAIGN="Campaign 1"

# The status mix of the template, by id % 100 (ids are in load order; the list names
# referrals in scrambled order): 0-9 qualified, 10-14 approved (which sets
# qualified_at too), 15-19 denied after being qualified, 20-22 denied and never
# qualified, 23-24 pending again after being qualified, 25-99 still pending. Each
# change has its history rows, as reftrack would have written them. qualify_mix_sql
# AT: the SQL, with AT the SQL expression of the moment of these changes.
qualify_mix_sql() {
  local at=$1
  cat <<EOF
BEGIN;
UPDATE referrals SET
  status = CASE WHEN id % 100 < 10 THEN 'qualified' WHEN id % 100 < 15 THEN 'approved'
                WHEN id % 100 < 23 THEN 'denied' ELSE 'pending' END,
  qualified_at = CASE WHEN id % 100 BETWEEN 20 AND 22 THEN NULL ELSE $at END,
  approved_at = CASE WHEN id % 100 BETWEEN 10 AND 14 THEN $at END,
  denied_at = CASE WHEN id % 100 BETWEEN 15 AND 22 THEN $at END,
  status_changed_at = $at
  WHERE id % 100 < 25;
INSERT INTO status_changes (referral_id, from_status, to_status, at, source, actor)
  SELECT id, 'pending', CASE WHEN id % 100 BETWEEN 10 AND 14 THEN 'approved'
                             WHEN id % 100 BETWEEN 20 AND 22 THEN 'denied' ELSE 'qualified' END,
         $at, 'import', 'bench set-up'
  FROM referrals WHERE id % 100 < 25 ORDER BY id;
INSERT INTO status_changes (referral_id, from_status, to_status, at, source, actor)
  SELECT id, 'qualified', CASE WHEN id % 100 < 20 THEN 'denied' ELSE 'pending' END,
         $at, 'import', 'bench set-up'
  FROM referrals WHERE id % 100 BETWEEN 15 AND 19 OR id % 100 BETWEEN 23 AND 24 ORDER BY id;
COMMIT;
EOF
}
QUALIFY_MIX_TEXT="10% qualified, 5% approved, 5% denied after being qualified, 3% denied and never qualified, 2% pending again after being qualified, 75% pending"

# qualify_baseline_sql NOW: the baseline's SQL after the list is in the temporary
# table list_csv(value), with NOW the SQL expression of the current time. One
# transaction: one join picks the referrals never qualified that are pending or
# denied, among the campaign's referrals whose email is a value of the list
# (trimmed, lower-cased, once each); one INSERT writes their history rows; one
# UPDATE qualifies them.
QUALIFY_HITS_SQL="SELECT r.id, r.status FROM (SELECT DISTINCT lower(trim(value)) AS email FROM list_csv) l
  JOIN referrals r ON r.email = l.email
  WHERE r.campaign_id = (SELECT id FROM campaigns WHERE name = '$QUALIFY_CAMPAIGN')
    AND r.qualified_at IS NULL AND r.status IN ('pending', 'denied')"
qualify_baseline_sql() {
  local now=$1
  cat <<EOF
BEGIN;
CREATE TEMP TABLE hits AS
  $QUALIFY_HITS_SQL;
INSERT INTO status_changes (referral_id, from_status, to_status, at, source)
  SELECT id, status, 'qualified', $now, 'qualify_upload' FROM hits;
UPDATE referrals SET status = 'qualified', qualified_at = $now, status_changed_at = $now
  WHERE id IN (SELECT id FROM hits);
COMMIT;
EOF
}
QUALIFY_SQLITE_NOW="strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'"
QUALIFY_PG_NOW="now()"

# What a correct qualify reports for the list, counted with plain SQL on the
# template (list_csv as above): non-blank lines, distinct values, values matching
# a referral of the campaign, and of those, never qualified and pending or denied
# (to qualify), qualified before and denied now (not allowed).
QUALIFY_EXPECT_SQL="WITH v AS (SELECT DISTINCT lower(trim(value)) AS email FROM list_csv WHERE trim(value) <> ''),
m AS (SELECT r.status, r.qualified_at FROM v JOIN referrals r ON r.email = v.email
      WHERE r.campaign_id = (SELECT id FROM campaigns WHERE name = '$QUALIFY_CAMPAIGN'))
SELECT (SELECT count(*) FROM list_csv WHERE trim(value) <> ''), (SELECT count(*) FROM v),
  (SELECT count(*) FROM m),
  (SELECT count(*) FROM m WHERE qualified_at IS NULL AND status IN ('pending', 'denied')),
  (SELECT count(*) FROM m WHERE qualified_at IS NOT NULL AND status = 'denied');"

# The state qualify changes, as one line: per status, count and sum of ids; history
# rows; history rows of qualify uploads.
QUALIFY_STATE_SQL="SELECT group_concat(s, ' ') FROM (
  SELECT status || ' ' || count(*) || ' ' || sum(id) AS s FROM referrals GROUP BY status
  UNION ALL SELECT 'history ' || count(*) FROM status_changes
  UNION ALL SELECT 'uploads ' || count(*) FROM status_changes WHERE source = 'qualify_upload') t;"
QUALIFY_STATE_SQL_PG="SELECT string_agg(s, ' ' ORDER BY k, s) FROM (
  SELECT 0 AS k, status || ' ' || count(*) || ' ' || sum(id) AS s FROM referrals GROUP BY status
  UNION ALL SELECT 1, 'history ' || count(*) FROM status_changes
  UNION ALL SELECT 2, 'uploads ' || count(*) FROM status_changes WHERE source = 'qualify_upload') t;"

# qualify_data: the referrals (one campaign) and the list for BENCH_ROWS, generated
# unless present. Sets QUALIFY_REFERRALS (the folder of referrals.csv and members.csv),
# QUALIFY_LIST (the list file), QUALIFY_LIST_MB, QUALIFY_DATAGEN_S (seconds to
# generate the list, 0 when it was there) and QUALIFY_DATAGEN_CMD.
QUALIFY_REFERRALS=""
QUALIFY_LIST=""
QUALIFY_LIST_MB=""
QUALIFY_DATAGEN_S=0
QUALIFY_DATAGEN_CMD=""
qualify_data() {
  local label=$1 rows=$BENCH_ROWS
  QUALIFY_DATAGEN_S=0
  QUALIFY_REFERRALS=$OUT/data/referrals-$rows-$BENCH_MEMBERS-c1
  local qdata=$OUT/data/qualify-$rows
  QUALIFY_LIST=$qdata/qualify.csv
  QUALIFY_DATAGEN_CMD="reftrack_datagen qualify-list --rows $rows --referrals $rows --campaigns 1 --campaign-index 0"
  if [ ! -s "$QUALIFY_REFERRALS/referrals.csv" ] || [ ! -s "$QUALIFY_REFERRALS/members.csv" ]; then
    log "$label: generating $rows referrals in one campaign, $BENCH_MEMBERS members"
    timed "$label-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 1 \
      --members "$BENCH_MEMBERS" --out "$QUALIFY_REFERRALS"
  fi
  if [ ! -s "$QUALIFY_LIST" ]; then
    log "$label: generating a $rows-line list"
    timed "$label-datagen-list" "$DATAGEN" qualify-list --rows "$rows" --referrals "$rows" \
      --campaigns 1 --campaign-index 0 --out "$qdata"
    QUALIFY_DATAGEN_S=$TIMED_S
  fi
  QUALIFY_LIST_MB=$(awk -v b="$(stat -c %s "$QUALIFY_LIST")" 'BEGIN {printf "%.1f", b / 1e6}')
}

# qualify_check_report LABEL RUN APPLIED EXPECTED: dies unless the JSON report of
# bench/out/runs/LABEL-RUN.out holds the counts EXPECTED ("lines recognized matched
# qualified not_allowed"), not_recognized = 0, the invariants of SPEC §4.2
# (recognized = matched + unmatched, matched = qualified + already_qualified +
# not_allowed), applied = APPLIED, and an upload_id when applied. Sets
# QUALIFY_REPORTED (its qualified).
QUALIFY_REPORTED=
qualify_check_report() {
  local label=$1 run=$2 want_applied=$3
  local out=$OUT/runs/$label-$run.out
  local w_lines w_rec w_matched w_qual w_na
  read -r w_lines w_rec w_matched w_qual w_na <<<"$4"
  local lines rec notrec matched qual already na unmatched applied upload
  lines=$(json_int "$out" lines)
  rec=$(json_int "$out" recognized)
  notrec=$(json_int "$out" not_recognized)
  matched=$(json_int "$out" matched)
  qual=$(json_int "$out" qualified)
  already=$(json_int "$out" already_qualified)
  na=$(json_int "$out" not_allowed)
  unmatched=$(json_int "$out" unmatched)
  applied=$(grep -o '"applied": *[a-z]*' "$out" | head -n 1 | grep -o '[a-z]*$' || true)
  upload=$(json_int "$out" upload_id)
  local got="lines ${lines:-?} recognized ${rec:-?} not_recognized ${notrec:-?} matched ${matched:-?} qualified ${qual:-?} already_qualified ${already:-?} not_allowed ${na:-?} unmatched ${unmatched:-?} applied ${applied:-?} upload_id ${upload:-none}"
  local want="lines $w_lines recognized $w_rec not_recognized 0 matched $w_matched qualified $w_qual already_qualified $((w_matched - w_qual - w_na)) not_allowed $w_na unmatched $((w_rec - w_matched)) applied $want_applied"
  local bad=""
  if [ -z "$lines" ] || [ -z "$rec" ] || [ -z "$notrec" ] || [ -z "$matched" ] || [ -z "$qual" ] ||
    [ -z "$already" ] || [ -z "$na" ] || [ -z "$unmatched" ]; then
    bad="a count is missing"
  elif [ "$rec" != "$((matched + unmatched))" ]; then
    bad="recognized != matched + unmatched"
  elif [ "$matched" != "$((qual + already + na))" ]; then
    bad="matched != qualified + already_qualified + not_allowed"
  elif [ "${got% upload_id *}" != "$want" ]; then
    bad="counts differ from the list's"
  elif [ "$want_applied" = true ] && [ -z "$upload" ]; then
    bad="no upload_id"
  elif [ "$want_applied" = false ] && [ -n "$upload" ]; then
    bad="an upload_id in a dry run"
  fi
  if [ -n "$bad" ]; then
    head -c 2000 "$out" >&2
    echo >&2
    head -n 20 "$OUT/runs/$label-$run.err" >&2
    die "$label run $run: $bad; reported: $got; expected: $want"
  fi
  QUALIFY_REPORTED=$qual
}

# qualify_expect_words EXPECTED: the counts of qualify_check_report's EXPECTED in
# words, for the logs and the section text.
qualify_expect_words() {
  local l r m q n
  read -r l r m q n <<<"$1"
  echo "$l non-blank lines, $r distinct values (recognized), $m matching a referral of \"$QUALIFY_CAMPAIGN\" (matched; $((r - m)) unmatched), of which $q to qualify (pending or denied, never qualified), $((m - q - n)) already qualified and $n not allowed (denied after being qualified)"
}

bench_qualify() {
  local name=qualify
  local rows=$BENCH_ROWS
  local template=$OUT/db/qualify-template.db
  local rtemplate=$OUT/db/qualify-rules-template.db
  local db=$OUT/db/qualify.db
  local rdb=$OUT/db/qualify-rules.db

  qualify_data "$name"
  local list=$QUALIFY_LIST

  # The template, once, untimed: referral_load's reftrack side with one campaign,
  # then the status mix (plain SQL, set-up only), checkpointed into the file.
  log "$name: building the template database ($rows referrals in \"$QUALIFY_CAMPAIGN\")"
  referral_template "$template" "$QUALIFY_REFERRALS" 1 "$name"
  local setup_s=$TEMPLATE_SETUP_S
  local created
  created=$(json_int "$OUT/runs/$name-referrals.out" created)
  [ "$created" = "$rows" ] || die "$name: the template's referral load created ${created:-?} referrals, expected $rows"
  local mix_at
  mix_at=$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)
  sqlite3 "$template" "$(qualify_mix_sql "'$mix_at'")"
  checkpoint_template "$template" "$name"
  local template_counts template_state db_mb
  template_counts=$(status_counts "$template")
  template_state=$(sqlite3 "$template" "$QUALIFY_STATE_SQL")
  db_mb=$(awk -v b="$(stat -c %s "$template")" 'BEGIN {printf "%.1f", b / 1e6}')

  # What the list should give, counted with plain SQL on the template (a temporary
  # table only: the file is not changed), and the baseline's plan for its join.
  local expect baseline_pragmas baseline_plan
  expect=$(sqlite3 -separator ' ' "$template" 'CREATE TEMP TABLE list_csv (value TEXT);' \
    ".import --csv --schema temp '$list' list_csv" "$QUALIFY_EXPECT_SQL")
  [[ $expect =~ ^[0-9]+( [0-9]+){4}$ ]] || die "$name: could not count the list's expected figures: \"$expect\""
  [ "${expect%% *}" = "$rows" ] || die "$name: the list has ${expect%% *} non-blank lines, expected $rows"
  baseline_pragmas=$(sqlite3 "$template" 'PRAGMA journal_mode;' 'PRAGMA synchronous;' \
    'PRAGMA cache_size;' 'PRAGMA temp_store;' | paste -sd' ' | awk '{
      split("OFF NORMAL FULL EXTRA", sync, " ")
      split("DEFAULT FILE MEMORY", temp, " ")
      cache = $3 < 0 ? (-$3 " KiB") : ($3 " pages")
      printf "journal_mode=%s, synchronous=%s, cache_size=%s, temp_store=%s", $1, sync[$2 + 1], cache, temp[$4 + 1]}')
  baseline_plan=$(sqlite3 "$template" 'CREATE TEMP TABLE list_csv (value TEXT);' \
    "EXPLAIN QUERY PLAN $QUALIFY_HITS_SQL;" |
    sed '1d; s/^[|` -]*//' | paste -sd';' | sed 's/;/; /g')
  # The rewards the apply must issue with the rules, counted with plain SQL: the
  # referrals the baseline's join picks enter qualified (none approved), so one
  # reward to the referred each and one to the referrer of those that have one.
  local want_rewards
  want_rewards=$(sqlite3 -separator ' ' "$template" 'CREATE TEMP TABLE list_csv (value TEXT);' \
    ".import --csv --schema temp '$list' list_csv" \
    "SELECT count(*), count(referrer_id) FROM referrals WHERE id IN (SELECT id FROM ($QUALIFY_HITS_SQL));")
  [[ $want_rewards =~ ^[0-9]+\ [0-9]+$ ]] ||
    die "$name: could not count the rewards expected: \"$want_rewards\""
  # shellcheck disable=SC2086
  want_rewards=$(rewards_line 0 $want_rewards)
  rm -f "$template-wal" "$template-shm"
  local want_q=${expect#* * * }
  want_q=${want_q%% *}
  log "$name: template built in $setup_s s ($db_mb MB): $template_counts"
  log "$name: the list should give: $(qualify_expect_words "$expect")"
  log "$name: baseline $baseline_pragmas; join plan: $baseline_plan"

  # The template with the two reward rules in the campaign the list qualifies.
  reward_rules_template "$template" "$rtemplate" "$name" "$QUALIFY_CAMPAIGN"
  log "$name: rules template: $REWARD_RULES_TEXT, in \"$QUALIFY_CAMPAIGN\"; the apply should issue $(rewards_words "$want_rewards")"

  local -a base_s=() base_kib=() base_cpu=() dry_s=() dry_kib=() dry_cpu=() app_s=() app_kib=() app_cpu=()
  local -a rul_s=() rul_kib=() rul_cpu=()
  local run got base_state=""
  local -a qcmd=(qualify "$list" --by email --campaign "$QUALIFY_CAMPAIGN")
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Baseline: a fresh copy, then one timed sqlite3 process.
    import_copy "$template" "$db"
    timed "$name-baseline-$run" sqlite3 "$db" 'CREATE TEMP TABLE list_csv (value TEXT);' \
      ".import --csv --schema temp '$list' list_csv" "$(qualify_baseline_sql "$QUALIFY_SQLITE_NOW")"
    base_s+=("$TIMED_S")
    base_kib+=("$TIMED_KIB")
    base_cpu+=("$TIMED_CPU")
    got=$(sqlite3 "$db" "SELECT count(*) FROM status_changes WHERE source = 'qualify_upload';")
    if [ "$got" != "$want_q" ]; then
      head -n 20 "$OUT/runs/$name-baseline-$run.err" >&2
      die "$name: baseline run $run qualified $got referrals, expected $want_q"
    fi
    base_state=$(sqlite3 "$db" "$QUALIFY_STATE_SQL")
    fresh_db "$db"
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  cpu ${base_cpu[-1]} s  $(mib "${base_kib[-1]}") MB  (load $(loadavg))"

    # reftrack dry run: a fresh copy; it must report the list's figures and change nothing.
    import_copy "$template" "$db"
    timed "$name-dry-run-$run" "$REFTRACK" --db "$db" "${qcmd[@]}" --dry-run --json
    dry_s+=("$TIMED_S")
    dry_kib+=("$TIMED_KIB")
    dry_cpu+=("$TIMED_CPU")
    qualify_check_report "$name-dry-run" "$run" false "$expect"
    local dry_q=$QUALIFY_REPORTED
    got=$(sqlite3 "$db" "$QUALIFY_STATE_SQL")
    [ "$got" = "$template_state" ] ||
      die "$name: dry run $run changed the database: \"$got\", was \"$template_state\""
    fresh_db "$db"
    log "$name: run $run/$BENCH_RUNS dry run   ${dry_s[-1]} s  cpu ${dry_cpu[-1]} s  $(mib "${dry_kib[-1]}") MB  (load $(loadavg))"

    # reftrack apply: a fresh copy; the same figures, and the database must end as
    # the baseline's: the same referrals in each status, as many history rows.
    import_copy "$template" "$db"
    timed "$name-apply-$run" "$REFTRACK" --db "$db" "${qcmd[@]}" --json
    app_s+=("$TIMED_S")
    app_kib+=("$TIMED_KIB")
    app_cpu+=("$TIMED_CPU")
    qualify_check_report "$name-apply" "$run" true "$expect"
    [ "$QUALIFY_REPORTED" = "$dry_q" ] ||
      die "$name: run $run: the dry run would qualify $dry_q, the apply qualified $QUALIFY_REPORTED"
    got=$(sqlite3 "$db" "$QUALIFY_STATE_SQL")
    [ "$got" = "$base_state" ] ||
      die "$name: after apply run $run the database is \"$got\"; after the baseline \"$base_state\" (before: \"$template_state\")"
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then fresh_db "$db"; fi
    log "$name: run $run/$BENCH_RUNS apply     ${app_s[-1]} s  cpu ${app_cpu[-1]} s  $(mib "${app_kib[-1]}") MB  (load $(loadavg))"

    # reftrack apply with reward rules: a fresh copy of the rules template, the same
    # timed apply; the same checks, and the rewards counted from the list.
    import_copy "$rtemplate" "$rdb"
    timed "$name-rules-$run" "$REFTRACK" --db "$rdb" "${qcmd[@]}" --json
    rul_s+=("$TIMED_S")
    rul_kib+=("$TIMED_KIB")
    rul_cpu+=("$TIMED_CPU")
    qualify_check_report "$name-rules" "$run" true "$expect"
    [ "$QUALIFY_REPORTED" = "$dry_q" ] ||
      die "$name: run $run: the dry run would qualify $dry_q, the apply with rules qualified $QUALIFY_REPORTED"
    got=$(sqlite3 "$rdb" "$QUALIFY_STATE_SQL")
    [ "$got" = "$base_state" ] ||
      die "$name: after apply with rules run $run the database is \"$got\"; after the baseline \"$base_state\" (before: \"$template_state\")"
    got=$(sqlite3 "$rdb" "$REWARDS_SQL")
    [ "$got" = "$want_rewards" ] ||
      die "$name: apply with rules run $run issued rewards \"$got\", expected \"$want_rewards\" (total, then consistent rewards per rule status/recipient)"
    if [ "$BENCH_KEEP" != 1 ] || [ "$run" -lt "$BENCH_RUNS" ]; then fresh_db "$rdb"; fi
    log "$name: run $run/$BENCH_RUNS rules     ${rul_s[-1]} s  cpu ${rul_cpu[-1]} s  $(mib "${rul_kib[-1]}") MB  ${want_rewards%% *} rewards  (load $(loadavg))"
  done
  [ "$BENCH_KEEP" = 1 ] || fresh_db "$template"
  [ "$BENCH_KEEP" = 1 ] || fresh_db "$rtemplate"

  local base_med dry_med app_med base_cpu_med dry_cpu_med app_cpu_med
  local dry_r app_r dry_cpu_r app_cpu_r base_peak dry_peak app_peak ref_peak
  base_med=$(median "${base_s[@]}")
  dry_med=$(median "${dry_s[@]}")
  app_med=$(median "${app_s[@]}")
  base_cpu_med=$(median "${base_cpu[@]}")
  dry_cpu_med=$(median "${dry_cpu[@]}")
  app_cpu_med=$(median "${app_cpu[@]}")
  dry_r=$(ratio "$dry_med" "$base_med")
  app_r=$(ratio "$app_med" "$base_med")
  dry_cpu_r=$(ratio "$dry_cpu_med" "$base_cpu_med")
  app_cpu_r=$(ratio "$app_cpu_med" "$base_cpu_med")
  base_peak=$(mib "$(max "${base_kib[@]}")")
  dry_peak=$(mib "$(max "${dry_kib[@]}")")
  app_peak=$(mib "$(max "${app_kib[@]}")")
  ref_peak=$(mib "$(max "${dry_kib[@]}" "${app_kib[@]}")")
  local rul_med rul_cpu_med rul_r rul_cpu_r rul_peak rul_verdict
  rul_med=$(median "${rul_s[@]}")
  rul_cpu_med=$(median "${rul_cpu[@]}")
  rul_r=$(ratio "$rul_med" "$app_med")
  rul_cpu_r=$(ratio "$rul_cpu_med" "$app_cpu_med")
  rul_peak=$(mib "$(max "${rul_kib[@]}")")
  rul_verdict=$(target_verdict "$rul_r" "$REWARDS_TARGET")
  local rewards_n=${want_rewards%% *}

  local dry_verdict app_verdict mem_verdict
  dry_verdict=$(target_verdict "$dry_r" 0.2)
  app_verdict=$(target_verdict "$app_r" 0.35)
  mem_verdict=$(target_verdict "$ref_peak" 250)
  local all_met=false
  if [ "$dry_verdict" = "meets target" ] && [ "$app_verdict" = "meets target" ] &&
    [ "$mem_verdict" = "meets target" ]; then all_met=true; fi

  local title
  title="qualify by upload ($(human "$rows") lines)"
  {
    echo
    echo "$title, $BENCH_RUNS runs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  %-36s %9s %9s %9s  %s\n' "" "median s" "cpu s" "peak MB" "runs (wall s)"
    printf '  %-36s %9s %9s %9s  %s\n' "baseline (sqlite3 .import + SQL)" "$base_med" \
      "$base_cpu_med" "$base_peak" "${base_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack qualify --dry-run" "$dry_med" "$dry_cpu_med" \
      "$dry_peak" "${dry_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack qualify" "$app_med" "$app_cpu_med" \
      "$app_peak" "${app_s[*]}"
    printf '  %-36s %9s %9s %9s  %s\n' "reftrack qualify, 2 reward rules" "$rul_med" "$rul_cpu_med" \
      "$rul_peak" "${rul_s[*]}  ($rewards_n rewards)"
    printf '  %-36s %9s %9s  (target <= 0.2x on wall time: %s)\n' "ratio dry run / baseline" \
      "${dry_r}x" "${dry_cpu_r}x" "$dry_verdict"
    printf '  %-36s %9s %9s  (target <= 0.35x on wall time: %s)\n' "ratio apply / baseline" \
      "${app_r}x" "${app_cpu_r}x" "$app_verdict"
    printf '  %-36s %9s %9s  (target <= %sx on wall time: %s)\n' "ratio apply with / without rules" \
      "${rul_r}x" "${rul_cpu_r}x" "$REWARDS_TARGET" "$rul_verdict"
    printf '  %-36s %9s  (target <= 250 MB: %s)\n' "reftrack peak memory" "$ref_peak MB" "$mem_verdict"
    echo
  }

  local l_lines l_rec l_matched l_qual l_na
  read -r l_lines l_rec l_matched l_qual l_na <<<"$expect"
  local baseline_sql_line
  baseline_sql_line=$(qualify_baseline_sql "$QUALIFY_SQLITE_NOW" | paste -sd' ' | tr -s ' ')
  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "referrals": $rows,
  "runs": $BENCH_RUNS,
  "members": $BENCH_MEMBERS,
  "campaigns": 1,
  "csv_mb": $QUALIFY_LIST_MB,
  "datagen": $(json_str "$QUALIFY_DATAGEN_CMD"),
  "datagen_s": $QUALIFY_DATAGEN_S,
  "status_mix": $(json_str "$QUALIFY_MIX_TEXT"),
  "template_statuses": $(json_str "$template_counts"),
  "template_db_mb": $db_mb,
  "template_setup_s": $setup_s,
  "expected": {"lines": $l_lines, "recognized": $l_rec, "matched": $l_matched, "qualified": $l_qual,
    "already_qualified": $((l_matched - l_qual - l_na)), "not_allowed": $l_na, "unmatched": $((l_rec - l_matched))},
  "baseline": {
    "command": $(json_str "sqlite3 DB \"CREATE TEMP TABLE list_csv (value TEXT);\" \".import --csv --schema temp qualify.csv list_csv\" \"$baseline_sql_line\""),
    "pragmas": $(json_str "$baseline_pragmas"),
    "join_plan": $(json_str "$baseline_plan"),
    "wall_s": $(json_list "${base_s[@]}"),
    "peak_rss_kib": $(json_list "${base_kib[@]}"),
    "median_s": $base_med,
    "cpu_s": $(json_list "${base_cpu[@]}"),
    "median_cpu_s": $base_cpu_med,
    "peak_mb": $base_peak
  },
  "dry_run": {
    "command": $(json_str "reftrack --db DB qualify qualify.csv --by email --campaign \"$QUALIFY_CAMPAIGN\" --dry-run --json"),
    "wall_s": $(json_list "${dry_s[@]}"),
    "peak_rss_kib": $(json_list "${dry_kib[@]}"),
    "median_s": $dry_med,
    "cpu_s": $(json_list "${dry_cpu[@]}"),
    "median_cpu_s": $dry_cpu_med,
    "peak_mb": $dry_peak
  },
  "apply": {
    "command": $(json_str "reftrack --db DB qualify qualify.csv --by email --campaign \"$QUALIFY_CAMPAIGN\" --json"),
    "wall_s": $(json_list "${app_s[@]}"),
    "peak_rss_kib": $(json_list "${app_kib[@]}"),
    "median_s": $app_med,
    "cpu_s": $(json_list "${app_cpu[@]}"),
    "median_cpu_s": $app_cpu_med,
    "peak_mb": $app_peak
  },
  "apply_rules": {
    "command": $(json_str "reftrack --db DB qualify qualify.csv --by email --campaign \"$QUALIFY_CAMPAIGN\" --json"),
    "reward_rules": $(json_str "$REWARD_RULES_TEXT; in \"$QUALIFY_CAMPAIGN\""),
    "rewards": $(rewards_json "$want_rewards"),
    "wall_s": $(json_list "${rul_s[@]}"),
    "peak_rss_kib": $(json_list "${rul_kib[@]}"),
    "median_s": $rul_med,
    "cpu_s": $(json_list "${rul_cpu[@]}"),
    "median_cpu_s": $rul_cpu_med,
    "peak_mb": $rul_peak
  },
  "dry_run_ratio": $(json_num "$dry_r"),
  "dry_run_cpu_ratio": $(json_num "$dry_cpu_r"),
  "apply_ratio": $(json_num "$app_r"),
  "apply_cpu_ratio": $(json_num "$app_cpu_r"),
  "apply_rules_ratio": $(json_num "$rul_r"),
  "apply_rules_cpu_ratio": $(json_num "$rul_cpu_r"),
  "target_dry_run_ratio": 0.2,
  "target_apply_ratio": 0.35,
  "target_apply_rules_ratio": $REWARDS_TARGET,
  "target_peak_mb": 250,
  "peak_mb": $ref_peak,
  "meets_target": $all_met,
  "meets_apply_rules_target": $([ "$rul_verdict" = "meets target" ] && echo true || echo false),
  "nproc": $NPROC,
  "ram_gib": $RAM_GIB,
  "sqlite3_version": $(json_str "$SQLITE_VERSION")
}
EOF

  local repro="BENCH_ONLY=$name BENCH_ROWS=$rows BENCH_RUNS=$BENCH_RUNS" repro_note=""
  if [ "$BENCH_MEMBERS" != 10000 ]; then repro="$repro BENCH_MEMBERS=$BENCH_MEMBERS"; fi
  if [ "$rows" = 1000000 ] && [ "$BENCH_RUNS" = 3 ] && [ "$BENCH_MEMBERS" = 10000 ]; then
    repro_note=" (the defaults: \`BENCH_ONLY=$name make bench\` does the same)"
  fi
  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

Qualify by upload (SPEC §4.2) of a headerless list of $rows emails ($QUALIFY_LIST_MB MB),
70% of them emails of existing referrals in mixed case, 30% unknown, against
$rows referrals: reftrack's \`qualify --dry-run\` (the estimate) and \`qualify\`,
each compared with the sqlite3 command-line shell importing the list into a
temporary table, picking the referrals to qualify with one join, and writing
their history and new status with one INSERT and one UPDATE.

| | median wall time | runs (wall s) | median CPU time | peak memory |
|---|---:|---|---:|---:|
| baseline: \`sqlite3 .import\` + join + INSERT + UPDATE | $base_med s | ${base_s[*]} | $base_cpu_med s | $base_peak MB |
| reftrack: \`qualify --dry-run\` | $dry_med s | ${dry_s[*]} | $dry_cpu_med s | $dry_peak MB |
| reftrack: \`qualify\` | $app_med s | ${app_s[*]} | $app_cpu_med s | $app_peak MB |
| reftrack: \`qualify\` with 2 reward rules ($rewards_n rewards issued) | $rul_med s | ${rul_s[*]} | $rul_cpu_med s | $rul_peak MB |
| **ratio dry run / baseline** | **${dry_r}x** | target ≤ 0.2x: $(verdict_mark "$dry_verdict") | ${dry_cpu_r}x | |
| **ratio apply / baseline** | **${app_r}x** | target ≤ 0.35x: $(verdict_mark "$app_verdict") | ${app_cpu_r}x | |
| **ratio apply with rules / without** | **${rul_r}x** | target ≤ ${REWARDS_TARGET}x: $(verdict_mark "$rul_verdict") | ${rul_cpu_r}x | |
| **reftrack peak memory** | | target ≤ 250 MB: $(verdict_mark "$mem_verdict") | | **$ref_peak MB** |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\` ($BUILD_TYPE build) on $NPROC CPUs
($CPU_MODEL), $RAM_GIB GiB RAM, $OS, sqlite3 $SQLITE_VERSION; median of $BENCH_RUNS runs.
The issue measured this baseline at about 7.5 s for 1M lines on a 2-CPU machine of
this kind; against that figure, the dry run would be $(ratio "$dry_med" 7.5)x and the apply
$(ratio "$app_med" 7.5)x (meaningful for 1M lines only).

Reproduce: \`$repro make bench\`$repro_note;
\`BENCH_ONLY=$name BENCH_ROWS=100000 make bench\` gives a quick look.
\`bench/run.sh BUILD_DIR\` runs the benchmarks without rebuilding.

What is measured:

- **Referrals**: \`reftrack_datagen referrals --rows $rows --campaigns 1 --members
  $BENCH_MEMBERS\` (the generator and seed of the referral load benchmark, but every
  referral in "$QUALIFY_CAMPAIGN"): one campaign, so that the list, matched by email
  within the campaign chosen with \`--campaign\`, is checked against all $rows
  referrals and its known emails all match. (With the three campaigns of the
  other benchmarks, the chosen campaign would hold a third of the referrals, and
  70% of $rows lines would name each of them about twice.)
- **List**: \`$QUALIFY_DATAGEN_CMD\` (fixed seed): one email a line, no header, in
  random order; about 70% are the emails of referrals of "$QUALIFY_CAMPAIGN",
  rebuilt from the same (seed, row) functions as the referrals, nearly all
  distinct (3% of them repeat a referral drawn at random, so a few referrals are
  listed twice); 30% are well-formed emails that no referral has
  (\`…@example.org\`); every line in random mixed case, 10% with spaces around
  it, so only a trimmed, case-insensitive match finds them. Counted with plain
  SQL on the template, the list holds $(qualify_expect_words "$expect"); both
  sides must qualify exactly $l_qual referrals.
- **Database**: built once, untimed, as the referral load benchmark's reftrack side
  builds it (\`campaign add\`, \`member load\`, \`referral load\`: $rows
  referrals), then given a mix of statuses by plain SQL on the file (set-up only,
  with the history rows each change would have written), by id: $QUALIFY_MIX_TEXT
  ($template_counts); $db_mb MB after a WAL checkpoint, $setup_s s to build.
  Before every timed command, on either side, the file is copied afresh and the
  copy flushed to disk (\`sync\`); all three start from the same bytes, warm in the
  page cache.
- **Baseline**: one timed sqlite3 process on the copy, with the shell's defaults
  ($baseline_pragmas; WAL is the file's own journal mode, set by reftrack):
  \`CREATE TEMP TABLE list_csv (value TEXT)\`, \`.import --csv --schema temp
  qualify.csv list_csv\` (a bare table, no index), then in one transaction:
  \`CREATE TEMP TABLE hits AS SELECT r.id, r.status FROM (SELECT DISTINCT
  lower(trim(value)) AS email FROM list_csv) l JOIN referrals r ON r.email =
  l.email WHERE r.campaign_id = (SELECT id FROM campaigns WHERE name =
  '$QUALIFY_CAMPAIGN') AND r.qualified_at IS NULL AND r.status IN ('pending',
  'denied')\` (plan: $baseline_plan), \`INSERT INTO status_changes (referral_id,
  from_status, to_status, at, source) SELECT id, status, 'qualified', <now>,
  'qualify_upload' FROM hits\`, \`UPDATE referrals SET status = 'qualified',
  qualified_at = <now>, status_changed_at = <now> WHERE id IN (SELECT id FROM
  hits)\`, with \`<now>\` the ISO 8601 text reftrack stores. It validates nothing,
  counts nothing, records no upload and reports nothing. Checked afterwards,
  untimed: $l_qual history rows of source qualify_upload.
- **reftrack dry run**: \`reftrack --db DB qualify qualify.csv --by email
  --campaign "$QUALIFY_CAMPAIGN" --dry-run --json\` on its own copy: reads and
  normalizes the list, matches its distinct values and reports the estimate,
  changing nothing. Checked: its JSON holds exactly the counts above
  (not_recognized = 0, recognized = matched + unmatched, matched = qualified +
  already_qualified + not_allowed), applied = false, and the database is
  unchanged.
- **reftrack apply**: \`reftrack --db DB qualify qualify.csv --by email --campaign
  "$QUALIFY_CAMPAIGN" --json\` on its own copy: the same, then in one transaction
  every referral to qualify qualified with one history row each, and the upload
  recorded. Checked: the same counts with applied = true and an upload_id, the
  same \`qualified\` as the dry run, and a database that ends as the baseline's:
  the same referrals (count and sum of ids) in each status, $l_qual more history
  rows, all of source qualify_upload.
- **reftrack apply with reward rules** (issue 6): the same command on a copy of a
  second template, the database above plus two reward rules (SPEC §3) in
  "$QUALIFY_CAMPAIGN", added untimed with \`reftrack reward-rule add\`: $REWARD_RULES_TEXT.
  Qualifying fires the first rule (the second is looked at but never fires: no
  referral is approved); the rewards go in the upload's transaction. Checked:
  everything the apply above is checked for, and $(rewards_words "$want_rewards")
  (one to the referred of each referral qualified, one to the referrer of those
  that have one, counted with plain SQL from the template and the list), each with
  its rule's campaign, amount and currency, the referrer's going to the
  referral's referrer. Target: median wall time with the rules ≤ ${REWARDS_TARGET}x that of the
  apply without.
- **Timing**: \`/usr/bin/time -f '%e %M %U %S'\` around the timed command only;
  each run does baseline, dry run, apply and apply with rules in turn to share
  the machine's noise. The ratio targets apply to median wall times; the memory
  target to the largest peak resident memory of any dry run or apply without
  rules (the apply with rules has its own peak in the table).
EOF
  write_fragment 40 "$name"
}

# ---------------------------------------------------------------------------
# Benchmark: qualify by upload on PostgreSQL
#
# The data of qualify, on the server of REFTRACK_TEST_POSTGRES_URL: a template
# database loaded by reftrack and mixed by the same SQL, copied (CREATE DATABASE
# ... TEMPLATE, untimed) for every timed command: psql's \copy of the list into a
# temporary table plus the baseline's SQL, reftrack's `qualify --dry-run`, then
# `qualify`. Server CPU measured as in referral_load_postgres.

# pg_copy_database TEMPLATE DB: DB afresh as a file copy of TEMPLATE, then a
# checkpoint, so that nothing of the copy is flushed during the timed command.
pg_copy_database() {
  psql_admin "DROP DATABASE IF EXISTS $2" "CREATE DATABASE $2 TEMPLATE $1 STRATEGY FILE_COPY" CHECKPOINT
}

# pg_server_cpu_since PID CPU: the server's CPU seconds since pg_server_cpu gave CPU,
# once the backend of the command just timed has exited.
pg_server_cpu_since() {
  sleep 0.5
  awk -v a="$2" -v b="$(pg_server_cpu "$1")" 'BEGIN {printf "%.2f", b - a}'
}

bench_qualify_postgres() {
  local name=qualify_postgres
  local rows=$BENCH_ROWS
  local server=${REFTRACK_TEST_POSTGRES_URL%/*}
  local tdb=reftrack_bench_qualify_template db=reftrack_bench_qualify
  export PGOPTIONS="-c client_min_messages=warning"

  qualify_data "$name"
  local list=$QUALIFY_LIST

  local pg_version pm settings
  pg_version=$(psql -X -A -t -q "$REFTRACK_TEST_POSTGRES_URL" -c 'SHOW server_version')
  settings=$(psql -X -A -t -q -F= "$REFTRACK_TEST_POSTGRES_URL" -c "SELECT name, current_setting(name)
    FROM pg_settings WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes',
      'shared_buffers', 'max_wal_size', 'wal_level') ORDER BY name" | paste -sd' ' | sed 's/ /, /g')
  pm=$(pg_postmaster_pid)
  if [ -z "$pm" ]; then log "$name: the server is not on this machine; its CPU time is not measured"; fi
  log "$name: PostgreSQL $pg_version, $settings"

  # The template, once, untimed: reftrack loads it, the same SQL as qualify's mixes
  # the statuses, then VACUUM ANALYZE, as autovacuum would leave a database at rest.
  log "$name: building the template database ($rows referrals in \"$QUALIFY_CAMPAIGN\")"
  local setup_start setup_s
  setup_start=$(date +%s.%N)
  psql_admin "DROP DATABASE IF EXISTS $db" "DROP DATABASE IF EXISTS $tdb" "CREATE DATABASE $tdb"
  "$REFTRACK" --db "$server/$tdb" campaign add "$QUALIFY_CAMPAIGN" >/dev/null
  "$REFTRACK" --db "$server/$tdb" member load "$QUALIFY_REFERRALS/members.csv" >"$OUT/runs/$name-members.out"
  "$REFTRACK" --db "$server/$tdb" referral load "$QUALIFY_REFERRALS/referrals.csv" --json >"$OUT/runs/$name-referrals.out"
  local created
  created=$(json_int "$OUT/runs/$name-referrals.out" created)
  [ "$created" = "$rows" ] || die "$name: the template's referral load created ${created:-?} referrals, expected $rows"
  psql -X -q -v ON_ERROR_STOP=1 "$server/$tdb" \
    -c "$(qualify_mix_sql "'$(date -u +%Y-%m-%dT%H:%M:%S.%6NZ)'::timestamptz")" -c 'VACUUM ANALYZE' >/dev/null
  setup_s=$(awk -v a="$setup_start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.2f", b - a}')
  local template_counts template_state db_mb expect
  template_counts=$(psql -X -A -t -q "$server/$tdb" -c \
    "SELECT string_agg(status || ' ' || n, ' ' ORDER BY status) FROM (SELECT status, count(*) AS n FROM referrals GROUP BY status) t")
  template_state=$(psql -X -A -t -q "$server/$tdb" -c "$QUALIFY_STATE_SQL_PG")
  db_mb=$(psql -X -A -t -q "$server/$tdb" -c "SELECT round(pg_database_size(current_database()) / 1e6, 1)")
  expect=$(psql -X -A -t -q -F' ' -v ON_ERROR_STOP=1 "$server/$tdb" -c 'CREATE TEMP TABLE list_csv (value text)' \
    -c "\\copy list_csv FROM '$list' WITH (FORMAT csv)" -c "$QUALIFY_EXPECT_SQL")
  [[ $expect =~ ^[0-9]+( [0-9]+){4}$ ]] || die "$name: could not count the list's expected figures: \"$expect\""
  [ "${expect%% *}" = "$rows" ] || die "$name: the list has ${expect%% *} non-blank lines, expected $rows"
  local want_q=${expect#* * * }
  want_q=${want_q%% *}
  log "$name: template built in $setup_s s ($db_mb MB): $template_counts"
  log "$name: the list should give: $(qualify_expect_words "$expect")"

  local -a base_s=() base_kib=() base_cpu=() base_srv=() dry_s=() dry_kib=() dry_cpu=() dry_srv=()
  local -a app_s=() app_kib=() app_cpu=() app_srv=()
  local run got base_state="" s0
  local -a qcmd=(qualify "$list" --by email --campaign "$QUALIFY_CAMPAIGN")
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    # Baseline: one timed psql session: the temporary table, \copy, the SQL.
    pg_copy_database "$tdb" "$db"
    [ -z "$pm" ] || s0=$(pg_server_cpu "$pm")
    timed "$name-baseline-$run" psql -X -q -v ON_ERROR_STOP=1 "$server/$db" \
      -c 'CREATE TEMP TABLE list_csv (value text)' \
      -c "\\copy list_csv FROM '$list' WITH (FORMAT csv)" \
      -c "$(qualify_baseline_sql "$QUALIFY_PG_NOW")"
    base_s+=("$TIMED_S")
    base_kib+=("$TIMED_KIB")
    base_cpu+=("$TIMED_CPU")
    [ -z "$pm" ] || base_srv+=("$(pg_server_cpu_since "$pm" "$s0")")
    got=$(psql -X -A -t -q "$server/$db" -c "SELECT count(*) FROM status_changes WHERE source = 'qualify_upload'")
    if [ "$got" != "$want_q" ]; then
      head -n 20 "$OUT/runs/$name-baseline-$run.err" >&2
      die "$name: baseline run $run qualified $got referrals, expected $want_q"
    fi
    base_state=$(psql -X -A -t -q "$server/$db" -c "$QUALIFY_STATE_SQL_PG")
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  client cpu ${base_cpu[-1]} s  server cpu $([ -n "$pm" ] && echo "${base_srv[-1]} s" || echo n/a)  $(mib "${base_kib[-1]}") MB  (load $(loadavg))"

    pg_copy_database "$tdb" "$db"
    [ -z "$pm" ] || s0=$(pg_server_cpu "$pm")
    timed "$name-dry-run-$run" "$REFTRACK" --db "$server/$db" "${qcmd[@]}" --dry-run --json
    dry_s+=("$TIMED_S")
    dry_kib+=("$TIMED_KIB")
    dry_cpu+=("$TIMED_CPU")
    [ -z "$pm" ] || dry_srv+=("$(pg_server_cpu_since "$pm" "$s0")")
    qualify_check_report "$name-dry-run" "$run" false "$expect"
    local dry_q=$QUALIFY_REPORTED
    got=$(psql -X -A -t -q "$server/$db" -c "$QUALIFY_STATE_SQL_PG")
    [ "$got" = "$template_state" ] ||
      die "$name: dry run $run changed the database: \"$got\", was \"$template_state\""
    log "$name: run $run/$BENCH_RUNS dry run   ${dry_s[-1]} s  client cpu ${dry_cpu[-1]} s  server cpu $([ -n "$pm" ] && echo "${dry_srv[-1]} s" || echo n/a)  $(mib "${dry_kib[-1]}") MB  (load $(loadavg))"

    pg_copy_database "$tdb" "$db"
    [ -z "$pm" ] || s0=$(pg_server_cpu "$pm")
    timed "$name-apply-$run" "$REFTRACK" --db "$server/$db" "${qcmd[@]}" --json
    app_s+=("$TIMED_S")
    app_kib+=("$TIMED_KIB")
    app_cpu+=("$TIMED_CPU")
    [ -z "$pm" ] || app_srv+=("$(pg_server_cpu_since "$pm" "$s0")")
    qualify_check_report "$name-apply" "$run" true "$expect"
    [ "$QUALIFY_REPORTED" = "$dry_q" ] ||
      die "$name: run $run: the dry run would qualify $dry_q, the apply qualified $QUALIFY_REPORTED"
    got=$(psql -X -A -t -q "$server/$db" -c "$QUALIFY_STATE_SQL_PG")
    [ "$got" = "$base_state" ] ||
      die "$name: after apply run $run the database is \"$got\"; after the baseline \"$base_state\" (before: \"$template_state\")"
    log "$name: run $run/$BENCH_RUNS apply     ${app_s[-1]} s  client cpu ${app_cpu[-1]} s  server cpu $([ -n "$pm" ] && echo "${app_srv[-1]} s" || echo n/a)  $(mib "${app_kib[-1]}") MB  (load $(loadavg))"
  done
  if [ "$BENCH_KEEP" != 1 ]; then psql_admin "DROP DATABASE IF EXISTS $db" "DROP DATABASE IF EXISTS $tdb"; fi

  local base_med dry_med app_med base_cpu_med dry_cpu_med app_cpu_med dry_r app_r
  local base_srv_med=n/a dry_srv_med=n/a app_srv_med=n/a dry_srv_r=n/a app_srv_r=n/a
  local base_peak dry_peak app_peak ref_peak
  base_med=$(median "${base_s[@]}")
  dry_med=$(median "${dry_s[@]}")
  app_med=$(median "${app_s[@]}")
  base_cpu_med=$(median "${base_cpu[@]}")
  dry_cpu_med=$(median "${dry_cpu[@]}")
  app_cpu_med=$(median "${app_cpu[@]}")
  dry_r=$(ratio "$dry_med" "$base_med")
  app_r=$(ratio "$app_med" "$base_med")
  if [ -n "$pm" ]; then
    base_srv_med=$(median "${base_srv[@]}")
    dry_srv_med=$(median "${dry_srv[@]}")
    app_srv_med=$(median "${app_srv[@]}")
    dry_srv_r=$(ratio "$dry_srv_med" "$base_srv_med")
    app_srv_r=$(ratio "$app_srv_med" "$base_srv_med")
  fi
  base_peak=$(mib "$(max "${base_kib[@]}")")
  dry_peak=$(mib "$(max "${dry_kib[@]}")")
  app_peak=$(mib "$(max "${app_kib[@]}")")
  ref_peak=$(mib "$(max "${dry_kib[@]}" "${app_kib[@]}")")
  local app_verdict
  app_verdict=$(target_verdict "$app_r" 1.0)

  local title
  title="qualify by upload on PostgreSQL ($(human "$rows") lines)"
  {
    echo
    echo "$title, $BENCH_RUNS runs, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf '  %-32s %9s %11s %11s %9s  %s\n' "" "median s" "client cpu" "server cpu" "peak MB" "runs (wall s)"
    printf '  %-32s %9s %11s %11s %9s  %s\n' "baseline (psql \\copy + SQL)" "$base_med" "$base_cpu_med" \
      "$base_srv_med" "$base_peak" "${base_s[*]}"
    printf '  %-32s %9s %11s %11s %9s  %s\n' "reftrack qualify --dry-run" "$dry_med" "$dry_cpu_med" \
      "$dry_srv_med" "$dry_peak" "${dry_s[*]}"
    printf '  %-32s %9s %11s %11s %9s  %s\n' "reftrack qualify" "$app_med" "$app_cpu_med" \
      "$app_srv_med" "$app_peak" "${app_s[*]}"
    printf '  %-32s %9s %11s %11s  (no target)\n' "ratio dry run / baseline" "${dry_r}x" "" "${dry_srv_r}x"
    printf '  %-32s %9s %11s %11s  (target <= 1.0x on wall time: %s)\n' "ratio apply / baseline" \
      "${app_r}x" "" "${app_srv_r}x" "$app_verdict"
    echo
  }

  local l_lines l_rec l_matched l_qual l_na
  read -r l_lines l_rec l_matched l_qual l_na <<<"$expect"
  local baseline_sql_line
  baseline_sql_line=$(qualify_baseline_sql "$QUALIFY_PG_NOW" | paste -sd' ' | tr -s ' ')
  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "referrals": $rows,
  "runs": $BENCH_RUNS,
  "members": $BENCH_MEMBERS,
  "campaigns": 1,
  "csv_mb": $QUALIFY_LIST_MB,
  "datagen": $(json_str "$QUALIFY_DATAGEN_CMD"),
  "status_mix": $(json_str "$QUALIFY_MIX_TEXT"),
  "template_statuses": $(json_str "$template_counts"),
  "template_db_mb": $db_mb,
  "template_setup_s": $setup_s,
  "expected": {"lines": $l_lines, "recognized": $l_rec, "matched": $l_matched, "qualified": $l_qual,
    "already_qualified": $((l_matched - l_qual - l_na)), "not_allowed": $l_na, "unmatched": $((l_rec - l_matched))},
  "postgresql_version": $(json_str "$pg_version"),
  "server_settings": $(json_str "$settings"),
  "server_cpu_measured": $([ -n "$pm" ] && echo true || echo false),
  "baseline": {
    "command": $(json_str "psql DB -c \"CREATE TEMP TABLE list_csv (value text)\" -c \"\\copy list_csv FROM 'qualify.csv' WITH (FORMAT csv)\" -c \"$baseline_sql_line\""),
    "wall_s": $(json_list "${base_s[@]}"),
    "peak_rss_kib": $(json_list "${base_kib[@]}"),
    "median_s": $base_med,
    "cpu_s": $(json_list "${base_cpu[@]}"),
    "median_cpu_s": $base_cpu_med,
    "server_cpu_s": $(json_list_or_null "${base_srv[@]}"),
    "median_server_cpu_s": $(json_num "$base_srv_med"),
    "peak_mb": $base_peak
  },
  "dry_run": {
    "command": $(json_str "reftrack --db postgresql://.../DB qualify qualify.csv --by email --campaign \"$QUALIFY_CAMPAIGN\" --dry-run --json"),
    "wall_s": $(json_list "${dry_s[@]}"),
    "peak_rss_kib": $(json_list "${dry_kib[@]}"),
    "median_s": $dry_med,
    "cpu_s": $(json_list "${dry_cpu[@]}"),
    "median_cpu_s": $dry_cpu_med,
    "server_cpu_s": $(json_list_or_null "${dry_srv[@]}"),
    "median_server_cpu_s": $(json_num "$dry_srv_med"),
    "peak_mb": $dry_peak
  },
  "apply": {
    "command": $(json_str "reftrack --db postgresql://.../DB qualify qualify.csv --by email --campaign \"$QUALIFY_CAMPAIGN\" --json"),
    "wall_s": $(json_list "${app_s[@]}"),
    "peak_rss_kib": $(json_list "${app_kib[@]}"),
    "median_s": $app_med,
    "cpu_s": $(json_list "${app_cpu[@]}"),
    "median_cpu_s": $app_cpu_med,
    "server_cpu_s": $(json_list_or_null "${app_srv[@]}"),
    "median_server_cpu_s": $(json_num "$app_srv_med"),
    "peak_mb": $app_peak
  },
  "dry_run_ratio": $(json_num "$dry_r"),
  "apply_ratio": $(json_num "$app_r"),
  "dry_run_server_cpu_ratio": $(json_num "$dry_srv_r"),
  "apply_server_cpu_ratio": $(json_num "$app_srv_r"),
  "target_apply_ratio": 1.0,
  "peak_mb": $ref_peak,
  "meets_target": $([ "$app_verdict" = "meets target" ] && echo true || echo false),
  "nproc": $NPROC,
  "ram_gib": $RAM_GIB
}
EOF

  local repro="BENCH_ONLY=$name BENCH_ROWS=$rows BENCH_RUNS=$BENCH_RUNS" repro_note=""
  if [ "$BENCH_MEMBERS" != 10000 ]; then repro="$repro BENCH_MEMBERS=$BENCH_MEMBERS"; fi
  if [ "$rows" = 1000000 ] && [ "$BENCH_RUNS" = 3 ] && [ "$BENCH_MEMBERS" = 10000 ]; then
    repro_note=" (the defaults: \`BENCH_ONLY=$name make bench\` does the same)"
  fi
  local srv_unit=" s"
  [ -n "$pm" ] || srv_unit=""
  local dry_srv_cell="" app_srv_cell=""
  if [ -n "$pm" ]; then dry_srv_cell="${dry_srv_r}x" app_srv_cell="${app_srv_r}x"; fi
  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

The list and referrals of the qualify benchmark above ($rows lines, $QUALIFY_LIST_MB MB,
against $rows referrals with the same status mix) on PostgreSQL $pg_version:
reftrack's \`qualify --dry-run\` and \`qualify\`, each compared with psql's
\`\\copy\` of the list into a temporary table plus the same join, INSERT and
UPDATE.

| | median wall time | runs (wall s) | median client CPU | median server CPU | client peak memory |
|---|---:|---|---:|---:|---:|
| baseline: \`psql \\copy\` + join + INSERT + UPDATE | $base_med s | ${base_s[*]} | $base_cpu_med s | $base_srv_med$srv_unit | $base_peak MB |
| reftrack: \`qualify --dry-run\` | $dry_med s | ${dry_s[*]} | $dry_cpu_med s | $dry_srv_med$srv_unit | $dry_peak MB |
| reftrack: \`qualify\` | $app_med s | ${app_s[*]} | $app_cpu_med s | $app_srv_med$srv_unit | $app_peak MB |
| **ratio dry run / baseline** | **${dry_r}x** | no target | | $dry_srv_cell | |
| **ratio apply / baseline** | **${app_r}x** | target ≤ 1.0x: $(verdict_mark "$app_verdict") | | $app_srv_cell | |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\` ($BUILD_TYPE build) on $NPROC CPUs
($CPU_MODEL), $RAM_GIB GiB RAM, $OS, PostgreSQL $pg_version on the same machine;
median of $BENCH_RUNS runs.

Reproduce: \`$repro make bench\`$repro_note. \`bench/run.sh\` starts the throwaway
server itself (\`scripts/with-postgres.sh\`) unless REFTRACK_TEST_POSTGRES_URL
names one.

What is measured:

- **Server**: the throwaway cluster of the referral load benchmark on PostgreSQL
  (durability off, otherwise defaults); as measured: $settings.
- **Data**: the referrals (\`reftrack_datagen referrals --rows $rows --campaigns 1
  --members $BENCH_MEMBERS\`) and list (\`$QUALIFY_DATAGEN_CMD\`) of the qualify
  benchmark above. The list holds $(qualify_expect_words "$expect").
- **Database**: a template database built once, untimed: reftrack's \`campaign
  add\`, \`member load\` and \`referral load\`, the qualify benchmark's status mix by
  the same plain SQL ($template_counts, with their history rows), then \`VACUUM
  ANALYZE\` (a database at rest, as autovacuum leaves it); $db_mb MB, $setup_s s
  to build. Before every timed command, on either side, untimed: \`CREATE
  DATABASE … TEMPLATE … STRATEGY FILE_COPY\` (a fresh copy) and a \`CHECKPOINT\`.
- **Baseline**: one timed psql session on the copy: \`CREATE TEMP TABLE list_csv
  (value text)\`, \`\\copy list_csv FROM 'qualify.csv' WITH (FORMAT csv)\`, then the
  SQL of the SQLite baseline in one transaction (\`CREATE TEMP TABLE hits AS\` the
  join, \`INSERT INTO status_changes … SELECT\`, \`UPDATE referrals … WHERE id IN
  (SELECT id FROM hits)\`), with \`now()\` as the time. Checked: $l_qual history
  rows of source qualify_upload.
- **reftrack**: \`reftrack --db postgresql://…/DB qualify qualify.csv --by email
  --campaign "$QUALIFY_CAMPAIGN" [--dry-run] --json\`, each on its own copy, with
  the checks of the SQLite benchmark: the exact counts and invariants in the
  JSON, the dry run's \`qualified\` equal to the apply's, the dry run changing
  nothing, and after the apply the same referrals in each status and as many
  history rows as after the baseline.
- **Timing**: \`/usr/bin/time\` around the client command only (wall seconds, the
  client's user + system CPU and peak resident memory); **server CPU** is the
  user + system CPU of all the cluster's processes over the command, read from
  /proc. Runs do baseline, dry run and apply in turn. The target applies to the
  ratio of median wall times of apply and baseline; the 250 MB memory target is
  the SQLite section's, shown here for comparison: $ref_peak MB at most.
EOF
  write_fragment 50 "$name"
}

# ---------------------------------------------------------------------------
# Assembly: results.json and docs/BENCHMARKS.md from every fragment present.

assemble() {
  local json=$OUT/results.json md=$ROOT/docs/BENCHMARKS.md
  local -a frags=()
  local f
  for f in "$OUT/fragments/"*.json; do [ -e "$f" ] && frags+=("$f"); done

  {
    echo "{"
    echo "  \"date\": \"$DATE\","
    echo "  \"machine\": {"
    echo "    \"nproc\": $NPROC,"
    echo "    \"ram_gib\": $RAM_GIB,"
    echo "    \"cpu\": $(json_str "$CPU_MODEL"),"
    echo "    \"os\": $(json_str "$OS"),"
    echo "    \"kernel\": $(json_str "$KERNEL"),"
    echo "    \"loadavg_start\": $(json_str "$LOAD_START"),"
    echo "    \"loadavg_end\": $(json_str "$(loadavg)")"
    echo "  },"
    echo "  \"sqlite3_version\": $(json_str "$SQLITE_VERSION"),"
    echo "  \"build_type\": $(json_str "$BUILD_TYPE"),"
    echo "  \"commit\": $(json_str "$COMMIT"),"
    echo "  \"benchmarks\": {"
    local i
    for ((i = 0; i < ${#frags[@]}; i++)); do
      local key
      key=$(basename "${frags[i]}" .json)
      key=${key#*-}
      printf '    "%s": %s' "$key" "$(sed '2,$s/^/    /' "${frags[i]}")"
      if [ $((i + 1)) -lt ${#frags[@]} ]; then echo ","; else echo; fi
    done
    echo "  }"
    echo "}"
  } >"$json.new"
  mv "$json.new" "$json"

  mkdir -p "$ROOT/docs"
  {
    echo "# Benchmarks"
    echo
    echo "<!-- Generated by bench/run.sh (make bench); edit bench/run.sh, not this file. -->"
    echo
    echo "Each benchmark times reftrack against a baseline doing the same job with no"
    echo "rules: the sqlite3 shell on SQLite, psql on PostgreSQL. Machines are shared"
    echo "and noisy, so compare the **ratio** (reftrack time / baseline time; the target"
    echo "is in each section), not absolute times. Raw figures of the last run:"
    echo "\`bench/out/results.json\`."
    echo
    echo "Last run: $DATE on $NPROC CPUs ($CPU_MODEL), $RAM_GIB GiB RAM, $OS,"
    echo "kernel $KERNEL, sqlite3 $SQLITE_VERSION, load average at start $LOAD_START."
    for f in "$OUT/fragments/"*.md; do
      [ -e "$f" ] || continue
      echo
      cat "$f"
    done
  } >"$md.new"
  mv "$md.new" "$md"
  log "wrote $json and $md"
}

# ---------------------------------------------------------------------------
# http: `reftrack serve` on the BENCH_ROWS-referral SQLite database under wrk (64
# connections, 2 threads, BENCH_HTTP_S seconds a run): GET /healthz (the server's
# ceiling: no key, no database), GET /api/v1/referrals/{id} (random referrals, with
# history and rewards) and PATCH /api/v1/referrals/{id} (each request a real change,
# pending -> qualified, durable before its answer). Beside it, the sqlite3 shell does
# the same work with no HTTP: the same reads, and the same changes one transaction
# each (UPDATE + history INSERT, synchronous=FULL as reftrack commits).

# wrk_fields FILE: "REQS P50_MS P90_MS P99_MS NON2XX" from wrk --latency output.
wrk_fields() {
  awk '
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
      return v
    }
    /^ +50%/ {p50 = ms($2)} /^ +90%/ {p90 = ms($2)} /^ +99%/ {p99 = ms($2)}
    /^Requests\/sec:/ {rps = $2}
    /Non-2xx or 3xx responses:/ {bad = $NF}
    END {printf "%.0f %.2f %.2f %.2f %d\n", rps, p50, p90, p99, bad + 0}' "$1"
}

# http_serve DB OUT: starts reftrack serve on DB on a free port, its output in OUT;
# sets HTTP_PID and HTTP_URL.
http_serve() {
  local db=$1 out=$2
  "$REFTRACK" --db "$db" serve --listen 127.0.0.1:0 --access-log "$out.access" >"$out" 2>"$out.err" &
  HTTP_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    HTTP_URL=$(sed -n 's/^reftrack: listening on \(http:[^ ]*\).*/\1/p' "$out")
    [ -n "$HTTP_URL" ] && return 0
    sleep 0.1
  done
  die "http: the server did not start: $(cat "$out.err")"
}

http_stop() {
  kill -TERM "$HTTP_PID"
  wait "$HTTP_PID" || die "http: the server did not stop cleanly"
}

# http_baseline_sql read|change N: the sqlite3 shell's side of N reads or changes.
http_baseline_sql() {
  local kind=$1 n=$2
  awk -v kind="$kind" -v n="$n" -v rows="$BENCH_ROWS" -v q="'" 'BEGIN {
    srand(7)
    now = "strftime(" q "%Y-%m-%dT%H:%M:%fZ" q ")"
    print "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;"
    for (i = 0; i < n; i++) {
      if (kind == "read") {
        id = int(rand() * rows) + 1
        print "SELECT r.*, c.name, m.email FROM referrals r JOIN campaigns c ON c.id = r.campaign_id" \
          " LEFT JOIN members m ON m.id = r.referrer_id WHERE r.id = " id ";"
        print "SELECT * FROM status_changes WHERE referral_id = " id " ORDER BY id;"
        print "SELECT * FROM rewards WHERE referral_id = " id ";"
      } else {
        id = (i * 999983) % rows + 1
        print "BEGIN IMMEDIATE;"
        print "UPDATE referrals SET status = " q "qualified" q ", qualified_at = " now \
          ", status_changed_at = " now " WHERE id = " id " AND status = " q "pending" q ";"
        print "INSERT INTO status_changes (referral_id, from_status, to_status, at, source, actor)" \
          " VALUES (" id ", " q "pending" q ", " q "qualified" q ", " now ", " q "api" q ", " \
          q "bench" q ");"
        print "COMMIT;"
      }
    }
  }'
}

bench_http() {
  local name=http
  local rows=$BENCH_ROWS
  local data=$OUT/data/referrals-$rows-$BENCH_MEMBERS
  local template=$OUT/db/http-template.db
  local db=$OUT/db/http.db
  local secs=$BENCH_HTTP_S
  command -v wrk >/dev/null || die "wrk is missing (scripts/install-deps.sh)"
  command -v curl >/dev/null || die "curl is missing"

  if [ ! -f "$data/referrals.csv" ]; then
    log "$name: generating $rows referrals"
    timed "$name-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 3 \
      --members "$BENCH_MEMBERS" --out "$data"
  fi
  log "$name: loading $rows referrals (untimed)"
  fresh_db "$template"
  local c
  for c in 1 2 3; do "$REFTRACK" --db "$template" campaign add "Campaign $c" >/dev/null; done
  "$REFTRACK" --db "$template" member load "$data/members.csv" >/dev/null
  "$REFTRACK" --db "$template" referral load "$data/referrals.csv" --json >"$OUT/runs/$name-load.out"
  sqlite3 "$template" 'PRAGMA wal_checkpoint(TRUNCATE);' >/dev/null

  local -a health_rps=() health_p99=() get_rps=() get_p50=() get_p99=() \
    patch_rps=() patch_p50=() patch_p99=() base_read_rps=() base_change_rps=()
  local run
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    fresh_db "$db"
    cp "$template" "$db"
    local wkey rkey
    wkey=$("$REFTRACK" --db "$db" apikey add --name bench-write --scope write 2>/dev/null)
    rkey=$("$REFTRACK" --db "$db" apikey add --name bench-read --scope read 2>/dev/null)
    http_serve "$db" "$OUT/runs/$name-serve-$run.out"
    local f=$OUT/runs/$name-$run
    wrk -t2 -c64 -d"${secs}s" --latency "$HTTP_URL/healthz" >"$f-healthz.txt"
    WRK_KEY=$rkey WRK_REFERRALS=$rows wrk -t2 -c64 -d"${secs}s" --latency \
      -s "$ROOT/bench/wrk/get.lua" "$HTTP_URL" >"$f-get.txt"
    WRK_KEY=$wkey WRK_REFERRALS=$rows WRK_THREADS=2 wrk -t2 -c64 -d"${secs}s" --latency \
      -s "$ROOT/bench/wrk/patch.lua" "$HTTP_URL" >"$f-patch.txt"
    curl -s "$HTTP_URL/metrics" >"$f-metrics.txt"
    http_stop
    local rps p50 p90 p99 bad
    read -r rps p50 p90 p99 bad < <(wrk_fields "$f-healthz.txt")
    health_rps+=("$rps")
    health_p99+=("$p99")
    read -r rps p50 p90 p99 bad < <(wrk_fields "$f-get.txt")
    [ "$bad" = 0 ] || die "$name: $bad GET answers were not 2xx ($f-get.txt)"
    get_rps+=("$rps")
    get_p50+=("$p50")
    get_p99+=("$p99")
    read -r rps p50 p90 p99 bad < <(wrk_fields "$f-patch.txt")
    [ "$bad" = 0 ] || die "$name: $bad PATCH answers were not 2xx ($f-patch.txt)"
    patch_rps+=("$rps")
    patch_p50+=("$p50")
    patch_p99+=("$p99")
    # Every PATCH answered 200 is a committed change with its history row.
    local answered changes qualified
    answered=$(grep -F 'route="/api/v1/referrals/{id}",method="PATCH",status="200"' \
      "$f-metrics.txt" | awk '{print $NF}')
    changes=$(sqlite3 "$db" "SELECT count(*) FROM status_changes WHERE source = 'api';")
    qualified=$(sqlite3 "$db" "SELECT count(*) FROM referrals WHERE status = 'qualified';")
    if [ "${answered:-0}" != "$changes" ] || [ "$changes" != "$qualified" ]; then
      die "$name: $answered PATCH answers, $changes history rows, $qualified qualified referrals"
    fi

    # The sqlite3 shell: the same reads and changes, with no HTTP in between.
    # 20,000 reads, 5,000 changes (each an fsync'd commit of its own).
    local reads=20000 changes_n=5000
    http_baseline_sql read "$reads" >"$f-base-read.sql"
    http_baseline_sql change "$changes_n" >"$f-base-change.sql"
    fresh_db "$db"
    cp "$template" "$db"
    timed "$name-base-read-$run" sqlite3 "$db" ".read '$f-base-read.sql'"
    base_read_rps+=("$(awk -v n="$reads" -v s="$TIMED_S" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')")
    timed "$name-base-change-$run" sqlite3 "$db" ".read '$f-base-change.sql'"
    base_change_rps+=("$(awk -v n="$changes_n" -v s="$TIMED_S" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')")
    log "$name: run $run/$BENCH_RUNS healthz ${health_rps[-1]}/s, GET ${get_rps[-1]}/s p99 ${get_p99[-1]} ms, PATCH ${patch_rps[-1]}/s p99 ${patch_p99[-1]} ms; sqlite3 ${base_read_rps[-1]} reads/s, ${base_change_rps[-1]} changes/s (load $(loadavg))"
  done

  local h hp99 g gp50 gp99 p pp50 pp99 br bc
  h=$(median "${health_rps[@]}")
  hp99=$(median "${health_p99[@]}")
  g=$(median "${get_rps[@]}")
  gp50=$(median "${get_p50[@]}")
  gp99=$(median "${get_p99[@]}")
  p=$(median "${patch_rps[@]}")
  pp50=$(median "${patch_p50[@]}")
  pp99=$(median "${patch_p99[@]}")
  br=$(median "${base_read_rps[@]}")
  bc=$(median "${base_change_rps[@]}")
  # Rates are whole requests a second.
  h=${h%.00} g=${g%.00} p=${p%.00} br=${br%.00} bc=${bc%.00}
  local get_verdict patch_verdict
  get_verdict=$(awk -v r="$g" -v l="$gp99" \
    'BEGIN {print (r >= 20000 && l < 50) ? "meets target" : "misses target"}')
  patch_verdict=$(awk -v r="$p" -v l="$pp99" \
    'BEGIN {print (r >= 5000 && l < 50) ? "meets target" : "misses target"}')

  {
    echo "{"
    echo "  \"rows\": $rows,"
    echo "  \"runs\": $BENCH_RUNS,"
    echo "  \"seconds_per_run\": $secs,"
    echo "  \"connections\": 64,"
    echo "  \"healthz_rps\": $(json_list "${health_rps[@]}"),"
    echo "  \"get_rps\": $(json_list "${get_rps[@]}"),"
    echo "  \"get_p99_ms\": $(json_list "${get_p99[@]}"),"
    echo "  \"patch_rps\": $(json_list "${patch_rps[@]}"),"
    echo "  \"patch_p99_ms\": $(json_list "${patch_p99[@]}"),"
    echo "  \"sqlite3_read_rps\": $(json_list "${base_read_rps[@]}"),"
    echo "  \"sqlite3_change_rps\": $(json_list "${base_change_rps[@]}"),"
    echo "  \"median\": {\"healthz_rps\": $h, \"get_rps\": $g, \"get_p50_ms\": $gp50,"
    echo "    \"get_p99_ms\": $gp99, \"patch_rps\": $p, \"patch_p50_ms\": $pp50,"
    echo "    \"patch_p99_ms\": $pp99, \"sqlite3_read_rps\": $br, \"sqlite3_change_rps\": $bc}"
    echo "}"
  } >"$OUT/fragments/$name.json.new"
  {
    echo "## HTTP API: reads and status changes under load (SQLite)"
    echo
    echo "\`reftrack serve\` on the $(human "$rows")-referral database, driven by wrk on the same"
    echo "machine (64 connections, 2 threads, $secs s a run; medians of $BENCH_RUNS runs at $COMMIT)."
    echo "Every PATCH is a real change (pending → qualified), answered only once committed"
    echo "with synchronous=FULL; after each run the benchmark checks that PATCH answers,"
    echo "history rows and qualified referrals are the same number. Targets (issue 7):"
    echo "20,000 reads/s and 5,000 changes/s, each with p99 under 50 ms."
    echo
    echo "| | requests/s | p50 | p99 | share of the ceiling | verdict |"
    echo "| --- | ---: | ---: | ---: | ---: | --- |"
    echo "| GET /healthz (the ceiling: no key, no database) | $h | | $hp99 ms | 1.00 | |"
    echo "| GET /api/v1/referrals/{id} | $g | $gp50 ms | $gp99 ms | $(ratio "$g" "$h") | $(verdict_mark "$get_verdict") |"
    echo "| PATCH /api/v1/referrals/{id} | $p | $pp50 ms | $pp99 ms | $(ratio "$p" "$h") | $(verdict_mark "$patch_verdict") |"
    echo
    echo "The sqlite3 shell doing the same work with no HTTP, in the same runs: $br reads/s"
    echo "(the three SELECTs of a referral with its history and rewards) and $bc changes/s"
    echo "(an UPDATE and a history INSERT, one transaction each). Over HTTP reftrack reads at"
    echo "$(ratio "$g" "$br")× the shell's rate and changes at $(ratio "$p" "$bc")× (above 1 is faster):"
    echo "concurrent changes share one commit (group commit), the shell commits each alone."
    echo
    echo "Reproduce: \`BENCH_ONLY=http make bench\` (\`BENCH_HTTP_S\` and \`BENCH_RUNS\` set the length)."
  } >"$OUT/fragments/$name.md.new"
  write_fragment 60 "$name"
}

# ---------------------------------------------------------------------------

LOAD_START=$(loadavg)
log "rows=$BENCH_ROWS runs=$BENCH_RUNS nproc=$NPROC ram=${RAM_GIB}GiB sqlite3=$SQLITE_VERSION commit=$COMMIT load=$LOAD_START"
for b in "${BENCHMARKS[@]}"; do
  [[ " $BENCH_ONLY " == *" $b "* ]] || continue
  "bench_$b"
done
assemble
