#!/usr/bin/env bash
# Installs what swift-detr needs on a fresh Debian 12 machine; does nothing when all is present.
set -euo pipefail

packages=(libtorch-dev libopenblas0-pthread libjpeg62-turbo-dev libpng-dev)

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
