import Foundation

/// A learning-rate schedule as a pure function of how many times PyTorch's `scheduler.step()`
/// has been called (`step` = `last_epoch`), so it needs no state to resume.
///
/// Values use PyTorch's closed forms (`_get_closed_form_lr`); they equal the chained in-place
/// updates of `scheduler.step()` up to floating-point rounding (relative 1e-15).
/// Use: `optimizer.setLR(schedule, at: epoch)` before the updates of that epoch (or step).
public protocol LRSchedule: Sendable {
    /// The learning rate after `step` scheduler steps for a group starting at `baseLR`.
    func lr(at step: Int, baseLR: Double) -> Double
}

/// A constant learning rate.
public struct ConstantLR: LRSchedule {
    public init() {}
    public func lr(at step: Int, baseLR: Double) -> Double { baseLR }
}

/// Multiplies by `gamma` every `stepSize` steps (`StepLR`): base · γ^⌊step / stepSize⌋.
public struct StepLR: LRSchedule {
    public let stepSize: Int
    public let gamma: Double

    public init(stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: stepSize must be positive")
        self.stepSize = stepSize
        self.gamma = gamma
    }

    public func lr(at step: Int, baseLR: Double) -> Double {
        baseLR * pow(gamma, Double(step / stepSize))
    }
}

/// Multiplies by `gamma` at each milestone (`MultiStepLR`): base · γ^(number of milestones ≤ step);
/// a milestone listed twice counts twice, as in PyTorch.
public struct MultiStepLR: LRSchedule {
    public let milestones: [Int]
    public let gamma: Double

    public init(milestones: [Int], gamma: Double = 0.1) {
        self.milestones = milestones.sorted()
        self.gamma = gamma
    }

    public func lr(at step: Int, baseLR: Double) -> Double {
        baseLR * pow(gamma, Double(milestones.filter { $0 <= step }.count))
    }
}
