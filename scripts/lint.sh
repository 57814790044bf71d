#!/usr/bin/env bash
# clang-format check on our own C++ (always); clang-tidy too unless --format-only.
# `make test` runs the format check (and the ctest lint.naming the naming part of
# clang-tidy on every header); the full clang-tidy pass takes about 10 minutes on
# two cores, so it runs with `make lint`.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.h' | grep -v '^tests/fuzz/corpus/')
[ ${#files[@]} -gt 0 ] || exit 0
clang-format --dry-run --Werror "${files[@]}"
echo "clang-format: ${#files[@]} files clean"
[ "${1:-}" = "--format-only" ] && exit 0
build=${1:-build/dev}
mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep -E '^(daemon|drivers)/.*\.cpp$')
# clang-tidy 16 (Debian 12) reads GCC's compile commands, with the arguments of
# scripts/clang-tidy-args to parse C++23 with libstdc++ 12 and Boost 1.74.
mapfile -t tidy_args < <(grep -v -e '^#' -e '^$' scripts/clang-tidy-args)
# GCC's precompiled header (cmake/ProjectOptions.cmake) is of no use to clang, and
# clang stops at its .gch ("not a valid precompiled PCH file"): clang-tidy gets the
# commands without it.
tidy_db=$(mktemp -d)
trap 'rm -rf "$tidy_db"' EXIT
sed -E 's# -Winvalid-pch -include [^ ]*/cmake_pch\.hxx##g' "$build/compile_commands.json" >"$tidy_db/compile_commands.json"
printf '%s\n' "${sources[@]}" | xargs -P "$(nproc)" -n 4 clang-tidy-16 -p "$tidy_db" --quiet \
  "${tidy_args[@]/#/--extra-arg=}"
echo "clang-tidy: ${#sources[@]} files clean"
