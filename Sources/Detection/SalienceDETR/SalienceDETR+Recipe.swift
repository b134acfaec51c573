import NN
import Vision

/// Salience DETR's official recipe (xiuqhou/Salience-DETR `configs/train_config.py`,
/// `transforms/presets.py`, the model config's optimizer parameter groups).
public struct SalienceDETRRecipe: DetectorRecipe {
    public let config: SalienceDETRConfig

    public init(config: SalienceDETRConfig) {
        self.config = config
    }

    public var modelConfig: ModelConfig { .salienceDetr(config) }

    public func makeModel(store: ParameterStore) throws -> any Detector {
        SalienceDETR(store.root, config: config)
    }

    /// torchvision's `RandomShortestSize`-style resize to (`minSize`, `maxSize`), padding to a
    /// multiple of 32.
    public var evalTransform: EvalTransform { .salienceDetr(minSize: config.minSize, maxSize: config.maxSize) }

    /// `RandomShortestSize` resizes, then `SanitizeBoundingBox(min_size=1)`: boxes under 1 px
    /// on a side are dropped.
    public var trainAugmentation: DetectionAugmentation {
        .scaled(minSize: config.minSize, maxSize: config.maxSize, resizeRule: .shortestSide, minBoxSide: 1)
    }

    /// `SalienceCriterion`: hybrid set losses on decoder layers, encoder proposals and
    /// denoising queries, plus the salience loss.
    public func criterion() -> any TrainingCriterion {
        let criterion = SalienceCriterion(config: config)
        return WeightedCriterion(weights: config.lossWeights) {
            try criterion($0, targets: $1, targetsPerProcess: $2).terms
        }
    }

    /// 12 epochs (or `epochs`), MultiStep ×0.1 after 5/6 of them, linear warmup over the first
    /// min(1000, iterations per epoch − 1) iterations, batch 2, AdamW lr 1e-4 (backbone 1e-5),
    /// weight decay 1e-4, gradient clipping at 0.1.
    public func trainingOptions(epochs: Int?, iterationsPerEpoch: Int) -> TrainingOptions {
        let e = epochs ?? 12
        let warm = Swift.min(1000, Swift.max(0, iterationsPerEpoch - 1))
        return TrainingOptions(
            epochs: e, batchSize: 2, lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1,
            schedule: TrainingSchedule(milestones: [Swift.max(1, e * 5 / 6)], warmupIterations: warm),
            seed: 42)
    }

    /// With `freezeBackbone`, the stem and the stages in `freeze_indices` stay frozen (as the
    /// official backbones freeze them); otherwise the whole backbone trains.
    public func frozenParameters(of model: any Detector, options o: TrainingOptions) -> (String) -> Bool {
        guard o.freezeBackbone else { return { _ in false } }
        let backbone = config.backbone, prefix = backbonePrefix
        return { key in key.hasPrefix(prefix) && backbone.freezes(String(key.dropFirst(prefix.count))) }
    }

    /// Groups: backbone at `lrBackbone` (norm and bias without decay); `sampling_offsets` and
    /// `reference_points` at `lrBackbone` (bias without decay); other norm and bias parameters
    /// without decay.
    public func optimizer(for model: any Detector, options o: TrainingOptions) -> AdamW {
        func noDecay(_ k: String) -> Bool { k.contains("norm") || k.contains("bias") }
        func slow(_ k: String) -> Bool { k.contains("sampling_offsets") || k.contains("reference_points") }
        return AdamW(
            groups: ParameterGroup.partition(
                model.trainableParameters(),
                rules: [
                    ({ $0.hasPrefix("backbone.") && noDecay($0) }, o.lrBackbone, 0),
                    ({ $0.hasPrefix("backbone.") }, o.lrBackbone, o.weightDecay),
                    ({ slow($0) && $0.contains("bias") }, o.lrBackbone, 0),
                    ({ slow($0) }, o.lrBackbone, o.weightDecay),
                    ({ noDecay($0) }, o.lr, 0),
                ], defaultLR: o.lr, defaultWeightDecay: o.weightDecay))
    }

    public var hasSalienceMaps: Bool { true }

    public var backbonePrefix: String { "backbone." }
}
