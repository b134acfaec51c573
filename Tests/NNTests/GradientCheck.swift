import NN
import TestSupport
import Testing
import Torch

/// Compares autograd gradients of a scalar function with central finite differences (float64).
///
/// `loss` must rebuild the scalar from the current values of `tensors` (float64 leaves that
/// require grad). Each checked element is moved by ±eps in place.
/// - Parameter maxElements: elements checked per tensor (evenly spaced when the tensor is larger).
/// - Returns: the largest |analytic - numeric| seen.
@discardableResult
func gradientCheck(
    _ tensors: [(String, Tensor)], eps: Double = 1e-6, atol: Double = 1e-7, rtol: Double = 1e-6,
    maxElements: Int = 40, sourceLocation: SourceLocation = #_sourceLocation,
    _ loss: () -> Tensor
) -> Double {
    for (_, t) in tensors {
        precondition(t.dtype == .float64 && t.requiresGrad, "gradientCheck needs float64 leaves requiring grad")
        t.grad = nil
    }
    loss().backward()
    var worst = 0.0
    for (name, t) in tensors {
        guard let analytic = t.grad?.reshape(-1).toArray(Double.self) else {
            Issue.record("\(name): no gradient", sourceLocation: sourceLocation)
            continue
        }
        let flat = withNoGrad { t.detach().view(-1) }  // shares storage; edits are invisible to autograd
        let n = flat.count
        let stride = max(1, n / maxElements)
        for i in Swift.stride(from: 0, to: n, by: stride) {
            let element = flat[i]
            let numeric: Double = withNoGrad {
                element.add_(eps)
                let plus = loss().item()
                element.add_(-2 * eps)
                let minus = loss().item()
                element.add_(eps)
                return (plus - minus) / (2 * eps)
            }
            let diff = abs(numeric - analytic[i])
            worst = max(worst, diff)
            if diff > atol + rtol * abs(numeric) {
                Issue.record(
                    "\(name)[\(i)]: analytic \(analytic[i]) vs numeric \(numeric)", sourceLocation: sourceLocation)
            }
        }
    }
    return worst
}

/// A float64 store with a seeded generator, for gradient checks.
func float64Store(seed: UInt64 = 7) -> ParameterStore {
    ParameterStore(dtype: .float64, generator: Generator(seed: seed))
}

/// A float64 leaf requiring grad.
func leaf(_ shape: [Int], _ g: Generator) -> Tensor {
    Tensor.randn(shape, generator: g, dtype: .float64).requiringGrad()
}
