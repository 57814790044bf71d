#!/usr/bin/env bash
# Runs every benchmark once and prints the tables that docs/PERFORMANCE.md
# quotes, each next to the baseline measured in the same run. Never part of
# `make test`: figures are wall-clock and depend on the machine.
#   scripts/bench.sh [BUILD_DIR]      (default build/dev; `make bench`)
#   KB_BENCH_SIZES=100000,1000000 KB_BENCH_TAPS=30 scripts/bench.sh
set -euo pipefail
build=${1:-build/dev}
cd "$(dirname "$0")/.."
build=$(realpath "$build")
sizes=${KB_BENCH_SIZES:-100000,1000000}
taps=${KB_BENCH_TAPS:-30}
work=$(mktemp -d /tmp/kb-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
kbctl=$build/daemon/bin/kbctl/kbctl
export KB_DAEMON=$build/daemon/bin/kartu-bahagiad/kartu-bahagiad KBCTL=$kbctl \
       KB_EMULATOR=$build/tests/support/pn532-emulator

echo "# Benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo

echo "## Publish, import, lookup (cache_bench)"
"$build/tests/bench/cache_bench" --sizes "$sizes" --dir "$work/cache"
echo

echo "## kbctl publish (streaming), 10^6; 10^7 with KB_BENCH_PUBLISH_10M=1 (~3.6 GB CSV in TMPDIR)"
KB_BENCH_PUBLISH_CARDS=1000000 tests/bench/publish_bench.sh "$build"
if [ "${KB_BENCH_PUBLISH_10M:-0}" = 1 ]; then
  KB_BENCH_PUBLISH_CARDS=10000000 tests/bench/publish_bench.sh "$build"
fi
echo

echo "## Baseline: sqlite3 .import of the same roster CSV, same indexes"
echo "| records (cards) | csv rows | seconds | rows/s | peak RSS MiB |"
echo "|---|---|---|---|---|"
for n in ${sizes//,/ }; do
  csv=$work/roster-$n.csv
  "$kbctl" roster synth --cards "$n" --seed 1 --out "$csv" >/dev/null
  rows=$(($(wc -l <"$csv") - 1))
  db=$work/baseline-$n.db
  rm -f "$db"
  # The cache keeps one indexed key (card_no) and one secondary index (bucket);
  # the baseline table gets the same two indexes, then .import fills it.
  sqlite3 "$db" "CREATE TABLE roster($(head -1 "$csv" | sed 's/^\xEF\xBB\xBF//'));
    CREATE INDEX roster_card ON roster(card_no); CREATE INDEX roster_kelurahan ON roster(kelurahan);"
  /usr/bin/time -f "%e %M" -o "$work/time" \
    sqlite3 "$db" "PRAGMA synchronous=OFF;" ".import --csv --skip 1 $csv roster" >/dev/null
  read -r secs kib <"$work/time"
  awk -v n="$n" -v r="$rows" -v s="$secs" -v k="$kib" \
    'BEGIN { printf "| %d | %d | %.2f | %.0f | %.0f |\n", n, r, s, r / s, k / 1024 }'
done
echo

echo "## Tap to identity (libnfc driver + PN532 emulator; baseline nfc-mfultralight r)"
"$build/tests/bench/tap_bench" "$taps"
echo

echo "## Tap to screen (libnfc + PN532 emulator + daemon + Chromium; baseline nfc-mfultralight r)"
node tests/bench/tap_to_screen.mjs --taps "$taps" --baseline-runs 10
echo

echo "## Daemon memory with a 10^6-record kiosk cache"
node tests/bench/daemon_rss.mjs --cards 1000000
echo

# Mirror sync from nginx on loopback: 1 % delta and full snapshot, with the
# curl + sqlite3 .import baseline (KB_SYNC_BENCH_CARDS, default 10^6).
tests/bench/sync_bench.sh "$build"
echo

echo "## Tap to screen while the kiosk syncs a full 10^6 snapshot (idle kiosk as baseline)"
node tests/bench/tap_during_sync.mjs --cards 1000000 --taps "$taps"
echo

# Staff console at 10^6 records over mTLS, nginx static JSON over the same
# mTLS as the baseline, audit group commit, recall (KB_CONSOLE_BENCH_CARDS).
echo "## Staff console (mTLS, 50 clients; nginx static JSON baseline)"
tests/bench/console_bench.sh "$build"
