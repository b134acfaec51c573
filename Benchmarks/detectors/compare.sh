#!/usr/bin/env bash
# Side by side on this machine, in one run: the official PyTorch implementations (from
# ../shared/anchors, run by its bench_official.py and by bench_official_train.py here) and
# `detr benchmark`, alternately, same model, input size, batch and threads, random weights.
# Prints one JSON line per measurement and a table of ratios (official time / ours).
#
# Usage: Benchmarks/detectors/compare.sh   (needs the anchors venv of ../shared/anchors/README.md, plus
#        `pip install accelerate terminaltables` there for the Salience DETR training harness)
# Environment: VENV (default ~/anchor-venv), ANCHORS (default ../shared/anchors), SIZE (800x1333),
#              THREADS (2), REPEAT (3), BATCHES ("1 4"), TRAIN (1: also time training steps),
#              MODELS ("conditional salience"; also swin-l, convnext-l, focalnet-l: Salience DETR with
#              that official backbone config, inference only).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
venv=${VENV:-$HOME/anchor-venv}
anchors=${ANCHORS:-$root/../shared/anchors}
size=${SIZE:-800x1333}; h=${size%x*}; w=${size#*x}
threads=${THREADS:-2}
repeat=${REPEAT:-3}
batches=${BATCHES:-1 4}
models=${MODELS:-conditional salience}
out=Benchmarks/detectors/compare-$(date +%Y%m%d-%H%M).jsonl

make -s release >/dev/null
detr=.build/release/detr
py=$venv/bin/python
[ -x "$py" ] || { echo "compare.sh: no venv at $venv (see ../shared/anchors/README.md)" >&2; exit 1; }

: > "$out"
echo "{\"machine\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"avx512\": $(grep -qw avx512f /proc/cpuinfo && echo true || echo false), \"amx\": $(grep -qw amx_tile /proc/cpuinfo && echo true || echo false)}" | tee -a "$out"

# Peak resident MiB of a whole command (GNU time's %M, KiB), appended to its JSON line.
with_rss() {
  local tmp; tmp=$(mktemp)
  /usr/bin/time -f '%M' -o "$tmp" "$@" | tail -n1 | python3 -c '
import json, sys
line = json.loads(sys.stdin.read()); line["process_peak_rss_mib"] = int(open(sys.argv[1]).read().split()[-1]) / 1024
print(json.dumps(line, sort_keys=True))' "$tmp"
  rm -f "$tmp"
}

for m in $models; do
  case $m in
    salience) preset=salience-detr-r50; official=("$anchors/bench_official.py" --which salience) ;;
    conditional) preset=conditional-detr-r50; official=("$anchors/bench_official.py" --which conditional) ;;
    swin-l|convnext-l|focalnet-l)
      preset=salience-detr-$m; official=(Benchmarks/detectors/bench_official_backbones.py --backbone "$m") ;;
    *) echo "compare.sh: unknown model $m" >&2; exit 1 ;;
  esac
  which=$([ "${preset#salience-detr-}" = "$m" ] && echo "salience-$m" || echo "$m")
  for b in $batches; do
    ANCHORS=$anchors with_rss "$py" "${official[@]}" --height "$h" --width "$w" --batch-size "$b" \
      --repeat "$repeat" --warmup 1 --threads "$threads" | sed "s/^{/{\"impl\": \"official\", \"mode\": \"inference\", /" | tee -a "$out"
    with_rss "$detr" benchmark --config "$preset" --size "$size" --batch-size "$b" --iterations "$repeat" \
      --warmup 1 --threads "$threads" --json | sed "s/^{/{\"impl\": \"swift-detr\", \"which\": \"$which\", /" | tee -a "$out"
  done
  if [ "${TRAIN:-1}" = 1 ] && { [ "$m" = salience ] || [ "$m" = conditional ]; }; then
    with_rss "$py" Benchmarks/detectors/bench_official_train.py --which "$m" --height "$h" --width "$w" \
      --repeat "$repeat" --warmup 1 --threads "$threads" | sed 's/^{/{"impl": "official", /' | tee -a "$out"
    with_rss "$detr" benchmark --config "$preset" --size "$size" --train --iterations "$repeat" --warmup 1 \
      --threads "$threads" --json | sed "s/^{/{\"impl\": \"swift-detr\", \"which\": \"$m\", /" | tee -a "$out"
  fi
done

python3 - "$out" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
machine = rows[0]
res = {}
for r in rows[1:]:
    secs = r["median_s"] if r["impl"] == "official" else r["p50_ms"] / 1000
    res[(r["which"], r.get("mode", "inference"), r["batch_size"], r["impl"])] = (secs, r["process_peak_rss_mib"])
print(f"\n{machine['machine']}, {machine['cores']} cores, AVX-512 {machine['avx512']}, AMX {machine['amx']}")
print("| model | mode | batch | official s | swift-detr s | speed-up | official images/s | ours images/s | peak RSS official / ours MiB |")
print("|---|---|---|---|---|---|---|---|---|")
for (which, mode, b, impl), (s, rss) in sorted(res.items()):
    if impl != "official" or (which, mode, b, "swift-detr") not in res: continue
    ours, ours_rss = res[(which, mode, b, "swift-detr")]
    print(f"| {which} | {mode} | {b} | {s:.2f} | {ours:.2f} | {s / ours:.2f}x | {b / s:.2f} | {b / ours:.2f} | {rss:.0f} / {ours_rss:.0f} |")
EOF
echo "raw: $out"
