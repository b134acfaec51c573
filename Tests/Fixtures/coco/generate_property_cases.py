#!/usr/bin/env python3
"""Random COCO bbox-evaluation cases and pycocotools' answers, for COCOTests.

Writes property_cases.json next to this script: every case holds the annotation and
results files as JSON text (exactly what both implementations parse), the COCOeval
parameters, and pycocotools' outputs: the 12 summarize() stats, eval['recall'],
two digests of eval['precision'] over the recall axis (mean and a position-weighted
mean) and, for small settings, the whole precision array.

The cases aim at pycocotools' corner cases: crowd regions, score ties, equal IoUs,
boxes whose IoU lies exactly on a threshold (integer grids), areas exactly on the
32^2 / 96^2 range bounds, tiny and zero-size boxes, images without ground truth or
without detections, categories without detections or without ground truth, more
detections than maxDets, annotation id 0 (pycocotools treats a match to it as no
match), useCats=0, custom and unsorted maxDets, custom IoU thresholds (including 0
and 1), image and category subsets.

Regenerate (pycocotools 2.0.11, numpy 2.x):
    python3 -m venv /tmp/venv-coco && /tmp/venv-coco/bin/pip install pycocotools numpy
    /tmp/venv-coco/bin/python Tests/Fixtures/coco/generate_property_cases.py
"""
import contextlib
import importlib.metadata
import io
import json
import os
import random

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

SEED = 20240601
NUM_CASES = 240
FULL_PRECISION_LIMIT = 2500  # store the whole precision array when it has at most this many values


def compact(value):
    """10 significant digits (far below the 1e-6 tolerance); integral values as ints."""
    value = float("%.10g" % float(value))
    return int(value) if value.is_integer() else value


def rounded(values):
    return [compact(v) for v in np.asarray(values).ravel()]


def random_box(rng, grid, scale):
    if grid:
        x, y = rng.randint(0, 30), rng.randint(0, 30)
        w, h = rng.randint(1, 20), rng.randint(1, 20)
        return [x * scale, y * scale, w * scale, h * scale]
    x, y = rng.uniform(0, 300), rng.uniform(0, 300)
    w = rng.choice([rng.uniform(0.2, 3), rng.uniform(3, 40), rng.uniform(40, 200)])
    h = w * rng.uniform(0.3, 3)
    return [round(x, rng.choice([1, 2, 6])), round(y, 2), round(w, 2), round(h, 3)]


def jitter(rng, box, grid):
    x, y, w, h = box
    kind = rng.random()
    if kind < 0.2:
        return list(box)  # exact copy: IoU 1
    if grid and kind < 0.6:  # integer shifts: IoUs land on simple fractions such as 1/2
        return [x + rng.randint(-3, 3), y + rng.randint(-3, 3), max(1, w + rng.randint(-3, 3)), max(1, h + rng.randint(-3, 3))]
    s = rng.uniform(0.02, 0.4)
    return [round(x + rng.gauss(0, s * w), 2), round(y + rng.gauss(0, s * h), 2),
            round(max(0.1, w * (1 + rng.gauss(0, s))), 2), round(max(0.1, h * (1 + rng.gauss(0, s))), 2)]


