#!/usr/bin/env bash
# The GPU checks of a swift-detr bundle (made by scripts/gpu-bundle.sh), on a machine with an NVIDIA
# GPU, a C++20 compiler and Python with torch 2.4 or later; no Swift is needed there.
#   1. builds lib/libctorch.so against that torch (build-shim.sh);
#   2. parity: `detr predict` with the bundled models on the bundled images on $DEVICE in fp32, and
#      in bf16, against the CPU reference made where the bundle was built (compare_predictions.py);
#   3. latency: `detr benchmark` of Salience DETR R50 and Conditional DETR R50 (random weights,
#      800x1333, batch 1) in fp32 and bf16, and the official code (anchors/bench_official.py, when its
#      Python packages are there) on the same GPU;
#   4. one data-parallel training step on NCCL (`detr train --nproc`, when this detr has it).
# Results go to $RESULTS (default results/) as JSON lines (results.jsonl) and the command output
# (log.txt). Exit status 1 when a parity check fails.
#
# Environment: DEVICE (default cuda; cpu runs the same checks on the CPU, as where the bundle was
# built), PYTHON (default python3), SKIP_BENCH=1, SKIP_DDP=1, ITERATIONS (benchmark, default 20).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
device=${DEVICE:-cuda}
py=${PYTHON:-python3}
results=${RESULTS:-$here/results}
iterations=${ITERATIONS:-20}
mkdir -p "$results"
out=$results/results.jsonl
exec > >(tee -a "$results/log.txt") 2>&1
status=0
note() { echo "run-gpu-checks: $*" >&2; }

note "building the shim"
./build-shim.sh || { note "the shim did not build"; exit 1; }

# 2. Parity against the CPU reference, per model.
for model in checks/models/*.json; do
  name=$(basename "$model" .json)
  for precision in fp32 bf16; do
    got=$results/predict-$name-$precision.json
    if ! ./detr predict --config "$model" --weights "checks/models/$name.safetensors" --device "$device" \
      --precision "$precision" --threshold 0 --top-k 100 --quiet --output "$got" checks/images/*.png; then
      echo "{\"check\": \"parity\", \"label\": \"$name $device $precision\", \"ok\": false, \"problems\": [\"detr predict failed\"]}" >>"$out"
      status=1
      continue
    fi
    # fp32 must agree with the CPU to float rounding (the ten best detections of each image,
    # whatever their score); bf16 within bf16's rounding, on the confident detections (score >= 0.5:
    # measured on the CPU, bf16 moves a 0.36 detection of the demo model by 0.07 and 10 px).
    if [ "$precision" = fp32 ]; then tol=(--score 1e-3 --box 0.5); else tol=(--score 0.05 --box 4 --min-score 0.5); fi
    "$py" compare_predictions.py "checks/reference/$name.json" "$got" "${tol[@]}" \
      --label "$name $device $precision vs cpu fp32" >>"$out" || { [ "$precision" = fp32 ] && status=1; }
    tail -n1 "$out"
  done
done

# 2b. The CUDA deformable-attention kernels (when build-shim.sh compiled them) against the
# grid_sample composition on this device, through the demo model (Salience DETR), fp32.
if [ "$device" != cpu ]; then
  got=$results/predict-demo-msda-kernel.json
  if DETR_MSDA_CUDA=1 ./detr predict --config checks/models/demo.json --weights checks/models/demo.safetensors \
    --device "$device" --threshold 0 --top-k 100 --quiet --output "$got" checks/images/*.png; then
    "$py" compare_predictions.py "$results/predict-demo-fp32.json" "$got" --score 1e-3 --box 0.5 \
      --label "demo $device cuda kernel vs grid_sample" >>"$out" || status=1
  else
    echo "{\"check\": \"parity\", \"label\": \"demo cuda kernel\", \"ok\": false}" >>"$out"
    status=1
  fi
  tail -n1 "$out"
fi

# 3. Latency, ours and the official code's, in one run on this GPU.
if [ "${SKIP_BENCH:-0}" != 1 ]; then
  for preset in conditional-detr-r50 salience-detr-r50; do
    for precision in fp32 bf16; do
      for kernel in 0 1; do
        # The CUDA kernel matters for Salience DETR only (Conditional DETR has no deformable attention).
        [ "$kernel" = 1 ] && [ "$preset" = conditional-detr-r50 ] && continue
        DETR_MSDA_CUDA=$kernel ./detr benchmark --config "$preset" --size 800x1333 --batch-size 1 \
          --iterations "$iterations" --warmup 5 --device "$device" --precision "$precision" --json >>"$out" || status=1
        tail -n1 "$out"
      done
    done
  done
  for which in conditional salience; do
    if "$py" anchors/bench_official.py --which "$which" --device "$device" --repeat "$iterations" --warmup 5 \
      >>"$out" 2>"$results/official-$which.err"; then
      tail -n1 "$out"
    else
      reason=$(grep -m1 -E "Error|error" "$results/official-$which.err" | head -c 300 | sed 's/"/\\"/g')
      echo "{\"check\": \"official\", \"which\": \"$which\", \"skipped\": \"$reason\"}" | tee -a "$out"
    fi
  done
fi

# 4. One data-parallel step on NCCL (Gloo on the CPU): one process per GPU (NCCL takes one GPU per
# rank), at least 2 on the CPU.
nproc=2
if [ "$device" != cpu ]; then nproc=$(nvidia-smi -L 2>/dev/null | grep -c GPU || echo 1); fi
[ "$nproc" -ge 1 ] || nproc=1
if [ "${SKIP_DDP:-0}" != 1 ]; then
  if ./detr train --help 2>/dev/null | grep -c -- "--nproc" >/dev/null; then
    rm -rf "$results/ddp"
    ./detr synth --output "$results/ddp/data" --images 8 --seed 1 >/dev/null
    if ./detr train --config checks/models/demo.json --train-images "$results/ddp/data/train" \
      --train-annotations "$results/ddp/data/annotations/train.json" --output "$results/ddp/run" --epochs 1 \
      --batch-size 1 --device "$device" --nproc "$nproc" --quiet; then
      echo "{\"check\": \"ddp\", \"device\": \"$device\", \"nproc\": $nproc, \"ok\": true}" | tee -a "$out"
    else
      echo "{\"check\": \"ddp\", \"device\": \"$device\", \"nproc\": $nproc, \"ok\": false}" | tee -a "$out"
      status=1
    fi
  else
    echo "{\"check\": \"ddp\", \"skipped\": \"this detr has no --nproc\"}" | tee -a "$out"
  fi
fi
note "results in $out"
exit $status
