import Foundation
import Torch

/// AdamW with parameter groups, reproducing PyTorch 1.13's `_single_tensor_adamw`
/// (amsgrad off, not maximising). For each parameter with a gradient, at step t:
///
///     p  ← p · (1 - lr·wd)                           (decoupled weight decay)
///     m  ← β1·m + (1-β1)·g
///     v  ← β2·v + (1-β2)·g²
///     p  ← p - (lr / (1-β1^t)) · m / (sqrt(v) / sqrt(1-β2^t) + eps)
///
/// Parameters without a gradient are skipped (their state is created on their first update).
/// `t` counts the updates of each parameter.
public final class AdamW {
    /// Moments and update count of one parameter.
    public struct ParameterState {
        public var expAvg: Tensor
        public var expAvgSq: Tensor
        public var step: Int
    }

    public var groups: [ParameterGroup]
    public let beta1: Double
    public let beta2: Double
    public let eps: Double
    /// State by parameter key.
    public internal(set) var state: [String: ParameterState] = [:]

    /// - Parameters:
    ///   - groups: parameter keys must be unique across groups.
    ///   - betas: PyTorch's default (0.9, 0.999); eps 1e-8.
    public init(groups: [ParameterGroup], betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8) {
        var seen = Set<String>()
        for g in groups {
            for p in g.parameters {
                precondition(seen.insert(p.key).inserted, "AdamW: parameter '\(p.key)' is in more than one group")
            }
        }
        self.groups = groups
        (beta1, beta2) = betas
        self.eps = eps
    }

    /// One group with PyTorch's defaults (lr 1e-3, weight decay 1e-2).
    public convenience init(
        parameters: [(key: String, tensor: Tensor)], lr: Double = 1e-3,
        weightDecay: Double = 1e-2, betas: (Double, Double) = (0.9, 0.999), eps: Double = 1e-8
    ) {
        self.init(
            groups: [ParameterGroup(parameters: parameters, lr: lr, weightDecay: weightDecay)],
            betas: betas, eps: eps)
    }

    /// Every parameter of every group.
    public var allParameters: [(key: String, tensor: Tensor)] { groups.flatMap(\.parameters) }

    /// Applies one update to every parameter that has a gradient.
    public func step() {
        withNoGrad {
            for group in groups {
                for (key, p) in group.parameters {
                    guard let grad = p.grad else { continue }
                    update(key: key, parameter: p, grad: grad, lr: group.lr, weightDecay: group.weightDecay)
                }
            }
        }
    }

    private func update(key: String, parameter p: Tensor, grad g: Tensor, lr: Double, weightDecay: Double) {
        var s = state[key] ?? ParameterState(expAvg: p.zerosLike(), expAvgSq: p.zerosLike(), step: 0)
        s.step += 1
        p.mul_(1 - lr * weightDecay)
        s.expAvg.mul_(beta1).add_(g, alpha: 1 - beta1)
        s.expAvgSq.mul_(beta2).addcmul_(g, g, value: 1 - beta2)
        let t = Double(s.step)
        let biasCorrection1 = 1 - Foundation.pow(beta1, t)
        let biasCorrection2 = 1 - Foundation.pow(beta2, t)
        let stepSize = lr / biasCorrection1
        let denom = (s.expAvgSq.sqrt() / Foundation.sqrt(biasCorrection2)).add_(eps)
        p.addcdiv_(s.expAvg, denom, value: -stepSize)
        state[key] = s
    }

    /// Zeroes every gradient in place (PyTorch 1.13's default), or removes them when `setToNone`.
    /// With zeroed (not removed) gradients, parameters that received a gradient once keep being
    /// updated (decay and momentum) even when a later loss does not reach them, as in PyTorch.
    public func zeroGrad(setToNone: Bool = false) {
        for (_, p) in allParameters { clearGrad(p, setToNone: setToNone) }
    }
}
