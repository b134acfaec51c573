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

    /// The learning rate of a group with base `baseLR` at `epoch`, global `iteration`:
    /// `MultiStepLR` over epochs times `LinearWarmup`'s factor over iterations (torch's
    /// LinearLR(start_factor=s, total_iters=N): s + (1 − s)·min(i, N)/N).
    public func lr(baseLR: Double, epoch: Int, iteration: Int) -> Double {
        let lr = MultiStepLR(milestones: milestones, gamma: gamma).lr(at: epoch, baseLR: baseLR)
        guard warmupIterations > 0 else { return lr }
        return lr
            * LinearWarmup(wrapping: ConstantLR(), warmupSteps: warmupIterations, startFactor: warmupStartFactor)
            .factor(at: iteration)
    }
}
