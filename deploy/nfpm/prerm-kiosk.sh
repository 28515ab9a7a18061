#!/bin/sh
# prerm of vetnet-kiosk: stop and disable on removal (not on upgrade).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl disable --now vetnet-kiosk-session.service vetnet-kiosk.service || true
fi
