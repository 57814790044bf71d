#!/bin/sh
# The console node end to end, against the real daemon over real TLS:
# handshake refusals (no certificate, another CA, expired, revoked, TLS 1.0/1.1),
# the API for each search key, bad input -> 400, rate limit -> 429 + Retry-After,
# the supervisor's audit view, the audit log verified by kbctl (with the node key
# and the journal), each kind of tampering named by line, SIGKILL during heavy
# lookups, the birth-date check, and no plain NIK or birth date in the staff cache,
# index, audit log or daemon log.
# usage: console_node_test.sh KBCTL DAEMON
set -eu
KBCTL=$1 DAEMON=$2
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
PID=""
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$T/daemon.log" ] && tail -20 "$T/daemon.log" >&2; exit 1; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$HERE/setup_node.sh" "$KBCTL" "$T" "$PORT" "console_rate_burst = 40" "console_rate_per_minute = 60" >/dev/null
cd "$T"
URL="https://127.0.0.1:$PORT"

start() {
  "$DAEMON" --config console.conf 2>>daemon.log &
  PID=$!
  i=0
  until curl -s -o /dev/null --cacert pki/console-ca.pem --cert pki/operators/op1.pem \
      --key pki/operators/op1.key "$URL/healthz"; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "daemon did not start"
    kill -0 "$PID" 2>/dev/null || fail "daemon exited"
    sleep 0.1
  done
}
stop() { kill "$PID"; wait "$PID" || true; PID=""; }
as() {  # as OPERATOR curl-args...: prints the HTTP status, body in out.json, headers in hdr.txt
  who=$1; shift
  curl -s -o out.json -D hdr.txt -w '%{http_code}' --cacert pki/console-ca.pem \
    --cert "pki/operators/$who.pem" --key "pki/operators/$who.key" "$@"
}
refused() {  # refused WHAT curl-args...: the TLS handshake fails, no HTTP status at all
  what=$1; shift
  code=$(curl -s -o /dev/null -w '%{http_code}' --cacert pki/console-ca.pem "$@" "$URL/healthz" || true)
  [ "$code" = "000" ] || fail "$what got HTTP $code instead of a refused handshake"
}

start

# --- TLS: who gets no HTTP answer at all.
refused "no certificate"
refused "another CA's certificate" --cert other/operators/stranger.pem --key other/operators/stranger.key
refused "an expired certificate" --cert pki/operators/old.pem --key pki/operators/old.key
refused "a revoked certificate" --cert pki/operators/gone.pem --key pki/operators/gone.key
for v in -tls1 -tls1_1; do
  if echo | openssl s_client -connect "127.0.0.1:$PORT" $v -cipher 'DEFAULT@SECLEVEL=0' \
      -cert pki/operators/op1.pem -key pki/operators/op1.key >s_client.txt 2>&1; then
    fail "openssl s_client $v connected"
  fi
  grep -q -i -e "protocol version" -e "no protocols" -e "handshake failure" -e "alert" s_client.txt \
    || { cat s_client.txt; fail "s_client $v: no protocol refusal"; }
done
echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -cipher 'AES128-SHA' \
  -cert pki/operators/op1.pem -key pki/operators/op1.key >s_client.txt 2>&1 \
  && fail "a non-forward-secret TLS 1.2 suite was accepted"
echo | openssl s_client -connect "127.0.0.1:$PORT" -tls1_2 -CAfile pki/console-ca.pem \
  -cert pki/operators/op1.pem -key pki/operators/op1.key >s_client.txt 2>&1 \
  || { cat s_client.txt; fail "TLS 1.2 with an operator certificate refused"; }
grep -q "Protocol  *: TLSv1.2" s_client.txt || fail "not TLS 1.2"

# --- The CRL is re-read while the node runs: a certificate revoked after start
# is refused (the file's mtime changes; then again by SIGHUP alone).
PKI="$HERE/../../certs/console/console-pki.sh"
refused_soon() {  # refused_soon OPERATOR: within 10 s its handshake fails
  i=0
  while [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert pki/console-ca.pem \
      --cert "pki/operators/$1.pem" --key "pki/operators/$1.key" "$URL/healthz" || true)" != 000 ]; do
    i=$((i + 1)); [ $i -lt 100 ] || fail "$1, revoked after start, is still accepted"
    sleep 0.1
  done
}
"$PKI" operator pki late1 --password test >/dev/null
"$PKI" operator pki late2 --password test >/dev/null
[ "$(as late1 "$URL/api/console/me")" = 200 ] || fail "late1 before its revocation"
[ "$(as late2 "$URL/api/console/me")" = 200 ] || fail "late2 before its revocation"
"$PKI" revoke pki late1 >/dev/null
refused_soon late1
grep -q 'TLS context reloaded (file changed): CRL re-read' daemon.log || fail "no CRL reload logged"
[ "$(as op1 "$URL/api/console/me")" = 200 ] || fail "op1 refused after the CRL reload"
# Revoke late2 in a copy of the CA and put its CRL in place with the old mtime:
# only the SIGHUP can make the node read it.
cp -R pki pki-copy
"$PKI" revoke pki-copy late2 >/dev/null
cp pki-copy/console-ca.crl crl.new
touch -r pki/console-ca.crl crl.new
mv crl.new pki/console-ca.crl
sleep 2.5
[ "$(as late2 "$URL/api/console/me")" = 200 ] || fail "late2 refused before SIGHUP (mtime unchanged)"
kill -HUP "$PID"
refused_soon late2
grep -q 'TLS context reloaded (SIGHUP): CRL re-read' daemon.log || fail "no SIGHUP reload logged"
[ "$(as op1 "$URL/api/console/me")" = 200 ] || fail "op1 refused after SIGHUP"

