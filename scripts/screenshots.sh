#!/usr/bin/env bash
# Regenerates docs/kiosk: every kiosk screen (and the hall's "now serving"
# screen) in Chinese, in English and in the large-type look, with canned data,
# drawn by Fyne's software painter (the binary's -screenshots under Xvfb draws
# the same screens with GL, at about a minute a screen with software GL);
# and the dashboard's pages
# (docs/dashboard), rendered by headless Chromium from the e2e test that
# builds a realistic district. Needs `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/kiosk
mkdir -p "$out"
export FYNE_FONT="${FYNE_FONT:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}"

echo "screenshots: kiosk screens (Chinese, English, large type) and the hall's, by Fyne's software painter"
VETNET_KIOSK_SHOTS="$PWD/$out" go test -count=1 -run '^TestWriteScreenshots$' ./kiosk/ui/
echo "screenshots: the next meeting on the kiosk (docs/meetings), the binary under Xvfb"
LANG=zh_CN.UTF-8 xvfb-run -a -s "-screen 0 1920x1920x24" bin/kiosk -screenshots docs/meetings -screens meeting-idle,meeting-staff

echo "screenshots: dashboard pages in headless Chromium (a realistic district made by the e2e test)"
mkdir -p docs/dashboard
VETNET_SCREENSHOTS="$PWD/docs/dashboard" go test -count=1 -run 'TestDashboardPages$' ./e2e/
echo "screenshots: the meetings and the live roll-call board (docs/meetings)"
mkdir -p docs/meetings
VETNET_MEETING_SCREENSHOTS="$PWD/docs/meetings" go test -count=1 -run 'TestMeetingBoard$' ./e2e/
echo "screenshots: written to $out, docs/dashboard and docs/meetings"
