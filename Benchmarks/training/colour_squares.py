#!/usr/bin/python3
"""Diagnostic dataset for Conditional DETR convergence (Benchmarks/training/RESULTS.md).

1-2 solid squares (20-40 px) per 128x128 image on grey noise; the class is the colour
(1 red, 2 green, 3 blue), so classification needs no learnt shape features and only
localisation has to be learnt. COCO format like `detr synth`:
DIR/{train,val}/*.png and DIR/annotations/{train,val}.json (800 / 200 images).

Usage: /usr/bin/python3 Benchmarks/training/colour_squares.py DIR   (Debian python3-pil)
"""
import json
import os
import random
import sys

from PIL import Image, ImageDraw

COLOURS = {1: (230, 30, 30), 2: (30, 200, 30), 3: (30, 30, 230)}


def main(root):
    random.seed(1)
    for split, count in (("train", 800), ("val", 200)):
        os.makedirs(os.path.join(root, split), exist_ok=True)
        images, annotations = [], []
        for i in range(count):
            side = 128
            image = Image.new("RGB", (side, side), (random.randint(60, 190),) * 3)
            pixels = image.load()
            for y in range(side):
                for x in range(side):
                    v = pixels[x, y][0] + random.randint(-20, 20)
                    pixels[x, y] = (v, v, v)
            draw = ImageDraw.Draw(image)
            for _ in range(random.randint(1, 2)):
                category = random.randint(1, 3)
                s = random.randint(20, 40)
                x0, y0 = random.randint(0, side - s), random.randint(0, side - s)
                draw.rectangle([x0, y0, x0 + s - 1, y0 + s - 1], fill=COLOURS[category])
                annotations.append(dict(id=len(annotations) + 1, image_id=i + 1, category_id=category,
                                        bbox=[x0, y0, s, s], area=s * s, iscrowd=0))
            name = "%06d.png" % (i + 1)
            image.save(os.path.join(root, split, name))
            images.append(dict(id=i + 1, file_name=name, width=side, height=side))
        os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
        categories = [dict(id=k, name=n) for k, n in ((1, "red"), (2, "green"), (3, "blue"))]
        with open(os.path.join(root, "annotations", split + ".json"), "w") as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)


if __name__ == "__main__":
    main(sys.argv[1])
