#!/usr/bin/env bash
# Staff console at scale (docs/PERFORMANCE.md, console section): a console node
# with KB_CONSOLE_BENCH_CARDS staff records (default 10^6) and, in the same run,
# nginx serving a static JSON answer over the same mTLS setup (same server
# certificate, same client CA and CRL, same operator certificate, same client).
# The client is tests/bench/console_load (C++, Boost.Beast, one thread, one
# io_context), the same binary for nginx and the node, with 8 operator
# certificates dealt over its connections (the per-operator rate limit is not
# what is measured). For card, NIK and name + kelurahan search: closed loop
# with 50 keep-alive clients (throughput at saturation; each node row right
# after an nginx row, its ratio to that one) and open loop over 50
# connections at each offered rate of KB_CONSOLE_BENCH_RATES (requests/s in
# all; default "100": operator pace, one lookup per connection every 0.5 s).
# Each node row also gives the node's CPU time per request (user + system of
# all its threads, from /proc), which a busy machine disturbs less than rates.
# Then the audit log's lines per fdatasync under load (group commit), the cost
# of one fdatasync'd append on this disk, and the name-search recall test.
# Wall-clock figures: never part of `make test`.
#   tests/bench/console_bench.sh BUILD_DIR
#   KB_CONSOLE_BENCH_DIR=DIR keeps (or reuses) the set-up node in DIR;
#   KB_CONSOLE_BENCH_SECONDS (default 10) per row; KB_CONSOLE_BENCH_ONLY="card nik"
#   runs only those targets (nginx, card, nik, name); KB_CONSOLE_BENCH_ROUNDS=N
#   repeats the closed-loop pairs (nginx, then a node target) N times; KB_CONSOLE_BENCH_DAEMON=BIN
#   runs another kartu-bahagiad (e.g. a build from before a change).
set -euo pipefail
build=$(realpath "${1:-build/dev}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kbctl=$build/daemon/bin/kbctl/kbctl
daemon=${KB_CONSOLE_BENCH_DAEMON:-$build/daemon/bin/kartu-bahagiad/kartu-bahagiad}
cards=${KB_CONSOLE_BENCH_CARDS:-1000000}
secs=${KB_CONSOLE_BENCH_SECONDS:-10}
rates=${KB_CONSOLE_BENCH_RATES:-100}
only=${KB_CONSOLE_BENCH_ONLY:-nginx card nik name}
rounds=${KB_CONSOLE_BENCH_ROUNDS:-1}
clients=50
load_client=$build/tests/bench/console_load
# shellcheck source=nginx_tls.sh
. "$here/nginx_tls.sh"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

keep=${KB_CONSOLE_BENCH_DIR:-}
dir=${keep:-$(mktemp -d /tmp/kb-console-bench.XXXXXX)}
dpid=""
cleanup() {
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  nginx_tls_stop
  [ -z "$keep" ] && rm -rf "$dir"
  return 0
}
trap cleanup EXIT
mkdir -p "$dir"
if [ ! -f "$dir/console.conf" ]; then
  t0=$(date +%s)
  KB_SETUP_CARDS=$cards "$repo/tests/console/setup_node.sh" "$kbctl" "$dir" "$(free_port)" \
    "console_rate_burst = 10000" "console_rate_per_minute = 100000" >/dev/null
  echo "setup (synthetic roster, staff publish, import): $(( $(date +%s) - t0 )) s for $cards cards"
fi
cd "$dir"
# The node as shipped: the test set-up's checkpoint every 10 lines (so that
# tests see checkpoints soon) becomes the product default of 100.
sed -i 's/^audit_checkpoint_every = .*/audit_checkpoint_every = 100/' console.conf
port=$(sed -n 's/^console_listen = 127.0.0.1://p' console.conf)
url=https://127.0.0.1:$port
rm -f state/audit.log daemon.log
curl_op() { curl -s --cacert pki/console-ca.pem --cert pki/operators/op1.pem --key pki/operators/op1.key "$@"; }

# Request lists: 2,000 random cards of the roster.
python3 - "$dir" <<'PY'
import csv, random, sys, urllib.parse
d = sys.argv[1]
rows = list(csv.DictReader(open(f"{d}/roster.csv", encoding="utf-8")))
seen, people = set(), []
for r in rows:
    if r["card_no"] not in seen:
        seen.add(r["card_no"]); people.append(r)
random.seed(42)
pick = random.sample(people, min(2000, len(people)))
q = urllib.parse.quote
with open(f"{d}/card.paths", "w") as f:
    for r in pick: f.write(f"/api/console/search?card_no={q(r['card_no'])}\n")
with open(f"{d}/nik.paths", "w") as f:
    for r in pick: f.write(f"/api/console/search?nik={r['nik']}\n")
with open(f"{d}/name.paths", "w") as f:
    for r in pick: f.write(f"/api/console/search?name={q(r['full_name'])}&kelurahan={q(r['kelurahan'])}\n")
with open(f"{d}/name.tsv", "w") as f:  # for console_search_bench
    for r in pick[:400]: f.write(f"{r['full_name']}\t{r['kelurahan']}\n")
with open(f"{d}/static.paths", "w") as f:
    f.write("/answer.json\n")
PY

t0=$(date +%s.%N)
"$daemon" --config console.conf 2>>daemon.log &
dpid=$!
until curl_op -o /dev/null "$url/healthz"; do
  kill -0 "$dpid" 2>/dev/null || { tail daemon.log; echo "daemon exited" >&2; exit 1; }
  sleep 0.2
done
echo "daemon start to first answer (opens the index; builds it when missing): $(python3 -c "import time; print(round(time.time() - $t0, 1))") s"
# The static file nginx serves: a real card-search answer of this node.
mkdir -p static
curl_op "$url/api/console/search?card_no=$(sed -n '1s/.*card_no=//p' card.paths)" > static/answer.json
nport=$(free_port)
NGINX_WORKERS=2 NGINX_DEFAULT_TYPE=application/json nginx_tls_start "$dir/nginx" "$nport" "$dir/static" \
  "$dir/pki/server.pem" "$dir/pki/server.key" "$dir/pki/console-ca.pem" "$dir/pki/console-ca.crl"
curl_op -fo /dev/null "https://127.0.0.1:$nport/answer.json"

# Eight operator certificates, dealt round-robin over the client's connections.
ops=()
for i in 1 2 3 4 5 6 7 8; do
  [ -f "pki/operators/bench$i.pem" ] ||
    "$repo/certs/console/console-pki.sh" operator pki "bench$i" --password bench >/dev/null
  ops+=(--cert "pki/operators/bench$i.pem" --key "pki/operators/bench$i.key")
done
declare -A target_port=([nginx]=$nport [card]=$port [nik]=$port [name]=$port)
declare -A target_paths=([nginx]=static.paths [card]=card.paths [nik]=nik.paths [name]=name.paths)
declare -A target_label=([nginx]="nginx static JSON (baseline)" [card]="card number" [nik]=NIK
                         [name]="name + kelurahan")
nginx_rps=""
cpu_ticks() { awk '{print $14 + $15}' "/proc/$dpid/stat"; }  # the node's user + system time
load() {  # load TARGET [RATE]
  local out t0 t1
  t0=$(cpu_ticks)
  out=$("$load_client" --port "${target_port[$1]}" --ca pki/console-ca.pem "${ops[@]}" \
    --paths "${target_paths[$1]}" --clients "$clients" --seconds "$secs" --warmup 1 \
    ${2:+--rate "$2"}) || true
  t1=$(cpu_ticks)
  if [ "$1" = nginx ] && [ -z "${2:-}" ]; then
    nginx_rps=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['rps'])" "$out")
  fi
  [ "$1" = nginx ] && t1=$t0
  python3 - "${target_label[$1]}" "$out" "${nginx_rps:-0}" "$((t1 - t0))" "$(getconf CLK_TCK)" "$secs" <<'PY'
import json, sys
label, r, base = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
ticks, hz, secs = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
# The node's CPU time (all its threads) per request, the 1 s warm-up counted
# at the measured rate; "-" for nginx (not the node).
cpu = f"{ticks / hz * 1e6 / (r['rps'] * (secs + 1)):.0f}" if ticks and r["rps"] else "-"
ratio = f" ({r['rps'] / base:.2f}x)" if r["mode"] == "closed" and base and "nginx" not in label else ""
st = ", ".join(f"{n} x {c}" for c, n in r["statuses"].items())
extra = f"; {r['errors']} errors: {r.get('first_error', '')}" if r["errors"] else ""
late = f"; {r['late']} sent late" if r["mode"] == "open" and r["late"] else ""
print(f"| {label} | {r['rps']:.0f}{ratio} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | {r['p99_ms']:.2f} "
      f"| {r['max_ms']:.2f} | {cpu} | {st}{late}{extra} |")
PY
}
table_head() {
  echo "| target | requests/s | p50 ms | p90 ms | p99 ms | max ms | node CPU µs/request | answers |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
}
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //');" \
  "$(nginx -v 2>&1); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "### Closed loop: $clients keep-alive mTLS connections, each sending the next request on the answer (${secs} s each)"
