#!/usr/bin/env bash
# Puts libtorch (C++ headers and shared libraries) from PyTorch's `torch` wheel into .libtorch/
# of this checkout and writes the pkg-config file the package's CLibTorch target reads.
# Idempotent: does nothing when .libtorch/ already holds the requested version.
#
# Preferred: the CPU-only wheel `torch==VERSION+cpu` (no CUDA libraries). When no such wheel is
# reachable (pip's configured indexes and find-links), PyPI's `torch==VERSION` is used instead;
# its libtorch_cpu.so needs libcudart and libcupti at load time, so the two CUDA runtime wheels it
# pins (nvidia-cuda-runtime, nvidia-cuda-cupti) are fetched as well and their libraries copied
# next to it. CUDA kernels (libtorch_cuda.so) are not unpacked on this route.
#
# TORCH=cuda: PyPI's CUDA build `torch==VERSION` with every CUDA library it depends on, installed by
# pip into the cache (${SWIFT_DETR_CACHE}/torch-VERSION-cuda, a few GB) and used from there: the
# pkg-config file in .libtorch/ points at it, and libtorch_cuda.so finds the nvidia libraries
# through its own rpath. LIBTORCH_PYTHON=/path/to/python: the torch that interpreter imports (any
# 2.x; CPU or CUDA), used in place. Either way nothing Python runs at run time.
# LIBTORCH_DEST=DIR: unpack into DIR instead of this checkout's .libtorch/ (the `fetch-libtorch`
# package plugin puts it into the package that depends on swift-detr).
set -euo pipefail
cd "$(dirname "$0")/.."

version="${LIBTORCH_VERSION:-2.13.0}"
cache="${SWIFT_DETR_CACHE:-$HOME/.cache/swift-detr}/wheels"
dest="${LIBTORCH_DEST:-$PWD/.libtorch}"
pcname="swift-detr-libtorch"

# pip: any Python with pip works (only downloads; --python-version picks a cp311 wheel).
pip_cmd=()
for py in python3 python; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
    pip_cmd=("$py" -m pip); break
  fi
done

