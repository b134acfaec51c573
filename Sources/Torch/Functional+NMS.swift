import CTorch

extension Functional {
    /// Greedy non-maximum suppression within groups, per row, with `torchvision.ops.batched_nms`
    /// semantics (libtorch has none): a row's boxes are visited by decreasing score (ties: lower
    /// index first, the stable order of torchvision's CPU kernel); a box is dropped when its IoU
    /// with an already kept box of the same group is greater than `iouThreshold`. Boxes of
    /// different groups never suppress each other. IoU is computed in float32 as torchvision's
    /// kernel does, inter / (area_i + area_j − inter), and compared in double precision.
    ///
    /// Computed on the host; recorded by an `OperationTrace` as one operator (ONNX's
    /// `NonMaxSuppression`).
    /// - Parameters:
    ///   - boxes: [B, K, 4] (x0, y0, x1, y1); scores [B, K]; groups [B, K] integers
    /// - Returns: [B, K] bool, the kept boxes
    public static func nonMaximumSuppression(
        boxes: Tensor, scores: Tensor, groups: Tensor, iouThreshold: Double
    ) -> Tensor {
        let (b, k) = (scores.size(0), scores.size(1))
        let box = boxes.hostValues(Float.self), score = scores.hostValues(Float.self)
        let group = groups.hostValues(Int64.self)
        var keep = [Bool](repeating: false, count: b * k)
        for row in 0..<b {
            let o = row * k
            let kept = NonMaximumSuppression.keep(
                boxes: Array(box[(4 * o)..<(4 * (o + k))]), scores: Array(score[o..<(o + k)]),
                groups: Array(group[o..<(o + k)]), iouThreshold: iouThreshold)
            for i in kept { keep[o + i] = true }
        }
        let host = Tensor(owning: ct_from_data(keep, keep.count, DType.bool.rawValue, [Int64(b), Int64(k)], 2)!)
        let d = boxes.device.code
        let result = Tensor(checking: ct_to_device(host.handle, d.0, d.1))  // not recorded: the node below is
        if let trace = OperationTrace.active {
            trace.append(.nonMaximumSuppression(iouThreshold: iouThreshold), inputs: [boxes, scores, groups], outputs: [result])
        }
        return result
    }
}

extension Tensor {
    /// The elements as `T`, read without being recorded (for operators computed on the host that
    /// record themselves as one node).
    func hostValues<T: TensorElement>(_: T.Type) -> [T] {
        let cast = Tensor(owning: ct_to_dtype(handle, T.dtype.rawValue))
        let src = Tensor(owning: ct_contiguous(cast.handle))
        var out = [T](repeating: T(), count: src.count)
        if !out.isEmpty {
            Torch.check(out.withUnsafeMutableBytes { ct_copy_to(src.handle, $0.baseAddress, $0.count) })
        }
        return out
    }
}

/// The greedy algorithm of `Functional.nonMaximumSuppression` on plain arrays.
public enum NonMaximumSuppression {
    /// - Parameters: boxes, 4·N values (x0, y0, x1, y1); N scores; N group ids
    /// - Returns: indices of the kept boxes, by decreasing score (ties: lower index first)
    public static func keep(boxes: [Float], scores: [Float], groups: [Int64], iouThreshold: Double) -> [Int] {
        let n = scores.count
        precondition(
            boxes.count == 4 * n && groups.count == n,
            "nonMaximumSuppression: \(n) scores, \(boxes.count / 4) boxes, \(groups.count) groups")
        let order = (0..<n).sorted { scores[$0] > scores[$1] || (scores[$0] == scores[$1] && $0 < $1) }
        var byGroup: [Int64: [Int]] = [:]
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
}
