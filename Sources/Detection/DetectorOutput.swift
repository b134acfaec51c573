import Torch

/// Class logits and boxes of one set of predictions.
public struct Predictions: @unchecked Sendable {
    /// [B, Q, numClasses] sigmoid-focal logits (no background column).
    public var logits: Tensor
    /// [B, Q, 4] cxcywh normalised to the unpadded resized image.
    public var boxes: Tensor

    public init(logits: Tensor, boxes: Tensor) {
        self.logits = logits
        self.boxes = boxes
    }
}

/// What a detector's forward pass returns.
public struct DetectorOutput: @unchecked Sendable {
    /// The last decoder layer's predictions.
    public var final: Predictions
    /// Earlier decoder layers' predictions, first layer first.
    public var auxiliary: [Predictions]
    /// Two-stage encoder proposals (Salience DETR).
    public var encoder: Predictions?
    /// Predictions of the denoising queries (Salience DETR training with targets), nil otherwise.
    public var denoising: DenoisingPredictions?
    /// Salience logits and the geometry its loss needs (Salience DETR), nil otherwise.
    public var salience: SalienceMaps?

    public init(
        final: Predictions, auxiliary: [Predictions], encoder: Predictions? = nil,
        denoising: DenoisingPredictions? = nil, salience: SalienceMaps? = nil
    ) {
        self.final = final
        self.auxiliary = auxiliary
        self.encoder = encoder
        self.denoising = denoising
        self.salience = salience
    }
}

extension Predictions {
    /// Logits and boxes as float32 (the outputs of a mixed-precision forward).
    public func float32() -> Predictions { Predictions(logits: logits.to(.float32), boxes: boxes.to(.float32)) }
}

extension DetectorOutput {
    /// Every tensor of the output as float32 (a no-op copy of handles for float32 outputs).
    public func float32() -> DetectorOutput {
        var out = self
        out.final = final.float32()
        out.auxiliary = auxiliary.map { $0.float32() }
        out.encoder = encoder?.float32()
        if var d = denoising {
            d.final = d.final.float32()
            d.auxiliary = d.auxiliary.map { $0.float32() }
            out.denoising = d
        }
        if var s = salience {
            s.scores = s.scores.map { $0.to(.float32) }
            out.salience = s
        }
        return out
    }
}

/// The decoder outputs of the contrastive denoising queries, split off the matching queries.
///
/// Slot layout per image: group g occupies queries [g·groupSize, (g+1)·groupSize); its first
/// half holds the positive (lightly noised) copies of the image's targets in target order, the
/// second half the negative copies; unused slots (images with fewer targets than the batch
/// maximum) hold zero queries. Target j of group g is therefore supervised at g·groupSize + j.
public struct DenoisingPredictions: @unchecked Sendable {
    /// Last decoder layer, logits [B, D, numClasses] and boxes [B, D, 4], D = groups · groupSize.
    public var final: Predictions
    /// Earlier decoder layers, first layer first.
    public var auxiliary: [Predictions]
    /// Number of denoising groups G.
    public var groups: Int
    /// Queries per group, 2 · (most targets in one image) (`max_gt_num_per_image` as returned
    /// by the official generator).
    public var groupSize: Int

    public init(final: Predictions, auxiliary: [Predictions], groups: Int, groupSize: Int) {
        self.final = final
        self.auxiliary = auxiliary
        self.groups = groups
        self.groupSize = groupSize
    }
}

/// Salience (foreground) logits per feature level with the geometry of the salience loss.
public struct SalienceMaps: @unchecked Sendable {
    /// [B, 1, h_l, w_l] per level, finest first, padding not masked.
    public var scores: [Tensor]
    /// Padded batch size over feature size per level and axis, as floats, as the official
    /// criterion computes them: a 224-wide batch with a 4-wide map has stride 56, not 64.
    public var strides: [(height: Double, width: Double)]
    /// The batch's padding mask, [B, H, W] bool, true = padding.
    public var mask: Tensor

    public init(scores: [Tensor], strides: [(height: Double, width: Double)], mask: Tensor) {
        self.scores = scores
        self.strides = strides
        self.mask = mask
    }

    /// (h, w) of every image before padding, in pixels (targets are normalised by these): the
    /// non-padded rows of its first column and columns of its first row (read from the mask when
    /// asked, so that a forward reads nothing back from its tensors).
    public var imageSizes: [(height: Int, width: Int)] {
        let valid = mask.logicalNot()
        let h = valid.select(dim: 2, index: 0).sum(dim: 1).ints, w = valid.select(dim: 1, index: 0).sum(dim: 1).ints
        return zip(h, w).map { (height: $0, width: $1) }
    }
}
