"""Times the official Salience DETR with its Swin-L, ConvNeXt-L or FocalNet-L config on random
images (random weights, eval mode, official eval path incl. resize and post-processing).

    python bench_official_backbones.py --backbone swin-l|convnext-l|focalnet-l
        [--height 800 --width 1333] [--batch-size 1] [--repeat 3] [--warmup 1] [--threads 2]

Runs the official source in ANCHORS (default ../../../shared/anchors from this file) with the
pretrained-weight downloads switched off. Prints one JSON line like the anchors' bench_official.py.
"""
import argparse, json, os, statistics, sys, time

here = os.path.dirname(os.path.abspath(__file__))
configs = {
    "swin-l": "salience_detr_swin_l_800_1333.py",
    "convnext-l": "salience_detr_convnext_l_800_1333.py",
    "focalnet-l": "salience_detr_focalnet_large_lrf_800_1333.py",
}
p = argparse.ArgumentParser()
p.add_argument("--backbone", required=True, choices=sorted(configs))
p.add_argument("--height", type=int, default=800)
p.add_argument("--width", type=int, default=1333)
p.add_argument("--batch-size", type=int, default=1)
p.add_argument("--repeat", type=int, default=3)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=0)
a = p.parse_args()

import torch

if a.threads:
    torch.set_num_threads(a.threads)
torch.manual_seed(0)
anchors = os.environ.get("ANCHORS", os.path.join(here, "../../../shared/anchors"))
code = os.path.join(os.path.abspath(anchors), "Salience-DETR")
sys.path.insert(0, code)
import models.backbones.swin as swin, models.backbones.convnext as convnext, models.backbones.focalnet as focalnet
for module in (swin, convnext, focalnet):
    module.load_checkpoint = lambda *x, **k: None  # no pretrained download
from util.lazy_load import Config

model = Config(os.path.join(code, "configs/salience_detr", configs[a.backbone])).model
model.eval()
imgs = [(torch.rand(3, a.height, a.width) * 255).to(torch.uint8) for _ in range(a.batch_size)]
with torch.inference_mode():
    for _ in range(a.warmup):
        model(imgs)
    ts = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        model(imgs)
        ts.append(time.perf_counter() - t0)
print(json.dumps({"which": "salience-" + a.backbone, "torch": torch.__version__, "threads": torch.get_num_threads(),
                  "size": [a.height, a.width], "batch_size": a.batch_size, "median_s": statistics.median(ts),
                  "min_s": min(ts), "max_s": max(ts), "repeat": a.repeat,
                  "parameters": sum(t.numel() for t in model.parameters())}))
