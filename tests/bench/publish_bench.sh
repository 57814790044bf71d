#!/bin/sh
# Publish benchmark: `kbctl publish` (the streaming publisher) of a synthetic
# roster of KB_BENCH_PUBLISH_CARDS cards (default 10^6), timed with
# /usr/bin/time -v for wall time and peak RSS; prints records/s and
# bytes/record of the snapshot. The CSV is written to a temporary directory
# (TMPDIR, ~360 bytes per card) and removed afterwards.
#   tests/bench/publish_bench.sh build/dev
#   KB_BENCH_PUBLISH_CARDS=10000000 tests/bench/publish_bench.sh build/dev   (10^7: ~3.6 GB CSV, ~4 min)
set -eu
build=${1:-build/dev}
kbctl="$build/daemon/bin/kbctl/kbctl"
n=${KB_BENCH_PUBLISH_CARDS:-1000000}
[ -x "$kbctl" ] || { echo "publish_bench: no kbctl at $kbctl" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "publish_bench: needs /usr/bin/time (Debian package time)" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/kb-publish-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$work/keys"
for k in root snapshot card; do "$kbctl" keygen --out "$work/keys/$k" >/dev/null; done
"$kbctl" root init --out "$work/root.json" --expires-days 30 --root-key "$work/keys/root.key" \
  --threshold 1 --snapshot-key "$work/keys/snapshot.pub" --card-key "$work/keys/card.pub" >/dev/null
"$kbctl" roster synth --cards "$n" --seed 1 --out "$work/roster.csv" >/dev/null
csv_bytes=$(stat -c %s "$work/roster.csv")
/usr/bin/time -v -o "$work/time.txt" "$kbctl" publish --roster "$work/roster.csv" --root "$work/root.json" \
  --key "$work/keys/snapshot.key" --serial 1 --expires-days 7 --profile kiosk --out "$work/out" >/dev/null
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
bytes=$(stat -c %s "$work/out/snapshot-1.kbs")
awk -v n="$n" -v wall="$wall" -v rss="$rss_kb" -v bytes="$bytes" -v csv="$csv_bytes" 'BEGIN {
  k = split(wall, p, ":"); s = 0; for (i = 1; i <= k; i++) s = s * 60 + p[i];
  printf "publish %d cards (CSV %.0f MB): %.1f s, %.0f records/s, peak RSS %.0f MiB, snapshot %.1f bytes/record\n",
    n, csv / 1e6, s, n / s, rss / 1024, bytes / n }'
