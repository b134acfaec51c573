"""Cuts the committed transformer-stage fixture out of a generated "wide" set.

    python extract.py SET_DIR/salience_detr OUT_DIR      (OUT_DIR: Tests/Fixtures/salience-wide)

Writes OUT_DIR/transformer.safetensors (every `transformer.*` tensor of tiny.pth: the transformer's
weights; the backbone and the channel mapper stay out, they are what makes tiny.pth 27 MB),
OUT_DIR/stages.safetensors (the transformer's inputs `neck.<l>`, `mask.<l>`, `pos.<l>` and every
official stage output from `tr.*` on, as recorded by the generator in tiny_eval.safetensors),
OUT_DIR/tiny.config.json and OUT_DIR/ties.json (the generator's tie diagnostics, `eval.ties`, and
the batch's derived numbers).
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
sd = torch.load(os.path.join(src, "tiny.pth"), map_location="cpu")
weights = {k: v.detach().clone().contiguous() for k, v in sd.items() if k.startswith("transformer.")}
save_file(weights, os.path.join(out, "transformer.safetensors"))

ev = load_file(os.path.join(src, "tiny_eval.safetensors"))
prefixes = ("neck.", "mask.", "pos.", "tr.", "salience.", "enc.", "enc_outputs.", "dec.", "out.", "pre.image_sizes",
            "pre.mask")
# Left out to keep the fixture small: the mask predictor's inputs and the per-layer decoder logits
# (the last layer's are `out.pred_logits`).
dropped = ("salience.predictor_in.", "dec.logits")
stages = {k: v.contiguous() for k, v in ev.items() if k.startswith(prefixes) and not k.startswith(dropped)}
save_file(stages, os.path.join(out, "stages.safetensors"))

shutil.copy(os.path.join(src, "tiny.config.json"), os.path.join(out, "tiny.config.json"))
info = json.load(open(os.path.join(src, "tiny.json")))
keep = {"ties": info["eval"].get("ties"), "eval": {k: v for k, v in info["eval"].items() if k != "ties"},
        "seeds": info.get("seeds"), "versions": info.get("versions")}
with open(os.path.join(out, "ties.json"), "w") as f:
    json.dump(keep, f, indent=1, sort_keys=True)
    f.write("\n")
for name in sorted(os.listdir(out)):
    print(f"{os.path.getsize(os.path.join(out, name)) / 1e6:8.2f} MB  {name}")
