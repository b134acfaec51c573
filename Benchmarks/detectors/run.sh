#!/usr/bin/env bash
# Inference benchmark of both R50 detectors (random weights; speed does not depend on values).
# Usage: Benchmarks/detectors/run.sh [SIZE]   (default 800x1333). Writes results-<size>.jsonl here.
set -euo pipefail
cd "$(dirname "$0")/../.."
size=${1:-800x1333}
swift build -c release --product detr >/dev/null
out=Benchmarks/detectors/results-$size.jsonl
: > "$out"
for preset in conditional-detr-r50 salience-detr-r50; do
  .build/release/detr benchmark --config "$preset" --size "$size" --iterations "${ITERATIONS:-5}" --warmup 1 --breakdown --json | tee -a "$out"
done
# Salience DETR with deformable attention through grid_sample (the official pure-PyTorch path).
.build/release/detr benchmark --config salience-detr-r50 --size "$size" --iterations "${ITERATIONS:-5}" --warmup 1 --breakdown --json --grid-sample | tee -a "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" | tee -a "$out"
