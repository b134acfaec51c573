import Foundation
import NN
import Torch
import Vision

/// A detector that turns a padded image batch into predictions. Each model's conformance sits
/// next to the model (which holds its architecture's own config type as `config`);
/// `ModelConfig.recipe` says how to build, preprocess for, train and post-process each
/// architecture.
public protocol Detector: Module {
    /// The model's configuration as the architecture-independent enum.
    var modelConfig: ModelConfig { get }
    /// The one forward entry point.
    /// - Parameters:
    ///   - batch: padded images [B, 3, H, W] and mask [B, H, W]
    ///   - targets: per image, labels [n] and boxes [n, 4] cxcywh normalised; a training forward
    ///     of Salience DETR builds its denoising queries from them (others ignore them)
    ///   - options: training mode, random generator, stage timer
    /// - Returns: final predictions (logits [B, Q, C], boxes [B, Q, 4] cxcywh) and auxiliary ones
    func forward(_ batch: ImageBatch, targets: [DetectionTarget]?, options: ForwardOptions) -> DetectorOutput
}

extension Detector {
    /// `forward(batch, targets:, options:)` with inference defaults: `model(batch)`.
    ///
    /// With `options.precision` bf16 or fp16 the forward runs under autocast on the batch's device
    /// type and every output tensor is converted to float32 afterwards, so that post-processing,
    /// matching and losses run in float32 (as the official recipes do under mixed precision).
    public func callAsFunction(
        _ batch: ImageBatch, targets: [DetectionTarget]? = nil,
        options: ForwardOptions = .inference
    ) -> DetectorOutput {
        guard options.precision != .fp32 else { return forward(batch, targets: targets, options: options) }
        let output = withAutocast(options.precision, device: batch.images.device) {
            forward(batch, targets: targets, options: options)
        }
        return output.float32()
    }
}

/// Building detectors from configs and loading checkpoints into them.
public enum DetectorFactory {
    /// Metadata `format` of swift-detr's own training checkpoints (safetensors).
    public static let checkpointFormatTag = "swift-detr-checkpoint-1"

    /// The model state dict of a loaded file: swift-detr training checkpoints keep it under
    /// "model." beside the optimizer state, and the moving average of the weights under "ema."
    /// when training kept one (then that is the model's, as the official evaluation uses it);
    /// other files are the state dict itself.
    public static func modelTensors(of weights: LoadedWeights) -> StateDict {
        guard weights.metadata["format"] == checkpointFormatTag else { return weights.tensors }
        let average = weights.tensors.stripping(prefix: "ema.")
        return average.isEmpty ? weights.tensors.stripping(prefix: "model.") : average
    }

    /// A freshly initialised detector of `config`'s architecture (`config.recipe.makeModel`),
    /// after checking the config. libtorch failures while building (an allocation the machine
    /// cannot give, say) are thrown as `TorchError`.
    public static func make(config: ModelConfig, store: ParameterStore = ParameterStore()) throws -> any Detector {
        try config.validate()
        try config.requireClassCount()
        return try Torch.catching { try config.recipe.makeModel(store: store) }
    }

    /// A detector of a preset or JSON config file with its weights loaded strictly, and its class
    /// names (from the checkpoint when it stores them, else COCO's), as `detr predict` loads one.
    /// - Throws: config errors, `FileError` for a missing or unreadable weight file,
    ///   `CheckpointMismatch` for weights of another model
    public static func load(
        config: String, weights: String, device: Device = .cpu
    ) throws
        -> (detector: any Detector, names: [String])
    {
        let cfg = try ModelConfig.load(presetOrPath: config)
        try cfg.requireClassCount(source: config)
        let model = try make(config: cfg, store: try ParameterStore(dtype: .float32, device: device))
        guard FileManager.default.fileExists(atPath: weights) else {
            throw FileError(file: weights, problem: "no such file")
        }
        let loaded = try loadWeights(URL(fileURLWithPath: weights), into: model)
        return (model, COCOClassNames.names(from: loaded, numClasses: cfg.numClasses))
    }

    /// Loads a checkpoint (.pth — plain state dict or training checkpoint — or .safetensors)
    /// strictly into `model`; half-precision tensors are upcast to the model's dtype.
    /// - Throws: `FileError` for unreadable files, `CheckpointMismatch` when the
    ///   checkpoint does not belong to this model (with a one-line summary).
    /// - Returns: the loaded file (metadata, e.g. class names, and the raw entries).
    @discardableResult
    public static func loadWeights(_ url: URL, into model: any Detector) throws -> LoadedWeights {
        let weights = try WeightFile.load(url)
        let tensors = modelTensors(of: weights)
        do {
            _ = try Torch.catching { try model.load(stateDict: tensors, strict: true, source: url.path) }
        } catch let e as StateDictLoadError {
            throw CheckpointMismatch(file: url.path, architecture: model.modelConfig.architecture, error: e)
        } catch let e as TorchError {
            throw FileError(file: url.path, problem: e.description)
        }
        return weights
    }
}

/// A checkpoint whose tensors do not fit the configured model.
public struct CheckpointMismatch: SubjectError {
    public var file: String
    public var architecture: Architecture
    public var error: StateDictLoadError

    public var subject: String? { file }

    /// One line: counts and the first offending keys.
    public var problem: String {
        var parts: [String] = []
        if !error.missingKeys.isEmpty {
            parts.append(
                "\(error.missingKeys.count) missing keys (e.g. \(error.missingKeys.prefix(2).joined(separator: ", ")))")
        }
        if !error.unexpectedKeys.isEmpty {
            parts.append(
                """
                \(error.unexpectedKeys.count) unexpected keys (e.g. \
                \(error.unexpectedKeys.prefix(2).joined(separator: ", ")))
                """
            )
        }
        if let m = error.shapeMismatches.first {
            parts.append(
                """
                \(error.shapeMismatches.count) shape mismatches (e.g. \(m.key): checkpoint \(m.checkpoint), model \
                \(m.model))
                """
            )
        }
        var hint = ""
        // A Group DETR checkpoint keeps every group's queries: suggest the config key that fits.
        if let m = error.shapeMismatches.first(where: { $0.key == "query_embed.weight" }),
            m.checkpoint.count == 2, m.model.count == 2, m.checkpoint[1] == m.model[1], m.model[0] > 0,
            m.checkpoint[0] % m.model[0] == 0
        {
            hint = " (a Group DETR checkpoint? set \"group_detr\": \(m.checkpoint[0] / m.model[0]) in the config)"
        }
        return "weights do not fit the \(architecture.rawValue) model of this config: "
            + parts.joined(separator: "; ") + hint
    }
}
