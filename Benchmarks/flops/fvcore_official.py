"""FLOPs of the OFFICIAL models as the official tools count them (fvcore's FlopCountAnalysis, one
"flop" per multiply-add), for comparison with `detr benchmark`'s multiply-adds.

usage: fvcore_official.py --which salience|conditional [--height 800 --width 1333]
Needs the venv of ../shared/anchors/README.md plus `pip install fvcore`; the official code of
../shared/anchors is imported in place. Prints one JSON line: fvcore's total with its default
operator handles (what Salience-DETR's tools/benchmark_model.py prints), the total with only the
matrix-multiplying operators counted (convolution, linear, matmul/mm/bmm/addmm, einsum: the rules
of `detr benchmark`), fvcore's per-operator totals and the operators it skipped.
"""
import argparse, collections, json, os, sys, warnings

import torch

ANCHORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "anchors")
MATRIX_OPS = {"conv", "_convolution", "linear", "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum"}

ap = argparse.ArgumentParser()
ap.add_argument("--which", required=True, choices=["salience", "conditional"])
ap.add_argument("--height", type=int, default=800)
ap.add_argument("--width", type=int, default=1333)
ap.add_argument("--anchors", default=os.environ.get("ANCHORS", ANCHORS))
a = ap.parse_args()


def salience():
    root = os.path.join(a.anchors, "Salience-DETR")
    sys.path.insert(0, root)
    import models.backbones.resnet as resnet
    resnet.load_checkpoint = lambda *args, **kw: None  # random backbone: no download
    from util.lazy_load import Config
    model = Config(os.path.join(root, "configs/salience_detr/salience_detr_resnet50_800_1333.py")).model
    model.eval()
    # as tools/benchmark_model.py feeds it: a list of images, resized and padded inside
    return model, ([torch.rand(3, a.height, a.width)],)


def conditional():
    root = os.path.join(a.anchors, "ConditionalDETR")
    sys.path.insert(0, root)
    import torch.nn.modules.linear as linear
    if not hasattr(linear, "_LinearWithBias"):  # names the torch 1.x code imports
        linear._LinearWithBias = linear.NonDynamicallyQuantizableLinear
    sys.modules.setdefault("torch._overrides", torch.overrides)
    import torchvision
    for name in ("resnet50", "resnet101"):
        build = getattr(torchvision.models, name)
        setattr(torchvision.models, name,
                lambda *args, _b=build, **kw: _b(*args, **{k: v for k, v in kw.items() if k not in ("pretrained", "weights")}))
    import main
    from models import build_model
    args = main.get_args_parser().parse_args([])
    args.device = "cpu"
    model = build_model(args)[0].eval()

    class Outputs(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, x):
            out = self.m(x)
            return out["pred_logits"], out["pred_boxes"]

    return Outputs(model), (torch.randn(1, 3, a.height, a.width),)


warnings.filterwarnings("ignore")
torch.manual_seed(0)
torch.set_num_threads(2)
from fvcore.nn import FlopCountAnalysis

model, inputs = salience() if a.which == "salience" else conditional()
with torch.no_grad():
    flops = FlopCountAnalysis(model, inputs)
    flops.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_op = flops.by_operator()
    total = flops.total()
by_module = flops.by_module()
prefix = "m." if a.which == "conditional" else ""  # the conditional model is wrapped as "m"
top = {k[len(prefix):]: by_module[k] for k in by_module
       if k.startswith(prefix) and k[len(prefix):] and k[len(prefix):].count(".") == 0}
top.update({k[len(prefix):]: by_module[k] for k in by_module
            if k.startswith(prefix + "transformer.") and k[len(prefix):].count(".") == 1})
print(json.dumps({
    "which": a.which, "size": [a.height, a.width], "torch": torch.__version__,
    "fvcore_total": int(total),
    "matrix_ops_total": int(sum(v for k, v in by_op.items() if k.replace("aten::", "") in MATRIX_OPS)),
    "by_operator": {k: int(v) for k, v in sorted(by_op.items())},
    "by_module": {k: int(v) for k, v in top.items()},
    "skipped": {k: int(v) for k, v in collections.Counter(flops.unsupported_ops()).most_common(12)},
    # matrix products fvcore has no handle for (it counts them as 0)
    "skipped_matrix_ops": {k: int(v) for k, v in flops.unsupported_ops().items()
                           if k.replace("aten::", "") in MATRIX_OPS},
}))
