#!/usr/bin/env bash
# Everything `make test` runs after the build: the CTest suite (unit, integration
# against the PN532 emulator, CLI smoke tests, browser tests in Chromium), a
# format check, and a short libFuzzer run of every fuzz target.
set -euo pipefail
build=${1:-build/dev}
cd "$(dirname "$0")/.."

echo "== format check (clang-format)"
scripts/lint.sh --format-only

echo "== fuzz targets, ${KB_FUZZ_SECONDS:-10} s each"
scripts/fuzz.sh "${KB_FUZZ_SECONDS:-10}"

echo "== ctest"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600
