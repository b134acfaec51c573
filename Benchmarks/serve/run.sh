#!/usr/bin/env bash
# Load test of `detr serve` (release build) on loopback: for each model, 16 clients (CLIENTS) for
# 60 s (SECONDS_EACH) with micro-batching (--max-batch 4 --max-wait-ms 10) and without it
# (--max-batch 1). Results are appended as JSON lines to Benchmarks/serve/results-<date>.jsonl.
# MODELS: demo (the bundled demo model on a demo sample) and/or r50 (Salience DETR R50, random
# weights, an 800x1333 input).
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-16}
SECONDS_EACH=${SECONDS_EACH:-60}
MODELS=${MODELS:-"demo r50"}
PORT=${PORT:-18080}
OUT=${OUT:-Benchmarks/serve/results-$(date +%Y%m%d-%H%M%S).jsonl}
DETR=${DETR:-.build/release/detr}
[ -x "$DETR" ] || { echo "build first: swift build -c release --product detr" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$TMP"' EXIT
python3 Benchmarks/serve/make_image.py 1333 800 "$TMP/r50.png"

for model in $MODELS; do
  case $model in
    demo) args=(--config demo/shapes-salience.json --weights demo/shapes-salience.safetensors); image=demo/samples/shapes-1.png ;;
    r50) args=(--config salience-detr-r50 --random-weights); image=$TMP/r50.png ;;
    *) echo "unknown model $model" >&2; exit 1 ;;
  esac
  for mode in batched single; do
    if [ $mode = batched ]; then batching=(--max-batch 4 --max-wait-ms 10); else batching=(--max-batch 1 --max-wait-ms 0); fi
    "$DETR" serve "${args[@]}" "${batching[@]}" --port "$PORT" --queue 64 2> "$TMP/server.log" &
    SERVER=$!
    for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
    python3 Benchmarks/serve/loadtest.py --url "http://127.0.0.1:$PORT" --image "$image" --clients "$CLIENTS" \
      --seconds "$SECONDS_EACH" --pid "$SERVER" --label "$model $mode" --json "$OUT"
    kill -TERM "$SERVER"
    wait "$SERVER" || { echo "server exited with $?" >&2; cat "$TMP/server.log" >&2; }
  done
done
echo "results in $OUT"
