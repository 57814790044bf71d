#!/usr/bin/env bash
# The packaged default configuration passes --check-config once the files it
# names exist (as after installing the package and the city's root), and
# --check-config refuses it while the trust root is missing: it checks what
# start-up checks, not only the syntax.
set -euo pipefail
daemon=$1 kbctl=$2 conf=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if out=$("$daemon" --check-config "$conf" 2>&1) && [ ! -e /etc/kartu-bahagia/root.json ]; then
  echo "accepted although /etc/kartu-bahagia/root.json is missing: $out"; exit 1
fi

mkdir -p "$work/state" "$work/ui" "$work/keys"
"$kbctl" keygen --out "$work/keys/root" >/dev/null
"$kbctl" keygen --out "$work/keys/snapshot" >/dev/null
"$kbctl" root init --out "$work/root.json" --expires-days 30 --root-key "$work/keys/root.key" \
  --threshold 1 --snapshot-key "$work/keys/snapshot.pub" --card-key "$work/keys/snapshot.pub" >/dev/null
sed -e "s|^state_dir = .*|state_dir = $work/state|" \
    -e "s|^root = .*|root = $work/root.json|" \
    -e "s|^ui_dir = .*|ui_dir = $work/ui|" "$conf" >"$work/kiosk.conf"
# Only those three paths differ from the packaged file.
[ "$(diff "$conf" "$work/kiosk.conf" | grep -c '^>')" -eq 3 ]
"$daemon" --check-config "$work/kiosk.conf"
