#!/usr/bin/env bash
# The install test (`make package-test`, part of `make test`): builds the .debs
# from the release preset, installs them with apt into a clean Debian 12 root
# made by debootstrap, and inside it follows docs/operations.md: check the
# shipped config, fresh keys, publish -> first import (before the first start)
# -> lookup, start the daemon and get /healthz, upgrade to a rebuilt package,
# purge and check that nothing is left but what policy keeps. Then
# `systemd-analyze verify` and `systemd-analyze security --offline=true` on the
# units, failing above the exposure thresholds.
#
# Needs root (chroot, mounts). The base root (debootstrap --variant=minbase) is
# cached as a tarball in $KB_PKGTEST_CACHE (default /var/cache/kartu-bahagia-test),
# with a second layer that already has the packages' dependencies installed
# (rebuilt when the dependency list changes), so a warm run costs seconds.
# The cold run builds both layers with apt from the Debian mirror.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

if [ "$(id -u)" -ne 0 ]; then exec sudo -E "$0" "$@"; fi

cache=${KB_PKGTEST_CACHE:-/var/cache/kartu-bahagia-test}
mirror=${KB_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$src/build/package-test
root=$work/root
# Exposure thresholds (systemd-analyze security; 0 safest, 10 worst).
max_daemon=${KB_MAX_EXPOSURE_DAEMON:-2.0}
max_kiosk=${KB_MAX_EXPOSURE_KIOSK:-5.0}

# Set KB_BUILD_LOCK=/tmp/kb-build.lock to build under a shared build lock.
lock=()
[ -n "${KB_BUILD_LOCK:-}" ] && lock=(flock "$KB_BUILD_LOCK")

t_start=$(date +%s)
step() { printf '== [%3ss] %s\n' "$(($(date +%s) - t_start))" "$*"; }
fail() { echo "package-test: FAIL: $*" >&2; exit 1; }
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# Mounts under a root dir ($1), and the root itself when it is an overlay.
umount_in() {
  for m in var/cache/apt/archives sys proc dev/pts dev; do
    mountpoint -q "$1/$m" 2>/dev/null && umount -l "$1/$m"
  done
  return 0
}
daemon_pid=""
cleanup() {
  [ -n "$daemon_pid" ] && kill "$daemon_pid" 2>/dev/null
  umount_in "$root"
  mountpoint -q "$root" 2>/dev/null && umount -l "$root"
  return 0
}
trap cleanup EXIT

mount_in() {
  mkdir -p "$cache/archives/partial"
  mount --bind /dev "$1/dev"
  mount --bind /dev/pts "$1/dev/pts"
  mount -t proc proc "$1/proc"
  mount -t sysfs sysfs "$1/sys"
  mount --bind "$cache/archives" "$1/var/cache/apt/archives"
  cp /etc/resolv.conf "$1/etc/resolv.conf"
}

# 1. The packages: v1 as released, v2 a rebuild with a higher version (the upgrade).
step "build the packages (release preset, dpkg-buildpackage, lintian)"
base_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
up_version="${base_version}+upgrade1"
rm -rf "$work/v1" "$work/v2"
mkdir -p "$work/v1" "$work/v2"
"${lock[@]}" scripts/build-deb.sh | tee "$work/lintian-v1.txt"
cp build/deb/kartu-bahagia*_"$base_version"_*.deb "$work/v1/"
KB_DEB_VERSION=$up_version "${lock[@]}" scripts/build-deb.sh >"$work/build-v2.log" 2>&1 ||
  { cat "$work/build-v2.log"; fail "rebuilding $up_version"; }
cp build/deb/kartu-bahagia*_"$up_version"_*.deb "$work/v2/"
ls -l "$work"/v1/*.deb

# 2. The clean root: minbase, then a layer with the dependencies (from the .debs'
#    own Depends, plus man-db for systemd-analyze verify's Documentation= check).
mkdir -p "$cache"
base_tar=$cache/bookworm-minbase.tar
if [ ! -f "$base_tar" ]; then
  step "debootstrap --variant=minbase bookworm (cold cache)"
  rm -rf "$cache/rootfs-tmp"
  debootstrap --variant=minbase bookworm "$cache/rootfs-tmp" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
    { tail -20 "$cache/debootstrap.log"; fail debootstrap; }
  echo "deb $mirror bookworm main" >"$cache/rootfs-tmp/etc/apt/sources.list"
  tar -C "$cache/rootfs-tmp" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$cache/rootfs-tmp"
fi
deps=$(for d in "$work"/v1/*.deb; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
  sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/ //g' | grep -v '^kartu-bahagia' | grep . | sort -u | tr '\n' ' ')
deps="$deps man-db"
key=$(echo "$deps" | sha256sum | cut -c1-12)
deps_dir=$cache/bookworm-deps-$key
if [ ! -d "$deps_dir" ]; then
  step "dependency layer: apt-get install $deps (cold cache)"
  rm -rf "$deps_dir.tmp"
  mkdir -p "$deps_dir.tmp"
  tar -C "$deps_dir.tmp" -xf "$base_tar"
  mount_in "$deps_dir.tmp"
  chroot "$deps_dir.tmp" apt-get update -qq
  # shellcheck disable=SC2086  # a list of package names
  chroot "$deps_dir.tmp" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $deps \
    >"$work/deps.log" 2>&1 || { umount_in "$deps_dir.tmp"; tail -30 "$work/deps.log"; fail "installing the dependencies"; }
  umount_in "$deps_dir.tmp"
  rm -rf "$cache"/bookworm-deps-*[!p]
  mv "$deps_dir.tmp" "$deps_dir"
fi

# Each run: a fresh overlay on the cached layer, so nothing of a previous run
# survives and nothing is copied.
step "fresh root: overlay on the cached layer"
cleanup
rm -rf "$work/upper" "$work/overlay-work"
mkdir -p "$root" "$work/upper" "$work/overlay-work"
mount -t overlay overlay -o "lowerdir=$deps_dir,upperdir=$work/upper,workdir=$work/overlay-work" "$root"
mount_in "$root"
# What exists before the package, to compare after the purge.
snapshot() {
  (cd "$root" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp \
     -o -path ./var/cache -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./var/log \
     -o -path ./run -o -path ./root \) -prune -o -print | sort)
}
snapshot >"$work/files-before.txt"

# 3. Install with apt, as docs/operations.md says.
step "apt install ./kartu-bahagia_${base_version}_*.deb ./kartu-bahagia-kiosk_${base_version}_all.deb"
mkdir -p "$root/tmp/debs"
cp "$work"/v1/*.deb "$work"/v2/*.deb "$root/tmp/debs/"
in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/debs/kartu-bahagia_${base_version}_$(dpkg --print-architecture).deb" \
  "/tmp/debs/kartu-bahagia-kiosk_${base_version}_all.deb" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt install"; }
grep -E "^(Setting up|Unpacking) kartu" "$work/install.log"

step "accounts, groups and the state dir exist right after install"
in_root getent passwd kartu-bahagia kartu-kiosk
for g in dialout plugdev; do in_root id -nG kartu-bahagia | grep -qw "$g" || fail "kartu-bahagia not in $g"; done
for g in video render input audio; do in_root id -nG kartu-kiosk | grep -qw "$g" || fail "kartu-kiosk not in $g"; done
state=$(in_root stat -c '%U:%G %a' /var/lib/kartu-bahagia)
[ "$state" = "kartu-bahagia:kartu-bahagia 700" ] || fail "state dir: $state"
[ -f "$root/etc/chromium/policies/managed/kartu-bahagia.json" ] || fail "no Chromium policy"
in_root man -w kartu-bahagiad kbctl

step "the city's first root and data: fresh keys, publish, first import before the first start"
in_root sh -euc '
  umask 077; mkdir -p /root/ceremony /root/publish; cd /root/ceremony
  kbctl keygen --out root-A >/dev/null; kbctl keygen --out root-B >/dev/null
  kbctl keygen --out snapshot >/dev/null; kbctl keygen --out card >/dev/null
  kbctl root init --out root.json --expires-days 365 --root-key root-A.key --root-key root-B.key \
    --threshold 2 --snapshot-key snapshot.pub --card-key card.pub
  kbctl root check root.json
  install -m 0644 root.json /etc/kartu-bahagia/root.json
  cd /root/publish
  kbctl roster synth --cards 50 --seed 7 --out roster.csv
  kbctl roster check --roster roster.csv
  kbctl publish --roster roster.csv --root /etc/kartu-bahagia/root.json --key /root/ceremony/snapshot.key \
    --serial 1 --expires-days 14 --profile kiosk --out out/
  kbctl verify --root /etc/kartu-bahagia/root.json out/snapshot-1.kbs
  install -d -m 0755 /media/usb; install -m 0644 out/snapshot-1.kbs /media/usb/
  runuser -u kartu-bahagia -- kbctl import --db /var/lib/kartu-bahagia/cache.db \
    --root /etc/kartu-bahagia/root.json /media/usb/snapshot-1.kbs
'
card=$(sed -n '2s/,.*//p' "$root/root/publish/roster.csv")
in_root runuser -u kartu-bahagia -- kbctl lookup --db /var/lib/kartu-bahagia/cache.db \
  --root /etc/kartu-bahagia/root.json --card "$card" | tee "$work/lookup.txt"
grep -q ACTIVE "$work/lookup.txt" || fail "lookup of $card is not ACTIVE"

step "kartu-bahagiad --check-config on the shipped config"
in_root kartu-bahagiad --check-config /etc/kartu-bahagia/kiosk.conf

# No systemd as PID 1 in a chroot: the daemon runs as its unit would (same
# account, same command line, same config); the unit itself is checked below.
# The reader is `sim` here because the root has no NFC hardware (an operator's
# edit of the conffile, which the upgrade must keep).
step "start the daemon as the unit does, GET /healthz"
sed -i 's/^reader = auto/reader = sim/' "$root/etc/kartu-bahagia/kiosk.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^listen = .*/listen = 127.0.0.1:$port/" "$root/etc/kartu-bahagia/kiosk.conf"
start_daemon() {
  in_root kartu-bahagiad --check-config /etc/kartu-bahagia/kiosk.conf
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin runuser -u kartu-bahagia -- \
    kartu-bahagiad --config /etc/kartu-bahagia/kiosk.conf >>"$work/daemon.log" 2>&1 &
  daemon_pid=$!
  for _ in $(seq 100); do
    curl -fsS -o "$work/healthz.json" "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    kill -0 "$daemon_pid" 2>/dev/null || { cat "$work/daemon.log"; fail "daemon exited"; }
    sleep 0.1
  done
  cat "$work/daemon.log"; curl -sS "http://127.0.0.1:$port/healthz" || true; fail "/healthz not 200"
}
stop_daemon() {
  kill -TERM "$daemon_pid"; wait "$daemon_pid" || true; daemon_pid=""
}
start_daemon
cat "$work/healthz.json"; echo
curl -fsS "http://127.0.0.1:$port/" | grep -q '<html' || fail "the UI is not served"
stop_daemon

step "upgrade to the rebuilt package ($up_version)"
before_sum=$(md5sum "$root/var/lib/kartu-bahagia/cache.db" | cut -d' ' -f1)
in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/tmp/debs/kartu-bahagia_${up_version}_$(dpkg --print-architecture).deb" \
  "/tmp/debs/kartu-bahagia-kiosk_${up_version}_all.deb" >"$work/upgrade.log" 2>&1 ||
  { cat "$work/upgrade.log"; fail "apt upgrade"; }
# shellcheck disable=SC2016  # dpkg-query's own ${Version}
[ "$(in_root dpkg-query -W -f='${Version}' kartu-bahagia)" = "$up_version" ] || fail "not upgraded"
grep -q '^reader = sim' "$root/etc/kartu-bahagia/kiosk.conf" || fail "the upgrade lost the operator's config edit"
[ "$(md5sum "$root/var/lib/kartu-bahagia/cache.db" | cut -d' ' -f1)" = "$before_sum" ] || fail "the upgrade touched the cache"
grep -q 'deb-systemd-invoke.*restart\|try-restart' "$root/var/lib/dpkg/info/kartu-bahagia.postinst" ||
  fail "postinst does not restart the daemon on upgrade"
start_daemon
stop_daemon

step "systemd-analyze verify and security --offline on the installed units"
for u in kartu-bahagiad.service kartu-bahagia-kiosk.service kartu-bahagia-kiosk-night.service kartu-bahagia-kiosk-night.timer; do
  in_root systemd-analyze verify "/lib/systemd/system/$u" || fail "systemd-analyze verify $u"
done
for spec in "kartu-bahagiad.service:$max_daemon" "kartu-bahagia-kiosk.service:$max_kiosk"; do
  u=${spec%%:*} max=${spec##*:}
  in_root systemd-analyze security --offline=true --threshold="$max" "/lib/systemd/system/$u" >"$work/security-$u.txt" 2>&1 ||
    { cat "$work/security-$u.txt"; fail "$u exposure above $max"; }
  echo "$u: $(grep 'Overall exposure' "$work/security-$u.txt" | sed 's/.*: //') (threshold $max)"
done

step "purge: nothing left but what policy keeps"
in_root DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kartu-bahagia kartu-bahagia-kiosk >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "apt purge"; }
rm -rf "$root/tmp/debs" "$root/media/usb"
snapshot >"$work/files-after.txt"
# Kept by policy: the system accounts (passwd/group/shadow and their backups).
# /root/ceremony and /root/publish are the operator's, outside the package.
left=$(comm -13 "$work/files-before.txt" "$work/files-after.txt" |
  grep -v -E '^\./etc/(passwd|group|shadow|gshadow)-$|^\./media$' || true)
if [ -n "$left" ]; then echo "$left"; fail "files left after purge"; fi
gone=$(comm -23 "$work/files-before.txt" "$work/files-after.txt" || true)
[ -z "$gone" ] || { echo "$gone"; fail "files removed that were there before"; }
in_root getent passwd kartu-bahagia >/dev/null || fail "purge removed the account (policy keeps it)"

step "kiosk session under cage, headless (tests/package/kiosk-session-test.sh)"
klock=()
[ -n "${KB_BROWSER_LOCK:-}" ] && klock=(flock "$KB_BROWSER_LOCK")
"${klock[@]}" tests/package/kiosk-session-test.sh "$work/v2"

step "package test passed"
