#!/usr/bin/env bash
# Soak test of `detr serve` on loopback: starts the server with the demo model and micro-batching
# (--max-batch 4 --max-wait-ms 10), waits for /readyz, runs soak.py (CLIENTS clients for SECONDS_EACH
# seconds over a seeded mix of normal, huge, narrow, malformed, stalled and aborted requests), stops
# the server with SIGTERM and reports its exit status. The result is appended as one JSON line to
# Benchmarks/serve/soak-<date>.jsonl (OUT overrides).
#
# Environment: DETR (default .build/release/detr), CLIENTS (16), SECONDS_EACH (60), SEED (1),
# PORT (18081), LABEL, OUT, SERVER_ARGS (extra `detr serve` flags, split on spaces), API_KEY
# (default $DETR_API_KEY: the server requires it and soak.py sends it), STOP_TIMEOUT (seconds to
# wait after SIGTERM before SIGKILL, 60).
set -euo pipefail
cd "$(dirname "$0")/../.."
CLIENTS=${CLIENTS:-16}
SECONDS_EACH=${SECONDS_EACH:-60}
SEED=${SEED:-1}
PORT=${PORT:-18081}
OUT=${OUT:-Benchmarks/serve/soak-$(date +%Y%m%d-%H%M%S).jsonl}
DETR=${DETR:-.build/release/detr}
SERVER_ARGS=${SERVER_ARGS:-}
API_KEY=${API_KEY:-${DETR_API_KEY:-}}
STOP_TIMEOUT=${STOP_TIMEOUT:-60}
LABEL=${LABEL:-"demo batched soak${SERVER_ARGS:+ ($SERVER_ARGS)}"}
[ -x "$DETR" ] || { echo "build first: swift build -c release --product detr (or set DETR)" >&2; exit 1; }
read -r -a extra <<< "$SERVER_ARGS"
TMP=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$TMP"' EXIT

DETR_API_KEY="$API_KEY" "$DETR" serve --config demo/shapes-salience.json --weights demo/shapes-salience.safetensors \
  --max-batch 4 --max-wait-ms 10 --port "$PORT" ${extra[@]+"${extra[@]}"} 2> "$TMP/server.log" &
SERVER=$!
auth=()
[ -n "$API_KEY" ] && auth=(-H "Authorization: Bearer $API_KEY")
ready=
for _ in $(seq 600); do
  kill -0 "$SERVER" 2>/dev/null || break
  curl -sf -m 5 ${auth[@]+"${auth[@]}"} "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && { ready=1; break; }
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "the server did not become ready" >&2; cat "$TMP/server.log" >&2; exit 1
fi

key_args=()
[ -n "$API_KEY" ] && key_args=(--api-key "$API_KEY")
soak_status=0
python3 Benchmarks/serve/soak.py --url "http://127.0.0.1:$PORT" --image demo/samples/shapes-1.png \
  --clients "$CLIENTS" --seconds "$SECONDS_EACH" --seed "$SEED" --pid "$SERVER" --label "$LABEL" --json "$OUT" \
  ${key_args[@]+"${key_args[@]}"} || soak_status=$?

stop_start=$(date +%s)
kill -TERM "$SERVER" 2>/dev/null || true
for _ in $(seq $((STOP_TIMEOUT * 2))); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.5; done
if kill -0 "$SERVER" 2>/dev/null; then
  echo "server still running ${STOP_TIMEOUT} s after SIGTERM: sending SIGKILL" >&2
  kill -KILL "$SERVER" 2>/dev/null || true
fi
server_status=0
wait "$SERVER" || server_status=$?
SERVER=
echo "server exit status after SIGTERM: $server_status (stopped in $(( $(date +%s) - stop_start )) s)"
if [ "$server_status" -ne 0 ]; then
  echo "server log (last 40 lines):" >&2; tail -n 40 "$TMP/server.log" >&2
fi
[ "$soak_status" -eq 0 ] || echo "soak.py exited with $soak_status (3: the server did not answer /healthz 200)" >&2
echo "results in $OUT"
[ "$soak_status" -eq 0 ] && [ "$server_status" -eq 0 ]
