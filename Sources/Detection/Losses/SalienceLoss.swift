import Torch

/// The salience (foreground) loss of Salience DETR (the official `SalienceCriterion`).
///
/// Targets: every feature location (pixel centre (i + 0.5)·stride per axis, stride = padded
/// batch size / feature size as a float) inside a target box gets the box's centredness
/// confidence 1 − sqrt(((l − r)/(l + r))² + ((t − b)/(t + b))²)/2 (l, t, r, b = distances to the
/// box sides, pixels of the resized image); a location keeps the best confidence over boxes and
/// only if some box containing it has max(l, t, r, b) in the level's range (lo, hi]; all other
/// locations are 0. Loss: `softSigmoidFocalLoss` of the logits of all B·N locations (padding
/// included) against these targets, times N, over max(#targets > 0, 1).
/// The official `noise_scale` (0 in every config) is not supported.
public struct SalienceLoss: Sendable {
    /// (lo, hi] of max(l, t, r, b) per level, finest first.
    public var limitRanges: [(low: Double, high: Double)]
    public var alpha: Double
    public var gamma: Double

    public init(
        limitRanges: [(low: Double, high: Double)] = [(-1, 64), (64, 128), (128, 256), (256, 99999)],
        alpha: Double = 0.25, gamma: Double = 2
    ) {
        self.limitRanges = limitRanges
        self.alpha = alpha
        self.gamma = gamma
    }

    /// Confidence targets per level, [B, h_l·w_l] each.
    /// - Parameter targets: boxes cxcywh normalised by `maps.imageSizes`
    public func targets(_ maps: SalienceMaps, targets: [DetectionTarget]) -> [Tensor] {
        precondition(
            maps.scores.count <= limitRanges.count,
            "SalienceLoss: \(maps.scores.count) levels but \(limitRanges.count) limit ranges")
        let pixelBoxes = zip(targets, maps.imageSizes).map { t, size in
            let scale = Tensor([Float(size.width), Float(size.height), Float(size.width), Float(size.height)])
            return BoxOps.cxcywhToXyxy(t.boxes) * (scale.to(t.boxes.device))  // [n, 4]
        }
        return maps.scores.enumerated().map { l, score in
            let (h, w) = (score.size(-2), score.size(-1))
            let device = score.device
            let ys = (Tensor.arange(from: 0, to: Double(h), device: device) + 0.5) * maps.strides[l].height
            let xs = (Tensor.arange(from: 0, to: Double(w), device: device) + 0.5) * maps.strides[l].width
            let y = ys.view(h, 1).expand([h, w]).reshape(-1, 1), x = xs.view(1, w).expand([h, w]).reshape(-1, 1)
            return Tensor.stack(
                pixelBoxes.map { boxes in
                    levelTargets(x: x, y: y, boxes: boxes, range: limitRanges[l]).to(score.dtype)
                })
        }
    }

    /// - Parameters: x, y [hw, 1] pixel centres; boxes [n, 4] xyxy pixels
    /// - Returns: [hw]
    func levelTargets(x: Tensor, y: Tensor, boxes: Tensor, range: (low: Double, high: Double)) -> Tensor {
        guard boxes.size(0) > 0 else { return Tensor.zeros([x.size(0)], dtype: x.dtype, device: x.device) }
        let side = boxes.unbind(dim: 1).map { $0.unsqueeze(0) }  // [1, n] each
        let (left, top, right, bottom) = (x - side[0], y - side[1], side[2] - x, side[3] - y)  // [hw, n]
        let distances = Tensor.stack([left, top, right, bottom], dim: -1)  // [hw, n, 4]
        let inside = distances.min(dim: -1).values .> 0
        let largest = distances.max(dim: -1).values
        let inLevel = (largest .> range.low) .& (largest .<= range.high)
        let dx = (left - right) / (left + right), dy = (top - bottom) / (top + bottom)
        let confidence = 1 - (dx.pow(2) + dy.pow(2)).sqrt() / 2
        let best = confidence.maskedFill(inside.logicalNot(), 0).max(dim: -1).values  // [hw]
        let positive = (inside .& inLevel).any(dims: [-1])
        return best.maskedFill(positive.logicalNot(), 0)
    }

    /// - Returns: `loss_salience` (unweighted scalar)
    public func callAsFunction(_ maps: SalienceMaps, targets: [DetectionTarget]) -> Tensor {
        let target = Tensor.cat(self.targets(maps, targets: targets), dim: 1)  // [B, N]
        let logits = MultiLevelLayout.flatten(maps.scores).squeeze(dim: -1)  // [B, N]
        let positives = (target .> 0).sum().clamp(min: 1)
        return softSigmoidFocalLoss(logits, target, normalizer: positives, alpha: alpha, gamma: gamma)
            * Double(logits.size(1))
    }
}
