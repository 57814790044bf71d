#!/usr/bin/env bash
# The packaged kiosk session, run for real without a screen: cage on wlroots'
# headless backend runs the package's kiosk-session and kiosk-browser against
# a demo daemon (the package's own binary), with the package's Chromium policy
# in place. Checks:
#   1. grim's screenshot of the compositor's output shows the idle screen
#      (saved as build/kiosk-session-test/idle.png; look at it);
#   2. Chromium killed -9 comes back by itself, and the old profile is gone;
#   3. the policy keeps Chromium off any other origin (a page on another
#      loopback port never sees a request from Chromium);
#   4. stopping the session leaves no profile behind.
# Usage: tests/package/kiosk-session-test.sh [DIR_WITH_DEBS]   (default build/deb)
# Needs root only to put the policy in /etc/chromium inside a private mount
# namespace (the host's /etc is not touched); the session itself runs as an
# unprivileged account (nobody), as the unit runs it as kartu-kiosk.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=$PWD
debs=${1:-$src/build/deb}
out=$src/build/kiosk-session-test
if [ "$(id -u)" -ne 0 ]; then exec sudo -E "$0" "$@"; fi

fail() { echo "kiosk-session-test: FAIL: $*" >&2; exit 1; }
for t in cage grim chromium Xwayland curl python3 unshare setpriv; do
  command -v "$t" >/dev/null || fail "$t is not installed (scripts/install-deps.sh --with-test-tools)"
done

rm -rf "$out"
mkdir -p "$out/pkg" "$out/etc-chromium/policies/managed"
chmod 755 "$out"
main_deb=$(find "$debs" -maxdepth 1 -name "kartu-bahagia_*_$(dpkg --print-architecture).deb" | sort | tail -1)
kiosk_deb=$(find "$debs" -maxdepth 1 -name 'kartu-bahagia-kiosk_*_all.deb' | sort | tail -1)
[ -n "$main_deb" ] && [ -n "$kiosk_deb" ] || fail "no packages in $debs (scripts/build-deb.sh)"
dpkg-deb -x "$main_deb" "$out/pkg"
dpkg-deb -x "$kiosk_deb" "$out/pkg"
pkg=$out/pkg

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
other=$(free_port)

pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# The demo daemon: the packaged binary, its UI from the package (system fonts).
mkdir -p "$out/state"
setsid "$pkg/usr/bin/kartu-bahagiad" --demo --listen "127.0.0.1:$port" --state-dir "$out/state" \
  >"$out/daemon.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { cat "$out/daemon.log"; fail "demo daemon"; }

# The packaged policy, with the test's port in place of 8080.
sed "s#http://127.0.0.1:8080/#http://127.0.0.1:$port/#" \
  "$pkg/etc/chromium/policies/managed/kartu-bahagia.json" >"$out/etc-chromium/policies/managed/kartu-bahagia.json"
grep -q "127.0.0.1:$port" "$out/etc-chromium/policies/managed/kartu-bahagia.json" || fail "policy has no URLAllowlist"
[ -f /etc/chromium/master_preferences ] && cp /etc/chromium/master_preferences "$out/etc-chromium/"

# A page on another origin, which the policy must keep Chromium away from.
cat >"$out/other.py" <<'EOF'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(sys.argv[2], "a") as f: f.write(self.headers.get("User-Agent", "") + "\n")
        self.send_response(200); self.send_header("Content-Type", "text/html"); self.end_headers()
        self.wfile.write(b"<html><body>off-origin</body></html>")
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
EOF
: >"$out/other-requests.txt"
setsid python3 "$out/other.py" "$other" "$out/other-requests.txt" &
pids+=($!)

