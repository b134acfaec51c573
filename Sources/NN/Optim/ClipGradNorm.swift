import Torch

/// Scales gradients so that their global L2 norm is at most `maxNorm`
/// (`torch.nn.utils.clip_grad_norm_`, norm type 2).
///
/// total = ‖(‖g₁‖, ‖g₂‖, ...)‖; every gradient is multiplied in place by
/// min(1, maxNorm / (total + 1e-6)), computed in the gradients' dtype like PyTorch.
/// Parameters without a gradient are ignored.
/// - Returns: the total norm before clipping (0 when no parameter has a gradient).
@discardableResult
public func clipGradNorm(_ parameters: [Tensor], maxNorm: Double) -> Double {
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    return withNoGrad {
        let total = norm(of: grads)
        // `max_norm / (total + 1e-6)` in Python is `reciprocal() * max_norm`.
        let coef = ((total + 1e-6).reciprocal() * maxNorm).clamp(max: 1)
        for g in grads { g.detach().mul_(coef) }
        return total.item()
    }
}

/// `clipGradNorm` over named parameters (as `Module.trainableParameters()` returns them).
@discardableResult
public func clipGradNorm(_ parameters: [(key: String, tensor: Tensor)], maxNorm: Double) -> Double {
    clipGradNorm(parameters.map(\.tensor), maxNorm: maxNorm)
}

/// The global L2 norm ‖(‖g₁‖, ‖g₂‖, ...)‖ of the parameters' gradients, as `clipGradNorm`
/// computes it, without clipping (0 when no parameter has a gradient).
public func globalGradNorm(_ parameters: [Tensor]) -> Double {
    let grads = parameters.compactMap(\.grad)
    guard !grads.isEmpty else { return 0 }
    return withNoGrad { norm(of: grads).item() }
}

/// [] scalar: the L2 norm of the per-gradient L2 norms.
private func norm(of grads: [Tensor]) -> Tensor {
    Tensor.stack(grads.map { $0.detach().norm() }).norm()
}