# --- Search by each key, record view.
[ "$(as op1 "$URL/api/console/search?card_no=KB-TEST-0001")" = 200 ] || fail "card search"
grep -q '"holder":"SITI NURHALIZA"' out.json || fail "card search result"
grep -q '"age_seconds":' out.json || fail "no data age"
[ "$(as op1 "$URL/api/console/search?nik=1571010101900004")" = 200 ] || fail "nik search"
grep -q '"card_no":"KB-TEST-0004"' out.json && grep -q '"nik_last4":"0004"' out.json || fail "nik result"
grep -q 1571010101900004 out.json && fail "plain NIK in an answer"
[ "$(as op1 -G "$URL/api/console/search" --data-urlencode "name=Zoe anggraini")" = 200 ] || fail "name"
grep -q '"card_no":"KB-TEST-0002"' out.json || fail "Zoe = Zoë"
[ "$(as op1 -G "$URL/api/console/search" --data-urlencode "name=muhamad rizki" \
     --data-urlencode "kelurahan=telanaipura" --data-urlencode "rt=7")" = 200 ] || fail "name+kel+rt"
grep -q '"card_no":"KB-TEST-0004"' out.json || fail "Muhamad = Muhammad with RT"
grep -q '"card_no":"KB-TEST-0005"' out.json && fail "RT 008 returned for rt=7"
[ "$(as op1 "$URL/api/console/card/KB-TEST-0004?lang=en")" = 200 ] || fail "record view"
grep -q '"script":' out.json && grep -q '"covered":true' out.json || fail "no script"
grep -q '"sk_rt_no":"SK-RT/003/2026"' out.json || fail "no SK in the record"
[ "$(as op1 "$URL/api/console/card/KB-NOPE-0001")" = 404 ] || fail "unknown card not 404"
# Birth date: the node holds only its keyed hash; the operator types what the caller says.
[ "$(as op1 "$URL/api/console/card/KB-TEST-0004")" = 200 ] || fail "record view"
grep -q '"birth_date_on_file":true' out.json || fail "record view does not say a birth date is on file"
grep -q '1990-01-01' out.json && fail "a birth date in the record view"
[ "$(as op1 "$URL/api/console/card/KB-TEST-0004/birth-check?date=1990-01-01")" = 200 ] \
  || fail "birth check"
grep -q '"match":true' out.json || fail "the right birth date does not match"
[ "$(as op1 "$URL/api/console/card/KB-TEST-0004/birth-check?date=1990-01-02")" = 200 ] \
  || fail "birth check (wrong date)"
grep -q '"match":false' out.json || fail "a wrong birth date matches"
[ "$(as op1 "$URL/api/console/card/KB-TEST-0004/birth-check?date=1990-02-30")" = 400 ] \
  || fail "an impossible birth date is not 400"

# --- Bad input: 400 with a reason, never 500.
for q in "name=" "name=%22siti%22" "name=siti*" "name=NEAR(siti" "name=%C3" "name=%FF" \
         "nik=123" "card_no=KB-1" "name=siti&rt=abc" "x=1" ""; do
  code=$(as op1 "$URL/api/console/search?$q")
  [ "$code" = 400 ] || fail "query '$q' answered $code"
  grep -q '"error":"BAD_QUERY"' out.json && grep -q '"message":"..*"' out.json || fail "no reason for '$q'"
done
big=$(head -c 10240 /dev/zero | tr '\0' a)
[ "$(as op1 "$URL/api/console/search?name=$big")" = 400 ] || fail "10 kB name"

# --- Audit view: supervisors only.
[ "$(as op1 "$URL/api/console/audit")" = 403 ] || fail "operator read the audit view"
[ "$(as sup1 "$URL/api/console/audit?limit=5")" = 200 ] || fail "supervisor audit view"
grep -q '"verify":{[^}]*"ok":true' out.json || fail "audit view does not verify"

