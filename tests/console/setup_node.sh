#!/bin/sh
# Sets up a complete console node in DIR for the console tests: keys, trust
# root (with a timestamp key, so that pub/ can be served as a mirror), a staff
# roster (synthetic + the named test people), a signed staff snapshot in pub/
# imported into DIR/state/cache.db, the console PKI (CA, server and
# operator certificates, one revoked, one expired, one from another CA) and
# DIR/console.conf listening on 127.0.0.1:PORT. Extra arguments are appended
# to the config as lines (e.g. "console_rate_burst = 5").
# usage: setup_node.sh KBCTL DIR PORT [CONFIG_LINE ...]
set -eu
KBCTL=$1 DIR=$2 PORT=$3
shift 3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
PKI="$REPO/certs/console/console-pki.sh"
mkdir -p "$DIR/state" "$DIR/keys"
cd "$DIR"

"$KBCTL" keygen --out keys/root >/dev/null
"$KBCTL" keygen --out keys/snap >/dev/null
"$KBCTL" keygen --out keys/card >/dev/null
"$KBCTL" keygen --out keys/ts >/dev/null
"$KBCTL" root init --out keys/root.json --expires-days 365 --root-key keys/root.key --threshold 1 \
  --snapshot-key keys/snap.pub --card-key keys/card.pub --timestamp-key keys/ts.pub >/dev/null
printf 'console-test-nik-key-0123456789' > keys/nik.key

"$KBCTL" roster synth --cards "${KB_SETUP_CARDS:-300}" --seed 7 --out roster.csv
row() {  # card_no nik name kelurahan rt status
  printf '%s,,%s,"%s",1990-01-01,Telanaipura,%s,%s,pekerja_rentan,ojek online,%s,JKK,11111111111,active,2026-01-01,2099-12-31,APBD Kota Jambi,Perwal Jambi No. 14 Tahun 2025,Semenisasi jalan lingkungan,SK-RT/003/2026\n' \
    "$1" "$2" "$3" "$4" "$5" "$6" >> roster.csv
}
row KB-TEST-0001 1571010101900001 "SITI NURHALIZA" "Simpang IV Sipin" 003 active
row KB-TEST-0002 1571010101900002 "Zoë Anggraini" "Paal Lima" 012 active
row KB-TEST-0003 1571010101900003 "NUR'AINI SYAHPUTRI" "Paal Lima" 012 active
row KB-TEST-0004 1571010101900004 "MUHAMMAD RIZKY" Telanaipura 007 active
row KB-TEST-0005 1571010101900005 "Muhamad Rizki Fadillah" Telanaipura 008 revoked

"$KBCTL" publish --roster roster.csv --root keys/root.json --key keys/snap.key --serial 1 \
  --expires-days 30 --profile staff --nik-key keys/nik.key --out pub >/dev/null
"$KBCTL" import --db state/cache.db --root keys/root.json pub/snapshot-1.kbs >/dev/null

"$PKI" init pki >/dev/null
"$PKI" server pki localhost 127.0.0.1 >/dev/null
"$PKI" operator pki op1 --password test >/dev/null
"$PKI" operator pki sup1 --supervisor --password test >/dev/null
"$PKI" operator pki busy --password test >/dev/null
"$PKI" operator pki old --not-before 20200101000000Z --not-after 20200201000000Z --password test >/dev/null
"$PKI" operator pki gone --password test >/dev/null
"$PKI" revoke pki gone >/dev/null
"$PKI" init other >/dev/null
"$PKI" operator other stranger --password test >/dev/null

cat > console.conf <<CONF
roles = console
state_dir = $DIR/state
root = $DIR/keys/root.json
ui_dir = $REPO/kiosk-ui
console_listen = 127.0.0.1:$PORT
console_cert = $DIR/pki/server.pem
console_key = $DIR/pki/server.key
console_client_ca = $DIR/pki/console-ca.pem
console_crl = $DIR/pki/console-ca.crl
nik_key = $DIR/keys/nik.key
audit_checkpoint_every = 10
CONF
for line in "$@"; do echo "$line" >> console.conf; done
