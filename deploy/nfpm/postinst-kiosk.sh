#!/bin/sh
# postinst of vetnet-kiosk: users and groups, device permissions, and the
# service enabled so that it starts on boot (and now, where systemd runs).
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers vetnet.conf || true
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable vetnet-kiosk-session.service vetnet-kiosk.service
	systemctl restart vetnet-kiosk-session.service vetnet-kiosk.service || echo "vetnet-kiosk: not started yet: see journalctl -u vetnet-kiosk (docs: /usr/share/doc/vetnet-kiosk/operations.md)"
else
	# No running systemd (an image being prepared): enable for the next boot.
	systemctl enable vetnet-kiosk-session.service vetnet-kiosk.service 2>/dev/null || true
fi
