#!/usr/bin/env bash
# Builds lib/libctorch.so, swift-detr's plain-C shim over libtorch, from shim/ against the PyTorch
# of this machine, so that ./detr (which reaches libtorch only through that shim) runs on it.
#
# The torch is the one `python3 -c "import torch"` finds (set PYTHON for another interpreter), or
# TORCH_DIR: a folder with include/ and lib/ as in the torch package (a libtorch unpacked from the
# wheel). Its C++ ABI setting comes from torch itself (TORCH_CXX11_ABI=0|1 overrides); CUDA
# libraries are linked when that torch has them. Any torch 2.x from 2.4 on; a C++20 compiler ($CXX,
# default g++). Objects are compiled in parallel (JOBS, default: all cores).
#
# With a CUDA torch, the NCCL process group is compiled in (NCCL's header from the nvidia-nccl
# package beside torch, or NCCL_INCLUDE), and the deformable-attention CUDA kernels
# (shim/cuda/*.cu) when nvcc is found ($NVCC, nvcc on PATH, or /usr/local/cuda/bin/nvcc; for
# CUDA_ARCH, default the visible GPU's).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cxx=${CXX:-g++}
py=${PYTHON:-python3}

# The bundle carries detr compressed (detr.xz: most of its size is the Swift runtime's Unicode
# data, which compresses well); unpacked once, with xz or with Python's lzma module.
if [ ! -x "$here/detr" ] && [ -f "$here/detr.xz" ]; then
  if command -v xz >/dev/null 2>&1; then
    xz -dc "$here/detr.xz" > "$here/.detr.tmp"
  else
    "$py" -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$here/detr.xz" "$here/.detr.tmp"
  fi
  chmod +x "$here/.detr.tmp" && mv "$here/.detr.tmp" "$here/detr"
fi
jobs=${JOBS:-$(nproc)}
if [ -n "${TORCH_DIR:-}" ]; then
  torch_dir=$TORCH_DIR
  abi=${TORCH_CXX11_ABI:-1}
  cuda=0
  [ -e "$torch_dir/lib/libtorch_cuda.so" ] && cuda=1
  version=$(sed -n 's/^Version: //p' "$torch_dir/lib/pkgconfig/swift-detr-libtorch.pc" 2>/dev/null || true)
else
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
  -I"$here/shim/gloo-declarations" -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include"
  -Wno-deprecated-declarations -Wno-interference-size)
cuda_objects=()
extra_libs=()
if [ "$cuda" = 1 ]; then
  nvcc=${NVCC:-$(command -v nvcc || true)}
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
  # The CUDA and NCCL headers that torch's c10d NCCL header includes: a CUDA toolkit's, or those of
  # the nvidia-* packages installed beside torch.
  first_with() {  # first folder that holds $1, of the candidates after it
    local file=$1 d; shift
    for d in "$@"; do [ -n "$d" ] && [ -f "$d/$file" ] && { echo "$d"; return; }; done
  }
  beside=$(find "$torch_dir/.." -maxdepth 3 -path '*nvidia/*/include' -type d 2>/dev/null)
  # (cuda_runtime.h needs the compiler's crt/ headers too, which the runtime packages lack.)
  cuda_include=$(first_with crt/host_config.h "${CUDA_INCLUDE:-}" "${nvcc:+$(dirname "$nvcc")/../include}" \
    /usr/local/cuda/include $beside)
  nccl_include=$(first_with nccl.h "${NCCL_INCLUDE:-}" $beside /usr/include /usr/local/cuda/include)
  if [ -n "$cuda_include" ] && [ -n "$nccl_include" ]; then
    flags+=(-DCTORCH_WITH_NCCL -I"$nccl_include" -I"$cuda_include")
  else
    echo "build-shim: no CUDA toolkit headers or nccl.h found (NVCC, CUDA_INCLUDE, NCCL_INCLUDE): data-parallel" \
      "training gets Gloo only" >&2
  fi
  if [ -n "$nvcc" ]; then
    arch=(-arch="${CUDA_ARCH:-native}")  # e.g. CUDA_ARCH=sm_90 where no GPU is visible
    for cu in "$here"/shim/cuda/*.cu; do
      mkdir -p "$build/cuda"
      o="$build/cuda/$(basename "$cu" .cu).o"
      if "$nvcc" -std=c++20 -O3 --expt-relaxed-constexpr "${arch[@]}" -Xcompiler -fPIC "-D_GLIBCXX_USE_CXX11_ABI=$abi" -I"$here/shim" \
        -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include" -c "$cu" -o "$o"; then
        cuda_objects+=("$o")
      else
        echo "build-shim: nvcc failed on $(basename "$cu"): the CUDA kernels are left out" >&2
        cuda_objects=()
        break
      fi
    done
    # The kernels' launches go through the CUDA runtime that torch itself loads.
    if ((${#cuda_objects[@]})); then
      cudart=$(find "$(dirname "$nvcc")/../lib64" "$torch_dir/.." -maxdepth 5 -name 'libcudart.so*' 2>/dev/null | head -n1)
      if [ -n "$cudart" ]; then extra_libs+=("$cudart" -Wl,-rpath,"$(cd "$(dirname "$cudart")" && pwd)"); else cuda_objects=(); echo "build-shim: no libcudart.so found: the CUDA kernels are left out" >&2; fi
    fi
  else
    echo "build-shim: no nvcc: deformable attention on CUDA uses the grid_sample composition" >&2
  fi
fi
export CXX_BIN=$cxx BUILD=$build
printf '%s\n' "$here"/shim/*.cpp | xargs -P "$jobs" -I{} sh -c \
  'f={}; o="$BUILD/$(basename "$f" .cpp).o"; "$CXX_BIN" "$@" -c "$f" -o "$o" || exit 255' sh "${flags[@]}"

libs=(-L"$torch_dir/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
# With CUDA, libtorch_cuda registers the CUDA kernels when it is loaded: linked unconditionally.
[ "$cuda" = 1 ] && libs+=(-ltorch_cuda -lc10_cuda)
mkdir -p "$here/lib"
tmp="$here/lib/.libctorch.so.tmp"
"$cxx" -shared -o "$tmp" "$build"/*.o "${cuda_objects[@]}" "${libs[@]}" "${extra_libs[@]}" -Wl,--as-needed -Wl,-soname,libctorch.so \
  -Wl,-rpath,"$torch_dir/lib"
mv "$tmp" "$here/lib/libctorch.so"
echo "build-shim: wrote $here/lib/libctorch.so" >&2
