#!/usr/bin/env bash
# The install test (`make package-test`, part of `make test`): builds the .debs
# from the release preset, installs them with apt into a clean Debian 12 root
# made by debootstrap, and inside it follows docs/operations.md: fresh keys,
# publish -> first import (before the first start) -> lookup, --check-config
# on the shipped config; then boots that root with systemd as PID 1
# (systemd-nspawn): `systemctl enable --now kartu-bahagiad` and /healthz, an
# upgrade to a rebuilt package that restarts it, `systemd-analyze verify` and
# `security` on the units (failing above the exposure thresholds), and a purge
# that stops it and leaves nothing but what policy keeps. Last, the kiosk
# session under cage without a screen (tests/package/kiosk-session-test.sh).
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

# Set KB_BUILD_LOCK=/tmp/kb-build.lock to build under a shared build lock
# (held once for both package builds).

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
nspawn_pid=""
pid1=""
# Boots $root with systemd as PID 1; in_sys runs a command inside it.
boot() {
  umount_in "$root"  # nspawn brings its own /dev, /proc, /sys
  setsid systemd-nspawn -q -D "$root" --register=no --keep-unit -b --console=pipe >"$work/nspawn.log" 2>&1 &
  nspawn_pid=$!
  local st=""
  for _ in $(seq 150); do
    pid1=$(pgrep -P "$nspawn_pid" | head -1 || true)
    if [ -n "$pid1" ]; then
      st=$(in_sys systemctl is-system-running 2>/dev/null || true)
      case "$st" in running | degraded) return 0 ;; esac
    fi
    sleep 0.2
  done
  cat "$work/nspawn.log"; fail "systemd did not come up in the container (state: $st)"
}
in_sys() { nsenter -t "$pid1" -a /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
halt() {
  [ -n "$nspawn_pid" ] || return 0
  in_sys systemctl poweroff >/dev/null 2>&1 || kill -TERM "$nspawn_pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
  kill -KILL "$nspawn_pid" 2>/dev/null || true
  wait "$nspawn_pid" 2>/dev/null || true
  nspawn_pid=""
}
cleanup() {
  halt
  # A cold cache's layer still being made in the background (see 2.): let it end,
  # so no apt or dpkg is left running and nothing stays mounted.
  if [ -n "${layer_pid:-}" ]; then wait "$layer_pid" 2>/dev/null || true; layer_pid=""; fi
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

# 2a. A cold cache (no dependency layer yet): the clean root is started in the
#    background now, so debootstrap and the big downloads (Chromium, cage, ...)
#    overlap the package build. See 2. below.
mkdir -p "$cache"
base_tar=$cache/bookworm-minbase.tar
layer_tmp=$cache/bookworm-layer.tmp
# dpkg without fsync for the cached layers only (a crash while making them costs
# a rebuild of the cache, nothing else); the install test's own apt runs keep
# dpkg's safe I/O. DPKG_FORCE replaces dpkg's default force list, so it repeats it.
unsafe_io=(env "DPKG_FORCE=unsafe-io,security-mac,downgrade")
# The packages' dependencies known before the build: debian/control's own names
# (cage, chromium, ...); the shared libraries (shlibs) come after the build.
early_deps=$(awk '/^Depends:/ {d = 1; sub(/^Depends:/, ""); print; next} d && /^[ \t]/ {print; next} {d = 0}' \
    packaging/debian/control | tr ',' '\n' | sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/ //g' -e '/\$/d' |
  grep -v '^kartu-bahagia' | grep . | sort -u | tr '\n' ' ')
early_deps="$early_deps man-db"
make_base() {  # debootstrap --variant=minbase into the cache's base tarball
  rm -rf "$cache/rootfs-tmp"
  "${unsafe_io[@]}" debootstrap --variant=minbase bookworm "$cache/rootfs-tmp" "$mirror" \
    >"$cache/debootstrap.log" 2>&1 || { tail -20 "$cache/debootstrap.log"; return 1; }
  echo "deb $mirror bookworm main" >"$cache/rootfs-tmp/etc/apt/sources.list"
  tar -C "$cache/rootfs-tmp" -cf "$base_tar.tmp" . && mv "$base_tar.tmp" "$base_tar"
  rm -rf "$cache/rootfs-tmp"
}
make_early_layer() {  # base (if missing), then $early_deps into $layer_tmp
  if [ ! -f "$base_tar" ]; then make_base || return 1; fi
  umount_in "$layer_tmp"
  rm -rf "$layer_tmp" && mkdir -p "$layer_tmp" && tar -C "$layer_tmp" -xf "$base_tar" || return 1
  mount_in "$layer_tmp"
  local rc=0
  # shellcheck disable=SC2086  # a list of package names
  { chroot "$layer_tmp" apt-get update -qq &&
    chroot "$layer_tmp" "${unsafe_io[@]}" DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends $early_deps; } >"$cache/deps-early.log" 2>&1 || rc=$?
  umount_in "$layer_tmp"
  [ "$rc" = 0 ] || { tail -30 "$cache/deps-early.log"; rm -rf "$layer_tmp"; }
  return "$rc"
}
layer_pid=""
if ! ls -d "$cache"/bookworm-deps-*[!p] >/dev/null 2>&1; then
  step "cold cache: clean root and dependency layer in the background (log: $cache/deps-early.log)"
  make_early_layer &
  layer_pid=$!
else
  umount_in "$layer_tmp"
  rm -rf "$layer_tmp"  # left by an interrupted run
fi

# 1. The packages: v1 as released, v2 a rebuild with a higher version (the upgrade).
step "build the packages (release preset, dpkg-buildpackage, lintian)"
base_version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
up_version="${base_version}+upgrade1"
if [ -n "${KB_PKGTEST_PREBUILT:-}" ] && ls "$work"/v1/*.deb "$work"/v2/*.deb >/dev/null 2>&1; then
  # Re-running the install steps alone on the packages of the previous run.
  echo "KB_PKGTEST_PREBUILT: using the packages in $work/v1 and $work/v2"
else
rm -rf "$work/v1" "$work/v2"
mkdir -p "$work/v1" "$work/v2"
if [ -n "${KB_BUILD_LOCK:-}" ]; then exec 9>>"$KB_BUILD_LOCK"; flock 9; fi
scripts/build-deb.sh | tee "$work/lintian-v1.txt"
cp build/deb/kartu-bahagia*_"$base_version"_*.deb "$work/v1/"
# The same files as v1 with another version: lintian has seen them already.
KB_DEB_LINTIAN=0 KB_DEB_VERSION=$up_version scripts/build-deb.sh >"$work/build-v2.log" 2>&1 ||
  { cat "$work/build-v2.log"; fail "rebuilding $up_version"; }
cp build/deb/kartu-bahagia*_"$up_version"_*.deb "$work/v2/"
{ flock -u 9 && exec 9>&-; } 2>/dev/null || true
fi
ls -l "$work"/v1/*.deb

# 2. The clean root: minbase, then a layer with the dependencies (from the .debs'
#    own Depends, plus man-db for systemd-analyze verify's Documentation= check).
#    On a cold cache most of it was made in the background (2a.).
if [ -n "$layer_pid" ]; then
  step "waiting for the background layer"
  wait "$layer_pid" || fail "making the clean root and the early dependency layer"
  layer_pid=""
fi
if [ ! -f "$base_tar" ]; then
  step "debootstrap --variant=minbase bookworm (cold cache)"
  make_base || fail debootstrap
fi
deps=$(for d in "$work"/v1/*.deb; do dpkg-deb -f "$d" Depends; done | tr ',' '\n' |
  sed -e 's/([^)]*)//g' -e 's/|.*//' -e 's/ //g' | grep -v '^kartu-bahagia' | grep . | sort -u | tr '\n' ' ')
deps="$deps man-db"
key=$(echo "$deps" | sha256sum | cut -c1-12)
deps_dir=$cache/bookworm-deps-$key
if [ ! -d "$deps_dir" ]; then
  step "dependency layer: apt-get install $deps (cold cache)"
  if [ ! -d "$layer_tmp" ]; then  # no early layer: from the base, as a whole
    mkdir -p "$layer_tmp"
    tar -C "$layer_tmp" -xf "$base_tar"
    mount_in "$layer_tmp"
    chroot "$layer_tmp" apt-get update -qq
  else  # the early layer: only what the build added (the shared libraries)
    mount_in "$layer_tmp"
  fi
  # shellcheck disable=SC2086  # a list of package names
  chroot "$layer_tmp" "${unsafe_io[@]}" DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends $deps \
    >"$work/deps.log" 2>&1 || { umount_in "$layer_tmp"; tail -30 "$work/deps.log"; fail "installing the dependencies"; }
  umount_in "$layer_tmp"
  rm -rf "$cache"/bookworm-deps-*[!p]
  mv "$layer_tmp" "$deps_dir"
fi
rm -rf "$layer_tmp"  # an early layer the cache did not need

# Each run: a fresh overlay on the cached layer, so nothing of a previous run
# survives and nothing is copied.
step "fresh root: overlay on the cached layer"
cleanup
rm -rf "$work/upper" "$work/overlay-work"
mkdir -p "$root" "$work/upper" "$work/overlay-work"
mount -t overlay overlay -o "lowerdir=$deps_dir,upperdir=$work/upper,workdir=$work/overlay-work" "$root"
mount_in "$root"
# The clean machine's first boot (what booting leaves behind is not ours).
step "first boot of the clean root"
boot
halt
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
mkdir -p "$root/root/debs"
cp "$work"/v1/*.deb "$work"/v2/*.deb "$root/root/debs/"
in_root DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/root/debs/kartu-bahagia_${base_version}_$(dpkg --print-architecture).deb" \
  "/root/debs/kartu-bahagia-kiosk_${base_version}_all.deb" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; fail "apt install"; }
grep -E "^(Setting up|Unpacking) kartu" "$work/install.log"

step "accounts, groups and the state dir exist right after install"
in_root getent passwd kartu-bahagia kartu-kiosk
for g in dialout plugdev tss lp; do in_root id -nG kartu-bahagia | grep -qw "$g" || fail "kartu-bahagia not in $g"; done
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
  kbctl keygen --out timestamp >/dev/null
  kbctl root init --out root.json --expires-days 365 --root-key root-A.key --root-key root-B.key \
    --threshold 2 --snapshot-key snapshot.pub --card-key card.pub --timestamp-key timestamp.pub
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

# From here on the root is booted with systemd as PID 1 (systemd-nspawn), so
# the units run for real: their account, sandbox, restart on upgrade, stop
# on purge. The container shares the host's network, so the daemon's
# loopback port is reached from here. The reader is `sim` because the root
# has no NFC hardware, and the port a free one: both are an operator's edits
# of the conffile, which the upgrade must keep.
sed -i 's/^reader = auto/reader = sim/' "$root/etc/kartu-bahagia/kiosk.conf"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i "s/^listen = .*/listen = 127.0.0.1:$port/" "$root/etc/kartu-bahagia/kiosk.conf"
in_root kartu-bahagiad --check-config /etc/kartu-bahagia/kiosk.conf

step "boot the root: systemd as PID 1 (systemd-nspawn)"
boot
in_sys systemctl --failed --no-legend --plain | sed 's/^/  failed in the container (not ours): /' || true

wait_healthz() {
  for _ in $(seq 100); do
    curl -fsS -o "$work/healthz.json" "http://127.0.0.1:$port/healthz" 2>/dev/null && return 0
    sleep 0.1
  done
  in_sys systemctl status --no-pager kartu-bahagiad || true
  in_sys journalctl -b -u kartu-bahagiad --no-pager | tail -20 || true
  curl -sS "http://127.0.0.1:$port/healthz" || true
  fail "/healthz not 200"
}
main_pid() { in_sys systemctl show -p MainPID --value kartu-bahagiad.service; }

step "systemctl enable --now kartu-bahagiad, GET /healthz"
in_sys systemctl enable --now kartu-bahagiad.service
wait_healthz
cat "$work/healthz.json"; echo
curl -fsS "http://127.0.0.1:$port/" | grep -q '<html' || fail "the UI is not served"
pid=$(main_pid)
uid=$(in_sys sed -n 's/^Uid:\t\([0-9]*\).*/\1/p' "/proc/$pid/status")
[ "$uid" = "$(in_sys id -u kartu-bahagia)" ] || fail "daemon runs as uid $uid, not kartu-bahagia"
in_sys grep -q '^NoNewPrivs:\s*1' "/proc/$pid/status" || fail "daemon runs without NoNewPrivileges"
in_sys grep -q '^CapEff:\s*0000000000000000' "/proc/$pid/status" || fail "daemon has capabilities"
echo "kartu-bahagiad: MainPID $pid, uid $uid (kartu-bahagia), no capabilities, no new privileges"
# The screen cannot start here (no tty0, no seat): its condition says so.
in_sys systemctl start kartu-bahagia-kiosk.service || true
echo "kartu-bahagia-kiosk: $(in_sys systemctl show -p ConditionResult -p ActiveState kartu-bahagia-kiosk.service | tr '\n' ' ')"
# It restarts forever: no start limit that could stop it for good.
limits=$(in_sys systemctl show -p Restart -p StartLimitIntervalUSec -p StartLimitBurst kartu-bahagia-kiosk.service | tr '\n' ' ')
for want in Restart=always StartLimitIntervalUSec=0; do
  case " $limits" in *" $want "*) ;; *) fail "kiosk unit can hit a start limit: $limits" ;; esac
