#!/usr/bin/env bash
# Data-parallel training figures: images per second and the gradient all-reduce's time per step of
# both R50 presets (their architecture at full size; small images: the configs below change only
# min_size/max_size), with the same global batch of 2 images per step, launched three ways:
#   one    1 process, 2 threads, --batch-size 2
#   nproc  2 processes on this host (--nproc 2), 1 thread each, --batch-size 1
#   hosts  2 "hosts" × 1 process: two network namespaces joined by a veth pair (Gloo on the veth;
#          needs root and iproute2; skipped otherwise), 1 thread each, --batch-size 1
# Each run trains STEPS steps (default 12) with --verbose; the first WARM (default 2) are left out
# and the medians of the rest are printed: step milliseconds, images per second, all-reduce
# milliseconds. Usage: Benchmarks/training/distributed.sh [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
export PKG_CONFIG_PATH="${PKG_CONFIG_PATH:+$PKG_CONFIG_PATH:}$PWD/.libtorch/lib/pkgconfig"
work=${1:-/tmp/swift-detr-distributed}
steps=${STEPS:-12}
warm=${WARM:-2}
size=${SIZE:-160}
swift build -c release --product detr >/dev/null
detr=$PWD/.build/release/detr
mkdir -p "$work"
# About `steps` steps of 2 images (synth keeps a fifth of the images for validation).
[ -d "$work/shapes" ] || $detr synth --output "$work/shapes" --images $((steps * 5 / 2 + 4)) --seed 3 \
  --size "$size-$size" >/dev/null
for arch in salience_detr conditional_detr; do
  printf '{"architecture": "%s", "min_size": %d, "max_size": %d}\n' "$arch" "$size" "$size" > "$work/$arch.json"
done

ns=(detr-bench-a detr-bench-b)
addr=(10.204.0.1 10.204.0.2)
dev=(detr-bveth-a detr-bveth-b)
hosts_down() { for n in "${ns[@]}"; do ip netns del "$n" 2>/dev/null || true; done; }
hosts_up() {
  hosts_down
  for n in "${ns[@]}"; do ip netns add "$n"; done
  ip link add "${dev[0]}" type veth peer name "${dev[1]}"
  for i in 0 1; do
    ip link set "${dev[$i]}" netns "${ns[$i]}"
    ip -n "${ns[$i]}" addr add "${addr[$i]}/24" dev "${dev[$i]}"
    ip -n "${ns[$i]}" link set "${dev[$i]}" up
    ip -n "${ns[$i]}" link set lo up
  done
}
can_make_hosts=0
if [ "$(id -u)" = 0 ] && command -v ip >/dev/null && hosts_up 2>/dev/null; then can_make_hosts=1; fi
trap hosts_down EXIT

# The medians of the timed steps of a --verbose log (rank 0's lines): step ms, images/s, all-reduce ms.
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
summarise() {
  local timed
  timed=$(grep -E '^epoch [0-9]+ step [0-9]+ ' "$1" | tail -n +$((warm + 1)) | grep -o '([0-9.]* ms, .*)$' | tr -d '(),')
  local step images reduce
  step=$(echo "$timed" | awk '{ print $1 }' | median)
  images=$(echo "$timed" | awk '{ print $3 }' | median)
  reduce=$(echo "$timed" | awk '$6 != "" { print $6 }' | median)
  awk -v s="$step" -v n="$images" -v a="$reduce" \
    'BEGIN { printf "%8.1f ms/step  %6.2f images/s  all-reduce %s ms\n", s, n * 1000 / s, a }'
}

common() {
  echo train --config "$work/$1.json" --train-images "$work/shapes/train" \
    --train-annotations "$work/shapes/annotations/train.json" --epochs 1 --workers 1 --verbose \
    --dist-timeout 600
}

echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores;" \
  "flags: $(grep -m1 -o -w -E 'avx512f|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')"
for arch in salience_detr conditional_detr; do
  out="$work/runs/$arch"
  rm -rf "$out"
  mkdir -p "$out"
  # shellcheck disable=SC2046
  $detr $(common "$arch") --output "$out/one" --batch-size 2 --threads 2 2> "$out/one.log"
  # shellcheck disable=SC2046
  $detr $(common "$arch") --output "$out/nproc" --batch-size 1 --nproc 2 --threads 1 2> "$out/nproc.log"
  if [ $can_make_hosts = 1 ]; then
    pids=()
    for r in 0 1; do
      # shellcheck disable=SC2046
      ip netns exec "${ns[$r]}" env RANK=$r LOCAL_RANK=0 WORLD_SIZE=2 MASTER_ADDR="${addr[0]}" MASTER_PORT=29650 \
        GLOO_SOCKET_IFNAME="${dev[$r]}" $detr $(common "$arch") --output "$out/hosts" --batch-size 1 --threads 1 \
        2> "$out/hosts.$r.log" &
      pids+=($!)
    done
    wait "${pids[@]}"
  fi
  echo "== $arch ($(grep -o '[0-9.]* MB of gradients all-reduced per step' "$out/nproc.log"))"
  printf '%-6s ' one; summarise "$out/one.log"
  printf '%-6s ' nproc; summarise "$out/nproc.log"
  if [ $can_make_hosts = 1 ]; then printf '%-6s ' hosts; summarise "$out/hosts.0.log"; fi
done
