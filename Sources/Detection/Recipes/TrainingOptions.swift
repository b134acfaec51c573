import NN

/// Hyper-parameters of a training run; `config.recipe.trainingOptions(...)` gives the official
/// ones of an architecture.
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

    public init(
        epochs: Int, batchSize: Int, lr: Double, lrBackbone: Double, weightDecay: Double,
        clipMaxNorm: Double, schedule: TrainingSchedule, seed: UInt64, freezeBackbone: Bool = true
    ) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.lr = lr
        self.lrBackbone = lrBackbone
        self.weightDecay = weightDecay
        self.clipMaxNorm = clipMaxNorm
        self.schedule = schedule
        self.seed = seed
        self.freezeBackbone = freezeBackbone
    }
}
