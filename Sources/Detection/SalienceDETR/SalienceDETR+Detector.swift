import Torch
import Vision

extension SalienceDETR: Detector {
    /// Training forward: with `training` and targets, contrastive denoising queries drawn from
    /// `generator` (libtorch's global generator when nil) join the decoder and their predictions
    /// come back in `output.denoising`; `generator` also drives dropout.
    public func forward(_ batch: ImageBatch, targets: [DetectionTarget]?, training: Bool,
                        generator: Generator?) -> DetectorOutput {
        var m = self
        m.generator = generator
        var denoising: DenoisingQueries?
        if training, let targets {
            denoising = m.denoisingQueries(for: targets, noise: m.denoisingNoise(generator: generator))
        }
        return m.forward(images: batch.images, mask: batch.mask, training: training, denoising: denoising).output
    }

    public func forward(_ batch: ImageBatch, timer: StageTimer) -> DetectorOutput {
        forward(images: batch.images, mask: batch.mask, training: false, timer: timer).output
    }
}