done
echo "kartu-bahagia-kiosk: $limits"

# The screen's sandbox with Chromium in it: the kiosk unit as shipped, with a
# drop-in that only swaps what needs a real seat (tty1, cage) for headless
# Chromium loading the kiosk page. Chromium's own sandbox (user, PID and
# network namespaces, chroot, seccomp) must start under the unit's
# SystemCallFilter, RestrictNamespaces, NoNewPrivileges and ProtectSystem.
# Headless Chromium works through DevTools, which the managed policy turns
# off: with the policy it must refuse, and with the policy set aside (only for
# this check) it must load the page.
step "the kiosk unit's sandbox runs Chromium with its own sandbox on"
dropin=$root/etc/systemd/system/kartu-bahagia-kiosk.service.d
policy=$root/etc/chromium/policies/managed/kartu-bahagia.json
mkdir -p "$dropin"
headless_dropin() {  # TIMEOUT_S
  printf '%s\n' '[Unit]' 'ConditionPathExists=' '[Service]' 'Type=oneshot' 'Restart=no' 'TTYPath=' \
    'StandardInput=null' 'StandardOutput=file:/run/kb-kiosk-dom.html' 'StandardError=file:/run/kb-kiosk-err.txt' \
    'ExecStartPre=' 'ExecStart=' \
    "ExecStart=/usr/bin/timeout $1 /usr/bin/chromium --headless --disable-gpu --no-first-run --user-data-dir=/run/kartu-kiosk/p --timeout=5000 --dump-dom http://127.0.0.1:$port/" \
    >"$dropin/package-test.conf"
  in_sys systemctl daemon-reload
}
headless_dropin 10
in_sys systemctl start kartu-bahagia-kiosk.service 2>/dev/null || true
in_sys grep -q 'DevTools remote debugging is disallowed by the system admin' /run/kb-kiosk-err.txt ||
  { in_sys grep -v -i dbus /run/kb-kiosk-err.txt | tail -5; fail "the policy did not refuse DevTools"; }
