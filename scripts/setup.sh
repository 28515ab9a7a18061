#!/usr/bin/env bash
# Prepares a Debian machine for `make demo` and `make test`: the system
# packages the build and the tests need, then the Go modules. Safe to run
# again: it installs only what is missing. Runs as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

# Packages by purpose:
#   gcc, pkg-config, libgl1-mesa-dev, xorg-dev  cgo build of the Fyne kiosk (GLFW, X11)
#   fonts-droid-fallback                        a TTF font with Chinese glyphs for the kiosk
#   xvfb, xauth                                 kiosk screenshots and UI runs without a display
#   espeak-ng                                   the kiosk's spoken prompts in Mandarin (espeak-ng -v cmn)
#   mosquitto                                   the external MQTT broker the tests also run on
#   chromium                                    dashboard screenshots and browser tests
#   ca-certificates, curl                       module downloads, health checks
packages=(gcc pkg-config libgl1-mesa-dev xorg-dev fonts-droid-fallback xvfb xauth espeak-ng mosquitto chromium ca-certificates curl)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null; then
  echo "setup: Go is not installed. Install Go 1.26 (https://go.dev/dl/) and put it on PATH." >&2
  exit 1
fi
go_minor=$(go env GOVERSION | sed -E 's/^go1\.([0-9]+).*/\1/')
if [ "${go_minor:-0}" -lt 26 ]; then
  echo "setup: Go $(go env GOVERSION) is too old; this project needs Go 1.26 or newer." >&2
  exit 1
fi
go mod download
