import Foundation

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

    /// The learning rate of a group with base `baseLR` at `epoch`, global `iteration`: PyTorch's
    /// closed forms of `MultiStepLR` over epochs (base · γ^(milestones ≤ epoch), a milestone listed
    /// twice counting twice) times `LinearLR`'s warm-up factor over iterations
    /// (s + (1 − s)·min(i, N)/N), pure functions of the counters, so resuming needs no state.
    public func lr(baseLR: Double, epoch: Int, iteration: Int) -> Double {
        let lr = baseLR * pow(gamma, Double(milestones.filter { $0 <= epoch }.count))
        guard warmupIterations > 0 else { return lr }
        let warmup =
            warmupStartFactor + (1 - warmupStartFactor) * Double(min(warmupIterations, iteration))
            / Double(warmupIterations)
        return lr * warmup
    }
}
