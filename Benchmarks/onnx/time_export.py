"""Times a swift-detr ONNX export in ONNX Runtime and OpenVINO (CPU) and, given the .npz that
../shared/anchors/onnx/export_official.py writes for the same weights, compares its raw outputs
(--raw export) with PyTorch eager's on that input.

usage: time_export.py MODEL.onnx [--npz OFFICIAL.npz] [--threads 2] [--repeat 5] [--warmup 2]
One JSON line per runtime: median/min/max seconds of one inference (feeding and fetching
included), compile seconds, and max |difference| of pred_logits and pred_boxes from PyTorch.
"""
import argparse, json, statistics, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("model")
ap.add_argument("--npz")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--repeat", type=int, default=5)
ap.add_argument("--warmup", type=int, default=2)
ap.add_argument("--runtime", default="both")
a = ap.parse_args()

import onnx
m = onnx.load(a.model, load_external_data=False)
dims = [d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim]
n, _, h, w = dims
if a.npz:
    ref = np.load(a.npz)
    images = ref["images"].astype(np.float32)
else:
    ref = None
    images = np.random.default_rng(0).standard_normal((n, 3, h, w), dtype=np.float32)
sizes = np.array([[h, w]] * n, dtype=np.int64)
feeds = {"images": images, "image_sizes": sizes, "orig_sizes": sizes}


def timed(run):
    for _ in range(a.warmup):
        run()
    times = []
    for _ in range(a.repeat):
        t = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t)
    return out, times


for rt in (["ort", "openvino"] if a.runtime == "both" else [a.runtime]):
    t0 = time.perf_counter()
    if rt == "ort":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        s = ort.InferenceSession(a.model, so, providers=["CPUExecutionProvider"])
        names = [o.name for o in s.get_outputs()]
        run = lambda: dict(zip(names, s.run(None, feeds)))
    else:
        import openvino as ov
        c = ov.Core().compile_model(a.model, "CPU", {"INFERENCE_NUM_THREADS": a.threads,
                                                     "INFERENCE_PRECISION_HINT": "f32",
                                                     "PERFORMANCE_HINT": "LATENCY"})
        # an output tensor can carry several names: the graph output's is the one wanted
        wanted = {o.name for o in m.graph.output}
        run = lambda: {next(iter(wanted & o.get_names()), o.get_any_name()): v for o, v in c(feeds).items()}
    compile_s = time.perf_counter() - t0
    out, times = timed(run)
    r = {"model": a.model, "runtime": rt, "median_s": round(statistics.median(times), 3),
         "min_s": round(min(times), 3), "max_s": round(max(times), 3), "compile_s": round(compile_s, 1)}
    if ref is not None and "pred_logits" in out:
        r["logits_diff"] = float(np.abs(out["pred_logits"] - ref["pred_logits"]).max())
        r["boxes_diff"] = float(np.abs(out["pred_boxes"] - ref["pred_boxes"]).max())
    print(json.dumps(r), flush=True)
