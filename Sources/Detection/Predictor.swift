import Foundation
import Torch
import Vision

/// What a caller asks of the detections of one image: the score threshold and at most how many.
public struct DetectionOptions: Sendable, Equatable {
    /// Detections scoring below this are dropped (0 keeps all).
    public var threshold: Float
    /// The top-k of the post-processing: at most this many detections (nil: the config's
    /// `num_select`, the official evaluation's number).
    public var topK: Int?

    public init(threshold: Float = 0, topK: Int? = nil) {
        self.threshold = threshold
        self.topK = topK
    }
}

/// One image resized by the model's evaluation transform (still 8-bit: a quarter of its float
/// input's memory), ready to be batched.
public struct PreparedImage: Sendable {
    /// The resized image; its size is the valid area of the model input.
    public var resized: Image
    /// (h, w) of the original image (boxes are scaled to it).
    public var originalSize: (height: Int, width: Int)

    public init(resized: Image, originalSize: (height: Int, width: Int)) {
        self.resized = resized
        self.originalSize = originalSize
    }
}

/// The result of one forward over a batch: each image's detections in original pixels, and the
/// detector's output and input for callers that draw more (salience maps).
public struct Prediction: @unchecked Sendable {
    public var detections: [[DetectedObject]]
    public var output: DetectorOutput
    public var batch: ImageBatch
}

/// The inference pipeline every caller shares (`detr predict`, the service, evaluation, the
/// benchmark): images → evaluation resize → one normalised, padded batch → forward without
/// gradients (under autocast for bf16/fp16) → the official post-processing → detections.
public struct Predictor: @unchecked Sendable {
    public let detector: any Detector
    /// Class names by label (from the checkpoint when it stores them, else COCO's).
    public let names: [String]
    public let device: Device
    public let precision: Precision
    public let transform: EvalTransform
    public let postProcess: PostProcess

    public init(detector: any Detector, names: [String]? = nil, device: Device = .cpu, precision: Precision = .fp32) {
        self.detector = detector
        self.names = names ?? COCOClassNames.names(numClasses: detector.modelConfig.numClasses)
        self.device = device
        self.precision = precision
        self.transform = detector.modelConfig.recipe.evalTransform
        self.postProcess = detector.modelConfig.recipe.postProcess
    }

    /// A preset or JSON config file with its weights (.pth or .safetensors) loaded strictly.
    /// - Throws: `FileError`, config and checkpoint errors naming the file
    public static func load(
        config: String, weights: String, device: Device = .cpu, precision: Precision = .fp32
    ) throws -> Predictor {
        let (detector, names) = try DetectorFactory.load(config: config, weights: weights, device: device)
        return Predictor(detector: detector, names: names, device: device, precision: precision)
    }

    public var config: ModelConfig { detector.modelConfig }

    /// The image resized as the official evaluation resizes it.
    /// - Throws: `TorchError` when libtorch cannot (memory)
    public func prepare(_ image: Image) throws -> PreparedImage {
        let resized = try Torch.catching { transform.resize(image) }
        return PreparedImage(resized: resized, originalSize: (image.height, image.width))
    }

    /// Prepared images as one batch (padded as the official evaluation pads; `forward` moves it
    /// to the device).
    public func batch(_ images: [PreparedImage]) -> ImageBatch {
        ImageBatch.collate(
            images.map(\.resized), originalSizes: images.map(\.originalSize), sizeDivisor: transform.sizeDivisor)
    }

    /// The detector's forward on `batch` (moved to the device) without gradients, in `precision`
    /// (per-stage times into `timer` when given).
    public func forward(_ batch: ImageBatch, timer: StageTimer? = nil) -> DetectorOutput {
        let input = batch.to(device)
        return withNoGrad { detector(input, options: ForwardOptions(timer: timer, precision: precision)) }
    }

    /// The post-processed detections of each image of `batch`, in order, with that image's
    /// options (`options` has one element per image, or one for all).
    public func detections(
        of output: DetectorOutput, in batch: ImageBatch, options: [DetectionOptions]
    ) -> [[DetectedObject]] {
        precondition(options.count == 1 || options.count == batch.count, "detections: one options per image, or one")
        func post(_ o: DetectionOptions) -> PostProcess {
            var p = postProcess
            if let k = o.topK { p.numSelect = k }
            return p
        }
        if options.allSatisfy({ $0 == options[0] }) {
            return post(options[0]).detections(
                logits: output.final.logits, boxes: output.final.boxes, originalSizes: batch.originalSizes,
                threshold: options[0].threshold)
        }
        return batch.originalSizes.indices.map { i in
            post(options[i]).detections(
                logits: output.final.logits.slice(dim: 0, start: i, end: i + 1),
                boxes: output.final.boxes.slice(dim: 0, start: i, end: i + 1),
                originalSizes: [batch.originalSizes[i]], threshold: options[i].threshold
            )[0]
        }
    }

    /// One forward over prepared images and their detections.
    /// - Throws: `TorchError` when libtorch fails (memory, a device)
    public func predict(_ images: [PreparedImage], options: [DetectionOptions]) throws -> Prediction {
        precondition(!images.isEmpty, "predict: no images")
        return try Torch.catching {
            let input = batch(images)
            let output = forward(input)
            return Prediction(
                detections: detections(of: output, in: input, options: options), output: output, batch: input)
        }
    }

    /// Prepares `images`, runs one forward over them and returns their detections.
    /// - Throws: `TorchError` when libtorch fails (memory, a device)
    public func predict(_ images: [Image], options: DetectionOptions = DetectionOptions()) throws -> Prediction {
        try predict(images.map(prepare), options: [options])
    }
}

/// The detections of a batch as tensors: what an exported graph outputs.
public struct TensorDetections: @unchecked Sendable {
    /// [B, K] sigmoid scores, by decreasing score.
    public var scores: Tensor
    /// [B, K] int64 class labels.
    public var labels: Tensor
    /// [B, K, 4] xyxy boxes in original pixels.
    public var boxes: Tensor
    /// The detector's output they were computed from.
    public var output: DetectorOutput
}

extension Predictor {
    /// The forward and the post-processing from tensors alone, without reading anything back:
    /// the function an ONNX export records. Given `batch(_:)`'s images, image sizes and original
    /// sizes, it computes what `detections(of:in:options:)` returns with a zero threshold.
    /// - Parameters:
    ///   - images: [B, 3, H, W] normalised, zero-padded bottom/right
    ///   - imageSizes: [B, 2] int64, (h, w) of each resized image before padding
    ///   - originalSizes: [B, 2] int64, (h, w) of each original image
    public func detect(images: Tensor, imageSizes: Tensor, originalSizes: Tensor) -> TensorDetections {
        let (b, h, w) = (images.size(0), images.size(2), images.size(3))
        let mask = ImageBatch.paddingMask(imageSizes: imageSizes, height: h, width: w)
        // The forward reads the images and the mask only; the size lists are for callers.
        let batch = ImageBatch(
            images: images, mask: mask, imageSizes: Array(repeating: (h, w), count: b),
            originalSizes: Array(repeating: (h, w), count: b))
        let output = forward(batch)
        let r = postProcess(logits: output.final.logits, boxes: output.final.boxes, originalSizes: originalSizes)
        return TensorDetections(scores: r.scores, labels: r.labels, boxes: r.boxes, output: output)
    }
}
