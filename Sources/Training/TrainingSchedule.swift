/// Learning-rate schedule of the official recipes: step decay by epoch, optionally with a
/// per-iteration linear warmup during the first epoch (Salience DETR).
public struct TrainingSchedule: Sendable, Codable, Equatable {
    /// Epochs at which the learning rate is multiplied by `gamma` (StepLR = one milestone).
    public var milestones: [Int]
    public var gamma: Double
    /// Iterations of linear warmup at the start of training (0 = none).
    public var warmupIterations: Int
    /// Factor at iteration 0 of the warmup.
    public var warmupStartFactor: Double

    public init(milestones: [Int], gamma: Double = 0.1, warmupIterations: Int = 0, warmupStartFactor: Double = 0.001) {
        self.milestones = milestones
        self.gamma = gamma
        self.warmupIterations = warmupIterations
        self.warmupStartFactor = warmupStartFactor
    }

    /// The learning rate of a group with base `baseLR` at `epoch`, global `iteration`.
    /// Warmup: factor = s + (1 − s)·min(i, N)/N, as torch's LinearLR(start_factor=s, total_iters=N).
    public func lr(baseLR: Double, epoch: Int, iteration: Int) -> Double {
        var lr = baseLR
        for m in milestones where epoch >= m { lr *= gamma }
        if warmupIterations > 0 && iteration < warmupIterations {
            let f = warmupStartFactor + (1 - warmupStartFactor) * Double(iteration) / Double(warmupIterations)
            lr *= f
        }
        return lr
    }
}
