#!/usr/bin/env bash
# Makes a folder that runs swift-detr on a machine without Swift, e.g. a GPU machine (at most 60 MB):
#   detr                 built with --static-swift-stdlib; it reaches libtorch only through the
#                        plain-C shim, loaded as lib/libctorch.so (rpath $ORIGIN/lib)
#   shim/, build-shim.sh the shim's sources and the script that compiles them there, with the local
#                        C++ compiler, against the Python torch installed there (2.4 or later)
#   checks/              parity fixtures: models (configs + float16 weights), images, and their
#                        detections computed here on the CPU (checks/reference)
#   anchors/             the official implementations, for latency next to ours on the same GPU
#   run-gpu-checks.sh    builds the shim, then parity, fp32/bf16 latency and one NCCL training step
#
# Usage: scripts/gpu-bundle.sh [OUT]   (default gpu-bundle/; replaced if it exists)
# Environment: ANCHORS (default ../shared/anchors), FIXTURES (default ../shared/fixtures),
#              CHECK=1 also runs run-gpu-checks.sh here on the CPU against the torch of PYTHON (or
#              TORCH_DIR), as a stand-in for that machine.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$(realpath -m "${1:-$root/gpu-bundle}")
anchors=${ANCHORS:-$root/../shared/anchors}
fixtures=${FIXTURES:-${DETR_FIXTURES:-$root/../shared/fixtures}}
limit_mb=60
scripts/bootstrap.sh
export PATH=/opt/swift/usr/bin:$PATH
export PKG_CONFIG_PATH=${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$root/.libtorch/lib/pkgconfig
note() { echo "gpu-bundle: $*" >&2; }

stage=$(mktemp -d "${out%/}.tmp.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/shim/include" "$stage/lib" "$stage/checks/models" "$stage/checks/images" "$stage/checks/reference"
cp Sources/CTorch/*.cpp Sources/CTorch/*.h "$stage/shim/"
cp Sources/CTorch/include/*.h "$stage/shim/include/"
cp -r Sources/CTorch/gloo-declarations "$stage/shim/"
mkdir -p "$stage/shim/cuda" && cp cuda/*.cu "$stage/shim/cuda/"
cp scripts/gpu-bundle/build-shim.sh scripts/gpu-bundle/run-gpu-checks.sh scripts/gpu-bundle/compare_predictions.py \
  "$stage/"
cp scripts/gpu-bundle/README.md "$stage/README.md"

# 1. The shim against this checkout's libtorch (for linking detr, and for the reference run here).
note "building the shim against .libtorch"
TORCH_DIR=$root/.libtorch "$stage/build-shim.sh"

# 2. detr, with the shim as a shared library and the Swift runtime linked in.
note "building detr (release, static Swift runtime, shared shim)"
SWIFT_DETR_SHARED_SHIM=1 swift build -c release --product detr --static-swift-stdlib \
  --scratch-path .build-bundle -Xlinker -L"$stage/lib" -Xlinker -rpath -Xlinker '$ORIGIN/lib'
strip -o "$stage/detr" .build-bundle/release/detr
needed=$(readelf -d "$stage/detr" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if printf '%s\n' "$needed" | grep -E "libtorch|libc10|libswift|libFoundation" >/dev/null; then
  note "detr links libtorch or the Swift runtime directly:"; printf '%s\n' "$needed" >&2; exit 1
fi
# The image codecs travel too: another distribution names its libjpeg differently (libjpeg.so.8).
for lib in $(printf '%s\n' "$needed" | grep -E "^lib(jpeg|png)"); do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')" "$stage/lib/$lib"
done

# 3. Parity fixtures: the demo model (Salience DETR) and the official tiny Conditional DETR of the
# fixtures, as float16 weights, on the demo samples; reference detections computed here on the CPU
# in float32. (The tiny Salience DETR would add 21 MB for an architecture the demo model covers.)
cp demo/samples/*.png "$stage/checks/images/"
cp demo/shapes-salience.json "$stage/checks/models/demo.json"
cp demo/shapes-salience.safetensors "$stage/checks/models/demo.safetensors"
for name in conditional_detr; do
  if [ -f "$fixtures/$name/tiny.pth" ]; then
    cp "$fixtures/$name/tiny.config.json" "$stage/checks/models/$name-tiny.json"
    "$stage/detr" export --weights "$fixtures/$name/tiny.pth" --output "$stage/checks/models/$name-tiny.safetensors" \
      --half >/dev/null
  else
    note "no $fixtures/$name/tiny.pth: that parity model is left out"
  fi
done
for model in "$stage"/checks/models/*.json; do
  name=$(basename "$model" .json)
  "$stage/detr" predict --config "$model" --weights "$stage/checks/models/$name.safetensors" --threshold 0 \
    --top-k 100 --quiet --output "$stage/checks/reference/$name.json" "$stage"/checks/images/*.png
done

# 4. The official code, for latency on the same machine.
if [ -d "$anchors" ]; then
  mkdir -p "$stage/anchors"
  cp -r "$anchors"/. "$stage/anchors/"
else
  note "no anchors at $anchors: the official code's latency is left out"
fi

# detr travels compressed (build-shim.sh unpacks it): 71 MB stripped, most of it the static Swift
# runtime's Unicode data.
xz -T0 -9 "$stage/detr"
size_mb=$(du -sm "$stage" | cut -f1)
note "bundle size ${size_mb} MB (limit ${limit_mb} MB)"
if [ "$size_mb" -gt "$limit_mb" ]; then note "too large"; du -sm "$stage"/* "$stage"/checks/models/* >&2; exit 1; fi
rm -rf "$out"
mv "$stage" "$out"
trap - EXIT
note "wrote $out"

if [ "${CHECK:-0}" = 1 ]; then
  note "checking the bundle here on the CPU (the shim rebuilt against ${TORCH_DIR:-the torch of ${PYTHON:-python3}})"
  DEVICE=cpu SKIP_BENCH=1 RESULTS=$out/results-cpu "$out/run-gpu-checks.sh"
fi
