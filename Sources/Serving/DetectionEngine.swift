import Detection
import Diagnostics
import Foundation
import Torch
import Vision

/// The resized size of an image: the images of one batch all have the same one.
public struct BatchKey: Hashable, Sendable {
    public var height: Int
    public var width: Int
}

extension PreparedImage {
    /// Images with equal keys may share a batch (see `DetectionEngine.batchKey`).
    public var batchKey: BatchKey { DetectionEngine.batchKey(resizedHeight: resized.height, width: resized.width) }
}

/// A loaded detector with its class names, evaluation transform and post-processing: the part
/// of the service that computes. `prepare` may run on any thread; `detect` and `warmUp` run
/// forwards and are called from one thread at a time (the batch scheduler's worker).
public final class DetectionEngine: @unchecked Sendable {
    /// The pipeline `detr predict` runs.
    public let predictor: Predictor
    /// The config as the caller named it (a preset name or a file path).
    public let configName: String

    public init(predictor: Predictor, configName: String) {
        self.predictor = predictor
        self.configName = configName
    }

    public var detector: any Detector { predictor.detector }
    public var names: [String] { predictor.names }
    public var device: Device { predictor.device }
    /// fp32, or the autocast precision of every forward.
    public var precision: Precision { predictor.precision }
    public var config: ModelConfig { predictor.config }

    /// The key of an image resized to (h, w): the resized size itself. A batch of images of one
    /// resized size has no padding beyond what each has alone, and every image has the same valid
    /// area, on which Salience DETR's token selection depends (measured). Sharing only the padded size
    /// is not enough for Salience DETR: its selections then change (measured on the demo model:
    /// scores by up to 0.24, boxes by up to 183 px). What remains are the float rounding
    /// differences of batched kernels (oneDNN convolutions, GEMMs), which are not bitwise
    /// batch-size invariant: on the demo samples up to 1.6e-6 in a score and 8e-5 px in a box,
    /// with the same labels in the same order (`--max-batch 1` is bitwise `detr predict`).
    public static func batchKey(resizedHeight h: Int, width w: Int) -> BatchKey {
        BatchKey(height: h, width: w)
    }

    /// Resizes an image as `detr predict` does.
    /// - Throws: `TorchError` when libtorch cannot (memory)
    public func prepare(_ image: Image) throws -> PreparedImage { try predictor.prepare(image) }

    /// One forward over `images` (padded together) and each image's detections post-processed
    /// with its own options, in order.
    /// - Throws: `TorchError` when the device cannot take the batch
    public func detect(_ images: [PreparedImage], options: [DetectionOptions]) throws -> [[DetectedObject]] {
        precondition(images.count == options.count && !images.isEmpty, "detect: empty or mismatched batch")
        return try predictor.predict(images, options: options).detections
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
        DetectionEngine(
            predictor: try Predictor.load(config: config, weights: weights, device: device, precision: precision),
            configName: config)
    }
}
