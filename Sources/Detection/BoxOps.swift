import Torch

/// Box conversions and overlaps (the `util/box_ops.py` of DETR). Boxes are the last dimension.
public enum BoxOps {
    /// (cx, cy, w, h) -> (x0, y0, x1, y1). [..., 4] -> [..., 4]
    public static func cxcywhToXyxy(_ b: Tensor) -> Tensor {
        let p = b.unbind(dim: -1)
        let (cx, cy, w, h) = (p[0], p[1], p[2], p[3])
        return Tensor.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim: -1)
    }

    /// (x0, y0, x1, y1) -> (cx, cy, w, h). [..., 4] -> [..., 4]
    public static func xyxyToCxcywh(_ b: Tensor) -> Tensor {
        let p = b.unbind(dim: -1)
        let (x0, y0, x1, y1) = (p[0], p[1], p[2], p[3])
        return Tensor.stack([(x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0], dim: -1)
    }

    /// Areas of xyxy boxes. [N, 4] -> [N]
    public static func area(_ b: Tensor) -> Tensor {
        (b.select(dim: -1, index: 2) - b.select(dim: -1, index: 0))
            * (b.select(dim: -1, index: 3) - b.select(dim: -1, index: 1))
    }

    /// Pairwise IoU and union of xyxy boxes. [N, 4], [M, 4] -> ([N, M], [N, M])
    public static func iou(_ a: Tensor, _ b: Tensor) -> (iou: Tensor, union: Tensor) {
        let areaA = area(a), areaB = area(b)
        let lt = a.slice(dim: -1, end: 2).unsqueeze(1).maximum(b.slice(dim: -1, end: 2).unsqueeze(0))  // [N, M, 2]
        let rb = a.slice(dim: -1, start: 2).unsqueeze(1).minimum(b.slice(dim: -1, start: 2).unsqueeze(0))
        let wh = (rb - lt).clamp(min: 0)
        let inter = wh.select(dim: -1, index: 0) * wh.select(dim: -1, index: 1)
        let union = areaA.unsqueeze(1) + areaB.unsqueeze(0) - inter
        return (inter / union, union)
    }

    /// Pairwise generalized IoU of xyxy boxes. [N, 4], [M, 4] -> [N, M]
    public static func generalizedIoU(_ a: Tensor, _ b: Tensor) -> Tensor {
        let (iou, union) = iou(a, b)
        let lt = a.slice(dim: -1, end: 2).unsqueeze(1).minimum(b.slice(dim: -1, end: 2).unsqueeze(0))
        let rb = a.slice(dim: -1, start: 2).unsqueeze(1).maximum(b.slice(dim: -1, start: 2).unsqueeze(0))
        let wh = (rb - lt).clamp(min: 0)
        let hull = wh.select(dim: -1, index: 0) * wh.select(dim: -1, index: 1)
        return iou - (hull - union) / hull
    }
}
