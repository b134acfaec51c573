"""How far the detections of a float16 export (`detr export --format onnx --half`) move from the
float32 export of the same model, in ONNX Runtime and OpenVINO, on real images.

usage: python compare_half.py FP32.onnx FP16.onnx --short S --longest L IMAGE...
For every detection of the float32 model scoring at least --threshold, the float16 model's
detection of the same label with the largest IoU is its match; prints one JSON line per runtime:
detections compared, unmatched ones (no same-label detection with IoU >= 0.5), the largest score
and box-corner differences of the matched ones, and the median inference time of each model.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples"))
from onnx_client import prepare  # noqa: E402


def iou(a, b):
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def runners(path, runtime):
    if runtime == "ort":
        import onnxruntime as ort
        o = ort.SessionOptions()
        o.intra_op_num_threads = 2
        s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
        shape = s.get_inputs()[0].shape
        return shape, lambda feed: s.run(["scores", "labels", "boxes"], feed)
    import openvino as ov
    core = ov.Core()
    m = core.compile_model(path, "CPU", {"INFERENCE_NUM_THREADS": 2, "INFERENCE_PRECISION_HINT": "f32"})
    shape = list(m.inputs[0].get_partial_shape().to_shape())
    # The graph's outputs in order: scores, labels, boxes (OpenVINO may rename them).
    return shape, lambda feed: [m(feed)[m.outputs[i]] for i in range(3)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("fp32")
    p.add_argument("fp16")
    p.add_argument("images", nargs="+")
    p.add_argument("--short", type=int, default=800)
    p.add_argument("--longest", type=int, default=1333)
    p.add_argument("--threshold", type=float, default=0.3)
    a = p.parse_args()
    for runtime in ("ort", "openvino"):
        (shape, full), (_, half) = runners(a.fp32, runtime), runners(a.fp16, runtime)
        compared = unmatched = 0
        score_diff = box_diff = 0.0
        times = {"fp32": [], "fp16": []}
        for path in a.images:
            images, sizes, originals = prepare(path, shape[2], shape[3], a.short, a.longest)
            feed = {"images": images, "image_sizes": sizes, "orig_sizes": originals}
            outs = {}
            for name, run in (("fp32", full), ("fp16", half)):
                start = time.perf_counter()
                outs[name] = run(feed)
                times[name].append(time.perf_counter() - start)
            (s32, l32, b32), (s16, l16, b16) = outs["fp32"], outs["fp16"]
            for s, l, b in zip(s32[0], l32[0], b32[0]):
                if s < a.threshold:
                    continue
                compared += 1
                best, j = max(((iou(b, b16[0][k]), k) for k in range(len(l16[0])) if l16[0][k] == l), default=(0, -1))
                if best < 0.5:
                    unmatched += 1
                    continue
                score_diff = max(score_diff, abs(float(s) - float(s16[0][j])))
                box_diff = max(box_diff, float(np.abs(b - b16[0][j]).max()))
        print(json.dumps({
            "runtime": runtime, "images": len(a.images), "detections": compared, "unmatched": unmatched,
            "max_score_diff": score_diff, "max_box_diff_px": box_diff,
            "median_s": {k: float(np.median(v)) for k, v in times.items()},
        }))


if __name__ == "__main__":
    main()
