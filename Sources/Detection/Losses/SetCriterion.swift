import Torch

/// Conditional DETR's SetCriterion: focal classification (`loss_ce`), L1 and GIoU box losses
/// for the final and every auxiliary output, each matched independently; `class_error` and
/// `cardinality_error` are logged. Terms are unweighted (the trainer applies the weights).
public struct SetCriterion: Sendable {
    public var matcher: HungarianMatcher
    public var numClasses: Int
    public var focalAlpha: Double
    /// Group DETR groups in the predictions (matched per group; the box count is multiplied by it).
    public var groups: Int

    public init(matcher: HungarianMatcher, numClasses: Int, focalAlpha: Double = 0.25, groups: Int = 1) {
        self.matcher = matcher
        self.numClasses = numClasses
        self.focalAlpha = focalAlpha
        self.groups = groups
    }

    /// (batch index, prediction index) pairs of matched predictions, and the matched target rows.
    static func gatherMatched(_ indices: [MatchIndices], device: Device) -> (batch: Tensor, query: Tensor) {
        var b: [Int] = [], q: [Int] = []
        for (i, m) in indices.enumerated() {
            b += Array(repeating: i, count: m.predictions.count)
            q += m.predictions
        }
        return (Tensor(b).to(device), Tensor(q).to(device))
    }

    /// Targets reordered by the matching and concatenated over the batch.
    static func matchedTargets(
        _ targets: [DetectionTarget], _ indices: [MatchIndices]
    ) -> (labels: Tensor, boxes: Tensor) {
        let labels = zip(targets, indices).map { t, m in
            t.labels.indexSelect(dim: 0, index: Tensor(m.targets).to(t.labels.device))
        }
        let boxes = zip(targets, indices).map { t, m in
            t.boxes.indexSelect(dim: 0, index: Tensor(m.targets).to(t.boxes.device))
        }
        return (Tensor.cat(labels), Tensor.cat(boxes))
    }

    /// Losses of one prediction set.
    func losses(
        _ p: Predictions, targets: [DetectionTarget], indices: [MatchIndices], numBoxes: Double,
        log: Bool
    ) -> LossTerms {
        var terms = LossTerms()
        let (b, q, c) = (p.logits.size(0), p.logits.size(1), p.logits.size(2))
        let (bi, qi) = Self.gatherMatched(indices, device: p.logits.device)
        let (labels, tgtBoxes) = Self.matchedTargets(targets, indices)
        // One-hot targets; unmatched queries are all-zero (the extra "no object" column is dropped).
        let classes = Tensor.full([b, q], numClasses, dtype: .int64, device: p.logits.device)
            .indexPut([.tensor(bi), .tensor(qi)], labels)
        let onehot = Tensor.zeros([b, q, c + 1], dtype: p.logits.dtype, device: p.logits.device)
            .scatter(
                dim: 2, index: classes.unsqueeze(-1),
                src: Tensor.ones([b, q, 1], dtype: p.logits.dtype, device: p.logits.device)
            )
            .slice(dim: 2, end: c)
        terms.append("loss_ce", sigmoidFocalLoss(p.logits, onehot, numBoxes: numBoxes, alpha: focalAlpha) * Double(q))
        if log {
            let matched = p.logits.index([.tensor(bi), .tensor(qi)])
            let err: Tensor
            if labels.count == 0 {
                err = Tensor.full([], 100, dtype: .float32)
            } else {
                let correct = (matched.argmax(dim: -1) .== labels).to(.float32).sum()
                err = 100 - correct * (100.0 / Double(labels.count))
            }
            terms.append("class_error", err.detach())
        }
        // Cardinality: predictions whose argmax is not the last column, vs number of targets.
        let card = (p.logits.argmax(dim: -1) .!= (c - 1)).sum(dim: 1).to(.float32)
        let lengths = Tensor(targets.map { Float($0.count) }).to(card.device)
        terms.append("cardinality_error", Functional.l1Loss(card.detach(), lengths).detach())
        let srcBoxes = p.boxes.index([.tensor(bi), .tensor(qi)])
        terms.append("loss_bbox", Functional.l1Loss(srcBoxes, tgtBoxes, reduction: .sum) / numBoxes)
        let giou = BoxOps.generalizedIoU(BoxOps.cxcywhToXyxy(srcBoxes), BoxOps.cxcywhToXyxy(tgtBoxes))
        let diag = srcBoxes.size(0) == 0 ? giou.sum() : giou.diagonalEntries()
        terms.append("loss_giou", (1 - diag).sum() / numBoxes)
        return terms
    }

    /// All loss terms with the official names (`loss_ce`, `loss_bbox`, `loss_giou`, `class_error`,
    /// `cardinality_error`, then `_0`, `_1`, ... for auxiliary outputs) and the matchings used
    /// (final first, then auxiliary layers).
    /// - Parameter targetsPerProcess: data-parallel training's all-reduced target count divided
    ///   by the number of processes (nil: this batch's count); times `groups`, clamped at 1
    public func callAsFunction(
        _ output: DetectorOutput, targets: [DetectionTarget], targetsPerProcess: Double? = nil
    ) throws
        -> (terms: LossTerms, matches: [[MatchIndices]])
    {
        let count = targetsPerProcess ?? Double(targets.reduce(0) { $0 + $1.count })
        let numBoxes = Swift.max(count * Double(groups), 1)
        var terms = LossTerms()
        var matches: [[MatchIndices]] = []
        let finalIdx = try matcher(
            logits: output.final.logits, boxes: output.final.boxes, targets: targets, groups: groups)
        matches.append(finalIdx)
        let final = losses(output.final, targets: targets, indices: finalIdx, numBoxes: numBoxes, log: true)
        // Official order: loss_ce, class_error, loss_bbox, loss_giou, cardinality_error.
        for name in ["loss_ce", "class_error", "loss_bbox", "loss_giou", "cardinality_error"] {
            if let v = final[name] { terms.append(name, v) }
        }
        for (i, aux) in output.auxiliary.enumerated() {
            let idx = try matcher(logits: aux.logits, boxes: aux.boxes, targets: targets, groups: groups)
            matches.append(idx)
            let t = losses(aux, targets: targets, indices: idx, numBoxes: numBoxes, log: false)
            for name in ["loss_ce", "loss_bbox", "loss_giou", "cardinality_error"] {
                if let v = t[name] { terms.append("\(name)_\(i)", v) }
            }
        }
        return (terms, matches)
    }
}

extension Tensor {
    /// Main diagonal of a square matrix [N, N] -> [N].
    func diagonalEntries() -> Tensor {
        let n = size(0)
        let idx = Tensor.arange(0, n, device: device)
        return index([.tensor(idx), .tensor(idx)])
    }
}