echo "with the policy: Chromium refuses DevTools (headless cannot even start)"
mv "$policy" "$work/policy.json"
headless_dropin 60
in_sys systemctl reset-failed kartu-bahagia-kiosk.service 2>/dev/null || true
if ! in_sys systemctl start kartu-bahagia-kiosk.service; then
  mv "$work/policy.json" "$policy"
  in_sys journalctl -b -u kartu-bahagia-kiosk --no-pager | grep -v -i dbus | tail -10
  in_sys grep -v -i dbus /run/kb-kiosk-err.txt | tail -10 || true
  fail "Chromium did not run in the kiosk unit's sandbox"
fi
mv "$work/policy.json" "$policy"
in_sys grep -q 'id="screen"' /run/kb-kiosk-dom.html || fail "the kiosk page did not load in the sandboxed Chromium"
if in_sys grep -i -E 'no usable sandbox|check failed|sandbox.*(fail|error)' /run/kb-kiosk-err.txt; then
  fail "Chromium's sandbox did not start in the kiosk unit"
fi
echo "kiosk unit: headless Chromium with its sandbox on loaded the kiosk page as kartu-kiosk"
rm -r "$dropin"
rm -f "$root/run/kb-kiosk-dom.html" "$root/run/kb-kiosk-err.txt"
in_sys systemctl daemon-reload

