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
        let n = scores.count
        precondition(
            boxes.count == 4 * n && groups.count == n,
            "batchedNMS: \(n) scores, \(boxes.count / 4) boxes, \(groups.count) groups")
        let order = (0..<n).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var byGroup: [Int: [Int]] = [:]
        for i in order { byGroup[groups[i], default: []].append(i) }
        var keep = [Bool](repeating: false, count: n)
        boxes.withUnsafeBufferPointer { b in
            for (_, members) in byGroup {
                var suppressed = [Bool](repeating: false, count: members.count)
                for (a, i) in members.enumerated() where !suppressed[a] {
                    keep[i] = true
                    let (ix0, iy0, ix1, iy1) = (b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3])
                    let areaI = (ix1 - ix0) * (iy1 - iy0)
                    for c in (a + 1)..<members.count where !suppressed[c] {
                        let j = members[c]
                        let (jx0, jy0, jx1, jy1) = (b[4 * j], b[4 * j + 1], b[4 * j + 2], b[4 * j + 3])
                        let w = Swift.max(Float(0), Swift.min(ix1, jx1) - Swift.max(ix0, jx0))
                        let h = Swift.max(Float(0), Swift.min(iy1, jy1) - Swift.max(iy0, jy0))
                        let inter = w * h
                        if Double(inter / (areaI + (jx1 - jx0) * (jy1 - jy0) - inter)) > iouThreshold {
                            suppressed[c] = true
                        }
                    }
                }
            }
        }
        return order.filter { keep[$0] }
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
