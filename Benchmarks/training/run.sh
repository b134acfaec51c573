#!/usr/bin/env bash
# From-scratch training of small detectors on a `detr synth` shapes dataset, evaluated on its
# held-out split with our COCO evaluator. Usage:
#   Benchmarks/training/run.sh salience|conditional [WORKDIR]
# Environment: RESUME=1 continues a stopped run; for conditional, CONFIG, EPOCHS and DROP override
# the defaults (shapes-conditional-128.json, 100 epochs, LR drop at 90).
# The Salience DETR run produced the bundled demo model (demo/shapes-salience.safetensors).
set -euo pipefail
cd "$(dirname "$0")/../.."
which=${1:?salience or conditional}
work=${2:-/tmp/swift-detr-training}
swift build -c release --product detr >/dev/null
detr=.build/release/detr
[ -d "$work/shapes" ] || $detr synth --output "$work/shapes" --images 1000 --seed 7
case $which in
  salience)
    config=demo/shapes-salience.json; epochs=36; drop=30; lr=2e-4 ;;
  conditional)
    config=${CONFIG:-Benchmarks/training/shapes-conditional-128.json}; epochs=${EPOCHS:-100}; drop=${DROP:-90}; lr=2e-4 ;;
  *) echo "unknown model $which" >&2; exit 64 ;;
esac
$detr train --config "$config" --train-images "$work/shapes/train" --train-annotations "$work/shapes/annotations/train.json" \
  --val-images "$work/shapes/val" --val-annotations "$work/shapes/annotations/val.json" --output "$work/$which" \
  --epochs "$epochs" --lr-drop "$drop" --batch-size 8 --lr "$lr" --lr-backbone "$lr" --workers 1 --seed 42 ${RESUME:+--resume}
$detr evaluate --config "$config" --weights "$work/$which/checkpoint.safetensors" --images "$work/shapes/val" \
  --annotations "$work/shapes/annotations/val.json" --batch-size 8