# Returns (prints) the path of the cached wheel for a requirement, downloading it when absent.
fetch_wheel() {
  local req="$1" pattern="$2" found
  found=$(ls "$cache"/$pattern 2>/dev/null | head -n1 || true)
  if [ -z "$found" ]; then
    if ((${#pip_cmd[@]} == 0)); then
      echo "bootstrap: pip is needed to download $req (apt-get install python3-pip)" >&2
      return 1
    fi
    # pip does not widen an explicit --platform to older manylinux tags: list glibc 2.28 down to
    # 2.17 (the nvidia runtime wheels are manylinux_2_17 and manylinux_2_25, torch manylinux_2_28).
    local platforms=(--platform manylinux2014_x86_64) g
    for g in $(seq 17 28); do platforms+=(--platform "manylinux_2_${g}_x86_64"); done
    "${pip_cmd[@]}" download -q --no-deps --python-version 3.11 --only-binary=:all: "${platforms[@]}" \
      -d "$cache" "$req" >&2 || return 1
    found=$(ls "$cache"/$pattern 2>/dev/null | head -n1 || true)
    [ -n "$found" ] || return 1
  fi
  echo "$found"
}

write_pc() {
  local root="$1" prefix="$2"
  mkdir -p "$root/lib/pkgconfig"
  cat > "$root/lib/pkgconfig/$pcname.pc" <<EOF
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: $pcname
Description: libtorch $version (C++ API of PyTorch), unpacked from the torch wheel for swift-detr
Version: $version
Cflags: -I\${includedir} -I\${includedir}/torch/csrc/api/include
Libs: -L\${libdir} -ltorch_cpu -lc10
EOF
}

mkdir -p "$cache"

# An installed torch used in place (TORCH=cuda installs one into the cache first).
variant="${TORCH:-cpu}"
torch_root=""
if [ -n "${LIBTORCH_PYTHON:-}" ]; then
  torch_root=$("$LIBTORCH_PYTHON" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
  version=$("$LIBTORCH_PYTHON" -c 'import torch; print(torch.__version__.split("+")[0])')
elif [ "$variant" = cuda ]; then
  site="${SWIFT_DETR_CACHE:-$HOME/.cache/swift-detr}/torch-$version-cuda"
  if [ ! -f "$site/torch/lib/libtorch_cuda.so" ]; then
    if ((${#pip_cmd[@]} == 0)); then echo "bootstrap: pip is needed for TORCH=cuda" >&2; exit 1; fi
    echo "bootstrap: installing PyPI's torch==$version (CUDA) and its CUDA libraries into $site" >&2
    rm -rf "$site.tmp"
    # `torch==V` also matches a local `V+cpu` wheel, which configured find-links folders may offer
    # (and pip then prefers): PyPI alone here, without the configuration's find-links.
    env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null "${pip_cmd[@]}" install -q --no-compile --target "$site.tmp" \
      "torch==$version" >&2
    [ -f "$site.tmp/torch/lib/libtorch_cuda.so" ] || { echo "bootstrap: that torch has no CUDA" >&2; exit 1; }
    rm -rf "$site" && mv "$site.tmp" "$site"
  fi
  torch_root="$site/torch"
elif [ "$variant" != cpu ]; then
  echo "bootstrap: TORCH must be cpu or cuda, not '$variant'" >&2
  exit 1
fi
if [ -n "$torch_root" ]; then
  stamp="in-place $torch_root"
  if [ -f "$dest/.stamp" ] && [ "$(sed -n 2p "$dest/.stamp")" = "$stamp" ]; then exit 0; fi
  rm -rf "$dest" && mkdir -p "$dest"
  write_pc "$dest" "$torch_root"
  printf '%s\n%s\n' "$version" "$stamp" > "$dest/.stamp"
  echo "bootstrap: using libtorch $version at $torch_root" >&2
  exit 0
fi

# Already unpacked? (the stamp names the version; the pc file is rewritten when the checkout moved)
if [ -f "$dest/.stamp" ] && [ "$(head -n1 "$dest/.stamp")" = "$version" ] \
   && ! sed -n 2p "$dest/.stamp" | grep -q '^in-place ' \
   && [ -f "$dest/lib/libtorch_cpu.so" ] && [ -f "$dest/include/torch/script.h" ]; then
  if ! grep -qx "prefix=$dest" "$dest/lib/pkgconfig/$pcname.pc" 2>/dev/null; then
    write_pc "$dest" "$dest"
  fi
  exit 0
fi

echo "bootstrap: fetching libtorch $version (torch wheel) into $dest" >&2
route=cpu
if ! wheel=$(fetch_wheel "torch==$version+cpu" "torch-$version+cpu-*.whl"); then
  echo "bootstrap: no torch==$version+cpu wheel; using PyPI's torch==$version and its CUDA runtime libraries" >&2
  route=pypi
  wheel=$(fetch_wheel "torch==$version" "torch-$version-*.whl")
fi

tmp="$dest.tmp-$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/unz"
excludes=()
if [ "$route" = pypi ]; then excludes=(-x 'torch/lib/*cuda*' 'torch/lib/*nccl*' 'torch/lib/*cudnn*'); fi
unzip -q "$wheel" 'torch/include/*' 'torch/lib/*' "${excludes[@]}" -d "$tmp/unz"
mv "$tmp/unz/torch/include" "$tmp/include"
mv "$tmp/unz/torch/lib" "$tmp/lib"
rm -rf "$tmp/unz"

if [ "$route" = pypi ]; then
  # The versions torch pins, from its metadata: directly (Requires-Dist: nvidia-cuda-runtime==X,
  # older wheels) or through the cuda-toolkit meta-package (Requires-Dist:
  # cuda-toolkit[cudart,cupti,...]==V, whose own metadata pins nvidia-cuda-runtime==13.0.96.*).
  meta=$(unzip -p "$wheel" 'torch-*.dist-info/METADATA')
  toolkit_meta=""
  toolkit=$(printf '%s\n' "$meta" | sed -n 's/^Requires-Dist: cuda-toolkit\[[^]]*\]==\([^ ;]*\).*/\1/p' | head -n1)
  if [ -n "$toolkit" ]; then
    tw=$(fetch_wheel "cuda-toolkit==$toolkit" "cuda_toolkit-$toolkit*.whl")
    toolkit_meta=$(unzip -p "$tw" '*.dist-info/METADATA')
  fi
  for pkg in nvidia-cuda-runtime nvidia-cuda-cupti; do
    pin=$(printf '%s\n%s\n' "$meta" "$toolkit_meta" \
          | sed -n "s/^Requires-Dist: $pkg\(-cu[0-9]*\)\?==\([^ ;]*\).*/$pkg\1==\2/p" | head -n1)
    if [ -z "$pin" ]; then
      echo "bootstrap: torch==$version pins no version of $pkg (directly or through cuda-toolkit)" >&2
      exit 1
    fi
    name=${pin%%==*}; ver=${pin#*==}
    w=$(fetch_wheel "$pin" "${name//-/_}-${ver%.\*}*.whl")
    unzip -q -j -o "$w" '*/libcudart.so*' '*/libcupti.so*' -d "$tmp/lib" 2>/dev/null || true
  done
  for lib in libcudart.so libcupti.so; do
    if ! ls "$tmp/lib/$lib".* >/dev/null 2>&1; then
      echo "bootstrap: $lib was not found in the nvidia wheels" >&2
      exit 1
    fi
  done
fi

write_pc "$tmp" "$dest"
printf '%s\n%s\n' "$version" "$(basename "$wheel")" > "$tmp/.stamp"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "bootstrap: libtorch $version ready in $dest ($(basename "$wheel"))" >&2
