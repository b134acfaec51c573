import Torch
import Vision

extension SalienceDETR: Detector {
    public var modelConfig: ModelConfig { .salienceDetr(config) }

    /// A training forward with targets adds contrastive denoising queries drawn from
    /// `options.generator` (which also drives dropout); their predictions come back in
    /// `output.denoising`.
    public func forward(_ batch: ImageBatch, targets: [DetectionTarget]?, options: ForwardOptions) -> DetectorOutput {
        var denoising: DenoisingQueries?
        if options.training, let targets {
            denoising = denoisingQueries(for: targets, noise: denoisingNoise(generator: options.generator))
        }
        return forward(
            images: batch.images, mask: batch.mask, training: options.training,
            generator: options.generator, denoising: denoising, timer: options.timer,
            batchStatistics: options.batchStatistics, encoderQueries: options.encoderQueries,
            checkpointing: options.checkpointing
        ).output
    }
}
