#!/usr/bin/env python3
"""pycocotools side of the COCO benchmark: load, evaluate, accumulate, summarize; time each
step and print one JSON object (stats, per-category metrics, seconds) on stdout."""
import contextlib
import io
import json
import sys
import time

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main():
    gt_path, dets_path = sys.argv[1], sys.argv[2]
    times = {}
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(gt_path)
        dt = gt.loadRes(dets_path)
        t1 = time.perf_counter()
        ev = COCOeval(gt, dt, "bbox")
        ev.evaluate()
        t2 = time.perf_counter()
        ev.accumulate()
        t3 = time.perf_counter()
        ev.summarize()
        t4 = time.perf_counter()
    times = {"load": t1 - t0, "evaluate": t2 - t1, "accumulate": t3 - t2, "summarize": t4 - t3, "total": t4 - t0}
    precision, recall = ev.eval["precision"], ev.eval["recall"]
    per_category = []
    for k, cat_id in enumerate(ev.params.catIds):
        def mean(values):
            values = values[values > -1]
            return float(np.mean(values)) if values.size else -1.0
        t50 = np.where(ev.params.iouThrs == 0.5)[0]
        t75 = np.where(ev.params.iouThrs == 0.75)[0]
        per_category.append({"id": int(cat_id), "AP": mean(precision[:, :, k, 0, -1]),
                             "AP50": mean(precision[t50, :, k, 0, -1]), "AP75": mean(precision[t75, :, k, 0, -1]),
                             "AR": mean(recall[:, k, 0, -1])})
    print(json.dumps({"stats": [float(s) for s in ev.stats], "per_category": per_category, "seconds": times}))


if __name__ == "__main__":
    main()