rt=$out/run
# Starts pkg's kiosk-session as the unit would (its own runtime dir, the
# session config), in a private mount namespace that has the policy in
# /etc/chromium. KB_ROTATE=90: a portrait kiosk (and see the note below).
start_session() {  # URL ROTATE
  rm -rf "$rt"
  mkdir -m 0700 "$rt"
  chown nobody:nogroup "$rt"
  printf 'KB_KIOSK_URL=%s\nKB_ROTATE=%s\n' "$1" "$2" >"$out/kiosk-session.conf"
  # shellcheck disable=SC2016  # expanded by the inner sh
  setsid unshare --mount --propagation private sh -c '
    mount --bind "$1" /etc/chromium
    exec setpriv --reuid=nobody --regid=nogroup --clear-groups env -i PATH=/usr/bin:/bin \
      HOME="$2" RUNTIME_DIRECTORY="$2" XDG_CACHE_HOME="$2/cache" XDG_CONFIG_HOME="$2/config" \
      WLR_BACKENDS=headless WLR_LIBINPUT_NO_DEVICES=1 WLR_RENDERER=pixman WLR_HEADLESS_OUTPUTS=1 \
      KB_SESSION_CONF="$3" KB_KIOSK_BROWSER="$4/usr/lib/kartu-bahagia/kiosk-browser" \
      "$4/usr/lib/kartu-bahagia/kiosk-session"' \
    sh "$out/etc-chromium" "$rt" "$out/kiosk-session.conf" "$pkg" >"$out/session.log" 2>&1 &
  session=$!
  pids+=("$session")
}
# As systemd stops the unit: SIGTERM to every process of the session, then
# wait until all are gone.
stop_session() {
  kill -TERM -- "-$session" 2>/dev/null || true
  for _ in $(seq 100); do pgrep -s "$session" >/dev/null || return 0; sleep 0.1; done
  fail "the session did not stop within 10 s of SIGTERM"
}
# The browser's main process: the chromium whose parent is kiosk-browser.
browser_pid() {
  local kb
  kb=$(pgrep -s "$session" -x kiosk-browser | head -1) || return 1
  pgrep -P "$kb" -x chromium | head -1
}
# grim as the session's account, into $1.png; prints the share of each colour class.
shot() {
  setpriv --reuid=nobody --regid=nogroup --clear-groups env XDG_RUNTIME_DIR="$rt" WAYLAND_DISPLAY=wayland-0 \
    grim -t ppm - >"$out/$1.ppm"
  python3 - "$out/$1.ppm" "$out/$1.png" <<'EOF'
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
magic, dims, maxv, px = d.split(b"\n", 3)
w, h = map(int, dims.split())
raw = b"".join(b"\0" + px[y * w * 3:(y + 1) * w * 3] for y in range(h))
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
open(sys.argv[2], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
                              + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
n = black = page = header = 0
for i in range(0, len(px), 3 * 11):
    r, g, b = px[i], px[i + 1], px[i + 2]
    n += 1
    black += r < 8 and g < 8 and b < 8
    page += abs(r - 0xf6) < 6 and abs(g - 0xf1) < 6 and abs(b - 0xe7) < 6   # --bg of kiosk.css
    header += abs(r - 0x0f) < 12 and abs(g - 0x4c) < 12 and abs(b - 0x5c) < 12  # the header band
print(f"{w}x{h} black={black / n:.2f} page={page / n:.2f} header={header / n:.2f}")
EOF
}
# Waits until the screenshot looks like the kiosk page: mostly page colour, a header band.
wait_idle_screen() {  # NAME
  local s
  for _ in $(seq 40); do
    sleep 0.5
    s=$(shot "$1" 2>/dev/null) || continue
    python3 -c 'import sys; f=dict(kv.split("=") for kv in sys.argv[1].split()[1:]); sys.exit(0 if float(f["page"])>0.4 and float(f["header"])>0.03 and float(f["black"])<0.05 else 1)' "$s" &&
      { echo "$1: $s"; return 0; }
  done
  echo "$1: $s"; grep -v -i dbus "$out/session.log" | tail -20; fail "$1: the idle screen never showed"
}

echo "== session on the kiosk page (cage headless, KB_ROTATE=90)"
start_session "http://127.0.0.1:$port/" 90
wait_idle_screen idle
curl -fsS "http://127.0.0.1:$port/api/state" | grep -q '"screen":"idle"' || fail "daemon not on idle"
profiles=$(find "$rt" -maxdepth 1 -name 'kb-kiosk-browser.*' | wc -l)
[ "$profiles" -eq 1 ] || fail "$profiles browser profiles, want 1"
old_profile=$(find "$rt" -maxdepth 1 -name 'kb-kiosk-browser.*')

echo "== kill -9 Chromium: the session brings it back"
first=$(browser_pid) || fail "no Chromium under kiosk-browser"
kill -KILL "$first"
for _ in $(seq 100); do
  second=$(browser_pid 2>/dev/null) && [ -n "$second" ] && [ "$second" != "$first" ] && break
  sleep 0.1
done
if [ -z "${second:-}" ] || [ "$second" = "$first" ]; then fail "Chromium did not come back"; fi
kill -0 "$session" 2>/dev/null || fail "cage exited with Chromium"
echo "chromium $first killed, $second started"
wait_idle_screen after-restart
[ ! -e "$old_profile" ] || fail "the killed browser's profile $old_profile was left behind"
[ "$(find "$rt" -maxdepth 1 -name 'kb-kiosk-browser.*' | wc -l)" -eq 1 ] || fail "profiles piled up"
stop_session
[ -z "$(find "$rt" -maxdepth 1 -name 'kb-kiosk-browser.*')" ] || fail "stopping the session left a profile"

echo "== the policy keeps Chromium off another origin"
start_session "http://127.0.0.1:$other/" 90
sleep 8
browser_pid >/dev/null || fail "Chromium did not start for the off-origin page"
stop_session
grep -q curl "$out/other-requests.txt" || fail "kiosk-browser's readiness check never reached the other page"
if grep -qi chrom "$out/other-requests.txt"; then cat "$out/other-requests.txt"; fail "Chromium loaded an off-origin page"; fi
echo "off-origin page: $(grep -c . "$out/other-requests.txt") request(s), none from Chromium"

echo "kiosk-session-test: ok (screenshots: $out/idle.png $out/after-restart.png)"
