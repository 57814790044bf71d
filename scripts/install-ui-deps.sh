#!/usr/bin/env bash
# Installs the browser-test tools (playwright-core, axe-core) from the npm
# registry into tests/ui/node_modules, only when the lock file changed.
set -euo pipefail
cd "$(dirname "$0")/../tests/ui"
[ -f package-lock.json ] || exit 0
stamp=node_modules/.lock-stamp
if [ -f "$stamp" ] && cmp -s package-lock.json "$stamp"; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
