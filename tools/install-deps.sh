#!/usr/bin/env bash
# install-deps: installs the Debian packages tessera builds, tests and runs with (skips apt when all are present).
set -euo pipefail
PKGS=(build-essential clang libclang-rt-14-dev pkg-config curl python3 procps blender openimageio-tools libopenimageio-dev
      libzmq3-dev libsodium-dev libsqlite3-dev sqlite3 libprotobuf-c-dev protobuf-c-compiler
      libjansson-dev libmicrohttpd-dev libsecp256k1-dev libcurl4-openssl-dev openssl
      libtorrent-rasterbar-dev ffmpeg libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libavutil-dev libswresample-dev
      libxcb1-dev libxcb-screensaver0-dev libsystemd-dev xvfb xdotool x11-utils util-linux zlib1g-dev
      libgtk-4-dev python3-gi gir1.2-atspi-2.0 at-spi2-core dbus-daemon
      libvulkan-dev mesa-vulkan-drivers bubblewrap)
# (tessera-gui, GTK 4, and its test, which drives it through AT-SPI on a private session bus; the slave's GPU
#  inventory through the Vulkan loader, tested on Mesa's lavapipe, and its renderers' sandbox, bubblewrap)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm (the contract tooling runs on them): Debian's, unless the machine has its own already.
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
else
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO=sudo
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The contract tooling, pinned by escrow/contracts/package-lock.json: solc-js, OpenZeppelin, anvil, ethers.
here="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -d "$here/escrow/contracts/node_modules" ] || [ "$here/escrow/contracts/package-lock.json" -nt "$here/escrow/contracts/node_modules" ]; then
  (cd "$here/escrow/contracts" && npm ci --no-audit --no-fund --loglevel=error && touch node_modules)
fi
