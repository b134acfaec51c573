#!/usr/bin/env bash
# Opt-in check of `detr export --format onnx` in ONNX Runtime and OpenVINO (needs Python with
# onnx, onnxruntime, openvino and safetensors: PY=path/to/python). For every fixture model of
# both fixture sets that exports, the model is exported at its fixture batch's size and batch and
# run on that batch in both runtimes; the outputs are compared with the official post-processing
# stored in the fixture (scores within 1e-4, boxes within 0.05 px, same labels, for detections
# scoring at least 0.01; near-tied official scores as multisets) and onnx.checker must accept the
# file. A Salience fixture without tie diagnostics (the large-backbone ones) may have official
# outputs that depend on libtorch's order among tied padded tokens: ONNX Runtime's difference from
# them is reported without a verdict ("ok": null) and OpenVINO is held to ONNX Runtime.
# One JSON line per model and runtime.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-python3}
DETR=${DETR:-.build/release/detr}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0
for set in ../shared/fixtures ../shared/fixtures-b; do
  for dir in "$set"/*/; do
    [ -f "$dir/tiny.config.json" ] && [ -f "$dir/tiny_eval.safetensors" ] || continue
    name=$(basename "$set")-$(basename "$dir")
    size=$("$PY" -c "from safetensors.numpy import load_file; b=load_file('$dir/tiny_eval.safetensors')['pre.batch']; print(f'{b.shape[2]}x{b.shape[3]} {b.shape[0]}')")
    if ! "$DETR" export --format onnx --config "$dir/tiny.config.json" --weights "$dir/tiny.pth" \
        --output "$OUT/$name.onnx" --size "${size% *}" --batch "${size#* }" > "$OUT/$name.log" 2>&1; then
      echo "{\"model\": \"$name\", \"exported\": false, \"error\": $("$PY" -c "import json,sys; print(json.dumps(open(sys.argv[1]).read().strip()[:300]))" "$OUT/$name.log")}"
      status=1
      continue
    fi
    "$PY" Benchmarks/onnx/compare_fixture.py "$OUT/$name.onnx" "$dir/tiny_eval.safetensors" | tee "$OUT/$name.json"
    grep -q '"ok": false' "$OUT/$name.json" && status=1
  done
done
exit $status
