#!/usr/bin/env bash
# Builds the Debian packages (make deb): vetnet-agent, vetnet-hub and
# vetnet-kiosk for each ARCH, into OUT (default dist/), with nfpm.
#
#   scripts/deb.sh                 amd64 and arm64
#   ARCHES=amd64 PACKAGES="agent hub" OUT=/tmp/x scripts/deb.sh
#
# The agent, the hub and the provisioning tool are pure Go (modernc
# SQLite, periph.io): they cross-compile with CGO_ENABLED=0. The kiosk
# needs cgo (Fyne: OpenGL, X11), so it is built only for the machine's own
# architecture; build the arm64 kiosk package on an arm64 machine (a
# Raspberry Pi) with the same command.
set -euo pipefail
cd "$(dirname "$0")/.."
NFPM_VERSION=v2.45.2
ARCHES=${ARCHES:-amd64 arm64}
PACKAGES=${PACKAGES:-agent hub kiosk}
OUT=${OUT:-dist}
# The version: the last tag (v1.2.3 → 1.2.3, with -N-gHASH after it), else
# 0.0.0~gitHASH, which sorts below any release.
if [ -z "${VERSION:-}" ]; then
	if tag=$(git describe --tags 2>/dev/null); then
		VERSION=${tag#v}
	else
		VERSION="0.0.0~git$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	fi
fi
host=$(go env GOARCH)
mkdir -p "$OUT"
nfpm() { go run "github.com/goreleaser/nfpm/v2/cmd/nfpm@$NFPM_VERSION" "$@"; }
for arch in $ARCHES; do
	bin="bin/linux-$arch"
	mkdir -p "$bin"
	ldflags="-s -w -X main.version=$VERSION"
	for pkg in $PACKAGES; do
		case $pkg in
		agent)
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$bin/vetnet-agent" ./edge-agent/cmd/edge-agent ;;
		hub)
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$bin/vetnet-hub" ./cloud/cmd/hub
			CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$bin/vetnet-provision" ./firmware-config/cmd/provision ;;
		kiosk)
			if [ "$arch" != "$host" ]; then
				echo "deb: vetnet-kiosk $arch skipped: the kiosk needs cgo; build it on an $arch machine" >&2
				continue
			fi
			CGO_ENABLED=1 GOOS=linux GOARCH=$arch go build -trimpath -ldflags "$ldflags" -o "$bin/vetnet-kiosk" ./kiosk/cmd/kiosk ;;
		*) echo "deb: unknown package $pkg" >&2; exit 2 ;;
		esac
		ARCH=$arch VERSION=$VERSION BIN=$bin nfpm package --config "deploy/nfpm/$pkg.yaml" --packager deb --target "$OUT/"
	done
done
ls -l "$OUT"/*.deb
