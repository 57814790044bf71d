#!/usr/bin/env bash
# Mirror sync benchmarks (docs/PERFORMANCE.md "Sync"), each with its baseline in
# the same run, from a real nginx with TLS on loopback started here:
#   (a) a 1 % delta at N records: `kbctl sync` (fetch timestamp, download the
#       delta, verify, import) and then a `kbctl lookup` of a changed card that
#       answers from the new serial: applied and served, end to end;
#   (b) a full N-record snapshot into an empty kiosk: `kbctl sync` against the
#       baseline `curl` download of the same file from the same nginx plus
#       `sqlite3 .import` of the same roster as CSV (same two indexes as bench.sh).
# Works with whatever `kbctl publish` produces (bytes/record are printed).
# Figures are wall-clock, for humans; nothing is asserted. Never part of make test.
#   tests/bench/sync_bench.sh [BUILD_DIR]     (default build/dev)
#   KB_SYNC_BENCH_CARDS=1000000 (default)     KB_SYNC_BENCH_RUNS=2 (best of)
set -euo pipefail
build=${1:-build/dev}
cd "$(dirname "$0")/../.."
# shellcheck source=nginx_tls.sh
. tests/bench/nginx_tls.sh
build=$(realpath "$build")
kbctl=$build/daemon/bin/kbctl/kbctl
n=${KB_SYNC_BENCH_CARDS:-1000000}
runs=${KB_SYNC_BENCH_RUNS:-2}
work=$(mktemp -d /tmp/kb-sync-bench.XXXXXX)
cleanup() {
  nginx_tls_stop
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }
# Runs a command, prints its wall time in ms on stdout (its own output discarded).
time_ms() {
  local t0 t1
  t0=$(now_ms)
  "$@" >/dev/null 2>"$work/last.err" || { echo "failed: $* ($(tail -3 "$work/last.err"))" >&2; return 1; }
  t1=$(now_ms)
  echo $((t1 - t0))
}
min() { printf '%s\n' "$@" | sort -n | head -1; }

# --- keys, root (with a timestamp key), rosters --------------------------------
mkdir -p "$work/keys" "$work/www/mirror" "$work/nginx/tmp"
for k in root snapshot card ts; do "$kbctl" keygen --out "$work/keys/$k" >/dev/null; done
"$kbctl" root init --out "$work/root.json" --expires-days 30 --root-key "$work/keys/root.key" \
  --threshold 1 --snapshot-key "$work/keys/snapshot.pub" --card-key "$work/keys/card.pub" \
  --timestamp-key "$work/keys/ts.pub" >/dev/null
"$kbctl" roster synth --cards "$n" --seed 1 --out "$work/r1.csv" >/dev/null
"$kbctl" roster synth --cards "$n" --seed 1 --change-percent 1 --change-seed 2 --out "$work/r2.csv" >/dev/null
pub() {  # pub SERIAL ROSTER OUT [BASE]
  "$kbctl" publish --roster "$2" --root "$work/root.json" --key "$work/keys/snapshot.key" --serial "$1" \
    --expires-days 7 --profile kiosk --out "$3" ${4:+--base "$4"} >/dev/null
}
pub 1 "$work/r1.csv" "$work/b1"
pub 2 "$work/r2.csv" "$work/b2" "$work/b1/snapshot-1.kbs"
stamp() { "$kbctl" timestamp --root "$work/root.json" --key "$work/keys/ts.key" --dir "$1" --expires-hours 2 >/dev/null; }

# --- nginx with TLS on a free loopback port -------------------------------------
d=$work/pki
mkdir -p "$d"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$d/ca.key" -out "$d/ca.crt" -days 2 -subj /CN=kb-bench-ca 2>/dev/null
openssl req "${ec[@]}" -keyout "$d/server.key" -out "$d/server.csr" -subj /CN=127.0.0.1 2>/dev/null
echo "subjectAltName=IP:127.0.0.1" >"$d/san.ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
  -out "$d/server.crt" -days 2 -extfile "$d/san.ext" 2>/dev/null
