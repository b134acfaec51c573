import Detection
import Torch
import Vision

/// One forward pass of `detr predict` over a batch of pictures (images or video frames alike):
/// preprocessing, padding into one batch, the detector, post-processing.
struct PredictBatch {
    let detector: any Detector
    let transform: EvalTransform
    let post: PostProcess
    let device: Device
    let precision: Precision
    let threshold: Float
    let topK: Int?

    /// - Returns: the detections of each picture in original pixels, the detector's output and the
    ///   batch it ran on (for the salience maps).
    /// - Throws: `TorchError` when libtorch fails (memory, a device)
    func callAsFunction(
        _ images: [Image]
    ) throws -> (detections: [[DetectedObject]], output: DetectorOutput, batch: ImageBatch) {
        try Torch.catching {
            let batch = transform.batch(images).to(device)
            let output = withNoGrad { detector(batch, options: ForwardOptions(precision: precision)) }
            let detections = post.detections(
                logits: output.final.logits, boxes: output.final.boxes,
                originalSizes: batch.originalSizes, threshold: threshold, topK: topK)
            return (detections, output, batch)
        }
    }
}