# The online path as a city sets it up (docs/operations.md, "Serve a mirror"):
# a mirror directory published inside the root, served by a real nginx over
# TLS on loopback (allowed by the shipped unit's IPAddressAllow=localhost),
# and one `mirror =` line plus `mirror_ca =` in the shipped config.
step "mirror sync: one mirror = line, nginx over TLS on loopback, serial 1 -> 2 -> 3"
mirror_www=$work/mirror
rm -rf "$mirror_www" && mkdir -p "$mirror_www/www" "$mirror_www/tmp"
(cd "$mirror_www" &&
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -days 2 -subj /CN=kb-package-test-ca 2>/dev/null &&
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key -out server.csr \
    -subj /CN=127.0.0.1 2>/dev/null &&
  echo "subjectAltName=IP:127.0.0.1" >san.ext &&
  openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 \
    -extfile san.ext 2>/dev/null) || fail "making the mirror's TLS certificate"
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$mirror_www/nginx.conf" <<NGINX
user root;
worker_processes 1;
error_log $mirror_www/error.log warn;
pid $mirror_www/nginx.pid;
events { worker_connections 64; }
http {
  access_log $mirror_www/access.log;
  client_body_temp_path $mirror_www/tmp/body;
  proxy_temp_path $mirror_www/tmp/proxy;
  fastcgi_temp_path $mirror_www/tmp/fastcgi;
  uwsgi_temp_path $mirror_www/tmp/uwsgi;
  scgi_temp_path $mirror_www/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$mport ssl;
    ssl_certificate $mirror_www/server.crt;
    ssl_certificate_key $mirror_www/server.key;
    root $mirror_www/www;
  }
}
NGINX
nginx -p "$mirror_www" -c "$mirror_www/nginx.conf" || fail "nginx did not start"
stop_nginx() { [ -f "$mirror_www/nginx.pid" ] && kill "$(cat "$mirror_www/nginx.pid")" 2>/dev/null; rm -f "$mirror_www/nginx.pid"; }
trap 'stop_nginx; cleanup' EXIT
# Publishes serial $1 of a roster of $2 cards into the mirror as a snapshot and
# a delta from the bundle $3, then signs the timestamp.
publish_to_mirror() {
  in_root sh -euc "
    cd /root/publish
    kbctl roster synth --cards $2 --seed 7 --out roster-$1.csv
    kbctl publish --roster roster-$1.csv --root /etc/kartu-bahagia/root.json --key /root/ceremony/snapshot.key \
      --serial $1 --expires-days 14 --profile kiosk --base $3 --out mirror/ >/dev/null
    kbctl timestamp --root /etc/kartu-bahagia/root.json --key /root/ceremony/timestamp.key --dir mirror \
      --expires-hours 12
  "
  rm -rf "$mirror_www/www" && cp -r "$root/root/publish/mirror" "$mirror_www/www"
}
wait_serial() {  # SERIAL
  for _ in $(seq 150); do
    curl -fsS "http://127.0.0.1:$port/api/state" >"$work/state.json" 2>/dev/null &&
      python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; sys.exit(0 if d["serial"]==int(sys.argv[2]) and d["last_sync_error"] is None else 1)' \
        "$work/state.json" "$1" && return 0
    sleep 0.2
  done
  cat "$work/state.json"; echo
  in_sys journalctl -b -u kartu-bahagiad --no-pager | tail -20 || true
  fail "the kiosk did not reach serial $1 from the mirror"
}
publish_to_mirror 2 60 out/snapshot-1.kbs
install -m 0644 "$mirror_www/ca.crt" "$root/etc/kartu-bahagia/mirror-ca.pem"
printf 'mirror = https://127.0.0.1:%s/\nmirror_ca = /etc/kartu-bahagia/mirror-ca.pem\n' "$mport" \
  >>"$root/etc/kartu-bahagia/kiosk.conf"
