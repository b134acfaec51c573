#!/usr/bin/env bash
# Regenerates Sources/ONNXProto/onnx.pb.swift, the Swift messages of ONNX's onnx.proto (proto2, the
# canonical definition; package `onnx`, so the types are Onnx_ModelProto, Onnx_TensorProto, ...).
# The generated file is committed: building the package never needs protoc or this script.
#
# Steps: download the onnx wheel of a pinned version (ONNX_VERSION, default below) with pip, take
# onnx/onnx.proto out of it, and run protoc with swift-protobuf's protoc-gen-swift plugin
# (public visibility). Needs: protoc (Debian: `apt-get install protobuf-compiler`), a Python with
# pip, unzip, and protoc-gen-swift of the swift-protobuf version Package.resolved pins (1.39.0):
# PROTOC_GEN_SWIFT=/path/to/protoc-gen-swift, or one on PATH. To build it:
#   git clone --branch 1.39.0 https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#   (cd /tmp/swift-protobuf && swift build -c release --product protoc-gen-swift)
#   PROTOC_GEN_SWIFT=/tmp/swift-protobuf/.build/release/protoc-gen-swift scripts/generate_onnx_proto.sh
set -euo pipefail
cd "$(dirname "$0")/.."

onnx_version="${ONNX_VERSION:-1.23.2}"
swift_protobuf_version="1.39.0"
out_dir="Sources/ONNXProto"

plugin="${PROTOC_GEN_SWIFT:-$(command -v protoc-gen-swift || true)}"
if [[ -z "$plugin" || ! -x "$plugin" ]]; then
  echo "error: protoc-gen-swift not found: set PROTOC_GEN_SWIFT or put it on PATH (see this script's header)" >&2
  exit 1
fi
if ! command -v protoc >/dev/null 2>&1; then
  echo "error: protoc not found (Debian: apt-get install protobuf-compiler)" >&2
  exit 1
fi
plugin_version="$("$plugin" --version 2>/dev/null | awk '{print $NF}')"
if [[ "$plugin_version" != "$swift_protobuf_version" ]]; then
  echo "warning: $plugin is version '$plugin_version', not $swift_protobuf_version; the output will differ" >&2
fi

pip_cmd=()
for py in python3 python; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -m pip --version >/dev/null 2>&1; then
    pip_cmd=("$py" -m pip)
    break
  fi
done
if [[ ${#pip_cmd[@]} -eq 0 ]]; then
  echo "error: no Python with pip found (pip downloads the onnx wheel)" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Any platform's wheel holds the same .proto files: ask for one fixed platform and Python so the
# download does not depend on the Python running pip.
"${pip_cmd[@]}" download "onnx==${onnx_version}" --no-deps --only-binary=:all: \
  --platform manylinux_2_28_x86_64 --python-version 3.11 --implementation cp -d "$work/wheel" >&2
wheel="$(ls "$work"/wheel/onnx-"${onnx_version}"-*.whl | head -n 1)"
unzip -q -o "$wheel" onnx/onnx.proto -d "$work/src"

protoc \
  --plugin=protoc-gen-swift="$plugin" \
  --proto_path="$work/src/onnx" \
  --swift_out="$out_dir" \
  --swift_opt=Visibility=Public \
  "$work/src/onnx/onnx.proto"

echo "wrote $out_dir/onnx.pb.swift from onnx ${onnx_version} (onnx.proto) with protoc-gen-swift ${plugin_version}" >&2
