#!/usr/bin/python3
"""Generates the image-decoding fixtures for Tests/VisionTests.

Run with Debian's python3 (python3-pil 9.4, which links the system libjpeg-turbo 2.1.5):
    /usr/bin/python3 Tests/Fixtures/vision/generate.py
Writes small test images and `expected.safetensors`: for each file, the RGB pixels PIL
decodes (`Image.open(f).convert("RGB")`, and `ImageOps.exif_transpose` for `*.exif`),
as uint8 [H, W, 3].
"""
import io
import json
import os
import struct

import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)


def base(w=24, h=16):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // (w - 1)).astype(np.uint8)
    g = (y * 255 // (h - 1)).astype(np.uint8)
    b = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
    return np.stack([r, g, b], axis=-1)


def exif_with_orientation(value):
    # Minimal little-endian TIFF header with one IFD entry: Orientation (0x0112), SHORT, count 1.
    ifd = struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, value, 0) + struct.pack("<I", 0)
    return b"Exif\x00\x00" + b"II*\x00" + struct.pack("<I", 8) + ifd


files = {}
rgb = Image.fromarray(base())
rgb.save(os.path.join(HERE, "rgb.jpg"), quality=90)
rgb.save(os.path.join(HERE, "rgb.png"))
rgb.convert("L").save(os.path.join(HERE, "gray.jpg"), quality=90)
rgb.convert("L").save(os.path.join(HERE, "gray.png"))
rgb.convert("CMYK").save(os.path.join(HERE, "cmyk.jpg"), quality=90)
rgba = rgb.copy()
rgba.putalpha(Image.fromarray(rng.integers(0, 256, size=(16, 24), dtype=np.uint8)))
rgba.save(os.path.join(HERE, "rgba.png"))
rgb.convert("P", palette=Image.ADAPTIVE, colors=16).save(os.path.join(HERE, "palette.png"))
for o in (3, 6, 8):
    rgb.save(os.path.join(HERE, f"orient{o}.jpg"), quality=90, exif=exif_with_orientation(o))

with open(os.path.join(HERE, "rgb.jpg"), "rb") as f:
    data = f.read()
with open(os.path.join(HERE, "truncated.jpg"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(HERE, "rgb.png"), "rb") as f:
    data = f.read()
with open(os.path.join(HERE, "truncated.png"), "wb") as f:
    f.write(data[: len(data) // 2])

tensors = {}
for name in ["rgb.jpg", "rgb.png", "gray.jpg", "gray.png", "cmyk.jpg", "rgba.png", "palette.png",
             "orient3.jpg", "orient6.jpg", "orient8.jpg"]:
    im = Image.open(os.path.join(HERE, name))
    tensors[name] = np.asarray(im.convert("RGB"))
    if name.startswith("orient"):
        tensors[name + ".exif"] = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))

header, blobs, off = {}, [], 0
for k in sorted(tensors):
    a = np.ascontiguousarray(tensors[k])
    b = a.tobytes()
    header[k] = {"dtype": "U8", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
h += b" " * (-len(h) % 8)
with open(os.path.join(HERE, "expected.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
