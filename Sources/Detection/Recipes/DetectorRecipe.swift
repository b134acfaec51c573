import NN
import Vision

/// Everything that differs between architectures, in one value per architecture: how to build
/// the model, the preprocessing it was evaluated with, the augmentation, criterion, optimizer
/// set-up and hyper-parameters it was trained with, and its post-processing. Each architecture's
/// recipe is built from its own config type (`ArchitectureConfig.recipe`).
public protocol DetectorRecipe {
    /// The configuration the recipe is bound to.
    var modelConfig: ModelConfig { get }
    /// A freshly initialised model (parameters in `store`).
    func makeModel(store: ParameterStore) throws -> any Detector
    /// The evaluation preprocessing of the official code (resize, normalise, pad).
    var evalTransform: EvalTransform { get }
    /// The official training augmentation, scaled to the config's `minSize`/`maxSize`.
    var trainAugmentation: DetectionAugmentation { get }
    /// The official post-processing (top-k over queries × classes).
    var postProcess: PostProcess { get }
    /// The official criterion with the config's loss weights.
    func criterion() -> any TrainingCriterion
    /// The official hyper-parameters; `epochs` overrides the recipe's, `iterationsPerEpoch`
    /// bounds a warmup counted in iterations.
    func trainingOptions(epochs: Int?, iterationsPerEpoch: Int) -> TrainingOptions
    /// The freezing policy of the official recipe: whether the parameter `key` of `model` stays
    /// frozen in training with `options` (`freeze(_:options:)` applies it).
    func frozenParameters(of model: any Detector, options: TrainingOptions) -> (String) -> Bool
    /// AdamW over `model`'s trainable parameters with the official parameter groups (learning
    /// rates and weight decay per group). Changes nothing in the model.
    func optimizer(for model: any Detector, options: TrainingOptions) -> AdamW
    /// Whether outputs carry salience maps (`DetectorOutput.salience`).
    var hasSalienceMaps: Bool { get }
    /// The state-dict prefix (ending in ".") of the whole backbone in the model.
    var backbonePrefix: String { get }
}

extension DetectorRecipe {
    /// The state-dict prefix of the module that the backbone family's published ImageNet weights
    /// fit under their own key names (`Backbone.publishedRoot` inside `backbonePrefix`).
    public var publishedBackboneRoot: String { backbonePrefix + modelConfig.backbone.publishedRoot }
}

extension DetectorRecipe {
    /// Both official codes use the same PostProcess, with their own `num_select`.
    public var postProcess: PostProcess { PostProcess(numSelect: modelConfig.numSelect) }
}

extension DetectorRecipe {
    /// Makes exactly the parameters the policy freezes untrainable (and every other one
    /// trainable): the one place training freezes anything.
    public func freeze(_ model: any Detector, options: TrainingOptions) {
        let frozen = frozenParameters(of: model, options: options)
        model.unfreeze()
        model.freeze(where: frozen)
    }
}
