#!/usr/bin/env python3
"""Compares `detr evaluate --json --per-category` output with pycocotools_eval.py output."""
import json
import sys

KEYS = ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"]


def main():
    ours = json.load(open(sys.argv[1]))
    ref = json.load(open(sys.argv[2]))
    stats = [ours[k] for k in KEYS]
    worst = max(abs(a - b) for a, b in zip(stats, ref["stats"]))
    theirs = {c["id"]: c for c in ref["per_category"]}
    worst_cat = 0.0
    for c in ours["per_category"]:
        r = theirs[c["id"]]
        worst_cat = max([worst_cat] + [abs(c[k] - r[k]) for k in ("AP", "AP50", "AP75", "AR")])
    print("stats (ours | pycocotools):")
    for key, a, b in zip(KEYS, stats, ref["stats"]):
        print("  %-6s %.15f | %.15f" % (key, a, b))
    print("max |diff|: 12 stats %.3g, per-category AP/AP50/AP75/AR over %d categories %.3g"
          % (worst, len(ours["per_category"]), worst_cat))
    if worst > 1e-6 or worst_cat > 1e-6:
        print("MISMATCH")
        sys.exit(1)


if __name__ == "__main__":
    main()
