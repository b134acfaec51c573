import Detection
import Foundation
import NN
import Torch

/// swift-detr's own training checkpoint: one `.safetensors` file holding the model state dict
/// (keys `model.<official key>`), the optimizer state (`optimizer.<key>`), the data/dropout
/// generator state (`rng.<name>`), and metadata (epoch, step, config JSON, optimizer
/// hyper-parameters). Written atomically (temporary file, then rename), so a crash never leaves a
/// half-written checkpoint. `detr predict --weights` accepts it directly.
public struct TrainingCheckpoint {
    public static let formatTag = DetectorFactory.checkpointFormatTag

    public var model: StateDict
    public var optimizer: OptimizerState?
    /// The moving average of the weights (`ema.<key>`), when training keeps one.
    public var average: StateDict?
    public var generators: [String: Tensor]
    /// Epochs completed.
    public var epoch: Int
    /// Optimizer steps taken.
    public var step: Int
    public var config: ModelConfig
    /// Further metadata, stored as `extra.<key>`: the class names by classifier column
    /// (`class_names`, JSON), the number of data-parallel processes that wrote it (`world_size`),
    /// the images per step of each (`batch_size`) and the fp16 loss scaler's state (`loss_scaler`).
    public var extra: [String: String]

    public init(
        model: StateDict, optimizer: OptimizerState?, average: StateDict? = nil, generators: [String: Tensor] = [:],
        epoch: Int, step: Int, config: ModelConfig, extra: [String: String] = [:]
    ) {
        self.model = model
        self.optimizer = optimizer
        self.average = average
        self.generators = generators
        self.epoch = epoch
        self.step = step
        self.config = config
        self.extra = extra
    }

    public func write(to url: URL) throws {
        var tensors = StateDict()
        for (k, v) in model { tensors["model." + k] = v }
        if let optimizer { for (k, v) in optimizer.tensors { tensors["optimizer." + k] = v } }
        if let average { for (k, v) in average { tensors["ema." + k] = v } }
        for (k, v) in generators.sorted(by: { $0.key < $1.key }) { tensors["rng." + k] = v }
        var meta: [String: String] = [
            "format": Self.formatTag, "epoch": "\(epoch)", "step": "\(step)",
            "config": String(decoding: try config.jsonData(), as: UTF8.self),
        ]
        if let optimizer { for (k, v) in optimizer.metadata { meta["optimizer." + k] = v } }
        for (k, v) in extra { meta["extra." + k] = v }
        try Safetensors.write(tensors, metadata: meta, to: url)
    }

    public static func read(from url: URL) throws -> TrainingCheckpoint {
        let contents = try Safetensors.read(contentsOf: url)
        let meta = contents.metadata
        guard meta["format"] == formatTag else {
            throw FileError(
                file: url.path, problem: "is not a swift-detr training checkpoint (no '\(formatTag)' format tag)")
        }
        guard let epoch = meta["epoch"].flatMap(Int.init), let step = meta["step"].flatMap(Int.init),
            let configText = meta["config"]
        else {
            throw FileError(file: url.path, problem: "checkpoint metadata lacks epoch/step/config")
        }
        let config: ModelConfig
        do { config = try JSONDecoder().decode(ModelConfig.self, from: Data(configText.utf8)) } catch {
            throw FileError(file: url.path, problem: "checkpoint config is invalid: \(error)")
        }
        let optTensors = contents.tensors.stripping(prefix: "optimizer.")
        let generators = Dictionary(
            uniqueKeysWithValues: contents.tensors.stripping(prefix: "rng.").map { ($0.key, $0.value) })
        let optMeta = Self.entries(of: meta, under: "optimizer."), extra = Self.entries(of: meta, under: "extra.")
        let optimizer =
            optMeta.isEmpty && optTensors.isEmpty ? nil : OptimizerState(tensors: optTensors, metadata: optMeta)
        let average = contents.tensors.stripping(prefix: "ema.")
        return TrainingCheckpoint(
            model: contents.tensors.stripping(prefix: "model."), optimizer: optimizer,
            average: average.isEmpty ? nil : average,
            generators: generators, epoch: epoch, step: step, config: config, extra: extra)
    }

    /// The entries of `dictionary` whose keys start with `prefix`, keyed without it.
    static func entries(of dictionary: [String: String], under prefix: String) -> [String: String] {
        Dictionary(
            uniqueKeysWithValues: dictionary.compactMap { key, value in
                key.hasPrefix(prefix) ? (String(key.dropFirst(prefix.count)), value) : nil
            })
    }
}
