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
# One JSON line per model and runtime. Then the demo model's float16 export against its float32 one
# (compare_half.py, needs Pillow).
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
# The demo model (trained): float32 and --half exports on the demo samples and 40 unseen synth
# images; how far the float16 detections (score >= 0.3) move from the float32 ones.
"$DETR" synth --output "$OUT/half-val" --images 42 --seed 99 --val-fraction 0.95 > /dev/null
for h in "" --half; do
  "$DETR" export --format onnx --config demo/shapes-salience.json --weights demo/shapes-salience.safetensors \
    --output "$OUT/demo$h.onnx" --size 224x224 $h > /dev/null
done
"$PY" Benchmarks/onnx/compare_half.py "$OUT/demo.onnx" "$OUT/demo--half.onnx" --short 128 --longest 213 \
  demo/samples/*.png "$OUT"/half-val/val/*.png
exit $status
