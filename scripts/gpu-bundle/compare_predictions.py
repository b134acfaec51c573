#!/usr/bin/env python3
"""Compares two `detr predict --output` files (a run on another device or torch against the CPU
reference made where the bundle was built), image by image: each of the reference's TOP best
detections must have a detection of the same label in the other file whose score is within
--score and whose box corners are within --box pixels. Near-equal scores may swap places between
devices, so detections are matched as sets, not by position. Prints one JSON line; exit 1 on a
mismatch."""
import argparse, json, sys

p = argparse.ArgumentParser()
p.add_argument("reference")
p.add_argument("candidate")
p.add_argument("--top", type=int, default=10)
p.add_argument("--score", type=float, default=1e-3)
p.add_argument("--box", type=float, default=0.5)
p.add_argument("--min-score", type=float, default=0.0,
               help="check only reference detections scoring at least this (reduced precision moves the weak ones)")
p.add_argument("--label", default="")
a = p.parse_args()


def load(path):
    with open(path) as f:
        return {entry["file"].rsplit("/", 1)[-1]: entry["detections"] for entry in json.load(f)["images"]}


ref, got = load(a.reference), load(a.candidate)
problems, worst_score, worst_box, checked = [], 0.0, 0.0, 0
if set(ref) != set(got):
    problems.append(f"images differ: {sorted(set(ref) ^ set(got))}")
for name, detections in ref.items():
    others = got.get(name, [])
    strong = [d for d in detections if d["score"] >= a.min_score]
    for d in sorted(strong, key=lambda d: -d["score"])[: a.top]:
        best = None
        for o in others:
            if o["label"] != d["label"]:
                continue
            box = max(abs(x - y) for x, y in zip(o["box"], d["box"]))
            score = abs(o["score"] - d["score"])
            if best is None or (box, score) < best:
                best = (box, score)
        checked += 1
        if best is None:
            problems.append(f"{name}: no detection of label {d['label']} (score {d['score']:.4f})")
            continue
        worst_box, worst_score = max(worst_box, best[0]), max(worst_score, best[1])
        if best[0] > a.box or best[1] > a.score:
            problems.append(f"{name}: label {d['label']} score {d['score']:.4f}: nearest off by box {best[0]:.4g} px, score {best[1]:.4g}")
print(json.dumps({"check": "parity", "label": a.label, "detections_checked": checked, "max_box_px": worst_box,
                  "max_score": worst_score, "tolerance": {"box_px": a.box, "score": a.score},
                  "min_score": a.min_score, "ok": not problems,
                  "problems": problems[:10]}))
sys.exit(1 if problems else 0)
