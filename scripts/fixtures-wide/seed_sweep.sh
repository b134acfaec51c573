#!/usr/bin/env bash
# Issue 32: on which batches does the tie order of the official level-merge sort (torch.sort, stable=False) or of the
# per-level top-k matter numerically?  For each seed, the "wide" spec with that seed (name wide-s<seed>, written to
# WORK/spec-<seed>.json) -> QUICK=1 TIE_CHECK=1 make.sh WORK/<seed>; prints one row per seed and stops at the first
# seed where the stable merge sort moves memory_pre_neck of some image by more than THRESH relative to its max.
#
#   scripts/fixtures-wide/seed_sweep.sh [SEED ...]     (default 32033..32045; WORK default /tmp/wide-seeds,
#                                                       THRESH default 1e-4; ~20 s a seed on 2 cores)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-$HOME/anchor-venv/bin/python}
WORK=${WORK:-/tmp/wide-seeds}
THRESH=${THRESH:-1e-4}
[ $# -gt 0 ] && seeds=("$@") || seeds=($(seq 32033 32045))
mkdir -p "$WORK"
for seed in "${seeds[@]}"; do
    spec=$WORK/spec-$seed.json
    "$PY" - "$here/spec.json" "$spec" "$seed" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["name"], s["seed"] = f"wide-s{sys.argv[3]}", int(sys.argv[3])
json.dump(s, open(sys.argv[2], "w"), indent=1)
PYEOF
    QUICK=1 TIE_CHECK=1 SPEC=$spec "$here/make.sh" "$WORK/$seed" > "$WORK/$seed.log" 2>&1 \
        || { echo "seed $seed failed, see $WORK/$seed.log" >&2; exit 1; }
    if ! "$PY" - "$WORK/$seed/salience_detr/tiny_eval_encoder.json" "$seed" "$THRESH" <<'PYEOF'
import json, sys
t = json.load(open(sys.argv[1]))["tie_check_vs_recorded_run"]
def cols(c):
    im = c["images"]
    return ("pre_neck rel " + "/".join(f"{r['memory_pre_neck_rel']:.1e}" for r in im)
            + " (valid " + "/".join(f"{r['memory_pre_neck_valid_rel']:.1e}" for r in im) + ")"
            + " memory " + "/".join(f"{r['memory']:.1e}" for r in im)
            + " score " + "/".join(f"{r['scores']:.1e}" for r in im)
            + " box_px " + "/".join(f"{r['boxes_px']:.1e}" for r in im)
            + f" fg_eq {int(c['foreground_inds_equal'])} only_pad {int(c['foreground_inds_diff_only_padded'])}")
for name in ("merge_sort_stable", "level_topk_stable"):
    print(f"seed {sys.argv[2]} {name:18s} {cols(t[name])}")
hit = max(r["memory_pre_neck_rel"] for r in t["merge_sort_stable"]["images"]) > float(sys.argv[3])
sys.exit(1 if hit else 0)
PYEOF
    then echo "seed $seed: stable merge sort moves memory_pre_neck by > $THRESH (relative); stopping"; break; fi
done
