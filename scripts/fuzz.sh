#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (preset `fuzz`) and runs each for
# SECONDS (default 60) from its seed corpus. New findings fail the run and
# leave a crash-* file in build/fuzz/. The targets run KB_FUZZ_JOBS at a time
# (default: one per core; each fuzzer is one process on one core), so every
# target still gets SECONDS of a core to itself.
set -euo pipefail
seconds=${1:-60}
jobs=${KB_FUZZ_JOBS:-$(nproc)}
cd "$(dirname "$0")/.."
scripts/configure.sh fuzz
cmake --build build/fuzz -j "$(nproc)" --target fuzz_all
# One target: its output in build/fuzz/NAME.log, its exit status in NAME.rc,
# its last two lines printed in one piece when it ends.
run_one() {  # BIN NAME
  local name=$2 rc=0
  local corpus=tests/fuzz/corpus/$name work=build/fuzz/corpus/$name
  mkdir -p "$work"
  (cd build/fuzz && "../../$1" -max_total_time="$seconds" -print_final_stats=0 \
      -artifact_prefix="crash-$name-" "../../$work" "../../$corpus") >"build/fuzz/$name.log" 2>&1 || rc=$?
  echo "$rc" >"build/fuzz/$name.rc"
  printf -- '-- %s: %ss%s\n%s\n' "$name" "$seconds" "$([ "$rc" = 0 ] || echo ", FAILED (exit $rc)")" \
    "$(tail -n 2 "build/fuzz/$name.log")"
}
names=()
for bin in build/fuzz/tests/fuzz/*_fuzz; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  name=$(basename "$bin" _fuzz)
  names+=("$name")
  rm -f "build/fuzz/$name.rc"
  run_one "$bin" "$name" &
done
wait
failed=()
for name in "${names[@]}"; do
  [ "$(cat "build/fuzz/$name.rc" 2>/dev/null)" = 0 ] || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: ${failed[*]} failed (crash-* files and build/fuzz/NAME.log)" >&2
  exit 1
fi