port=
for p in $(seq 20000 20100) $(shuf -i 20101-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
nginx_tls_start "$work/nginx" "$port" "$work/www" "$d/server.crt" "$d/server.key"
url=https://127.0.0.1:$port/mirror/
mirror=$work/www/mirror

sync_to() {  # sync_to DB
  "$kbctl" sync --db "$1" --root "$work/root.json" --mirror "$url" --ca "$d/ca.crt" --deadline-seconds 60
}
snap_bytes=$(stat -c %s "$work/b1/snapshot-1.kbs")
delta_bytes=$(stat -c %s "$work/b2/delta-1-2.kbs")
changed=$(awk -F, 'NR==FNR { if (FNR > 1) a[FNR] = $0; next } FNR > 1 && a[FNR] != $0 { split($0, f, ","); print f[1]; exit }' \
  "$work/r1.csv" "$work/r2.csv")

echo "## Sync from nginx on loopback (TLS), $n records"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)," \
     "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $(nginx -v 2>&1); $(curl --version | head -1 | cut -d' ' -f1-2)"
echo "snapshot-1.kbs: $snap_bytes bytes ($((snap_bytes / n)) bytes/record); delta-1-2.kbs (1 %): $delta_bytes bytes"
echo

# --- (b) full snapshot into an empty kiosk, and the baseline --------------------
cp "$work/b1/snapshot-1.kbs" "$mirror/"
stamp "$mirror"
full=() curl_t=() sqlite_t=() delta=() lookup=()
for _ in $(seq "$runs"); do
  rm -rf "$work/k" && mkdir -p "$work/k"
  sync 2>/dev/null || true
  full+=("$(time_ms sync_to "$work/k/cache.db")")
  curl_t+=("$(time_ms curl -sS --fail --cacert "$d/ca.crt" -o "$work/curl.kbs" "${url}snapshot-1.kbs")")
  rm -f "$work/base.db"
  sqlite3 "$work/base.db" "CREATE TABLE roster($(head -1 "$work/r1.csv" | sed 's/^\xEF\xBB\xBF//'));
    CREATE INDEX roster_card ON roster(card_no); CREATE INDEX roster_kelurahan ON roster(kelurahan);"
  sqlite_t+=("$(time_ms sqlite3 "$work/base.db" "PRAGMA synchronous=OFF;" ".import --csv --skip 1 $work/r1.csv roster")")

  # --- (a) the 1 % delta onto that kiosk: applied and served ---------------------
  cp "$work/b2/snapshot-2.kbs" "$work/b2/delta-1-2.kbs" "$mirror/"
  stamp "$mirror"
  t0=$(now_ms)
  sync_to "$work/k/cache.db" >"$work/delta.out"
  t1=$(now_ms)
  "$kbctl" lookup --db "$work/k/cache.db" --root "$work/root.json" --card "$changed" --json >"$work/lookup.json"
  t2=$(now_ms)
  grep -q '"serial":2' "$work/lookup.json" || { echo "lookup did not answer from serial 2" >&2; exit 1; }
  grep -q "by delta" "$work/delta.out" || { echo "not synced by delta: $(cat "$work/delta.out")" >&2; exit 1; }
  delta+=($((t1 - t0)))
  lookup+=($((t2 - t0)))
  rm -f "$mirror/snapshot-2.kbs" "$mirror/delta-1-2.kbs"
  stamp "$mirror"
done

f=$(min "${full[@]}"); c=$(min "${curl_t[@]}"); s=$(min "${sqlite_t[@]}")
dl=$(min "${delta[@]}"); lk=$(min "${lookup[@]}")
echo "best of $runs runs, ms"
echo "| what | ms | goal | met |"
echo "|---|---|---|---|"
awk -v dl="$dl" -v lk="$lk" 'BEGIN {
  printf "| (a) 1 %% delta: kbctl sync (timestamp, delta download, verify, import) | %d | | |\n", dl
  printf "| (a) 1 %% delta: sync + kbctl lookup of a changed card answering from serial 2 | **%d** | ≤ 1500 | %s |\n", lk, lk <= 1500 ? "yes" : "no" }'
awk -v f="$f" -v c="$c" -v s="$s" 'BEGIN {
  printf "| (b) full snapshot: kbctl sync into an empty kiosk | **%d** | | |\n", f
  printf "| (b) baseline: curl download of the same snapshot from the same nginx | %d | | |\n", c
  printf "| (b) baseline: sqlite3 .import of the same roster CSV (2 indexes) | %d | | |\n", s
  printf "| (b) kbctl sync / (curl + sqlite3 .import) | **%.2f×** | ≤ 0.5× | %s |\n", f / (c + s), f / (c + s) <= 0.5 ? "yes" : "no" }'
echo
echo "runs: full ${full[*]}; curl ${curl_t[*]}; sqlite3 ${sqlite_t[*]}; delta ${delta[*]}; delta+lookup ${lookup[*]}"
