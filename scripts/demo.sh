#!/usr/bin/env bash
# Starts the kiosk on the built-in demo: throw-away DEV keys, a signed demo
# cache and the simulated reader, serving the UI from this checkout.
#   scripts/demo.sh [BUILD_DIR]          (`make demo`; KB_DEMO_LISTEN=127.0.0.1:8080)
set -euo pipefail
build=${1:-build/dev}
cd "$(dirname "$0")/.."
listen=${KB_DEMO_LISTEN:-127.0.0.1:8080}
# The daemon prints the URL and how to tap a demo card; the page has a demo panel too.
exec "$build/daemon/bin/kartu-bahagiad/kartu-bahagiad" --demo --listen "$listen" \
  --state-dir demo-state --set ui_dir="$PWD/kiosk-ui"