# --- Rate limit: the 41st lookup in a burst is refused with Retry-After, and audited.
n=0 limited=0
while [ $n -lt 45 ]; do
  code=$(as busy "$URL/api/console/search?card_no=KB-TEST-0001")
  if [ "$code" = 429 ]; then limited=1; break; fi
  n=$((n + 1))
done
[ $limited = 1 ] || fail "no 429 after $n lookups"
grep -qi '^retry-after: [0-9]' hdr.txt || fail "429 without Retry-After"
grep -q '"operator":"busy","action":"rate_limited"' state/audit.log || fail "429 not audited"

# --- Every look is in the log, which verifies with the node key and the journal.
grep -q '"operator":"op1","action":"search","query":{"nik_hash":"[0-9a-f]\{32\}","nik_last4":"0004"}' \
  state/audit.log || fail "nik search not audited as hash + last 4"
grep -q '"action":"view","query":{"card_no":"KB-TEST-0004"},"results":\["KB-TEST-0004"\]' \
  state/audit.log || fail "record view not audited"
stop
grep -q 'audit: checkpoint seq=' daemon.log || fail "no checkpoint in the journal"
"$KBCTL" audit verify --log state/audit.log --key state/audit-node.key.pub --journal daemon.log \
  >verify.txt || fail "audit log does not verify"

# --- Tampering, each named by line.
lines=$(wc -l < state/audit.log)
broken() {  # broken NAME EXPECTED_LINE: run verify on tampered.log
  if "$KBCTL" audit verify --log tampered.log --key state/audit-node.key.pub --journal daemon.log \
      >/dev/null 2>err.txt; then fail "$1 not detected"; fi
  grep -q "^error: AUDIT_BROKEN: line $2:" err.txt || { cat err.txt; fail "$1: not line $2"; }
}
sed '3s/"operator":"op1"/"operator":"op2"/' state/audit.log > tampered.log; broken edit 3
sed '4d' state/audit.log > tampered.log; broken delete 4
sed '5p' state/audit.log > tampered.log; broken insert 6
awk 'NR == 5 { held = $0; next } { print } NR == 6 { print held }' state/audit.log > tampered.log
broken reorder 5
head -n 11 state/audit.log > tampered.log  # ends at the first checkpoint (seq 11)
"$KBCTL" audit verify --log tampered.log --key state/audit-node.key.pub >/dev/null \
  || fail "a prefix without the journal should verify"
broken "tail cut after a checkpoint" 12
[ "$lines" -gt 12 ] || fail "too few lines for the tamper cases"

# --- SIGKILL during heavy lookups: the log verifies up to its last complete line.
start
for w in 1 2 3 4; do
  ( i=0; while [ $i -lt 200 ]; do
      curl -s -o /dev/null --cacert pki/console-ca.pem --cert pki/operators/sup1.pem \
        --key pki/operators/sup1.key "$URL/api/console/search?card_no=KB-TEST-000$w" || true
      i=$((i + 1)); done ) &
done
sleep 1.5
kill -9 "$PID"; PID=""
wait 2>/dev/null || true
"$KBCTL" audit verify --log state/audit.log --key state/audit-node.key.pub >verify.txt \
  || fail "log after SIGKILL does not verify"
before=$(grep -c . state/audit.log)
start  # the node continues the chain (cutting an incomplete line, if any)
[ "$(as op1 "$URL/api/console/search?card_no=KB-TEST-0003")" = 200 ] || fail "search after restart"
stop
"$KBCTL" audit verify --log state/audit.log --key state/audit-node.key.pub --journal daemon.log \
  >verify.txt || fail "log after restart does not verify"
[ "$(grep -c . state/audit.log)" -gt "$before" ] || fail "nothing appended after restart"

# --- Privacy: no plain NIK and no birth date where they must not be.
tail -n +2 roster.csv | cut -d, -f3 | sort -u > niks.txt
tail -n +2 roster.csv | awk -F, '{print $5}' | grep -E '^[0-9]{4}-' | sort -u > births.txt
for f in state/cache.db state/console-index.db state/audit.log daemon.log; do
  if grep -a -F -q -f niks.txt "$f"; then fail "a plain NIK in $f"; fi
done
echo 1990-01-02 >> births.txt  # the wrong date typed in the birth check above
[ "$(wc -l < niks.txt)" -gt 300 ] && [ "$(wc -l < births.txt)" -gt 200 ] || fail "roster not read"
grep -a -q 'SITI NURHALIZA' state/cache.db || echo "note: cache bodies not plain text; the unit test checks decoded records"
for f in state/cache.db state/console-index.db state/audit.log daemon.log; do
  if grep -a -F -q -f births.txt "$f"; then fail "a birth date in $f"; fi
done
grep -q '"action":"birth_check"' state/audit.log || fail "birth check not audited"
echo "console node: ok"
