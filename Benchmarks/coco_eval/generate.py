#!/usr/bin/env python3
"""Deterministic synthetic COCO-sized evaluation input for the COCO bbox benchmark.

Writes <out>/gt.json (5,000 images, 36,000 boxes, 80 categories with the
non-contiguous COCO ids, ~1% crowd regions, polygon-like `area` below the box
area) and <out>/detections.json (500,000 results: jittered true positives,
duplicates, wrong classes and random false positives; scores rounded to 3
decimals so that ties are common, as in real result files).

Standard library only, so it runs without a virtualenv.
"""
import argparse
import json
import math
import os
import random

COCO_IDS = [i for i in range(1, 91) if i not in (12, 26, 29, 30, 45, 66, 68, 69, 71, 83)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--boxes", type=int, default=36000)
    ap.add_argument("--detections", type=int, default=500000)
    ap.add_argument("--seed", type=int, default=2017)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)

    image_ids = sorted(rng.sample(range(1, 600000), a.images))
    images = []
    for iid in image_ids:
        w, h = rng.choice([(640, 480), (480, 640), (640, 427), (500, 375), (640, 640)])
        images.append({"id": iid, "width": w, "height": h, "file_name": "%012d.jpg" % iid})
    cats = [{"id": c, "name": "class_%d" % c, "supercategory": "thing"} for c in COCO_IDS]
    weights = [1.0 / (1 + k) ** 0.7 for k in range(len(COCO_IDS))]  # skewed like COCO

    # distribute GT boxes over images (some images empty)
    counts = [0] * a.images
    for _ in range(a.boxes):
        counts[min(int(rng.expovariate(1.0) * a.images / 3.5) % a.images, a.images - 1)] += 1
    rng.shuffle(counts)

    def random_box(img):
        side = math.exp(rng.uniform(math.log(4), math.log(min(img["width"], img["height"]))))
        ar = math.exp(rng.uniform(-0.8, 0.8))
        bw = min(side * ar, img["width"] - 1)
        bh = min(side / ar, img["height"] - 1)
        x = rng.uniform(0, img["width"] - bw)
        y = rng.uniform(0, img["height"] - bh)
        return [round(x, 2), round(y, 2), round(bw, 2), round(bh, 2)]

    anns = []
    per_image = []
    for img, n in zip(images, counts):
        mine = []
        for _ in range(n):
            box = random_box(img)
            crowd = 1 if rng.random() < 0.01 else 0
            ann = {"id": len(anns) + 1, "image_id": img["id"],
                   "category_id": rng.choices(COCO_IDS, weights)[0],
                   "bbox": box, "area": round(box[2] * box[3] * rng.uniform(0.5, 0.95), 2),
                   "iscrowd": crowd, "segmentation": [] if not crowd else {"counts": [], "size": [img["height"], img["width"]]}}
            anns.append(ann)
            mine.append(ann)
        per_image.append(mine)

    dets = []
    per_img_budget = a.detections // a.images
    extra = a.detections - per_img_budget * a.images
    for idx, (img, mine) in enumerate(zip(images, per_image)):
        budget = per_img_budget + (1 if idx < extra else 0)
        out = []
        for ann in mine:
            for _ in range(rng.choice([1, 1, 2, 3])):
                if len(out) >= budget:
                    break
                x, y, w, h = ann["bbox"]
                j = rng.uniform(0.0, 0.25)
                nb = [round(x + rng.gauss(0, j * w), 2), round(y + rng.gauss(0, j * h), 2),
                      round(max(0.5, w * (1 + rng.gauss(0, j))), 2), round(max(0.5, h * (1 + rng.gauss(0, j))), 2)]
                cat = ann["category_id"] if rng.random() < 0.85 else rng.choice(COCO_IDS)
                out.append((cat, nb, round(rng.betavariate(4, 2), 3)))
        present = [ann["category_id"] for ann in mine] or COCO_IDS
        while len(out) < budget:
            cat = rng.choice(present) if rng.random() < 0.6 else rng.choices(COCO_IDS, weights)[0]
            out.append((cat, random_box(img), round(rng.betavariate(1.2, 5), 3)))
        for cat, box, score in out:
            dets.append({"image_id": img["id"], "category_id": cat, "bbox": box, "score": score})

    with open(os.path.join(a.out, "gt.json"), "w") as f:
        json.dump({"info": {"description": "synthetic val2017-sized benchmark set"},
                   "images": images, "annotations": anns, "categories": cats}, f)
    with open(os.path.join(a.out, "detections.json"), "w") as f:
        json.dump(dets, f)
    print("wrote %d images, %d annotations, %d detections to %s" % (len(images), len(anns), len(dets), a.out))


if __name__ == "__main__":
    main()