in_sys kartu-bahagiad --check-config /etc/kartu-bahagia/kiosk.conf
in_sys systemctl restart kartu-bahagiad.service
wait_serial 2
echo "started with the mirror line: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; print("serial", d["serial"], "from", d["source"])' "$work/state.json")"
publish_to_mirror 3 70 mirror/snapshot-2.kbs
in_sys systemctl reload kartu-bahagiad.service  # SIGHUP: sync now (else within sync_interval_minutes)
wait_serial 3
grep -q -E 'GET /+delta-2-3.kbs' "$mirror_www/access.log" || fail "the kiosk did not take the delta 2 -> 3"
echo "reload: serial 3 through delta-2-3.kbs; the mirror served $(wc -l <"$mirror_www/access.log") requests"
stop_nginx
trap cleanup EXIT

step "upgrade to the rebuilt package ($up_version) while the daemon runs"
before_sum=$(md5sum "$root/var/lib/kartu-bahagia/cache.db" | cut -d' ' -f1)
in_sys env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
  "/root/debs/kartu-bahagia_${up_version}_$(dpkg --print-architecture).deb" \
  "/root/debs/kartu-bahagia-kiosk_${up_version}_all.deb" >"$work/upgrade.log" 2>&1 ||
  { cat "$work/upgrade.log"; fail "apt upgrade"; }
