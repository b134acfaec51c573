"""Runs an exported fixture model in ONNX Runtime and OpenVINO on the fixture's own batch and
compares the outputs with the official post-processing stored in the fixture.

usage: compare_fixture.py MODEL.onnx FIXTURE_eval.safetensors [--runtime ort|openvino|both]
Prints one JSON line per runtime: max |score| and box differences over detections scoring at least
--min-score, label agreement, and onnx.checker's verdict.
"""
import argparse, json, sys
import numpy as np
from safetensors.numpy import load_file


def run_ort(path, feeds, threads):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [o.name for o in s.get_outputs()]
    return dict(zip(names, s.run(None, feeds)))


def run_openvino(path, feeds, threads):
    import openvino as ov
    core = ov.Core()
    m = core.read_model(path)
    c = core.compile_model(m, "CPU", {"INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32"})
    r = c(feeds)
    return {o.get_any_name(): r[o] for o in c.outputs}


def compare(out, ref, n, min_score, score_tol, box_tol):
    worst_s = worst_b = 0.0
    agree = total = 0
    for i in range(n):
        s_ref, l_ref, b_ref = ref[f"post.{i}.scores"], ref[f"post.{i}.labels"], ref[f"post.{i}.boxes"]
        s, l, b = out["scores"][i], out["labels"][i], out["boxes"][i]
        keep = s_ref >= min_score
        k = int(keep.sum())
        worst_s = max(worst_s, float(np.abs(s[:k] - s_ref[:k]).max(initial=0)))
        worst_b = max(worst_b, float(np.abs(b[:k] - b_ref[:k]).max(initial=0)))
        agree += int((l[:k] == l_ref[:k]).sum())
        total += k
    return {"max_score_diff": worst_s, "max_box_diff_px": worst_b, "labels_agree": f"{agree}/{total}",
            "ok": worst_s <= score_tol and worst_b <= box_tol and agree == total}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("fixture")
    ap.add_argument("--runtime", default="both")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--min-score", type=float, default=0.01)
    ap.add_argument("--score-tol", type=float, default=1e-4)
    ap.add_argument("--box-tol", type=float, default=0.05)
    a = ap.parse_args()
    import onnx
    try:
        onnx.checker.check_model(a.model, full_check=False)
        checker = "ok"
    except Exception as e:  # noqa: BLE001
        checker = str(e).splitlines()[0]
    ref = load_file(a.fixture)
    n = ref["pre.image_sizes"].shape[0]
    feeds = {"images": ref["pre.batch"].astype(np.float32), "image_sizes": ref["pre.image_sizes"].astype(np.int64),
             "orig_sizes": ref["pre.orig_sizes"].astype(np.int64)}
    runtimes = ["ort", "openvino"] if a.runtime == "both" else [a.runtime]
    for rt in runtimes:
        try:
            out = (run_ort if rt == "ort" else run_openvino)(a.model, feeds, a.threads)
            r = compare(out, ref, n, a.min_score, a.score_tol, a.box_tol)
        except Exception as e:  # noqa: BLE001
            r = {"ok": False, "error": str(e).strip().splitlines()[-1][:400]}
        print(json.dumps({"model": a.model, "runtime": rt, "checker": checker, **r}))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
