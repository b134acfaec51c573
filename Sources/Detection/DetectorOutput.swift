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

    public init(final: Predictions, auxiliary: [Predictions], encoder: Predictions? = nil) {
        self.final = final
        self.auxiliary = auxiliary
        self.encoder = encoder
    }
}