def make_case(rng, index):
    grid = rng.random() < 0.5
    scale = rng.choice([1, 1, 2, 4, 8])
    n_images = rng.randint(1, 8)
    image_ids = sorted(rng.sample(range(1, 200), n_images))
    n_cats = rng.randint(1, 4)
    cat_ids = sorted(rng.sample(range(1, 100), n_cats))
    rng.shuffle(cat_ids)  # file order need not be sorted
    zero_id = rng.random() < 0.12
    next_id = 0 if zero_id else rng.choice([1, 1, 100])
    anns = []
    for iid in image_ids:
        if rng.random() < 0.2:
            continue  # image without ground truth
        for _ in range(rng.randint(0, 6)):
            box = random_box(rng, grid, scale)
            r = rng.random()
            if r < 0.1:
                area = rng.choice([1024, 9216, 1024.0, 9216.0, 0])  # exactly on a range bound
            elif r < 0.5:
                area = box[2] * box[3]
            else:
                area = round(box[2] * box[3] * rng.uniform(0.4, 1.0), 2)
            anns.append({"id": next_id, "image_id": iid, "category_id": rng.choice(cat_ids), "bbox": box,
                         "area": area, "iscrowd": 1 if rng.random() < 0.12 else 0})
            next_id += rng.choice([1, 1, 1, 7])
    if anns and rng.random() < 0.1:
        anns[-1]["bbox"][2] = 0  # zero-width ground truth
    rng.shuffle(anns)
    gt = {"images": [{"id": i, "width": 640, "height": 480} for i in image_ids],
          "annotations": anns, "categories": [{"id": c, "name": "c%d" % c} for c in cat_ids]}

    score_pool = [round(rng.random(), 1) for _ in range(4)] if rng.random() < 0.5 else None
    dead_cat = rng.choice(cat_ids) if rng.random() < 0.3 else None  # category without detections
    dets = []
    for iid in image_ids:
        if rng.random() < 0.15:
            continue  # image without detections
        mine = [a for a in anns if a["image_id"] == iid]
        for a in mine:
            for _ in range(rng.choice([0, 1, 1, 2, 3])):
                cat = a["category_id"] if rng.random() < 0.8 else rng.choice(cat_ids)
                dets.append({"image_id": iid, "category_id": cat, "bbox": jitter(rng, a["bbox"], grid)})
        for _ in range(rng.choice([0, 1, 3, 8, 25])):
            dets.append({"image_id": iid, "category_id": rng.choice(cat_ids), "bbox": random_box(rng, grid, scale)})
    dets = [d for d in dets if d["category_id"] != dead_cat]
    if not dets:  # pycocotools' loadRes needs at least one result
        dets.append({"image_id": image_ids[0], "category_id": cat_ids[0], "bbox": random_box(rng, grid, scale)})
    for d in dets:
        d["score"] = rng.choice(score_pool) if score_pool else round(rng.random(), rng.choice([2, 3, 8]))
        if rng.random() < 0.03:
            d["bbox"][3] = 0  # zero-height detection
    rng.shuffle(dets)

    params = {"useCats": 0 if rng.random() < 0.25 else 1}
    r = rng.random()
    if r < 0.35:
        params["maxDets"] = rng.choice([[1, 3, 5], [10, 1, 100], [2, 4, 8, 16], [1, 5, 20], [3, 3, 6], [1, 2, 3]])
    r = rng.random()
    if r < 0.15:
        params["iouThrs"] = rng.choice([[0.5, 0.75], [0.5], [0.0, 0.5, 1.0], [0.3, 0.5, 0.7, 0.9], [0.75, 0.5]])
    elif r < 0.25:
        params["iouThrs"] = sorted(round(rng.uniform(0.05, 0.95), 3) for _ in range(rng.randint(1, 5)))
    if rng.random() < 0.2:
        subset = rng.sample(image_ids, rng.randint(1, n_images))
        if rng.random() < 0.3:
            subset.append(999)  # an id that is not in the dataset
        params["imgIds"] = subset
    if rng.random() < (0.6 if params["useCats"] == 0 else 0.1):
        # with useCats=0 pycocotools keeps this order: it orders each image's entries
        params["catIds"] = rng.sample(cat_ids, rng.randint(max(1, n_cats - 1), n_cats))
    return gt, dets, params


def run_pycocotools(gt_text, dets_text, params):
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = json.loads(gt_text)
        coco.createIndex()
        dt = coco.loadRes(json.loads(dets_text))
        ev = COCOeval(coco, dt, "bbox")
        if "useCats" in params:
            ev.params.useCats = params["useCats"]
        if "maxDets" in params:
            ev.params.maxDets = list(params["maxDets"])
        if "iouThrs" in params:
            ev.params.iouThrs = np.array(params["iouThrs"], dtype=np.float64)
        if "imgIds" in params:
            ev.params.imgIds = list(params["imgIds"])
        if "catIds" in params:
            ev.params.catIds = list(params["catIds"])
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    precision, recall = ev.eval["precision"], ev.eval["recall"]
    R = precision.shape[1]
    weights = np.arange(1, R + 1, dtype=np.float64).reshape(1, R, 1, 1, 1)
    out = {
        "stats": rounded(ev.stats),
        "shape": list(precision.shape),
        "recall": rounded(recall),
        "precision_mean_r": rounded(precision.mean(axis=1)),
        "precision_weighted_r": rounded((precision * weights).sum(axis=1) / weights.sum()),
    }
    if precision.size <= FULL_PRECISION_LIMIT:
        out["precision"] = rounded(precision)
    return out


def main():
    rng = random.Random(SEED)
    cases = []
    for index in range(NUM_CASES):
        gt, dets, params = make_case(rng, index)
        gt_text = json.dumps(gt, separators=(",", ":"))
        dets_text = json.dumps(dets, separators=(",", ":"))
        cases.append({"name": "case%03d" % index, "params": params, "gt": gt_text, "dets": dets_text,
                      "expected": run_pycocotools(gt_text, dets_text, params)})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "property_cases.json")
    doc = {"generator": "Tests/Fixtures/coco/generate_property_cases.py", "seed": SEED,
           "pycocotools": importlib.metadata.version("pycocotools"), "numpy": np.__version__,
           "cases": cases}
    with open(path, "w") as f:  # one case per line, so that diffs stay readable
        head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, separators=(",", ":"))
        f.write(head[:-1] + ',"cases":[\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    full = sum("precision" in c["expected"] for c in cases)
    print("wrote %d cases (%d with full precision arrays), %.2f MB" % (len(cases), full, os.path.getsize(path) / 1e6))


if __name__ == "__main__":
    main()
