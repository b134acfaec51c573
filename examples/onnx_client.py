"""Detections from a swift-detr ONNX export with ONNX Runtime (the user's side of a deployment).

usage: python onnx_client.py MODEL.onnx IMAGE
Prints the detections scoring at least 0.3 as label score x0 y0 x1 y1.
"""
import sys
import numpy as np
import onnxruntime as ort
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def prepare(path, height, width, short=800, longest=1333):
    image = Image.open(path).convert("RGB")
    w, h = image.size
    scale = short / min(h, w)
    if max(h, w) * scale > longest:
        scale = longest / max(h, w)
    nh, nw = int(round(h * scale)), int(round(w * scale))
    nh, nw = min(nh, height), min(nw, width)
    pixels = np.asarray(image.resize((nw, nh), Image.BILINEAR), dtype=np.float32) / 255
    batch = np.zeros((1, 3, height, width), dtype=np.float32)
    batch[0, :, :nh, :nw] = ((pixels - MEAN) / STD).transpose(2, 0, 1)
    return batch, np.array([[nh, nw]], dtype=np.int64), np.array([[h, w]], dtype=np.int64)


def main():
    model, path = sys.argv[1], sys.argv[2]
    session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    _, _, height, width = session.get_inputs()[0].shape
    images, sizes, originals = prepare(path, height, width)
    scores, labels, boxes = session.run(
        ["scores", "labels", "boxes"], {"images": images, "image_sizes": sizes, "orig_sizes": originals})
    for s, l, b in zip(scores[0], labels[0], boxes[0]):
        if s >= 0.3:
            print(int(l), f"{s:.3f}", *(f"{v:.1f}" for v in b))


if __name__ == "__main__":
    main()
