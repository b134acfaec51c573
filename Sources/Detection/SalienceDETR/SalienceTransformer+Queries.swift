import Torch

extension SalienceTransformer {
    /// Two-stage query selection: the K = min(4·numQueries, N) tokens with the highest best-class
    /// logit, thinned by NMS per image and level on 2×2 pseudo-boxes (x−1, y−1, x+1, y+1) in that
    /// level's grid units (IoU > 0.3 suppressed, i.e. 4-neighbours of a kept token), survivors by
    /// decreasing score.
    ///
    /// The official code keeps min(numQueries, fewest survivors over the batch) per image and then
    /// fails when that is below numQueries. Here every image keeps Q = min(numQueries, K) tokens:
    /// its NMS survivors first, then — only when it has fewer than Q survivors — its suppressed
    /// tokens in score order. Whenever every image has at least numQueries survivors (the only
    /// case the official code runs), the result is identical to the official one.
    /// - Parameters:
    ///   - logits: [B, N, numClasses] encoder class logits; boxes [B, N, 4] encoder boxes
    func selectQueries(logits: Tensor, boxes: Tensor, layout: MultiLevelLayout) -> QuerySelection {
        let (b, n) = (logits.size(0), logits.size(1))
        let k = Swift.min(4 * numQueries, n)
        let q = Swift.min(numQueries, k)
        let top = logits.amax(dims: [-1]).topk(k, dim: 1)  // [B, K]
        let scores = top.values.to(.float32).floats, tokens = top.indices.ints
        var selected: [Int] = []
        selected.reserveCapacity(b * q)
        for i in 0..<b {
            let row = Array(tokens[(i * k)..<((i + 1) * k)])
            let rowScores = Array(scores[(i * k)..<((i + 1) * k)])
            var pseudo: [Float] = [], groups: [Int] = []
            pseudo.reserveCapacity(4 * k)
            for t in row {
                let l = layout.level(ofToken: t)
                let local = t - layout.starts[l], w = layout.shapes[l].width
                let (x, y) = (Float(local % w), Float(local / w))
                pseudo += [x - 1, y - 1, x + 1, y + 1]
                groups.append(l)
            }
            let kept = BoxOps.batchedNMS(
                boxes: pseudo, scores: rowScores, groups: groups,
                iouThreshold: Self.nmsIoUThreshold)
            var order = kept
            if order.count < q {
                let keptSet = Set(kept)
                order += (0..<k).filter { !keptSet.contains($0) }
            }
            selected += order.prefix(q).map { row[$0] }
        }
        let index = Tensor(selected, shape: [b, q]).to(logits.device)  // [B, Q]
        let classes = logits.size(2)
        return QuerySelection(
            topkScoresPreNMS: top.values, topkIndexPreNMS: top.indices, topkIndex: index,
            logits: logits.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, classes])),
            boxes: boxes.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, 4])))
    }
}
