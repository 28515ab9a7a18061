#!/bin/sh
# prerm of vetnet-agent: stop and disable on removal (not on upgrade).
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl disable --now vetnet-agent.service || true
fi
