import Torch

/// DETR's Hungarian matcher with the focal-style classification cost of Conditional /
/// Deformable / Salience DETR. It only matches: no gradients flow through it.
public struct HungarianMatcher: Sendable {
    public var costClass: Double
    public var costBbox: Double
    public var costGiou: Double
    public var alpha: Double
    public var gamma: Double
    /// Added inside the logs (1e-8 in Conditional DETR, 1e-6 in Salience DETR).
    public var eps: Double

    public init(
        costClass: Double = 2, costBbox: Double = 5, costGiou: Double = 2, alpha: Double = 0.25,
        gamma: Double = 2, eps: Double = 1e-8
    ) {
        self.costClass = costClass
        self.costBbox = costBbox
        self.costGiou = costGiou
        self.alpha = alpha
        self.gamma = gamma
        self.eps = eps
    }

    /// Cost matrix of every prediction against every target of the batch.
    /// - Parameters: logits [B, Q, C]; boxes [B, Q, 4] cxcywh; targets' labels/boxes concatenated
    /// - Returns: [B, Q, T] with T = Σ targets
    public func costMatrix(logits: Tensor, boxes: Tensor, targets: [DetectionTarget]) -> Tensor {
        let (b, q) = (logits.size(0), logits.size(1))
        let prob = logits.flatten(startDim: 0, endDim: 1).sigmoid()  // [B·Q, C]
        let outBoxes = boxes.flatten(startDim: 0, endDim: 1)  // [B·Q, 4]
        let ids = Tensor.cat(targets.map(\.labels))
        let tgtBoxes = Tensor.cat(targets.map(\.boxes))
        let neg = (1 - alpha) * prob.pow(gamma) * -((1 - prob + eps).log())
        let pos = alpha * (1 - prob).pow(gamma) * -((prob + eps).log())
        let cls = pos.indexSelect(dim: 1, index: ids) - neg.indexSelect(dim: 1, index: ids)
        let l1 = outBoxes.cdist(tgtBoxes, p: 1)
        let giou = -BoxOps.generalizedIoU(BoxOps.cxcywhToXyxy(outBoxes), BoxOps.cxcywhToXyxy(tgtBoxes))
        let c = costBbox * l1 + costClass * cls + costGiou * giou
        return c.view(b, q, -1)
    }

    /// Optimal one-to-one matching per image (and per Group DETR group).
    /// - Parameter groups: the Q predictions form `groups` consecutive groups, each matched to all
    ///   targets independently; an image's pairs list group 0's first, then group 1's (prediction
    ///   indices offset by the group start), as the official Group DETR matcher does.
    /// - Throws: `LinearSumAssignment.InvalidCost` (with the image) when a cost is NaN or infinite.
    public func callAsFunction(
        logits: Tensor, boxes: Tensor, targets: [DetectionTarget], groups: Int = 1
    ) throws
        -> [MatchIndices]
    {
        let sizes = targets.map(\.count)
        let total = sizes.reduce(0, +)
        guard total > 0 else { return targets.map { _ in MatchIndices(predictions: [], targets: []) } }
        let c = withNoGrad { costMatrix(logits: logits.detach(), boxes: boxes.detach(), targets: targets) }
        let q = c.size(1)
        precondition(groups >= 1 && q % groups == 0, "HungarianMatcher: \(q) predictions do not form \(groups) groups")
        let rows = q / groups
        let values = c.to(.float64).contiguous().toArray(Double.self)  // [B, Q, T]
        var out: [MatchIndices] = []
        var offset = 0
        for (i, n) in sizes.enumerated() {
            var match = MatchIndices(predictions: [], targets: [])
            for g in 0..<groups {
                var block = [Double](repeating: 0, count: rows * n)
                for r in 0..<rows {
                    let base = (i * q + g * rows + r) * total + offset
                    for j in 0..<n { block[r * n + j] = values[base + j] }
                }
                do {
                    let pairs = try LinearSumAssignment.solve(cost: block, rows: rows, columns: n)
                    match.predictions += pairs.map { g * rows + $0.row }
                    match.targets += pairs.map(\.column)
                } catch let e as LinearSumAssignment.InvalidCost {
                    throw MatchingError(image: i, cause: e)
                }
            }
            out.append(match)
            offset += n
        }
        return out
    }
}

/// A matching that cannot be computed (non-finite predictions, usually a diverged model).
public struct MatchingError: SubjectError {
    public var image: Int
    public var cause: LinearSumAssignment.InvalidCost
    public var subject: String? { nil }
    public var problem: String { "matching image \(image) of the batch: \(cause)" }
}
