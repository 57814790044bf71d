#!/usr/bin/env bash
# Everything `make test` runs after the build: the CTest suite (unit, integration
# against the PN532 emulator, CLI smoke tests, browser tests in Chromium), a
# format check, a short libFuzzer run of every fuzz target, and the package
# test (release build, .debs, install in a clean Debian root, kiosk session).
set -euo pipefail
build=${1:-build/dev}
cd "$(dirname "$0")/.."

echo "== format check (clang-format)"
scripts/lint.sh --format-only

echo "== fuzz targets, ${KB_FUZZ_SECONDS:-10} s each"
scripts/fuzz.sh "${KB_FUZZ_SECONDS:-10}"

echo "== ctest"
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600

# The packager's build (release preset, warnings not errors) and the packages:
# built, lintian-checked, installed in a clean Debian 12 root, kiosk session run.
echo "== release preset, packages, install test, kiosk session"
scripts/package-test.sh
