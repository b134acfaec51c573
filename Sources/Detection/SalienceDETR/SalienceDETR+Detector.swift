import Torch
import Vision

extension SalienceDETR: Detector {
    /// Training forward. Denoising queries from `targets` are not generated yet (a later issue):
    /// targets are ignored and the pass equals `forward(images:mask:training:)`.
    public func forward(_ batch: ImageBatch, targets: [DetectionTarget]?, training: Bool,
                        generator: Generator?) -> DetectorOutput {
        var m = self
        m.generator = generator
        return m.forward(images: batch.images, mask: batch.mask, training: training).output
    }

    public func forward(_ batch: ImageBatch, timer: StageTimer) -> DetectorOutput {
        forward(images: batch.images, mask: batch.mask, training: false, timer: timer).output
    }
}
