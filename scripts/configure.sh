#!/usr/bin/env bash
# Configures build/PRESET once; a build tree that exists is left as it is.
# On CI (CI set, as CI services do) the RelWithDebInfo trees (dev, fuzz) keep
# line tables only (-g1): the build is thrown away after the run, a backtrace
# still has file and line, and GCC spends about a quarter less CPU on each of our
# Asio files without full variable info.
set -euo pipefail
preset=${1:?usage: configure.sh PRESET}
cd "$(dirname "$0")/.."
[ -f "build/$preset/build.ninja" ] && exit 0
args=()
[ -n "${CI:-}" ] && args=(-DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG")
cmake --preset "$preset" "${args[@]}" >/dev/null
