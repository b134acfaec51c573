import Detection
import NN
import Torch

/// Hyper-parameters of a training run (defaults: the official recipe of the architecture).
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var epochs: Int
    public var batchSize: Int
    public var lr: Double
    public var lrBackbone: Double
    public var weightDecay: Double
    public var clipMaxNorm: Double
    public var schedule: TrainingSchedule
    public var seed: UInt64
    /// Freeze the backbone stages the official recipe freezes (it fine-tunes ImageNet weights).
    /// Training from scratch should set false: frozen random layers cannot learn.
    public var freezeBackbone: Bool = true

    /// Official recipe: Conditional DETR 50 epochs, StepLR at 40; Salience DETR 12 epochs,
    /// MultiStep at 10, warmup over the first min(1000, iterations-per-epoch − 1) iterations.
    public static func official(for config: ModelConfig, epochs: Int? = nil, iterationsPerEpoch: Int = 1000) -> TrainingOptions {
        switch config.architecture {
        case .conditionalDetr:
            let e = epochs ?? 50
            return TrainingOptions(epochs: e, batchSize: 2, lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1,
                                   schedule: TrainingSchedule(milestones: [Swift.max(1, e * 4 / 5)]), seed: 42)
        case .salienceDetr:
            let e = epochs ?? 12
            let warm = Swift.min(1000, Swift.max(0, iterationsPerEpoch - 1))
            return TrainingOptions(epochs: e, batchSize: 2, lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1,
                                   schedule: TrainingSchedule(milestones: [Swift.max(1, e * 5 / 6)], warmupIterations: warm),
                                   seed: 42)
        }
    }
}

/// Parameter groups and freezing as the official training scripts set them up.
public enum TrainingRecipe {
    /// Freezes what the official recipe freezes and builds AdamW parameter groups.
    /// - Conditional DETR: backbone trainable only in layer2-4, at `lrBackbone`; all decay `weightDecay`.
    /// - Salience DETR: backbone stages in `freeze_indices` frozen; backbone at `lrBackbone` (norm/bias no decay);
    ///   `sampling_offsets`/`reference_points` at `lrBackbone` (bias no decay); other norm/bias no decay.
    public static func optimizer(for model: any Detector, options o: TrainingOptions) -> AdamW {
        let config = model.config
        switch config.architecture {
        case .conditionalDetr:
            if o.freezeBackbone {
                model.freeze { key in
                    key.hasPrefix("backbone.") && !(key.contains("layer2") || key.contains("layer3") || key.contains("layer4"))
                }
            }
            let params = model.trainableParameters()
            return AdamW(groups: ParameterGroup.partition(
                params, rules: [({ $0.contains("backbone") }, o.lrBackbone, o.weightDecay)],
                defaultLR: o.lr, defaultWeightDecay: o.weightDecay))
        case .salienceDetr:
            let frozen = o.freezeBackbone ? Set(config.backbone.freezeIndices) : []
            model.freeze { key in
                guard key.hasPrefix("backbone.") else { return false }
                if frozen.contains(0) && (key.hasPrefix("backbone.conv1") || key.hasPrefix("backbone.bn1")) { return true }
                return frozen.contains { key.hasPrefix("backbone.layer\($0 + 1).") }
            }
            let params = model.trainableParameters()
            func noDecay(_ k: String) -> Bool { k.contains("norm") || k.contains("bias") }
            func slow(_ k: String) -> Bool { k.contains("sampling_offsets") || k.contains("reference_points") }
            return AdamW(groups: ParameterGroup.partition(params, rules: [
                ({ $0.hasPrefix("backbone.") && noDecay($0) }, o.lrBackbone, 0),
                ({ $0.hasPrefix("backbone.") }, o.lrBackbone, o.weightDecay),
                ({ slow($0) && $0.contains("bias") }, o.lrBackbone, 0),
                ({ slow($0) }, o.lrBackbone, o.weightDecay),
                ({ noDecay($0) }, o.lr, 0),
            ], defaultLR: o.lr, defaultWeightDecay: o.weightDecay))
        }
    }
}
