#!/bin/bash
# A console node with a mirror line syncs its staff data like a kiosk: from a
# real nginx over TLS on loopback, at start and on SIGHUP; the new snapshot is
# served and its people are found by name once the index follows; a bundle
# that does not verify, or one of the kiosk profile, is refused with a typed
# code while the node keeps answering from the data it has.
# usage: console_sync_test.sh KBCTL DAEMON
set -eu
KBCTL=$1 DAEMON=$2
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../bench/nginx_tls.sh
. "$HERE/../bench/nginx_tls.sh"
T=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; nginx_tls_stop; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/daemon.log" ] && tail -20 "$T/daemon.log" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PORT=$(free_port) MPORT=$(free_port)
"$HERE/setup_node.sh" "$KBCTL" "$T" "$PORT" "mirror = https://127.0.0.1:$MPORT/" \
  "mirror_ca = $T/pki/console-ca.pem" >/dev/null
cd "$T"
URL="https://127.0.0.1:$PORT"
as() {  # as OPERATOR curl-args...: prints the HTTP status, the body in out.json
  who=$1; shift
  curl -s -o out.json -w '%{http_code}' --cacert pki/console-ca.pem \
    --cert "pki/operators/$who.pem" --key "pki/operators/$who.key" "$@"
}
field() {  # field NAME: the value of "NAME" in out.json's data (JSON text)
  python3 -c 'import json,sys; print(json.dumps(json.load(open("out.json"))["data"].get(sys.argv[1])))' "$1"
}
me() { [ "$(as op1 "$URL/api/console/me" || true)" = 200 ]; }  # out.json: the answer
wait_for() {  # wait_for WHAT COMMAND...: up to 30 s until COMMAND succeeds
  what=$1; shift
  for _ in $(seq 300); do "$@" && return 0; sleep 0.1; done
  me || true
  fail "$what (now: $(cat out.json 2>/dev/null))"
}
ROOT=keys/root.json SNAP=keys/snap.key  # the current root and snapshot key
publish() {  # publish SERIAL [PROFILE]: a snapshot into the mirror, then its timestamp
  if [ "${2:-staff}" = staff ]; then
    set -- "$1" --profile staff --nik-key keys/nik.key
  else
    set -- "$1" --profile kiosk
  fi
  serial=$1; shift
  "$KBCTL" publish --roster roster.csv --root "$ROOT" --key "$SNAP" --serial "$serial" \
    --expires-days 30 "$@" --out pub >/dev/null
  "$KBCTL" timestamp --root "$ROOT" --key keys/ts.key --dir pub --expires-hours 12 >/dev/null
}
add_person() {  # add_person CARD_NO NIK "NAME": a copy of KB-TEST-0004's row
  grep '^KB-TEST-0004,' roster.csv | sed "s/KB-TEST-0004/$1/; s/1571010101900004/$2/;
    s/MUHAMMAD RIZKY/$3/" >> roster.csv
}
found_by_name() {  # found_by_name CARD_NO "NAME"
  [ "$(as op1 -G "$URL/api/console/search" --data-urlencode "name=$2")" = 200 ] &&
    grep -q "\"card_no\":\"$1\"" out.json
}
synced_ok() { me && [ "$(field last_sync)" != null ] && [ "$(field last_sync_error)" = null ]; }
serial_is() { me && [ "$(field serial)" = "$1" ]; }
sync_error_is() { me && [ "$(field last_sync_error)" = "\"$1\"" ]; }

# The mirror: pub/ (snapshot 1, which the node already imported) behind nginx.
"$KBCTL" timestamp --root keys/root.json --key keys/ts.key --dir pub --expires-hours 12 >/dev/null
nginx_tls_start "$T/nginx" "$MPORT" "$T/pub" "$T/pki/server.pem" "$T/pki/server.key"

"$DAEMON" --config console.conf 2>>daemon.log &
PID=$!
wait_for "no good sync at start" synced_ok
[ "$(field source)" = "\"https://127.0.0.1:$MPORT/\"" ] || fail "source: $(field source)"
serial_is 1 || fail "serial 1 expected"
curl -s --cacert pki/console-ca.pem --cert pki/operators/op1.pem --key pki/operators/op1.key \
  "$URL/healthz" | grep -q '"last_sync":"' || fail "/healthz has no sync fields"

# A new person in serial 2, fetched on SIGHUP (systemctl reload) and found by name.
add_person KB-TEST-0009 1571010101900009 "DEWI SARTIKA"
publish 2
kill -HUP "$PID"
wait_for "serial 2 not served after SIGHUP" serial_is 2
wait_for "the person added in serial 2 is not found by name" \
  found_by_name KB-TEST-0009 "dewi sartika"
grep -q 'sync: ok from https://127.0.0.1:' daemon.log || fail "no sync line in the log"

# A hostile mirror: serial 3 altered after its timestamp was signed.
publish 3
python3 - pub/snapshot-3.kbs <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0xFF; open(p, "wb").write(b)
PY
kill -HUP "$PID"
refused_3() { me && [ "$(field last_sync_error)" != null ]; }
wait_for "an altered bundle was not refused" refused_3
echo "altered serial 3: $(field last_sync_error)"
serial_is 2 || fail "the node does not serve serial 2 after the refused sync"
[ "$(as op1 "$URL/api/console/search?card_no=KB-TEST-0009")" = 200 ] || fail "card search after refusal"
grep -q 'sync: error: DIGEST_MISMATCH: .*; serving the data it has' daemon.log ||
  fail "no failed sync line in the log"

# A kiosk-profile bundle on the staff mirror: refused, it has no names to search.
rm pub/snapshot-3.kbs
publish 4 kiosk
kill -HUP "$PID"
wait_for "a kiosk-profile bundle was not refused as WRONG_PROFILE" sync_error_is WRONG_PROFILE
serial_is 2 || fail "serial 2 no longer served after WRONG_PROFILE"

# A root rotation with a new snapshot key: the node walks to root 2, serves
# serial 5 (signed with the new key) and builds its index under the new root.
rm pub/snapshot-4.kbs
"$KBCTL" keygen --out keys/root2 >/dev/null
"$KBCTL" keygen --out keys/snap2 >/dev/null
"$KBCTL" root rotate --from keys/root.json --out keys/root-2.json --expires-days 365 \
  --old-key keys/root.key --root-key keys/root2.key --threshold 1 --snapshot-key keys/snap2.pub \
  --mirror pub >/dev/null
ROOT=keys/root-2.json SNAP=keys/snap2.key
add_person KB-TEST-0010 1571010101900010 "RAHMAT HIDAYAT"
publish 5
kill -HUP "$PID"
wait_for "serial 5 under root 2 not served" serial_is 5
wait_for "the person added under root 2 is not found by name" \
  found_by_name KB-TEST-0010 "rahmat hidayat"
[ -f state/root-2.json ] || fail "root 2 not kept in the state directory"

# And the synced data holds the new person's NIK only as a keyed hash.
grep -rqaE '15710101019000(09|10)' state daemon.log && fail "plain NIK of a synced person on the node"
kill "$PID"; wait "$PID" || true; PID=""
echo "console sync: ok"
