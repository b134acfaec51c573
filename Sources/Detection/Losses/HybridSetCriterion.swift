import Torch

/// The set losses of Salience DETR (`HybridSetCriterion`): IoU-aware classification
/// (`loss_class`, see `varifocalLoss`), L1 (`loss_bbox`) and GIoU (`loss_giou`) box losses of one
/// prediction set for given (prediction, target) pairs. Unweighted.
public struct HybridSetCriterion: Sendable {
    public var matcher: HungarianMatcher
    public var numClasses: Int
    public var alpha: Double
    public var gamma: Double

    public init(matcher: HungarianMatcher, numClasses: Int, alpha: Double = 0.25, gamma: Double = 2) {
        self.matcher = matcher
        self.numClasses = numClasses
        self.alpha = alpha
        self.gamma = gamma
    }

    /// Hungarian matching of one prediction set (per image, no gradient).
    public func match(_ p: Predictions, targets: [DetectionTarget]) throws -> [MatchIndices] {
        try matcher(logits: p.logits, boxes: p.boxes, targets: targets)
    }

    /// `loss_class`, `loss_bbox`, `loss_giou` of one prediction set.
    /// - Parameters:
    ///   - p: logits [B, Q, numClasses], boxes [B, Q, 4]
    ///   - indices: per image, the supervised predictions and their targets
    ///   - numBoxes: normaliser (targets in the batch, at least 1; times the groups for denoising)
    public func losses(
        _ p: Predictions, targets: [DetectionTarget], indices: [MatchIndices],
        numBoxes: Double
    ) -> LossTerms {
        let (b, q) = (p.logits.size(0), p.logits.size(1))
        let device = p.logits.device
        let (bi, qi) = SetCriterion.gatherMatched(indices, device: device)
        let (labels, targetBoxes) = SetCriterion.matchedTargets(targets, indices)
        let sourceBoxes = p.boxes.index([.tensor(bi), .tensor(qi)])  // [M, 4]
        let matched = sourceBoxes.size(0)
        let (sourceXyxy, targetXyxy) = (BoxOps.cxcywhToXyxy(sourceBoxes), BoxOps.cxcywhToXyxy(targetBoxes))

        // IoU-aware targets: the matched prediction's IoU with its target, no gradient.
        let pairIoU = BoxOps.iou(sourceXyxy, targetXyxy).iou
        let iou = (matched == 0 ? pairIoU.sum(dims: [1]) : pairIoU.diagonalEntries()).detach()  // [M]
        let classes = Tensor.full([b, q], numClasses, dtype: .int64, device: device)
            .indexPut([.tensor(bi), .tensor(qi)], labels)
        let onehot = Functional.oneHot(classes, numClasses: numClasses + 1).slice(dim: 2, end: numClasses)
        let score = Tensor.zeros([b, q], dtype: iou.dtype, device: device).indexPut([.tensor(bi), .tensor(qi)], iou)

        var terms = LossTerms()
        terms.append(
            "loss_class",
            varifocalLoss(
                p.logits, onehot: onehot, iou: score, numBoxes: numBoxes,
                alpha: alpha, gamma: gamma) * Double(q))
        terms.append("loss_bbox", Functional.l1Loss(sourceBoxes, targetBoxes, reduction: .sum) / numBoxes)
        let giou = BoxOps.generalizedIoU(sourceXyxy, targetXyxy)
        let diagonal = matched == 0 ? giou.sum(dims: [1]) : giou.diagonalEntries()
        terms.append("loss_giou", (1 - diagonal).sum() / numBoxes)
        return terms
    }

    /// The fixed pairs of contrastive denoising: target j of image b is supervised at query
    /// g·groupSize + j of every group g (group-major); negatives and empty slots get none.
    public static func denoisingIndices(targetCounts: [Int], groups: Int, groupSize: Int) -> [MatchIndices] {
        targetCounts.map { n in
            var predictions: [Int] = [], targets: [Int] = []
            for g in 0..<groups {
                for j in 0..<n {
                    predictions.append(g * groupSize + j)
                    targets.append(j)
                }
            }
            return MatchIndices(predictions: predictions, targets: targets)
        }
    }
}
