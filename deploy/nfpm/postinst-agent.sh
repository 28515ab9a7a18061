#!/bin/sh
# postinst of vetnet-agent: users and groups, device permissions, and the
# service enabled so that it starts on boot (and now, where systemd runs).
set -e
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers vetnet.conf || true
fi
chgrp vetnet /etc/vetnet/station 2>/dev/null || true
if command -v udevadm >/dev/null 2>&1; then
	udevadm control --reload-rules 2>/dev/null || true
	udevadm trigger --subsystem-match=tty --subsystem-match=spidev --subsystem-match=gpio --subsystem-match=input --subsystem-match=usbmisc 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload
	systemctl enable vetnet-agent.service
	systemctl restart vetnet-agent.service || echo "vetnet-agent: not started yet: see journalctl -u vetnet-agent (docs: /usr/share/doc/vetnet-agent/operations.md)"
else
	# No running systemd (an image being prepared): enable for the next boot.
	systemctl enable vetnet-agent.service 2>/dev/null || true
fi
