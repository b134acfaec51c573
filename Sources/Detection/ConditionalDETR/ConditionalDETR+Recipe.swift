import NN
import Vision

/// Conditional DETR's official recipe (Atten4Vis/ConditionalDETR `main.py`).
public struct ConditionalDETRRecipe: DetectorRecipe {
    public let config: ConditionalDETRConfig

    public init(config: ConditionalDETRConfig) {
        self.config = config
    }

    public var modelConfig: ModelConfig { .conditionalDetr(config) }

    public func makeModel(store: ParameterStore) throws -> any Detector {
        ConditionalDETR(store.root, config: config)
    }

    /// Short side `minSize` unless the long side would pass `maxSize` (DETR's
    /// `get_size_with_aspect_ratio`), no padding to a multiple.
    public var evalTransform: EvalTransform { .conditionalDetr(minSize: config.minSize, maxSize: config.maxSize) }

    /// DETR's resize rule; every box of positive size is kept.
    public var trainAugmentation: DetectionAugmentation {
        .scaled(minSize: config.minSize, maxSize: config.maxSize, resizeRule: .detr, minBoxSide: 0)
    }

    /// `SetCriterion` with the focal classification loss (`loss_ce`), L1 and GIoU box losses, on
    /// the last decoder layer and each auxiliary one; Group DETR groups matched separately.
    public func criterion() -> any TrainingCriterion {
        let set = SetCriterion(
            matcher: HungarianMatcher(
                costClass: config.matcher.costClass,
                costBbox: config.matcher.costBbox,
                costGiou: config.matcher.costGiou,
                alpha: config.focalAlpha, gamma: config.focalGamma),
            numClasses: config.numClasses, focalAlpha: config.focalAlpha, groups: config.groupDetr)
        return WeightedCriterion(weights: config.lossWeights) { try set($0, targets: $1, targetsPerProcess: $2).terms }
    }

    /// 50 epochs (or `epochs`), StepLR ×0.1 after 4/5 of them, batch 2, AdamW lr 1e-4 (backbone
    /// 1e-5), weight decay 1e-4, gradient clipping at 0.1. No warmup.
    public func trainingOptions(epochs: Int?, iterationsPerEpoch: Int) -> TrainingOptions {
        let e = epochs ?? 50
        return TrainingOptions(
            epochs: e, batchSize: 2, lr: 1e-4, lrBackbone: 1e-5, weightDecay: 1e-4, clipMaxNorm: 0.1,
            schedule: TrainingSchedule(milestones: [Swift.max(1, e * 4 / 5)]), seed: 42)
    }

    /// With `freezeBackbone`, the backbone trains only in layer2-4 (the stem and layer1 stay frozen).
    public func frozenParameters(of model: any Detector, options o: TrainingOptions) -> (String) -> Bool {
        guard o.freezeBackbone else { return { _ in false } }
        return { key in
            key.hasPrefix("backbone.") && !(key.contains("layer2") || key.contains("layer3") || key.contains("layer4"))
        }
    }

    /// The backbone at `lrBackbone`; every group decays by `weightDecay`.
    public func optimizer(for model: any Detector, options o: TrainingOptions) -> AdamW {
        AdamW(
            groups: ParameterGroup.partition(
                model.trainableParameters(), rules: [({ $0.contains("backbone") }, o.lrBackbone, o.weightDecay)],
                defaultLR: o.lr, defaultWeightDecay: o.weightDecay))
    }

    public var hasSalienceMaps: Bool { false }

    /// The official `Joiner`'s first module wraps torchvision's ResNet as `body`.
    public var backbonePrefix: String { "backbone.0.body." }
}
