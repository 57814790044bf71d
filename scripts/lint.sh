#!/usr/bin/env bash
# clang-format check on our own C++ (always); clang-tidy too unless --format-only.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -v '^tests/fuzz/corpus/')
[ ${#files[@]} -gt 0 ] || exit 0
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
[ "${1:-}" = "--format-only" ] && exit 0
build=${1:-build/dev}
mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep -E '^(daemon|drivers)/.*\.cpp$')
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet
echo "clang-tidy: ${#sources[@]} files clean"
