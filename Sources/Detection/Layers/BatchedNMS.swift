import Torch

extension BoxOps {
    /// Greedy non-maximum suppression within groups, with `torchvision.ops.batched_nms` semantics
    /// (libtorch has none): boxes are visited by decreasing score (ties: lower index first, the
    /// stable order of torchvision's CPU kernel); a box is dropped when its IoU with an already kept
    /// box of the same group is greater than `iouThreshold`. Boxes of different groups never
    /// suppress each other. IoU is computed in float32 as torchvision's kernel does,
    /// inter / (area_i + area_j − inter) with areas (x1 − x0)·(y1 − y0), and compared with the
    /// threshold in double precision.
    /// - Parameters:
    ///   - boxes: N boxes (x0, y0, x1, y1), flattened (4·N values)
    ///   - scores: N scores
    ///   - groups: N group ids (any integers)
    /// - Returns: indices of the kept boxes, by decreasing score (ties: lower index first)
    public static func batchedNMS(boxes: [Float], scores: [Float], groups: [Int], iouThreshold: Double) -> [Int] {
        NonMaximumSuppression.keep(
            boxes: boxes, scores: scores, groups: groups.map(Int64.init), iouThreshold: iouThreshold)
    }

    /// Tensor form of `batchedNMS(boxes:scores:groups:iouThreshold:)` (computed on the host).
    /// - Parameters: boxes [N, 4] xyxy, scores [N], groups [N] int64
    /// - Returns: int64 [K] kept indices by decreasing score, on the device of `boxes`
    public static func batchedNMS(boxes: Tensor, scores: Tensor, groups: Tensor, iouThreshold: Double) -> Tensor {
        let keep = batchedNMS(
            boxes: boxes.to(.float32).contiguous().floats, scores: scores.to(.float32).floats,
            groups: groups.ints, iouThreshold: iouThreshold)
        return Tensor(keep).to(boxes.device)
    }
}
