#!/usr/bin/env bash
# From-scratch training of small detectors on a `detr synth` shapes dataset, evaluated on its
# held-out split with our COCO evaluator. Usage:
#   Benchmarks/training/run.sh salience|conditional [WORKDIR]
# Environment: RESUME=1 continues a stopped run.
# Conditional DETR uses a from-scratch curriculum (no pretrained weights anywhere): 25 epochs on
# colour-coded squares (colour_squares.py, needs Debian python3-pil), which teach it to localise,
# then 15 epochs on the shapes. Trained on the shapes alone it stays collapsed (RESULTS.md).
# DIRECT=1 skips the first stage; CONFIG, EPOCHS and DROP override the shapes stage's settings.
# The Salience DETR run produced the bundled demo model (demo/shapes-salience.safetensors).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PKG_CONFIG_PATH="${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$PWD/.libtorch/lib/pkgconfig"
which=${1:?salience or conditional}
work=${2:-/tmp/swift-detr-training}
swift build -c release --product detr >/dev/null
detr=.build/release/detr
[ -d "$work/shapes" ] || $detr synth --output "$work/shapes" --images 1000 --seed 7
case $which in
  salience)
    config=demo/shapes-salience.json; epochs=36; drop=30; lr=2e-4 ;;
  conditional)
    config=${CONFIG:-Benchmarks/training/shapes-conditional-128.json}; epochs=${EPOCHS:-15}; drop=${DROP:-12}; lr=2e-4 ;;
  *) echo "unknown model $which" >&2; exit 64 ;;
esac
init=()
if [ "$which" = conditional ] && [ -z "${DIRECT:-}" ]; then
  [ -d "$work/squares" ] || /usr/bin/python3 Benchmarks/training/colour_squares.py "$work/squares"
  $detr train --config "$config" --train-images "$work/squares/train" --train-annotations "$work/squares/annotations/train.json" \
    --val-images "$work/squares/val" --val-annotations "$work/squares/annotations/val.json" --output "$work/conditional-squares" \
    --epochs 25 --lr-drop 1000 --batch-size 8 --lr "$lr" --lr-backbone "$lr" --workers 1 --seed 42 ${RESUME:+--resume}
  init=(--weights "$work/conditional-squares/checkpoint.safetensors")
fi
$detr train --config "$config" --train-images "$work/shapes/train" --train-annotations "$work/shapes/annotations/train.json" \
  --val-images "$work/shapes/val" --val-annotations "$work/shapes/annotations/val.json" --output "$work/$which" \
  --epochs "$epochs" --lr-drop "$drop" --batch-size 8 --lr "$lr" --lr-backbone "$lr" --workers 1 --seed 42 \
  "${init[@]}" ${RESUME:+--resume}
$detr evaluate --config "$config" --weights "$work/$which/checkpoint.safetensors" --images "$work/shapes/val" \
  --annotations "$work/shapes/annotations/val.json" --batch-size 8