# shellcheck disable=SC2016  # dpkg-query's own ${Version}
[ "$(in_root dpkg-query -W -f='${Version}' kartu-bahagia)" = "$up_version" ] || fail "not upgraded"
grep -q '^reader = sim' "$root/etc/kartu-bahagia/kiosk.conf" || fail "the upgrade lost the operator's config edit"
[ "$(md5sum "$root/var/lib/kartu-bahagia/cache.db" | cut -d' ' -f1)" = "$before_sum" ] || fail "the upgrade touched the cache"
in_sys systemctl is-active -q kartu-bahagiad.service || fail "daemon not running after the upgrade"
pid2=$(main_pid)
if [ "$pid2" = "$pid" ] || [ "$pid2" = 0 ]; then fail "the upgrade did not restart the daemon (MainPID $pid -> $pid2)"; fi
wait_healthz
echo "restarted by the upgrade: MainPID $pid -> $pid2, /healthz 200"

step "systemd-analyze verify and security on the installed units"
for u in kartu-bahagiad.service kartu-bahagia-kiosk.service kartu-bahagia-kiosk-night.service kartu-bahagia-kiosk-night.timer; do
  in_sys systemd-analyze verify "/lib/systemd/system/$u" || fail "systemd-analyze verify $u"
done
for spec in "kartu-bahagiad.service:$max_daemon" "kartu-bahagia-kiosk.service:$max_kiosk"; do
  u=${spec%%:*} max=${spec##*:}
  # --threshold counts in tenths (0..100): 5.0 is 50.
  in_sys systemd-analyze security --offline=true --threshold="$(echo "$max" | awk '{printf "%d", $1 * 10}')" \
    "/lib/systemd/system/$u" >"$work/security-$u.txt" 2>&1 ||
    { cat "$work/security-$u.txt"; fail "$u exposure above $max"; }
  echo "$u: $(grep 'Overall exposure' "$work/security-$u.txt" | sed 's/.*: //') (--offline, threshold $max)"
done
echo "kartu-bahagiad.service as loaded by systemd: $(in_sys systemd-analyze security kartu-bahagiad.service 2>&1 | grep 'Overall exposure' | sed 's/.*: //')"

step "purge: the daemon stops, nothing left but what policy keeps"
rm -f "$root/etc/kartu-bahagia/mirror-ca.pem"  # the operator's own file, not the package's
in_sys env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q kartu-bahagia kartu-bahagia-kiosk >"$work/purge.log" 2>&1 ||
  { cat "$work/purge.log"; fail "apt purge"; }
state=$(in_sys systemctl show -p ActiveState --value kartu-bahagiad.service)
[ "$state" != active ] || fail "daemon still running after purge"
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && fail "daemon still answering after purge"
halt
mount_in "$root"
rm -rf "$root/media/usb"
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
