#!/usr/bin/env bash
# Fixture set "extreme": one batch of four, a 40x400 strip, a 400x50 column, a 240x320 image without targets and a
# 150x150 square (Conditional DETR resizes them to 21x210, 216x27, 128x170 and 128x128), for both tiny models, the
# COCO evaluation part and the three large backbones. It found that the bilinear resize must follow Pillow 13's pass
# order (Tests/VisionTests/ResizeTests.swift); every fixture suite passes on it.
#
#   scripts/fixtures-extreme/make.sh OUT_DIR        (e.g. /tmp/fx-extreme; then DETR_FIXTURES=OUT_DIR swift test)
#
# Runs the official code through the shared tools (make_fixtures.py, fixture_images.py, fixture_weights.py,
# make_backbone_fixtures.py) and copies the shared tiny configs. About 10 minutes on 2 cores.
# Environment: PYTHON (default ~/anchor-venv/bin/python, with Pillow 13 and scikit-image), SHARED (default
# /work/shared), SPEC (default spec.json beside this script; spec-small.json is a 12x20 image, up-scaled, beside a
# 300x300 one with 12 targets; its "name" is the variant).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../fixture-tools.sh
source "$here/../fixture-tools.sh"
export FIXTURE_SPEC=$(realpath "${SPEC:-$here/spec.json}")
variant=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["name"])' "$FIXTURE_SPEC")
(cd "$work" && "$PY" "$TOOLS/make_fixtures.py" --variant "$variant" --out "$out")
for m in salience_detr conditional_detr; do
  "$PY" "$TOOLS/fixture_images.py" "$out/$m"
  "$PY" "$TOOLS/fixture_weights.py" "$out/$m"
  cp "$SHARED/fixtures/$m/tiny.config.json" "$out/$m/"
done
# The backbone tool also writes a README comparing with the shared "dev" set, which this run does not make: its
# fixtures are complete before that last step, so its exit status is not this script's.
(cd "$work" && "$PY" "$TOOLS/make_backbone_fixtures.py" --variants "$variant" --hidden "$out" --shared "$work/shared" \
    --skip-keys) || true
for k in swin convnext focalnet; do
  [ -f "$out/salience_detr_$k/tiny_eval.safetensors" ] || { echo "make.sh: no $k fixture" >&2; exit 1; }
done
ls -l "$out"
