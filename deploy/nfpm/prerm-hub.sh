#!/bin/sh
# prerm of vetnet-hub: stop and disable on removal (not on upgrade).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl disable --now vetnet-hub.service || true
fi