echo
echo "Each node row comes right after its own nginx row, and its ratio is to that one:"
echo "on a shared machine what the two get of the CPUs drifts within minutes."
table_head
node_targets=$(for t in $only; do [ "$t" != nginx ] && echo "$t"; done || true)
for round in $(seq "$rounds"); do
  for t in ${node_targets:-nginx}; do
    load nginx
    [ "$t" != nginx ] && load "$t"
  done
done
for rate in $rates; do
  echo
  echo "### Open loop: $rate requests/s offered over $clients connections" \
    "(each one every $((clients * 1000 / rate)) ms), latency from when each request was due"
  table_head
  for t in $only; do load "$t" "$rate"; done
done

kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=""
echo
grep -o 'audit: [0-9]* lines in [0-9]* syncs.*' daemon.log | tail -1 | sed 's/^/group commit over the whole run: /' || true
python3 - "$dir/state" <<'PY'
import os, sys, time
# One audit-sized line appended and fdatasync'd, 2,000 times, on the state
# directory's file system, with a 3 ms pause after every third (as requests at
# operator pace arrive): what one lookup waits for at least, since its answer
# leaves only once its line is on disk.
p = os.path.join(sys.argv[1], "bench-append.tmp")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
line = b"x" * 400 + b"\n"
lat = []
for i in range(2000):
    t = time.perf_counter()
    os.write(fd, line); os.fdatasync(fd)
    lat.append(time.perf_counter() - t)
    if i % 3 == 2: time.sleep(0.003)
os.close(fd); os.unlink(p)
lat.sort()
q = lambda f: lat[int(f * len(lat)) - 1] * 1e3
print(f"one 400-byte append + fdatasync on this disk: mean {sum(lat) / len(lat) * 1e3:.3f} ms, "
      f"p50 {q(0.5):.3f}, p99 {q(0.99):.3f}, max {lat[-1] * 1e3:.3f} ms ({len(lat)} appends)")
PY
"$kbctl" audit verify --log state/audit.log --key state/audit-node.key.pub --journal daemon.log \
  | sed 's/^/kbctl audit verify after the run: /'
echo
echo "### Name-search recall (variant set, ConsoleRecall)"
"$build/tests/console/kb_console_test" --gtest_filter='ConsoleRecall*' | sed -n '/variant class/,/^all/p'
