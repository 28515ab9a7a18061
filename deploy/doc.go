// Package deploy holds what runs a district in the field: systemd units
// (systemd/), the journald drop-in (journald/), udev rules (udev/), the
// system users (sysusers.d/), defaults (default/), the Mosquitto
// configuration (mosquitto/) and the Debian packages' nfpm configurations
// (nfpm/, built by scripts/deb.sh and `make deb`). Its tests check those
// files and build and inspect a package; deploy/demo is the demo program.
package deploy
