#!/usr/bin/env bash
# Regenerates docs/kiosk: every kiosk screen (and the hall's "now serving"
# screen) in Chinese, in English and in the large-type look, rendered by
# the real kiosk binary under Xvfb with canned data; and the dashboard's pages
# (docs/dashboard), rendered by headless Chromium from the e2e test that
# builds a realistic district. Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/kiosk
mkdir -p "$out"
export FYNE_FONT="${FYNE_FONT:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}"

echo "screenshots: kiosk screens under Xvfb (Chinese, English, large type)"
for variant in "" "-lang en" "-look large"; do
  # shellcheck disable=SC2086 # the variant is two words on purpose
  LANG=zh_CN.UTF-8 xvfb-run -a -s "-screen 0 1920x1920x24" bin/kiosk -screenshots "$out" $variant
done
mkdir -p docs/meetings
mv -f "$out"/kiosk-meeting-*.png docs/meetings/   # the next meeting on the kiosk

echo "screenshots: dashboard pages in headless Chromium (a realistic district made by the e2e test)"
mkdir -p docs/dashboard
VETNET_SCREENSHOTS="$PWD/docs/dashboard" go test -count=1 -run 'TestDashboardPages$' ./e2e/
echo "screenshots: the meetings and the live roll-call board (docs/meetings)"
mkdir -p docs/meetings
VETNET_MEETING_SCREENSHOTS="$PWD/docs/meetings" go test -count=1 -run 'TestMeetingBoard$' ./e2e/
echo "screenshots: written to $out, docs/dashboard and docs/meetings"
