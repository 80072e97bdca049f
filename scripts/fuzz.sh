#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-16 into build-fuzz/ and runs each
# for SECONDS (default 30), one after the other, failing on the first crash or failed
# invariant. Each run starts from its seed corpus, fuzz/corpus/<target>/, and keeps
# what it finds in build-fuzz/corpus/<target>/ (never in the repository); a crash's
# input is saved as build-fuzz/artifacts/<target>-crash-*.
#   scripts/fuzz.sh            # 30 s each, as CI does
#   scripts/fuzz.sh 600        # 10 minutes each
#   TARGETS="fuzz_csv_reader" scripts/fuzz.sh 60
set -euo pipefail

seconds="${1:-30}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build-fuzz"
targets="${TARGETS:-fuzz_csv_reader fuzz_bulk_update fuzz_qualify_list fuzz_json_bodies}"

command -v clang++-16 >/dev/null || {
  echo "fuzz.sh: clang++-16 is missing: apt-get install clang-16 libclang-rt-16-dev" >&2
  exit 1
}
cmake -S "$root/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-16 >/dev/null
cmake --build "$build" -- $targets

mkdir -p "$build/artifacts" "$build/logs"
for target in $targets; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  dict=()
  [[ -f "$root/fuzz/dicts/$target.dict" ]] && dict=(-dict="$root/fuzz/dicts/$target.dict")
  log="$build/logs/$target.log"
  echo "fuzz.sh: $target for ${seconds}s (log: $log)"
  # The first corpus folder gets the new inputs; the seeds are only read.
  if ! "$build/$target" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$build/artifacts/$target-" "${dict[@]}" \
      "$corpus" "$root/fuzz/corpus/$target" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz.sh: $target FAILED; the input is in $build/artifacts/" >&2
    exit 1
  fi
  grep -E '^stat::number_of_executed_units|^#[0-9]+ +DONE' "$log" | tr '\n' ' '
  echo
done
echo "fuzz.sh: no crashes"
