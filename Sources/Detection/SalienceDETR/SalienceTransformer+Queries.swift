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
        // Each selected token's level (how many later levels start at or before it) and its
        // (x, y) in that level's grid.
        let device = logits.device
        let levels = layout.levelCount
        let starts = Tensor(layout.starts, shape: [levels]).to(device)
        let widths = Tensor(layout.shapes.map(\.width), shape: [levels]).to(device)
        let level = (top.indices.unsqueeze(-1) .>= starts.slice(dim: 0, start: 1)).to(.int64).sum(dim: -1)  // [B, K]
        func ofLevel(_ table: Tensor) -> Tensor { table.indexSelect(dim: 0, index: level.flatten()).view(b, k) }
        let local = top.indices - ofLevel(starts), width = ofLevel(widths)
        let x = local.remainder(width).to(.float32), y = local.floorDivide(width).to(.float32)
        let pseudo = Tensor.stack([x - 1, y - 1, x + 1, y + 1], dim: -1)  // [B, K, 4]
        // NMS visits the tokens in their top-k order: the scores it is given are the ranks
        // (k − position, all distinct), so no runtime's order among equal scores is relied on.
        let position = Tensor.arange(k, device: device).unsqueeze(0)
        let kept = Functional.nonMaximumSuppression(
            boxes: pseudo, scores: (Float(k) - position.to(.float32)).expand([b, k]), groups: level,
            iouThreshold: Self.nmsIoUThreshold)
        // Survivors in score order, then the suppressed tokens in score order: positions of the
        // suppressed ones move behind all survivors.
        let key = position + kept.logicalNot().to(.int64) * k  // [B, K], distinct per row
        let order = key.topk(q, dim: 1, largest: false).indices
        let index = top.indices.gather(dim: 1, index: order)  // [B, Q]
        let classes = logits.size(2)
        return QuerySelection(
            topkScoresPreNMS: top.values, topkIndexPreNMS: top.indices, topkIndex: index,
            logits: logits.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, classes])),
            boxes: boxes.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, 4])))
    }
}
