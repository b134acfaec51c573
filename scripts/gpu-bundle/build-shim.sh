#!/usr/bin/env bash
# Builds lib/libctorch.so, swift-detr's plain-C shim over libtorch, from shim/ against the PyTorch
# of this machine, so that ./detr (which reaches libtorch only through that shim) runs on it.
#
# The torch is the one `python3 -c "import torch"` finds (set PYTHON for another interpreter), or
# TORCH_DIR: a folder with include/ and lib/ as in the torch package (a libtorch unpacked from the
# wheel). Its C++ ABI setting comes from torch itself (TORCH_CXX11_ABI=0|1 overrides); CUDA
# libraries are linked when that torch has them. Any torch 2.x from 2.4 on; a C++20 compiler ($CXX,
# default g++). Objects are compiled in parallel (JOBS, default: all cores).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
jobs=${JOBS:-$(nproc)}
if [ -n "${TORCH_DIR:-}" ]; then
  torch_dir=$TORCH_DIR
  abi=${TORCH_CXX11_ABI:-1}
  cuda=0
  [ -e "$torch_dir/lib/libtorch_cuda.so" ] && cuda=1
  version=$(sed -n 's/^Version: //p' "$torch_dir/lib/pkgconfig/swift-detr-libtorch.pc" 2>/dev/null || true)
else
  py=${PYTHON:-python3}
  read -r torch_dir abi cuda version < <("$py" -c '
import os, torch
print(os.path.dirname(torch.__file__), int(torch._C._GLIBCXX_USE_CXX11_ABI),
      int(torch.version.cuda is not None), torch.__version__)')
  abi=${TORCH_CXX11_ABI:-$abi}
fi
[ -d "$torch_dir/include/torch" ] || { echo "build-shim: no libtorch headers under $torch_dir/include" >&2; exit 1; }
echo "build-shim: torch ${version:-?} at $torch_dir (C++11 ABI $abi, CUDA $cuda), $cxx, $jobs jobs" >&2

build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
flags=(-std=c++20 -O2 -fPIC -DCTORCH_BUILD "-D_GLIBCXX_USE_CXX11_ABI=$abi" -I"$here/shim/include" -I"$here/shim"
  -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include" -Wno-deprecated-declarations)
export CXX_BIN=$cxx BUILD=$build
printf '%s\n' "$here"/shim/*.cpp | xargs -P "$jobs" -I{} sh -c \
  'f={}; o="$BUILD/$(basename "$f" .cpp).o"; "$CXX_BIN" "$@" -c "$f" -o "$o" || exit 255' sh "${flags[@]}"

libs=(-L"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
# With CUDA, libtorch_cuda registers the CUDA kernels when it is loaded: linked unconditionally.
[ "$cuda" = 1 ] && libs+=(-ltorch_cuda -lc10_cuda)
mkdir -p "$here/lib"
tmp="$here/lib/.libctorch.so.tmp"
"$cxx" -shared -o "$tmp" "$build"/*.o "${libs[@]}" -Wl,--as-needed -Wl,-soname,libctorch.so \
  -Wl,-rpath,"$torch_dir/lib"
mv "$tmp" "$here/lib/libctorch.so"
echo "build-shim: wrote $here/lib/libctorch.so" >&2
