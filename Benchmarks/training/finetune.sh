#!/usr/bin/env bash
# Fine-tuning recipe on a dataset with its own class count: `detr synth --classes shape-size`
# (6 categories, ids 1..6: small/large circle, rectangle, triangle; other images than the demo
# model's) trained three ways with the same schedule, each evaluated on the held-out split after
# every epoch:
#   scratch   random initialisation
#   backbone  --backbone-weights from the bundled demo model (its ResNet only)
#   detector  --weights demo/shapes-salience.safetensors (a detector trained for 3 shape classes;
#             the class head, whose shape differs, starts fresh)
# The config is the demo model's with "num_classes": "auto" (7: the largest id + 1).
# Usage: Benchmarks/training/finetune.sh [WORKDIR]   (EPOCHS, IMAGES override the defaults)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PKG_CONFIG_PATH="${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$PWD/.libtorch/lib/pkgconfig"
work=${1:-/tmp/swift-detr-finetune}
epochs=${EPOCHS:-10}
images=${IMAGES:-500}
swift build -c release --product detr >/dev/null
detr=.build/release/detr
mkdir -p "$work"
[ -d "$work/shapes6" ] || $detr synth --output "$work/shapes6" --images "$images" --seed 11 --classes shape-size
sed 's/"num_classes": 4/"num_classes": "auto"/' demo/shapes-salience.json > "$work/finetune.json"
grep -q '"num_classes": "auto"' "$work/finetune.json"
for how in scratch backbone detector; do
  init=()
  case $how in
    backbone) init=(--backbone-weights demo/shapes-salience.safetensors) ;;
    detector) init=(--weights demo/shapes-salience.safetensors) ;;
  esac
  $detr train --config "$work/finetune.json" --train-images "$work/shapes6/train" \
    --train-annotations "$work/shapes6/annotations/train.json" --val-images "$work/shapes6/val" \
    --val-annotations "$work/shapes6/annotations/val.json" --output "$work/$how" --epochs "$epochs" \
    --lr-drop $((epochs * 4 / 5)) --batch-size 8 --lr 2e-4 --lr-backbone 2e-4 --warmup 50 --workers 1 --seed 42 \
    --quiet "${init[@]}" ${RESUME:+--resume}
done
for how in scratch backbone detector; do
  echo "== $how (epoch AP AP50 AP75)"
  grep '"eval":true' "$work/$how/log.jsonl" |
    sed -E 's/^\{"AP":([^,]*),"AP50":([^,]*),"AP75":([^,]*),.*"epoch":([0-9]+).*/\4 \1 \2 \3/' |
    awk '{ printf "%s %.3f %.3f %.3f\n", $1, $2, $3, $4 }'
done
