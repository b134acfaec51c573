import Torch
import Vision

/// The official PostProcess of both detectors: sigmoid scores, top-k over queries × classes,
/// boxes converted to xyxy and scaled to the original image size. No threshold, no NMS.
public struct PostProcess: Sendable {
    public var numSelect: Int

    public init(numSelect: Int) { self.numSelect = numSelect }

    /// Tensors of the top-k detections.
    /// - Parameters:
    ///   - logits: [B, Q, C] class logits.
    ///   - boxes: [B, Q, 4] cxcywh normalised to the unpadded resized image.
    ///   - originalSizes: (h, w) per image.
    /// - Returns: scores [B, K], labels [B, K] int64, boxes [B, K, 4] xyxy pixels; K = min(numSelect, Q*C).
    public func callAsFunction(
        logits: Tensor, boxes: Tensor, originalSizes: [(height: Int, width: Int)]
    )
        -> (scores: Tensor, labels: Tensor, boxes: Tensor)
    {
        let sizes = Tensor(originalSizes.flatMap { [$0.height, $0.width] }, shape: [originalSizes.count, 2])
        return self(logits: logits, boxes: boxes, originalSizes: sizes.to(boxes.device))
    }

    /// The same, with the original sizes as a tensor (as an exported graph takes them).
    /// - Parameter originalSizes: [B, 2] int64, (h, w) per image
    public func callAsFunction(logits: Tensor, boxes: Tensor, originalSizes: Tensor)
        -> (scores: Tensor, labels: Tensor, boxes: Tensor)
    {
        let (b, q, c) = (logits.size(0), logits.size(1), logits.size(2))
        let prob = logits.sigmoid().view(b, q * c)
        let (scores, index) = prob.topk(Swift.min(numSelect, q * c), dim: 1)
        let query = index.floorDivide(c)
        let labels = index.remainder(c)
        let xyxy = BoxOps.cxcywhToXyxy(boxes)
        let picked = xyxy.gather(dim: 1, index: query.unsqueeze(-1).expand([-1, -1, 4]))
        let (h, w) = (originalSizes.select(dim: 1, index: 0), originalSizes.select(dim: 1, index: 1))
        let scale = Tensor.stack([w, h, w, h], dim: 1).to(picked.dtype).view(b, 1, 4)
        return (scores, labels, picked * scale)
    }

    /// Per-image detections sorted by score: the top `numSelect`, keeping those scoring at least
    /// `threshold`.
    public func detections(
        logits: Tensor, boxes: Tensor, originalSizes: [(height: Int, width: Int)], threshold: Float = 0
    ) -> [[DetectedObject]] {
        let r = self(logits: logits, boxes: boxes, originalSizes: originalSizes)
        let k = r.scores.size(1)
        let scores = r.scores.floats, labels = r.labels.ints, bx = r.boxes.floats
        return (0..<r.scores.size(0)).map { i in
            var out: [DetectedObject] = []
            for j in 0..<k {
                let s = scores[i * k + j]
                guard s >= threshold else { continue }
                let o = (i * k + j) * 4
                out.append(
                    DetectedObject(
                        label: labels[i * k + j], score: s,
                        box: PixelBox(x0: bx[o], y0: bx[o + 1], x1: bx[o + 2], y1: bx[o + 3])))
            }
            return out
        }
    }
}
