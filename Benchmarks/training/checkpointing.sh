#!/usr/bin/env bash
# Activation checkpointing of the -L presets: one training step of the official recipe
# (`detr benchmark --train`: training-mode forward, matching and losses against 5 objects per
# image, backward, clipping, AdamW; the early backbone stages frozen as officially) at 800x1333,
# with `--checkpoint-activations none` and `all`, batch 1 and 2; step time and peak resident
# memory of the process. A run whose memory passes LIMIT_GB (default 21: this machine has 24)
# is stopped and reported as such.
# Usage: Benchmarks/training/checkpointing.sh [PRESET ...]   (BATCHES, SIZE, ITERATIONS, WARMUP
# override; with WARMUP=0 the timed step includes one-time costs and no optimizer state exists
# before it, so its memory is lower)
set -euo pipefail
cd "$(dirname "$0")/../.."
export PKG_CONFIG_PATH="${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$PWD/.libtorch/lib/pkgconfig"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(salience-detr-swin-l salience-detr-convnext-l salience-detr-focalnet-l)
batches=${BATCHES:-1 2}
size=${SIZE:-800x1333}
iterations=${ITERATIONS:-1}
limit_kib=$(( ${LIMIT_GB:-21} * 1024 * 1024 ))
swift build -c release --product detr >/dev/null
detr=.build/release/detr
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, $size, $iterations step(s) after ${WARMUP:-0} warm-up step(s)"
printf '%-26s %5s %-8s %10s %12s\n' preset batch parts "step s" "peak GiB"
for preset in "${presets[@]}"; do
  for batch in $batches; do
    for parts in none all; do
      $detr benchmark --config "$preset" --train --size "$size" --batch-size "$batch" --iterations "$iterations" \
        --warmup "${WARMUP:-0}" --checkpoint-activations "$parts" --json > "$out" 2>/dev/null &
      pid=$!
      killed=0
      while kill -0 $pid 2>/dev/null; do
        rss=$(awk '/^VmRSS/ { print $2 }' /proc/$pid/status 2>/dev/null || echo 0)
        if [ "${rss:-0}" -gt "$limit_kib" ]; then kill -9 $pid; killed=1; fi
        sleep 0.5
      done
      wait $pid 2>/dev/null || true
      if [ $killed = 1 ]; then
        printf '%-26s %5s %-8s %10s %12s\n' "$preset" "$batch" "$parts" - "> ${LIMIT_GB:-21} (stopped)"
      else
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%-26s %5s %-8s %10.1f %12.2f" % (sys.argv[2], sys.argv[3], sys.argv[4], r["mean_ms"]/1000, r["peak_rss_mib"]/1024))' \
          "$out" "$preset" "$batch" "$parts" || printf '%-26s %5s %-8s failed\n' "$preset" "$batch" "$parts"
      fi
    done
  done
done
