import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Reference values written by `Tests/Fixtures/nn/generate.py` (PyTorch 1.13).
let reference: StateDict = {
    do {
        return try TestSupport.reference("nn/nn.safetensors")
    } catch {
        fatalError("cannot read Tests/Fixtures/nn/nn.safetensors: \(error)")
    }
}()

/// The reference tensor `name` (traps when absent: the fixture and the tests disagree).
func ref(_ name: String) -> Tensor {
    guard let t = reference[name] else { fatalError("reference has no '\(name)'") }
    return t
}

/// Entries `<prefix>.<rest>` as `<rest>`, in file order.
func refGroup(_ prefix: String) -> StateDict { reference.stripping(prefix: prefix + ".") }

/// Runs the standard reference case `name` (see generate.py): loads `<name>.param.*` into the
/// module, feeds `<name>.in.*` (floating inputs require grad), compares `<name>.out.*`, then
/// back-propagates sum(out * gw) and compares the input and parameter gradients.
/// - Returns: the largest absolute difference seen.
@discardableResult
func checkCase(
    _ name: String, _ module: some Module, atol: Double = 1e-5, rtol: Double = 1e-5,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ forward: ([String: Tensor]) -> [String: Tensor]
) throws -> Double {
    try module.load(stateDict: refGroup("\(name).param"))
    var inputs: [String: Tensor] = [:]
    for (k, t) in refGroup("\(name).in") {
        inputs[k] = t.dtype.isFloatingPoint ? t.clone().requiringGrad() : t
    }
    module.zeroGrad(setToNone: true)
    let outputs = forward(inputs)
    var worst = 0.0
    func compare(_ a: Tensor, _ b: Tensor, _ what: String) {
        TestSupport.expectClose(a, b, atol: atol, rtol: rtol, "\(name) \(what)", sourceLocation: sourceLocation)
        worst = max(worst, TestSupport.maxAbsDiff(a, b))
    }
    var loss: Tensor?
    for (k, expected) in refGroup("\(name).out") {
        guard let out = outputs[k] else {
            Issue.record("\(name): forward returned no '\(k)'", sourceLocation: sourceLocation)
            continue
        }
        compare(out, expected, "output \(k)")
        let term = (out * ref("\(name).gw.\(k)")).sum()
        loss = loss.map { $0 + term } ?? term
    }
    loss?.backward()
    for (k, expected) in refGroup("\(name).grad.in") {
        guard let g = inputs[k]?.grad else {
            Issue.record("\(name): no gradient for input \(k)", sourceLocation: sourceLocation)
            continue
        }
        compare(g, expected, "grad of input \(k)")
    }
    let params = Dictionary(uniqueKeysWithValues: module.namedParameters().map { ($0.key, $0.tensor) })
    for (k, expected) in refGroup("\(name).grad.param") {
        guard let g = params[k]?.grad else {
            Issue.record("\(name): no gradient for parameter \(k)", sourceLocation: sourceLocation)
            continue
        }
        compare(g, expected, "grad of parameter \(k)")
    }
    return worst
}
