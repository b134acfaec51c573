import TestSupport
import Testing
import Torch

/// Float64 central finite differences (eps 1e-6) against autograd for every autograd-facing op:
/// proves the backward formulas we rely on, independent of the stored references.
@Suite struct GradCheckTests {
    static let eps = 1e-6

    @Test(arguments: GradCase.all)
    func autogradMatchesFiniteDifferences(_ c: GradCase) throws {
        let inputs = try c.inputs(as: .float64)
        let w = try Ref.get("grad.\(c.name).w").to(.float64)
        let leaves = c.leaves(inputs)
        let loss = (c.fn(leaves) * w).sum()
        let analytic = gradients(of: [loss], withRespectTo: c.wrt.map { leaves[$0] })
        for (k, g) in zip(c.wrt, analytic) {
            let numeric = withNoGrad { Self.numericGradient(c, inputs, k, w) }
            reportDiff("fd.\(c.name).d.\(k)", g, numeric)
            TestSupport.expectClose(g, numeric, atol: 1e-6, rtol: 1e-6, "\(c.name) d/d\(k)")
        }
    }

    /// d sum(f(inputs) * w) / d inputs[name], one central difference per element.
    static func numericGradient(_ c: GradCase, _ inputs: GradInputs, _ name: String, _ w: Tensor) -> Tensor {
        let x = inputs[name]
        var values = x.toArray(Double.self)
        var grad = [Double](repeating: 0, count: values.count)
        var perturbed = inputs
        func loss() -> Double {
            perturbed.tensors[name] = Tensor(values, shape: x.shape)
            return (c.fn(perturbed) * w).sum().item()
        }
        for i in values.indices {
            let original = values[i]
            values[i] = original + eps
            let plus = loss()
            values[i] = original - eps
            let minus = loss()
            values[i] = original
            grad[i] = (plus - minus) / (2 * eps)
        }
        return Tensor(grad, shape: x.shape)
    }
}
