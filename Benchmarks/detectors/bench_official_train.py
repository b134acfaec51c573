"""Times one optimizer step of the official PyTorch implementations (random weights, CPU).

    python bench_official_train.py --which salience|conditional [--height 800 --width 1333]
                                   [--batch-size 1] [--repeat 3] [--warmup 1] [--threads 2]
                                   [--config salience_detr_swin_l_800_1333.py]

The official code is imported from ../shared/anchors (ANCHORS overrides), never copied. One step
is what the official training loops do per iteration: training-mode forward with the official
criterion (Salience DETR: the detector returns its weighted loss dict; Conditional DETR:
SetCriterion with the official weight_dict), the summed loss's backward, gradient clipping at 0.1
and an AdamW step over the official parameter groups, with the official freezing (Salience DETR
freeze_indices=(0,) of its config; Conditional DETR trains backbone layer2-4 only). The input
matches `detr benchmark --train`: a random normalised batch and 5 random boxes per image.
Prints one JSON line (median/min/max seconds, peak resident MiB of this process).
"""
import argparse, json, os, resource, statistics, sys, time

here = os.path.dirname(os.path.abspath(__file__))
anchors = os.environ.get("ANCHORS", os.path.join(here, "..", "..", "..", "shared", "anchors"))
p = argparse.ArgumentParser()
p.add_argument("--which", required=True, choices=["salience", "conditional"])
p.add_argument("--height", type=int, default=800)
p.add_argument("--width", type=int, default=1333)
p.add_argument("--batch-size", type=int, default=1)
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=0)
p.add_argument("--config", default="salience_detr_resnet50_800_1333.py",
               help="Salience DETR: a file of the official configs/salience_detr (the -L backbones too)")
a = p.parse_args()

import torch
import torch.nn.modules.linear as _linear
# Conditional DETR's attention module imports two names that torch 2.x renamed (no numeric effect).
if not hasattr(_linear, "_LinearWithBias"):
    _linear._LinearWithBias = _linear.NonDynamicallyQuantizableLinear
sys.modules.setdefault("torch._overrides", torch.overrides)

if a.threads:
    torch.set_num_threads(a.threads)
torch.manual_seed(0)
g = torch.Generator().manual_seed(2)
B, H, W = a.batch_size, a.height, a.width


def random_boxes():
    """5 boxes per image as normalised (cx, cy, w, h), like detr benchmark --train."""
    centres = torch.rand(5, 2, generator=g) * 0.6 + 0.2
    sides = torch.rand(5, 2, generator=g) * 0.2 + 0.05
    return torch.cat([centres, sides], 1)


images = torch.randn(B, 3, H, W, generator=torch.Generator().manual_seed(1))
if a.which == "salience":
    code = os.path.join(anchors, "Salience-DETR")
    sys.path.insert(0, code)
    import importlib
    for family in ("resnet", "swin", "convnext", "focalnet"):   # no pretrained download
        importlib.import_module("models.backbones." + family).load_checkpoint = lambda *x, **k: None
    from util.lazy_load import Config
    from optimizer import param_dict
    model = Config(os.path.join(code, "configs/salience_detr", a.config)).model
    model.train()
    targets = []
    for i in range(B):
        b = random_boxes()                              # official loaders give absolute xyxy boxes
        xyxy = torch.cat([b[:, :2] - b[:, 2:] / 2, b[:, :2] + b[:, 2:] / 2], 1) * torch.tensor([W, H, W, H])
        targets.append({"boxes": xyxy, "labels": torch.tensor([1 + k % 90 for k in range(5)])})
    groups = param_dict.finetune_backbone_and_linear_projection(model, lr=1e-4)
    optimizer = torch.optim.AdamW(groups, lr=1e-4, weight_decay=1e-4, betas=(0.9, 0.999))
    batch = list(images.unbind(0))

    def loss():
        loss_dict = model(batch, targets)
        return sum(v for v in loss_dict.values())
else:
    code = os.path.join(anchors, "ConditionalDETR")
    sys.path.insert(0, code)
    import torchvision
    for name in ("resnet50", "resnet101"):                # no pretrained download
        f = getattr(torchvision.models, name)
        def nopre(*x, _f=f, **k):
            k.pop("pretrained", None); k.pop("weights", None)
            return _f(*x, **k)
        setattr(torchvision.models, name, nopre)
    import main as cd_main
    from models import build_model
    args = cd_main.get_args_parser().parse_args([])
    args.device = "cpu"
    model, criterion, _ = build_model(args)
    model.train(); criterion.train()
    targets = [{"boxes": random_boxes(), "labels": torch.tensor([1 + k % 90 for k in range(5)])} for _ in range(B)]
    groups = [
        {"params": [p for n, p in model.named_parameters() if "backbone" not in n and p.requires_grad]},
        {"params": [p for n, p in model.named_parameters() if "backbone" in n and p.requires_grad],
         "lr": args.lr_backbone},
    ]
    optimizer = torch.optim.AdamW(groups, lr=args.lr, weight_decay=args.weight_decay)
    weight_dict = criterion.weight_dict

    def loss():
        loss_dict = criterion(model(images), targets)
        return sum(loss_dict[k] * weight_dict[k] for k in loss_dict if k in weight_dict)


def step():
    total = loss()
    optimizer.zero_grad()
    total.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
    optimizer.step()


for _ in range(a.warmup):
    step()
ts = []
for _ in range(a.repeat):
    t0 = time.perf_counter(); step(); ts.append(time.perf_counter() - t0)
print(json.dumps({"which": a.which, "config": a.config if a.which == "salience" else None, "mode": "train", "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "size": [H, W], "batch_size": B, "median_s": statistics.median(ts), "min_s": min(ts),
                  "max_s": max(ts), "repeat": a.repeat,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
