import Torch

/// Sigmoid focal loss summed per query class, averaged over queries, summed, divided by
/// `numBoxes` (DETR's `sigmoid_focal_loss`).
/// - Parameters: logits, targets [B, Q, C] (targets in [0, 1])
public func sigmoidFocalLoss(
    _ logits: Tensor, _ targets: Tensor, numBoxes: Double, alpha: Double = 0.25,
    gamma: Double = 2
) -> Tensor {
    let prob = logits.sigmoid()
    let ce = Functional.binaryCrossEntropyWithLogits(logits, targets, reduction: .none)
    let pT = prob * targets + (1 - prob) * (1 - targets)
    var loss = ce * (1 - pT).pow(gamma)
    if alpha >= 0 {
        loss = (alpha * targets + (1 - alpha) * (1 - targets)) * loss
    }
    return loss.mean(dim: 1).sum() / numBoxes
}
