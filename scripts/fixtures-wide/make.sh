#!/usr/bin/env bash
# Issue 32 fixture set "wide": a 150x100 portrait (-> 192x128), a 120x160 image without targets (-> 128x170) and a
# 40x300 strip (-> 28x213 after the max-size clamp), padded to 192x224; tiny Salience DETR with a resnet18 backbone.
#
#   scripts/fixtures-wide/make.sh OUT_DIR          (e.g. /tmp/fx-wide; then DETR_FIXTURES=OUT_DIR swift test)
#
# Runs the official code through /work/shared/tools (make_fixtures.py salience part, fixture_images.py,
# fixture_weights.py), writes tiny.config.json (the shared tiny config with backbone.block "basic") and the
# per-encoder-layer record tiny_eval_encoder.{safetensors,json} (record_encoder.py).
# Environment: PYTHON (default ~/anchor-venv/bin/python), SHARED (default /work/shared), PARTS (default "salience";
# "salience,conddetr,coco" also writes tolerance.json and README.md), EXPERIMENTS=1 (tie-order / formulation
# experiments of record_encoder.py, ~1-2 min), TIE_CHECK=1 (merge-sort / per-level top-k tie order, stable vs as-is;
# record_encoder.py --tie-check), SPEC (default spec.json beside this script; its "name" is the variant),
# QUICK=1 (official tensors + encoder record only: no images/, expected_detections.json, weights json, config).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../fixture-tools.sh
source "$here/../fixture-tools.sh"
export FIXTURE_SPEC=$(realpath "${SPEC:-$here/spec.json}") FIXTURE_TOOLS=$TOOLS
variant=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["name"])' "$FIXTURE_SPEC")
(cd "$work" && FIXTURES_WORK=$work "$PY" "$TOOLS/make_fixtures.py" --variant "$variant" --parts "${PARTS:-salience}" --out "$out")
m=$out/salience_detr
if [ -z "${QUICK:-}" ]; then
  "$PY" "$TOOLS/fixture_images.py" "$m"
  "$PY" "$TOOLS/fixture_weights.py" "$m"
  "$PY" - "$SHARED/fixtures/salience_detr/tiny.config.json" "$m/tiny.config.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
c["backbone"]["block"] = "basic"        # resnet18 BasicBlock (layers stay [1, 1, 1, 1]; 128/256/512 channels)
with open(sys.argv[2], "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PYEOF
fi
(cd "$work" && OMP_NUM_THREADS=2 MKL_NUM_THREADS=2 "$PY" "$here/record_encoder.py" "$m" --threads 2 \
    ${EXPERIMENTS:+--experiments} ${TIE_CHECK:+--tie-check})
ls -l "$m"
