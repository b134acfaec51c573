import Detection
import Diagnostics
import Foundation
import NN
import Torch
import Vision

/// What a request asks of its detections: the score threshold and at most how many.
public struct DetectionOptions: Sendable, Equatable {
    public var threshold: Float
    /// At most this many detections (nil: the config's `num_select`), as `detr predict --top-k`.
    public var topK: Int?

    public init(threshold: Float, topK: Int? = nil) {
        self.threshold = threshold
        self.topK = topK
    }
}

/// One image resized and normalised by the model's evaluation transform, ready to be batched.
public struct PreparedImage: @unchecked Sendable {
    /// [3, h, w] float32, normalised.
    public var tensor: Tensor
    /// (h, w) of the original image.
    public var originalSize: (height: Int, width: Int)
    /// Images with equal keys may share a batch (see `DetectionEngine.batchKey`).
    public var batchKey: BatchKey
}

/// The resized size of an image: the images of one batch all have the same one.
public struct BatchKey: Hashable, Sendable {
    public var height: Int
    public var width: Int
}

/// A loaded detector with its class names, evaluation transform and post-processing: the part
/// of the service that computes. `prepare` may run on any thread; `detect` and `warmUp` run
/// forwards and are called from one thread at a time (the batch scheduler's worker).
public final class DetectionEngine: @unchecked Sendable {
    public let detector: any Detector
    public let names: [String]
    public let device: Device
    /// The config as the caller named it (a preset name or a file path).
    public let configName: String
    /// fp32, or the autocast precision of every forward.
    public let precision: Precision
    let transform: EvalTransform
    let postProcess: PostProcess

    public init(
        detector: any Detector, names: [String], device: Device, configName: String, precision: Precision = .fp32
    ) {
        self.detector = detector
        self.precision = precision
        self.names = names
        self.device = device
        self.configName = configName
        self.transform = detector.config.recipe.evalTransform
        self.postProcess = detector.config.recipe.postProcess
    }

    public var config: ModelConfig { detector.config }

    /// The key of an image resized to (h, w): the resized size itself. A batch of images of one
    /// resized size has no padding beyond what each has alone, and every image has the same valid
    /// area, on which Salience DETR's token selection depends (measured). Sharing only the padded size
    /// is not enough for Salience DETR: its selections then change (measured on the demo model:
    /// scores by up to 0.24, boxes by up to 183 px). What remains are the float rounding
    /// differences of batched kernels (oneDNN convolutions, GEMMs), which are not bitwise
    /// batch-size invariant: on the demo samples up to 1.6e-6 in a score and 8e-5 px in a box,
    /// with the same labels in the same order (`--max-batch 1` is bitwise `detr predict`).
    public func batchKey(resizedHeight h: Int, width w: Int) -> BatchKey {
        BatchKey(height: h, width: w)
    }

    /// Resizes and normalises an image as `detr predict` does.
    /// - Throws: `TorchError` when libtorch cannot (memory)
    public func prepare(_ image: Image) throws -> PreparedImage {
        let tensor = try Torch.catching { EvalTransform.normalize(transform.resize(image)) }
        return PreparedImage(
            tensor: tensor, originalSize: (image.height, image.width),
            batchKey: batchKey(resizedHeight: tensor.size(1), width: tensor.size(2)))
    }

    /// One forward over `images` (padded together, as `ImageBatch.collate` pads) and each
    /// image's detections post-processed with its own options, in order.
    /// - Throws: `TorchError` when the device cannot take the batch
    public func detect(_ images: [PreparedImage], options: [DetectionOptions]) throws -> [[DetectedObject]] {
        precondition(images.count == options.count && !images.isEmpty, "detect: empty or mismatched batch")
        return try Torch.catching { try forward(images, options: options) }
    }

    private func forward(_ images: [PreparedImage], options: [DetectionOptions]) throws -> [[DetectedObject]] {
        let batch = ImageBatch.collate(
            images.map(\.tensor), originalSizes: images.map(\.originalSize),
            sizeDivisor: transform.sizeDivisor
        ).to(device)
        let out = withNoGrad { detector(batch, options: ForwardOptions(precision: precision)) }
        return images.indices.map { i in
            var post = postProcess
            if let k = options[i].topK { post.numSelect = k }
            return post.detections(
                logits: out.final.logits.slice(dim: 0, start: i, end: i + 1),
                boxes: out.final.boxes.slice(dim: 0, start: i, end: i + 1),
                originalSizes: [batch.originalSizes[i]], threshold: options[i].threshold, topK: options[i].topK
            )[0]
        }
    }

    /// A forward on a blank image of the config's minimum size, so that the first request does
    /// not pay for the allocator's and the kernels' first use.
    public func warmUp() throws {
        let side = max(32, config.minSize)
        let image = Image(width: side, height: side, fill: (114, 114, 114))
        _ = try detect([try prepare(image)], options: [DetectionOptions(threshold: 1)])
    }
}

extension DetectionEngine {
    /// Loads a detector as `detr predict` does: a preset name or JSON config file, a checkpoint
    /// (.pth or .safetensors) loaded strictly, class names from the checkpoint when it has them.
    /// - Throws: `FileError`, config and checkpoint errors naming the file
    public static func load(
        config: String, weights: String, device: Device = .cpu, precision: Precision = .fp32
    ) throws -> DetectionEngine {
        let (model, names) = try DetectorFactory.load(config: config, weights: weights, device: device)
        return DetectionEngine(
            detector: model, names: names, device: device, configName: config, precision: precision)
    }
}
