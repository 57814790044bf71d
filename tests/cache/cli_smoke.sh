#!/bin/sh
# kbctl publish / verify / import / lookup end to end, with typed errors.
# usage: cli_smoke.sh PATH/TO/kbctl
set -eu
KBCTL=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T"

fail() { echo "FAIL: $*" >&2; exit 1; }
# expect_error CODE command...: must exit non-zero with 'error: CODE:' on stderr
expect_error() {
  code=$1; shift
  if "$@" >out.txt 2>err.txt; then fail "$* succeeded, expected $code"; fi
  grep -q "^error: $code:" err.txt || { cat err.txt >&2; fail "$* did not report $code"; }
}

"$KBCTL" keygen --out root >/dev/null
"$KBCTL" keygen --out snap >/dev/null
"$KBCTL" keygen --out card >/dev/null
"$KBCTL" keygen --out stranger >/dev/null
"$KBCTL" root init --out root.json --expires-days 365 --root-key root.key --threshold 1 \
  --snapshot-key snap.pub --card-key card.pub >/dev/null

cat > roster.csv <<'CSV'
card_no,card_uid,nik,full_name,birth_date,kecamatan,kelurahan,rt,category,occupation,card_status,program,membership_no,coverage_status,valid_from,valid_to,funder,legal_basis,activity,sk_rt_no
KB-0001-0001,04a1b2c3,1571010101900001,SITI NURHALIZA,1990-01-01,Telanaipura,Simpang IV Sipin,003,pekerja_rentan,ojek online,active,JKK,11111111111,active,2026-01-01,2099-12-31,APBD Kota Jambi,Perwal Jambi No. 14 Tahun 2025,Gotong royong,SK-RT/003/2026
KB-0001-0001,04a1b2c3,1571010101900001,SITI NURHALIZA,1990-01-01,Telanaipura,Simpang IV Sipin,003,pekerja_rentan,ojek online,active,JKM,11111111112,active,2026-01-01,2099-12-31,APBD Kota Jambi,Perwal Jambi No. 14 Tahun 2025,,
KB-0001-0002,,1571010101900002,"AHMAD SYARA'I",1985-05-05,Telanaipura,Buluran Kenali,007,petugas_syara,imam,revoked,JKK,22222222222,active,2026-01-01,2099-12-31,APBD Kota Jambi,,,
KB-0001-0003,,1571010101900003,DEWI LESTARI,1979-03-03,Kota Baru,Paal Lima,012,kader,,active,JKM,,ended,2024-01-01,2024-12-31,APBD Kota Jambi,,,
CSV

"$KBCTL" publish --roster roster.csv --root root.json --key snap.key --serial 1 --expires-days 30 \
  --profile kiosk --out pub >paths1.txt
grep -qx 'pub/snapshot-1.kbs' paths1.txt || fail "publish did not print the snapshot path"

# The kiosk profile carries no NIK, no birth date and no full name.
if grep -a -q -e 1571010101900001 -e 1990-01-01 -e NURHALIZA pub/snapshot-1.kbs; then fail "personal data in a kiosk bundle"; fi

"$KBCTL" verify --root root.json pub/snapshot-1.kbs >/dev/null
"$KBCTL" verify --root root.json --json pub/snapshot-1.kbs | grep -q '"record_count":3' || fail "verify --json"
"$KBCTL" import --db CACHE.db --root root.json pub/snapshot-1.kbs >/dev/null

"$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0001 --json >l1.json
grep -q '"verdict":"ACTIVE"' l1.json || { cat l1.json; fail "card 1 not ACTIVE"; }
grep -q '"holder":"SIT\* NUR\*' l1.json || { cat l1.json; fail "holder not masked"; }
"$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0002 | grep -q '^BLOCKED' || fail "card 2 not BLOCKED"
"$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0003 | grep -q '^INACTIVE' || fail "card 3 not INACTIVE"
"$KBCTL" lookup --db CACHE.db --root root.json --card KB-9999-9999 | grep -q '^NOT_FOUND' || fail "unknown card"

# A delta: card 3 removed, card 2 reinstated.
grep -v KB-0001-0003 roster.csv | sed 's/imam,revoked/imam,active/' > roster2.csv
"$KBCTL" publish --roster roster2.csv --root root.json --key snap.key --serial 2 --expires-days 30 \
  --profile kiosk --out pub --base pub/snapshot-1.kbs >paths2.txt
grep -qx 'pub/delta-1-2.kbs' paths2.txt || fail "publish --base did not print the delta path"
"$KBCTL" verify --root root.json --json pub/delta-1-2.kbs | grep -q '"entry_count":2' || fail "delta holds 2 entries"
"$KBCTL" import --db CACHE.db --root root.json pub/delta-1-2.kbs >/dev/null
"$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0002 | grep -q '^ACTIVE' || fail "delta not applied"
"$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0003 | grep -q '^NOT_FOUND' || fail "deletion not applied"

# Typed errors.
expect_error ROLLBACK "$KBCTL" import --db CACHE.db --root root.json pub/snapshot-1.kbs
expect_error WRONG_BASE "$KBCTL" import --db fresh.db --root root.json pub/delta-1-2.kbs
expect_error UNKNOWN_KEY "$KBCTL" publish --roster roster.csv --root root.json --key stranger.key --serial 3 \
  --expires-days 30 --profile kiosk --out pub-stranger
[ ! -e pub-stranger ] || fail "something was written with an unknown key"
head -c 300 pub/snapshot-1.kbs > cut.kbs
expect_error TRUNCATED "$KBCTL" verify --root root.json cut.kbs
printf 'KBSX\n0000' > bad.kbs
expect_error MALFORMED "$KBCTL" verify --root root.json bad.kbs
printf 'card_no,nik\nKB-1,123\n' > bad.csv
expect_error BAD_ROSTER "$KBCTL" publish --roster bad.csv --root root.json --key snap.key --serial 3 \
  --expires-days 30 --profile kiosk --out pub-bad
[ ! -e pub-bad ] || fail "something was written for a bad roster"

# Tampering with the served file: the lookup cannot confirm, and says so.
sqlite3 CACHE.db "UPDATE records SET body = replace(body, '2099-12-31', '2098-12-31')"
expect_error UNVERIFIABLE "$KBCTL" lookup --db CACHE.db --root root.json --card KB-0001-0001
grep -q '^UNVERIFIABLE' out.txt || fail "tampered lookup did not print UNVERIFIABLE"
echo "cli smoke: ok"
