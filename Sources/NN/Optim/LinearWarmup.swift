/// A linear warm-up in front of another schedule, counted in the same steps (PyTorch's
/// `LinearLR` with `end_factor` 1, multiplied onto `inner`):
///
///     lr(step) = inner.lr(step) · (startFactor + (1 - startFactor) · min(step, warmupSteps) / warmupSteps)
///
/// So lr(0) = startFactor · inner.lr(0), and from `warmupSteps` on the schedule is `inner`.
/// Salience DETR warms up over the first min(1000, iterations per epoch - 1) iterations with
/// startFactor 0.001; express an epoch-based inner schedule in iterations for it
/// (`MultiStepLR(milestones: [10 * itersPerEpoch])`).
public struct LinearWarmup<Inner: LRSchedule>: LRSchedule {
    public let inner: Inner
    public let warmupSteps: Int
    public let startFactor: Double

    public init(wrapping inner: Inner, warmupSteps: Int, startFactor: Double = 1.0 / 3) {
        precondition(warmupSteps > 0, "LinearWarmup: warmupSteps must be positive")
        precondition(startFactor > 0 && startFactor <= 1, "LinearWarmup: startFactor must be in (0, 1]")
        self.inner = inner
        self.warmupSteps = warmupSteps
        self.startFactor = startFactor
    }

    /// The warm-up multiplier at `step`.
    public func factor(at step: Int) -> Double {
        startFactor + (1 - startFactor) * Double(min(warmupSteps, step)) / Double(warmupSteps)
    }

    public func lr(at step: Int, baseLR: Double) -> Double {
        inner.lr(at: step, baseLR: baseLR) * factor(at: step)
    }
}
