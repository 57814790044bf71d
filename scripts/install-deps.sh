#!/usr/bin/env bash
# Installs the Debian packages the project needs, and only those that are missing.
# Idempotent: a machine that has everything runs no apt-get at all.
set -euo pipefail

build_pkgs=(
  build-essential cmake ninja-build pkg-config git
  libssl-dev libsqlite3-dev sqlite3 libboost-dev libboost-system-dev
  libnfc-dev libnfc-bin nlohmann-json3-dev libqrencode-dev libcurl4-openssl-dev libtss2-dev libzstd-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
test_pkgs=(
  clang-16 libclang-rt-16-dev clang-format clang-tidy-16 time
  nginx-light chromium nodejs npm zbar-tools curl openssl espeak-ng
  debhelper devscripts lintian debootstrap systemd-container fonts-liberation cage grim xwayland util-linux python3
  swtpm swtpm-tools dosfstools mtools
  prometheus
)

want=("${build_pkgs[@]}")
[ "${1:-}" = "--with-test-tools" ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node may come from elsewhere (e.g. nodesource); accept a working node/npm on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]}"

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
sudo_cmd=()
[ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
# On CI (CI set, as CI services do) the machine is thrown away after the run, so dpkg
# may skip its fsync per file: about a quarter less install time (docs/PERFORMANCE.md).
apt_opts=()
[ -n "${CI:-}" ] && apt_opts=(-o Dpkg::Options::=--force-unsafe-io)
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${apt_opts[@]}" "${missing[@]}"
# The prometheus package starts its own server on :9090 where systemd runs; the tests
# start a Prometheus of their own on a loopback port, so one installed here is stopped.
if [[ " ${missing[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
  "${sudo_cmd[@]}" systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
