#!/bin/sh
# postinst of vetnet-hub: users and groups, device permissions, and the
# service enabled so that it starts on boot (and now, where systemd runs).
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers vetnet.conf || true
fi
chgrp vetnet /etc/vetnet/hub 2>/dev/null || true
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable vetnet-hub.service
	systemctl restart vetnet-hub.service || echo "vetnet-hub: not started yet: see journalctl -u vetnet-hub (docs: /usr/share/doc/vetnet-hub/operations.md)"
else
	# No running systemd (an image being prepared): enable for the next boot.
	systemctl enable vetnet-hub.service 2>/dev/null || true
fi
