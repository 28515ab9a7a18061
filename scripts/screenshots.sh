#!/usr/bin/env bash
# Regenerates docs/screenshots: every kiosk screen, rendered by the real
# kiosk binary under Xvfb with canned data, and the dashboard, rendered by
# headless Chromium from a demo that ran for a minute. Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/screenshots
mkdir -p "$out"

echo "screenshots: kiosk screens under Xvfb"
LANG=zh_CN.UTF-8 xvfb-run -a -s "-screen 0 1920x1920x24" bin/kiosk -screenshots "$out"

echo "screenshots: dashboard (running a headless demo for ${DEMO_SECONDS:-60} s)"
data=$(mktemp -d)
bin/demo -bin bin -data "$data" -headless -http 127.0.0.1:18080 -mqtt 127.0.0.1:18840 -api-port 17474 >"$data/demo.log" 2>&1 &
demo=$!
trap 'kill -INT $demo 2>/dev/null; wait $demo 2>/dev/null; rm -rf "$data"' EXIT
sleep "${DEMO_SECONDS:-60}"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$data/chromium" --hide-scrollbars \
  --window-size=1440,1100 --timeout=8000 --screenshot="$out/dashboard.png" \
  http://127.0.0.1:18080/ 2>/dev/null
echo "screenshots: written to $out"
