#!/usr/bin/env bash
# Installs the system packages posit-gan's tests need on a fresh Debian 12 (bookworm) machine, as root:
#  - mesa-vulkan-drivers from bookworm-backports: lavapipe, a software Vulkan driver that Dawn accepts
#    (Debian 12's own Mesa 22 is too old for Dawn). This is the "GPU" of a machine without one.
#  - chromium: headless browser for the demo's WebGPU test (it brings SwiftShader too).
#  - redis-server: only for multi-machine sweeps (BullMQ); the sweep tests start their own on a free port.
# Idempotent: re-running it only checks that everything is present.
# Elsewhere: any Vulkan driver Dawn accepts works (Mesa 24+ lavapipe, or a GPU driver with Vulkan);
# skip this script and make sure `vulkaninfo --summary` lists a device.
set -euo pipefail
if [ "$(id -u)" != 0 ]; then echo "setup-system: run as root (it installs Debian packages)" >&2; exit 1; fi
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "setup-system: this script targets Debian 12 (bookworm); found ${PRETTY_NAME:-unknown}." >&2
  echo "setup-system: install a Vulkan driver Dawn accepts (Mesa 24+ lavapipe or a GPU driver) and chromium yourself." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
backports=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > "$backports" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
need_update=1
mesa_version=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
case "$mesa_version" in
  2[4-9].*|3*) echo "setup-system: mesa-vulkan-drivers $mesa_version already installed" ;;
  *) apt-get update -qq; need_update=0
     apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null ;;
esac
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  [ $need_update = 0 ] || apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "setup-system: mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers), $(chromium --version 2>/dev/null | head -1), $(redis-server --version | cut -d' ' -f1-3)"
