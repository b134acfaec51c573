#!/usr/bin/env bash
# A package depending on this checkout, built and run as a new user would (README, "Using the
# library"): `swift package fetch-libtorch` unpacks libtorch into it, the two printed settings
# build and run it, and its README example on a demo sample must give the detections
# `detr predict` gives. Needs .build/debug/detr (`swift build`); works in a temporary folder.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export PATH=/opt/swift/usr/bin:$PATH
detr="$root/.build/debug/detr"
[ -x "$detr" ] || { echo "test-consumer: build detr first (swift build)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -R "$root/Tests/ConsumerPackage/." "$work/"
identity=$(basename "$root" | tr "[:upper:]" "[:lower:]")
sed -i -e "s|SWIFT_DETR_PATH|$root|" -e "s|SWIFT_DETR_IDENTITY|$identity|" "$work/Package.swift"
cd "$work"
# Nothing of this checkout's own libtorch settings may help the consumer.
unset PKG_CONFIG_PATH LD_LIBRARY_PATH
# The wheel cache of this checkout's bootstrap is reused (no download when it holds the wheel).
swift package --allow-writing-to-package-directory fetch-libtorch | tee fetch.txt
eval "$(grep '^  export ' fetch.txt)"
swift build 2>&1 | tail -n 3
sample="$root/demo/samples/shapes-1.png"
"$detr" predict --config "$root/demo/shapes-salience.json" --weights "$root/demo/shapes-salience.safetensors" \
  --threshold 0.5 --output expected.json "$sample"
.build/debug/Consumer "$root/demo/shapes-salience.json" "$root/demo/shapes-salience.safetensors" "$sample" expected.json
