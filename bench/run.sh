#!/usr/bin/env bash
# Benchmarks reftrack against plain-SQLite baselines; `make bench` runs it.
#
#   bench/run.sh BUILD_DIR
#
# Environment:
#   BENCH_ROWS     rows per load                   (default 1000000)
#   BENCH_RUNS     timed runs of each side          (default 3)
#   BENCH_MEMBERS  members referrers are drawn from (default 10000)
#   BENCH_ONLY     benchmarks to run, space-separated (default: all, see BENCHMARKS)
#   BENCH_KEEP     1 keeps the generated data and the last databases in bench/out/
#   BENCH_COMMIT   label of the code measured (default: git HEAD, +local-changes if src/ is dirty)
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

BENCHMARKS=(referral_load referral_load_postgres)

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

for v in BENCH_ROWS BENCH_RUNS BENCH_MEMBERS; do
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

# The PostgreSQL benchmark needs a server: without one, run again under a throwaway
# cluster (scripts/with-postgres.sh) that serves both sides of that benchmark.
if [[ " $BENCH_ONLY " == *" referral_load_postgres "* ]] && [ -z "${REFTRACK_TEST_POSTGRES_URL:-}" ]; then
  trap - EXIT
  exec "$ROOT/scripts/with-postgres.sh" "$0" "$@"
fi

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
# The same data as referral_load. reftrack loads into a new database of the
# throwaway cluster; the baseline is psql's \copy of the same CSV into a bare table
# with the same indexes as the SQLite baseline, in another new database.

