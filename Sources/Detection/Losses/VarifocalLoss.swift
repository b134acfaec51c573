import Torch

/// IoU-aware ("varifocal") classification loss of RT-DETR / Salience DETR
/// (`vari_sigmoid_focal_loss`): BCE-with-logits against target = onehot · IoU, weighted by
/// (1 − α)·p^γ·(1 − onehot) + target with p = sigmoid(logits) DETACHED; summed over classes and
/// queries per image, divided by the query count, summed over the batch, divided by `numBoxes`.
/// - Parameters:
///   - logits: [B, Q, C]
///   - onehot: [B, Q, C] 0/1 (int64 or float)
///   - iou: [B, Q] IoU of each matched prediction with its target, 0 elsewhere (no gradient)
/// - Returns: scalar
public func varifocalLoss(
    _ logits: Tensor, onehot: Tensor, iou: Tensor, numBoxes: Double, alpha: Double = 0.25,
    gamma: Double = 2
) -> Tensor {
    let prob = logits.sigmoid().detach()
    let target = onehot * iou.unsqueeze(-1)
    let weight = (1 - alpha) * prob.pow(gamma) * (1 - onehot) + target
    let loss = Functional.binaryCrossEntropyWithLogits(logits, target, weight: weight, reduction: .none)
    return (loss.sum(dim: 1) / Double(Swift.max(loss.size(1), 1))).sum() / numBoxes
}

/// Salience DETR's `sigmoid_focal_loss` for soft targets t ∈ [0, 1]: BCE-with-logits times
/// (1 − α)·p^γ·(1 − t) + α·t·(1 − p)^γ, the gradient flowing through the weight too; summed over
/// dimension 1 and divided by its size, summed, divided by `normalizer`.
/// - Parameters:
///   - logits, targets: [B, N, ...] same shape
///   - normalizer: scalar tensor or number the summed loss is divided by
/// - Returns: scalar
public func softSigmoidFocalLoss(
    _ logits: Tensor, _ targets: Tensor, normalizer: Tensor, alpha: Double = 0.25,
    gamma: Double = 2
) -> Tensor {
    let prob = logits.sigmoid()
    let weight = (1 - alpha) * prob.pow(gamma) * (1 - targets) + targets * alpha * (1 - prob).pow(gamma)
    let loss = Functional.binaryCrossEntropyWithLogits(logits, targets, reduction: .none) * weight
    return (loss.sum(dim: 1) / Double(Swift.max(loss.size(1), 1))).sum() / normalizer
}
