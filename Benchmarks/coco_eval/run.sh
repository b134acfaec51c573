#!/usr/bin/env bash
# COCO bbox evaluation benchmark: `detr evaluate` (release build) against pycocotools on a
# synthetic val2017-sized input (5,000 images, 36,000 boxes, 500,000 detections, 80
# categories), both timed in the same run, numbers compared to 1e-6.
#
#   Benchmarks/coco_eval/run.sh [WORKDIR]
#
# WORKDIR (default: a fresh temporary directory) holds the generated data and a throwaway
# virtualenv with pycocotools; data already there is reused. Needs python3 with venv and
# network access to PyPI for the first run.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH="/opt/swift/usr/bin:$PATH"
WORK=${1:-$(mktemp -d)}
RUNS=${RUNS:-3}
mkdir -p "$WORK"

if [[ ! -f "$WORK/data/detections.json" ]]; then
    python3 Benchmarks/coco_eval/generate.py --out "$WORK/data"
fi
if [[ ! -x "$WORK/venv/bin/python" ]]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install --quiet pycocotools numpy
fi
swift build -c release --product detr --scratch-path .build-coco-release 2>&1 | tail -1
DETR=.build-coco-release/release/detr
GT="$WORK/data/gt.json"
DETS="$WORK/data/detections.json"

now() { date +%s.%N; }
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load average before: $(cut -d" " -f1-3 /proc/loadavg) (other processes share these cores)"
echo "input: $(du -h "$GT" | cut -f1) annotations, $(du -h "$DETS" | cut -f1) results"

ours=()
for run in $(seq "$RUNS"); do
    start=$(now)
    "$DETR" evaluate --annotations "$GT" --results "$DETS" --json --per-category --timing \
        > "$WORK/ours.json" 2> "$WORK/ours.timing.$run"
    ours+=("$(echo "$(now) - $start" | bc)")
done
best=$(printf '%s\n' "${ours[@]}" | sort -n | head -1)
echo "swift-detr detr evaluate (release), whole process incl. start-up and JSON parsing: runs ${ours[*]} s, best $best s"
for run in $(seq "$RUNS"); do echo "  run $run: $(grep '^timing:' "$WORK/ours.timing.$run")"; done

start=$(now)
"$WORK/venv/bin/python" Benchmarks/coco_eval/pycocotools_eval.py "$GT" "$DETS" > "$WORK/pycocotools.json"
py=$(echo "$(now) - $start" | bc)
echo "pycocotools $("$WORK/venv/bin/pip" show pycocotools | sed -n 's/^Version: //p') (numpy $("$WORK/venv/bin/python" -c 'import numpy; print(numpy.__version__)')), whole process incl. imports: $py s"
"$WORK/venv/bin/python" - "$WORK/pycocotools.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["seconds"]
print("  load %.2f s, evaluate %.2f s, accumulate %.2f s, summarize %.3f s" % (
    s["load"], s["evaluate"], s["accumulate"], s["summarize"]))
PY
echo "speed-up, whole process (pycocotools / swift-detr best): $(echo "scale=1; $py / $best" | bc)x"
"$WORK/venv/bin/python" Benchmarks/coco_eval/compare.py "$WORK/ours.json" "$WORK/pycocotools.json"
echo "load average after: $(cut -d" " -f1-3 /proc/loadavg)"