bench_referral_load_postgres() {
  local name=referral_load_postgres
  local rows=$BENCH_ROWS
  local data=$OUT/data/referrals-$rows-$BENCH_MEMBERS
  local csv=$data/referrals.csv
  local admin=$REFTRACK_TEST_POSTGRES_URL
  export PGOPTIONS="-c client_min_messages=warning"
  local server=${admin%/*}
  if [ ! -s "$csv" ]; then
    timed "$name-datagen" "$DATAGEN" referrals --rows "$rows" --campaigns 3 \
      --members "$BENCH_MEMBERS" --out "$data"
  fi
  local pg_version
  pg_version=$(psql -XAtq "$admin" -c 'SHOW server_version')

  local -a base_s=() ref_s=() ref_kib=() ref_cpu=()
  local run
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    local bdb=bench_base_$run rdb=bench_reftrack_$run
    psql -Xq "$admin" -c "DROP DATABASE IF EXISTS $bdb" -c "DROP DATABASE IF EXISTS $rdb" \
      -c "CREATE DATABASE $bdb" -c "CREATE DATABASE $rdb" >/dev/null
    psql -Xq "$server/$bdb" -c "$BASELINE_SCHEMA" >/dev/null
    timed "$name-baseline-$run" psql -Xq "$server/$bdb" \
      -c "\\copy referrals_csv FROM '$csv' WITH (FORMAT csv, HEADER true)"
    base_s+=("$TIMED_S")
    local count
    count=$(psql -XAtq "$server/$bdb" -c 'SELECT count(*) FROM referrals_csv')
    [ "$count" = "$rows" ] || die "$name: baseline run $run copied $count rows, expected $rows"
    log "$name: run $run/$BENCH_RUNS baseline  ${base_s[-1]} s  (load $(loadavg))"

    local c
    for c in 1 2 3; do
      "$REFTRACK" --db "$server/$rdb" campaign add "Campaign $c" >/dev/null
    done
    "$REFTRACK" --db "$server/$rdb" member load "$data/members.csv" >/dev/null
    timed "$name-reftrack-$run" "$REFTRACK" --db "$server/$rdb" referral load "$csv" --json
    ref_s+=("$TIMED_S")
    ref_kib+=("$TIMED_KIB")
    ref_cpu+=("$TIMED_CPU")
    local created
    created=$(grep -o '"created": *[0-9]*' "$OUT/runs/$name-reftrack-$run.out" | grep -o '[0-9]*$' || true)
    [ "$created" = "$rows" ] || die "$name: reftrack run $run created ${created:-?}, expected $rows"
    log "$name: run $run/$BENCH_RUNS reftrack  ${ref_s[-1]} s  (load $(loadavg))"
    psql -Xq "$admin" -c "DROP DATABASE $bdb" -c "DROP DATABASE $rdb" >/dev/null
  done

  local base_med ref_med r ref_peak verdict ref_cpu_med
  base_med=$(median "${base_s[@]}")
  ref_med=$(median "${ref_s[@]}")
  r=$(ratio "$ref_med" "$base_med")
  ref_cpu_med=$(median "${ref_cpu[@]}")
  ref_peak=$(mib "$(max "${ref_kib[@]}")")
  if [ "$r" != n/a ] && awk -v r="$r" 'BEGIN {exit !(r <= 1.5)}'; then verdict="meets target"
  else verdict="MISSES target"; fi
  local mark="✅"
  [ "$verdict" = "meets target" ] || mark="❌"
  local title
  title="referral load on PostgreSQL ($(human "$rows") rows)"
  printf '\n%s: baseline %s s, reftrack %s s, ratio %sx (target <= 1.5x: %s)\n\n' \
    "$title" "$base_med" "$ref_med" "$r" "$verdict"

  cat >"$OUT/fragments/$name.json.new" <<EOF
{
  "title": $(json_str "$title"),
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": $(json_str "$COMMIT"),
  "rows": $rows,
  "runs": $BENCH_RUNS,
  "postgresql_version": $(json_str "$pg_version"),
  "baseline": {
    "command": $(json_str "psql DB -c \"\\copy referrals_csv FROM 'referrals.csv' WITH (FORMAT csv, HEADER true)\""),
    "wall_s": $(json_list "${base_s[@]}"),
    "median_s": $base_med
  },
  "reftrack": {
    "command": "reftrack --db postgresql://.../DB referral load referrals.csv --json",
    "wall_s": $(json_list "${ref_s[@]}"),
    "cpu_s": $(json_list "${ref_cpu[@]}"),
    "median_s": $ref_med,
    "median_client_cpu_s": $ref_cpu_med,
    "client_peak_mb": $ref_peak
  },
  "ratio": $([ "$r" = n/a ] && echo null || echo "$r"),
  "target_ratio": 1.5,
  "meets_target": $([ "$verdict" = "meets target" ] && echo true || echo false)
}
EOF

  cat >"$OUT/fragments/$name.md.new" <<EOF
## $title

The data of the SQLite benchmark above, loaded into PostgreSQL $pg_version.

| | median wall time | runs (wall s) | client CPU | client peak memory |
|---|---:|---|---:|---:|
| baseline: \`psql \\copy\` | $base_med s | ${base_s[*]} | | |
| reftrack: \`referral load\` | $ref_med s | ${ref_s[*]} | $ref_cpu_med s | $ref_peak MB |
| **ratio reftrack / baseline** | **${r}x** | target ≤ 1.5x: $mark $verdict | | |

Measured $(date -u +%Y-%m-%d) at commit \`$COMMIT\`; median of $BENCH_RUNS runs.
Reproduce: \`BENCH_ONLY=$name make bench\` (plain \`make bench\` runs it with the others).

- **Server**: a throwaway cluster that \`scripts/with-postgres.sh\` starts for the run
  (initdb in a temporary folder, loopback only, fsync and synchronous_commit off),
  the same server for both sides; each run uses two new databases.
- **Baseline**: \`psql -c "\\copy referrals_csv FROM 'referrals.csv' WITH (FORMAT csv,
  HEADER true)"\` into a bare all-TEXT table with the SQLite baseline's indexes: the
  server parses the CSV and inserts; nothing is checked or normalized.
- **reftrack**: untimed \`campaign add\` ×3 and \`member load\`, then timed
  \`reftrack --db postgresql://…/DB referral load referrals.csv --json\`: every row
  parsed, validated and normalized by reftrack, then sent with \`COPY\` in batches of
  16,384 rows inside one transaction (src/store/postgres/postgres_store.cc), into
  the \`referrals\` table with its primary key and its indexes.
- **Memory**: the reftrack process's peak resident memory; the server's memory is
  not counted on either side.
EOF
  write_fragment 20 "$name"
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
    echo "Each benchmark times reftrack against a plain-SQLite baseline doing the same"
    echo "job with no rules. Machines are shared and noisy, so compare the **ratio**"
    echo "(reftrack time / baseline time, target ≤ 1.0x), not absolute times. Raw"
    echo "figures of the last run: \`bench/out/results.json\`."
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

LOAD_START=$(loadavg)
log "rows=$BENCH_ROWS runs=$BENCH_RUNS nproc=$NPROC ram=${RAM_GIB}GiB sqlite3=$SQLITE_VERSION commit=$COMMIT load=$LOAD_START"
for b in "${BENCHMARKS[@]}"; do
  [[ " $BENCH_ONLY " == *" $b "* ]] || continue
  "bench_$b"
done
assemble
