import Detection
import Vision

/// What the data loader does to each decoded sample before normalisation: the random training
/// augmentation, or the deterministic evaluation resize (for validation during training).
public enum SampleTransform: Sendable, Equatable {
    /// Random flip / resize / crop (draws from the sample's own random stream).
    case train(DetectionAugmentation)
    /// The official evaluation resize (`EvalTransform.resize`), no randomness; boxes are scaled
    /// by the same per-axis ratios.
    case eval(EvalTransform)
    /// No geometric change (the decoded image as is).
    case identity

    /// The transformed sample.
    public func apply(_ sample: TrainingSample, random rng: inout SeededRandom) -> TrainingSample {
        switch self {
        case .train(let augmentation):
            return augmentation.apply(sample, random: &rng)
        case .eval(let transform):
            let resized = transform.resize(sample.image)
            let rw = Float(Double(resized.width) / Double(sample.image.width))
            let rh = Float(Double(resized.height) / Double(sample.image.height))
            var out = sample
            out.image = resized
            out.boxes = sample.boxes.map { PixelBox(x0: $0.x0 * rw, y0: $0.y0 * rh, x1: $0.x1 * rw, y1: $0.y1 * rh) }
            return out
        case .identity:
            return sample
        }
    }
}
