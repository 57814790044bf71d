#!/usr/bin/env bash
# Staff console at scale (docs/PERFORMANCE.md, console section): a console node
# with KB_CONSOLE_BENCH_CARDS staff records (default 10^6) and, in the same run,
# nginx serving a static JSON answer over the same mTLS setup (same server
# certificate, same client CA and CRL, same operator certificate, same client).
# For card, NIK and name + kelurahan search: closed loop with 50 keep-alive
# clients (throughput at saturation) and open loop with 50 clients at operator
# pace (KB_CONSOLE_BENCH_INTERVAL_MS, default 500: one lookup per client every
# 0.5 s, 100 lookups/s in all). Then the audit log's lines per fdatasync under
# load (group commit), the cost of one fdatasync'd append on this disk, and
# the name-search recall test. Wall-clock figures: never part of `make test`.
#   tests/bench/console_bench.sh BUILD_DIR
#   KB_CONSOLE_BENCH_DIR=DIR keeps (or reuses) the set-up node in DIR.
set -euo pipefail
build=$(realpath "${1:-build/dev}")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
kbctl=$build/daemon/bin/kbctl/kbctl
daemon=$build/daemon/bin/kartu-bahagiad/kartu-bahagiad
cards=${KB_CONSOLE_BENCH_CARDS:-1000000}
secs=${KB_CONSOLE_BENCH_SECONDS:-10}
interval=${KB_CONSOLE_BENCH_INTERVAL_MS:-500}
clients=50
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

keep=${KB_CONSOLE_BENCH_DIR:-}
dir=${keep:-$(mktemp -d /tmp/kb-console-bench.XXXXXX)}
dpid="" npid=""
cleanup() {
  [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
  [ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
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
mkdir -p nginx/tmp static
curl_op "$url/api/console/search?card_no=$(sed -n '1s/.*card_no=//p' card.paths)" > static/answer.json
nport=$(free_port)
cat > nginx/nginx.conf <<CONF
worker_processes 2;
error_log $dir/nginx/error.log;
pid $dir/nginx/nginx.pid;
user root;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/tmp/body;
  proxy_temp_path $dir/nginx/tmp/proxy;
  fastcgi_temp_path $dir/nginx/tmp/fastcgi;
  uwsgi_temp_path $dir/nginx/tmp/uwsgi;
  scgi_temp_path $dir/nginx/tmp/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$nport ssl;
    ssl_certificate $dir/pki/server.pem;
    ssl_certificate_key $dir/pki/server.key;
    ssl_client_certificate $dir/pki/console-ca.pem;
    ssl_crl $dir/pki/console-ca.crl;
    ssl_verify_client on;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { root $dir/static; default_type application/json; }
  }
}
CONF
[ "$(id -u)" = 0 ] || sed -i '/^user root;/d' nginx/nginx.conf
nginx -p "$dir/nginx" -c "$dir/nginx/nginx.conf" -g 'daemon off;' &
npid=$!
until curl_op -o /dev/null "https://127.0.0.1:$nport/answer.json"; do sleep 0.1; done

# One operator certificate per run: the per-operator rate limit (at most
# 100,000 a minute) must not turn a later run's answers into 429s.
run=0
load() {  # load NAME URL PATHS [INTERVAL]
  run=$((run + 1))
  [ -f "pki/operators/bench$run.pem" ] ||
    "$repo/certs/console/console-pki.sh" operator pki "bench$run" --password bench >/dev/null
  node "$here/console_load.mjs" "$2" "pki/operators/bench$run.pem" "pki/operators/bench$run.key" pki/console-ca.pem \
    "$clients" "$secs" "$3" ${4:-} | python3 -c "
import json, sys
r = json.load(sys.stdin)
print(f\"| $1 | {r['rps']} | {r['p50_ms']} | {r['p99_ms']} | {r['max_ms']} | {r['statuses']} |\")"
}
echo
echo "### Closed loop: $clients keep-alive mTLS clients, each sending the next request on the answer (${secs} s each)"
echo "| target | requests/s | p50 ms | p99 ms | max ms | statuses |"
echo "|---|---:|---:|---:|---:|---|"
load "nginx static JSON (baseline)" "https://127.0.0.1:$nport" static.paths
load "card number" "$url" card.paths
load "NIK" "$url" nik.paths
load "name + kelurahan" "$url" name.paths
echo
echo "### Open loop at operator pace: $clients clients, one request each every $interval ms"
echo "| target | requests/s | p50 ms | p99 ms | max ms | statuses |"
echo "|---|---:|---:|---:|---:|---|"
load "nginx static JSON (baseline)" "https://127.0.0.1:$nport" static.paths "$interval"
load "card number" "$url" card.paths "$interval"
load "NIK" "$url" nik.paths "$interval"
load "name + kelurahan" "$url" name.paths "$interval"

kill "$dpid"; wait "$dpid" 2>/dev/null || true; dpid=""
echo
grep -o 'audit: [0-9]* lines in [0-9]* syncs.*' daemon.log | tail -1 | sed 's/^/group commit over the whole run: /' || true
python3 - "$dir/state" <<'PY'
import os, sys, time
# One audit-sized line appended and fdatasync'd, 2,000 times, on the state
# directory's file system: what one lookup would cost without group commit.
p = os.path.join(sys.argv[1], "bench-append.tmp")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
line = b"x" * 400 + b"\n"
n = 2000
t = time.perf_counter()
for _ in range(n):
    os.write(fd, line); os.fdatasync(fd)
dt = time.perf_counter() - t
os.close(fd); os.unlink(p)
print(f"one 400-byte append + fdatasync on this disk: {dt / n * 1e3:.3f} ms ({n / dt:.0f}/s one at a time)")
PY
"$kbctl" audit verify --log state/audit.log --key state/audit-node.key.pub --journal daemon.log \
  | sed 's/^/kbctl audit verify after the run: /'
echo
echo "### Name-search recall (variant set, ConsoleRecall)"
"$build/tests/console/kb_console_test" --gtest_filter='ConsoleRecall*' | sed -n '/variant class/,/^all/p'
