#!/usr/bin/env bash
# Installs what swift-detr needs on a fresh Debian 12 machine; does nothing when all is present.
#
# 1. Debian packages: the image codecs (libjpeg, libpng), FFmpeg's libraries for video, cairo and
#    a font for pictures and charts (libcairo2-dev, fonts-dejavu-core), unzip and pkg-config.
# 2. libtorch 2.13.0 from PyTorch's `torch` wheel, unpacked into .libtorch/ of this checkout
#    (include/ and lib/ only), with a pkg-config file .libtorch/lib/pkgconfig/swift-detr-libtorch.pc
#    that Package.swift's system-library target reads. pip is only the download client: the
#    wheel's C++ libraries do not depend on the Python version, and nothing Python runs at run
#    time. The downloaded wheels stay in ${SWIFT_DETR_CACHE:-~/.cache/swift-detr}/wheels so that
#    another clone on the same machine does not fetch them again.
#
# Environment:
#   LIBTORCH_VERSION   torch version to fetch (default 2.13.0)
#   SWIFT_DETR_CACHE   download cache (default ~/.cache/swift-detr)
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(libjpeg62-turbo-dev libpng-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
  libcairo2-dev fonts-dejavu-core unzip pkg-config)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo_cmd=()
  if [ "$(id -u)" != 0 ]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  if [ -x /opt/swift/usr/bin/swift ]; then
    echo "bootstrap: swift is at /opt/swift/usr/bin; add it to PATH" >&2
  else
    echo "bootstrap: a Swift 6 toolchain is required (https://www.swift.org/install/linux/)" >&2
  fi
  exit 1
fi

scripts/fetch_libtorch.sh
