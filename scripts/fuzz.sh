#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset `fuzz`) and runs each for
# SECONDS (default 60) from its seed corpus. New findings fail the run and
# leave a crash-* file in build/fuzz/.
set -euo pipefail
seconds=${1:-60}
cd "$(dirname "$0")/.."
[ -f build/fuzz/build.ninja ] || cmake --preset fuzz >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target fuzz_all
for bin in build/fuzz/tests/fuzz/*_fuzz; do
  name=$(basename "$bin" _fuzz)
  corpus=tests/fuzz/corpus/$name
  work=build/fuzz/corpus/$name
  mkdir -p "$work"
  echo "-- $name: ${seconds}s"
  (cd build/fuzz && "../../$bin" -max_total_time="$seconds" -print_final_stats=0 \
      -artifact_prefix="crash-$name-" "../../$work" "../../$corpus" 2>&1 | tail -n 2)
done
