#!/usr/bin/env bash
# The per-record figures docs/scale.md computes with: bundle bytes/record on the
# wire (kiosk and staff profile), a 1 % delta, and the cache file per record after
# import. Synthetic Kota Jambi roster (kbctl roster synth), DEV keys, temp directory.
#   scripts/scale-figures.sh [CARDS] [KBCTL]     (default 100000, build/dev's kbctl)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
kbctl=${2:-build/dev/daemon/bin/kbctl/kbctl}
dev=certs/dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$kbctl" roster synth --cards "$n" --seed 1 --out "$work/r0.csv" >/dev/null
"$kbctl" roster synth --cards "$n" --seed 1 --change-percent 1 --out "$work/r1.csv" >/dev/null
# Cards whose rows differ between the two rosters (what the delta carries).
changed=$(python3 - "$work/r0.csv" "$work/r1.csv" <<'EOF'
import collections, csv, sys
def load(p):
    d = collections.defaultdict(list)
    with open(p, encoding="utf-8-sig") as f:
        for row in csv.reader(f):
            d[row[0]].append(tuple(row))
    return d
a, b = load(sys.argv[1]), load(sys.argv[2])
print(sum(1 for k in set(a) | set(b) if k != "card_no" and sorted(a.get(k, [])) != sorted(b.get(k, []))))
EOF
)
csv_bytes=$(stat -c %s "$work/r0.csv")

echo "records (cards): $n; changed by the 1 % roster: $changed; roster CSV: $((csv_bytes / n)) B/record"
echo "kbctl: $kbctl ($(stat -c %y "$kbctl" | cut -d. -f1))"
echo "| profile | snapshot B/record (wire) | 1 % delta bytes | delta B/changed record | cache.db B/record (disk) |"
echo "|---|---:|---:|---:|---:|"
for profile in kiosk staff; do
  out=$work/$profile
  extra=()
  [ "$profile" = staff ] && extra=(--nik-key "$dev/DEV-nik-hmac.key")
  "$kbctl" publish --roster "$work/r0.csv" --root "$dev/DEV-root.json" --key "$dev/DEV-snapshot.key" \
    --serial 1 --expires-days 7 --profile "$profile" "${extra[@]}" --out "$out" >/dev/null
  "$kbctl" publish --roster "$work/r1.csv" --root "$dev/DEV-root.json" --key "$dev/DEV-snapshot.key" \
    --serial 2 --expires-days 7 --profile "$profile" "${extra[@]}" --out "$out" \
    --base "$out/snapshot-1.kbs" >/dev/null
  mkdir "$out/db"
  "$kbctl" import --db "$out/db/cache.db" --root "$dev/DEV-root.json" --tpm-tcti none \
    "$out/snapshot-1.kbs" >/dev/null
  snap=$(stat -c %s "$out/snapshot-1.kbs")
  delta=$(stat -c %s "$out/delta-1-2.kbs")
  db=$(stat -c %s "$out/db/cache.db")
  awk -v p="$profile" -v n="$n" -v s="$snap" -v d="$delta" -v c="$changed" -v b="$db" \
    'BEGIN { printf "| %s | %.1f | %d | %.1f | %.0f |\n", p, s / n, d, d / c, b / n }'
done
