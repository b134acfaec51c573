import Vision

extension ConditionalDETR: Detector {
    public var modelConfig: ModelConfig { .conditionalDetr(config) }

    /// Targets are not used by the forward (Conditional DETR has no denoising queries).
    public func forward(_ batch: ImageBatch, targets: [DetectionTarget]?, options: ForwardOptions) -> DetectorOutput {
        forward(
            images: batch.images, mask: batch.mask, training: options.training, generator: options.generator,
            timer: options.timer, checkpointing: options.checkpointing
        ).output
    }
}
