#!/usr/bin/env python3
"""Generates the bilinear-resize fixtures for Tests/VisionTests (ResizeTests).

Run with the Pillow the official pipelines are checked against (13.0.0, the venv of
../shared/anchors/README.md):
    python Tests/Fixtures/vision/generate_resize.py
Writes `resize.safetensors`: for each case `i`, `in.<i>` (random uint8 RGB [H, W, 3]) and
`out.<i>` (`Image.fromarray(in).resize((W', H'), Image.BILINEAR)`, uint8 [H', W', 3]). The sizes
cover both pass orders of Pillow 13 (the vertical pass goes first when the height loses more
than twice as many rows as the width loses columns), up- and downscaling, one unchanged side, and
one-pixel sides.
"""
import os

import numpy as np
import PIL
from PIL import Image
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2026)
# (w, h, w', h')
sizes = [
    (20, 160, 11, 86),    # tall, both sides shrink alike: vertical first
    (160, 20, 86, 11),    # wide: horizontal first
    (40, 40, 20, 20),     # square, equal shrink: horizontal first
    (40, 80, 21, 40),     # height loses 40 rows > 2 x 19 columns: vertical first
    (40, 80, 19, 40),     # 40 rows < 2 x 21: horizontal first
    (30, 60, 60, 20),     # width grows, height shrinks: vertical first
    (30, 30, 30, 12),     # only the height changes
    (33, 21, 12, 21),     # only the width changes
    (17, 13, 45, 38),     # both grow
    (1, 90, 1, 40),       # one-pixel column
    (90, 1, 40, 1),       # one-pixel row
    (64, 48, 23, 37),
]
tensors = {"pillow_version": np.frombuffer(PIL.__version__.encode(), dtype=np.uint8).copy()}
for i, (w, h, ow, oh) in enumerate(sizes):
    a = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    tensors[f"in.{i}"] = a
    tensors[f"out.{i}"] = np.ascontiguousarray(np.asarray(Image.fromarray(a).resize((ow, oh), Image.BILINEAR)))
save_file(tensors, os.path.join(HERE, "resize.safetensors"))
print(f"{len(sizes)} cases, Pillow {PIL.__version__}")
