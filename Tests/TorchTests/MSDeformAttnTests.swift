import Foundation
import TestSupport
import Testing
import Torch

/// Random multi-scale deformable attention inputs (levels concatenated in `value`).
struct MSDAInputs {
    var value: Tensor  // [B, S, H, D]
    var spatialShapes: Tensor  // [L, 2] int64
    var levelStartIndex: Tensor  // [L] int64
    var locations: Tensor  // [B, Q, H, L, P, 2]
    var weights: Tensor  // [B, Q, H, L, P]

    /// Locations are uniform in [-margin, 1 + margin] (outside the maps included); weights are
    /// softmaxed over L·P as in the layer.
    init(
        batch: Int, queries: Int, heads: Int, dim: Int, levels: [(Int, Int)], points: Int,
        margin: Double = 0.2, dtype: DType = .float32, seed: UInt64
    ) {
        let g = Generator(seed: seed)
        let rows = levels.map { $0.0 * $0.1 }
        var starts: [Int] = [], acc = 0
        for r in rows { starts.append(acc); acc += r }
        value = Tensor.randn([batch, acc, heads, dim], generator: g, dtype: dtype)
        spatialShapes = Tensor(levels.flatMap { [$0.0, $0.1] }, shape: [levels.count, 2])
        levelStartIndex = Tensor(starts)
        locations =
            Tensor.rand([batch, queries, heads, levels.count, points, 2], generator: g, dtype: dtype)
            * (1 + 2 * margin) - margin
        weights = Tensor.randn([batch, queries, heads, levels.count * points], generator: g, dtype: dtype)
            .softmax(dim: -1).view([batch, queries, heads, levels.count, points])
    }

    func fused(_ v: Tensor? = nil, _ loc: Tensor? = nil, _ w: Tensor? = nil) -> Tensor {
        Functional.msDeformAttn(
            value: v ?? value, spatialShapes: spatialShapes, levelStartIndex: levelStartIndex,
            samplingLocations: loc ?? locations, attentionWeights: w ?? weights)
    }

    func gridSample(_ v: Tensor? = nil, _ loc: Tensor? = nil, _ w: Tensor? = nil) -> Tensor {
        Functional.msDeformAttnGridSample(
            value: v ?? value, spatialShapes: spatialShapes,
            levelStartIndex: levelStartIndex, samplingLocations: loc ?? locations,
            attentionWeights: w ?? weights)
    }
}

/// Set `MSDA_REPORT=1` to print the measured max errors.
private let msdaReport = ProcessInfo.processInfo.environment["MSDA_REPORT"] != nil
private func report(_ what: String, _ a: Tensor, _ b: Tensor) {
    guard msdaReport else { return }
    let scale = b.count == 0 ? 0 : b.to(.float64).abs().max().item()
    print("MSDA_REPORT \(what) max|diff| = \(TestSupport.maxAbsDiff(a, b)) (max|ref| = \(scale))")
}

@Suite struct MSDeformAttnTests {
    static let levels = [(7, 9), (5, 3), (3, 5), (1, 1)]  // odd sizes, one single-pixel level

    /// dim 5 runs the generic kernel, 16 and 32 the ones specialised for that channel count.
    @Test(arguments: [(DType.float32, 5), (.float32, 16), (.float32, 32), (.float64, 5), (.float64, 32)])
    func forwardMatchesGridSample(_ dtype: DType, _ dim: Int) {
        let x = MSDAInputs(
            batch: 2, queries: 13, heads: 3, dim: dim, levels: Self.levels, points: 3,
            dtype: dtype, seed: 1)
        let fused = x.fused(), reference = x.gridSample()
        #expect(fused.shape == [2, 13, 3 * dim])
        #expect(fused.dtype == dtype)
        report("forward \(dtype) D=\(dim)", fused, reference)
        TestSupport.expectClose(
            fused, reference, atol: dtype == .float32 ? 1e-5 : 1e-12, rtol: 0,
            "forward \(dtype) D=\(dim)")
    }

    @Test func farOutsideLocationsGiveZero() {
        var x = MSDAInputs(batch: 1, queries: 4, heads: 2, dim: 3, levels: [(4, 5)], points: 2, seed: 2)
        x.locations = x.locations * 0 + 3  // every sample outside its map
        #expect(x.fused().abs().max().item() == 0)
    }

    @Test func nonContiguousInputsAndNoGrad() {
        let x = MSDAInputs(batch: 2, queries: 6, heads: 2, dim: 4, levels: [(3, 4), (2, 3)], points: 2, seed: 3)
        // The same values through transposed storage.
        let value = x.value.transpose(0, 2).contiguous().transpose(0, 2)
        let locations = x.locations.transpose(1, 2).contiguous().transpose(1, 2)
        #expect(!value.isContiguous && !locations.isContiguous)
        let out = withNoGrad { x.fused(value, locations) }
        TestSupport.expectClose(out, x.gridSample(), atol: 1e-5, rtol: 0, "non-contiguous")
    }

    /// Gradients of sum(out * u) for all three differentiable inputs, fused vs grid_sample autograd.
    /// `transposed` feeds non-contiguous views (the kernel copies them contiguous).
    @Test(arguments: [(5, false), (32, false), (5, true)])
    func backwardMatchesGridSampleAutograd(_ dim: Int, _ transposed: Bool) {
        let x = MSDAInputs(batch: 2, queries: 11, heads: 3, dim: dim, levels: Self.levels, points: 3, seed: 4)
        let upstream = Tensor.randn([2, 11, 3 * dim], generator: Generator(seed: 5))
        func grads(_ f: (Tensor, Tensor, Tensor) -> Tensor) -> [Tensor] {
            let leaves = [x.value, x.locations, x.weights].map {
                transposed ? $0.transpose(0, 1).contiguous().transpose(0, 1) : $0.clone()
            }
            leaves.forEach { $0.requiresGrad = true }
            let loss = (f(leaves[0], leaves[1], leaves[2]) * upstream).sum()
            return gradients(of: [loss], withRespectTo: leaves)
        }
        let fused = grads { x.fused($0, $1, $2) }
        let reference = grads { x.gridSample($0, $1, $2) }
        for (name, (a, b)) in zip(["value", "locations", "weights"], zip(fused, reference)) {
            report("grad \(name) D=\(dim)\(transposed ? " transposed" : "")", a, b)
            TestSupport.expectClose(a, b, atol: 1e-5, rtol: 1e-5, "grad \(name) D=\(dim)")
        }
        // Locations outside the maps got zero gradient from both paths; some must be nonzero.
        #expect(fused[1].abs().max().item() > 0)
    }

    @Test func backwardThroughBackwardOnOutput() {
        // `.backward()` on the loss accumulates into the leaves' `.grad` like any op.
        let x = MSDAInputs(batch: 1, queries: 5, heads: 2, dim: 3, levels: [(3, 3), (2, 2)], points: 2, seed: 6)
        let v = x.value.clone().requiringGrad()
        x.fused(v).sum().backward()
        let reference = x.value.clone().requiringGrad()
        x.gridSample(reference).sum().backward()
        if let a = v.grad, let b = reference.grad {
            TestSupport.expectClose(a, b, atol: 1e-5, rtol: 1e-5, "value.grad")
        } else {
            Issue.record("no gradient accumulated")
        }
    }

    /// Central differences (eps 1e-6) of sum(out * u) in float64 against the fused backward.
    @Test func fusedBackwardMatchesFiniteDifferences() {
        let x = MSDAInputs(
            batch: 1, queries: 2, heads: 2, dim: 2, levels: [(2, 3), (3, 1)], points: 2,
            dtype: .float64, seed: 7)
        let u = Tensor.randn([1, 2, 4], generator: Generator(seed: 8), dtype: .float64)
        let inputs = [x.value, x.locations, x.weights]
        func loss(_ t: [Tensor]) -> Tensor { (x.fused(t[0], t[1], t[2]) * u).sum() }
        let leaves = inputs.map { $0.clone().requiringGrad() }
        let analytic = gradients(of: [loss(leaves)], withRespectTo: leaves)
        let eps = 1e-6
        for k in 0..<3 {
            var values = inputs[k].toArray(Double.self)
            var numeric = [Double](repeating: 0, count: values.count)
            withNoGrad {
                func at(_ vals: [Double]) -> Double {
                    var t = inputs
                    t[k] = Tensor(vals, shape: inputs[k].shape)
                    return loss(t).item()
                }
                for i in values.indices {
                    let original = values[i]
                    values[i] = original + eps
                    let plus = at(values)
                    values[i] = original - eps
                    let minus = at(values)
                    values[i] = original
                    numeric[i] = (plus - minus) / (2 * eps)
                }
            }
            let n = Tensor(numeric, shape: inputs[k].shape)
            report("finite differences input \(k)", analytic[k], n)
            TestSupport.expectClose(analytic[k], n, atol: 1e-6, rtol: 1e-6, "finite differences input \(k)")
        }
    }

    @Test func mismatchedShapesThrowInsideCatching() {
        let x = MSDAInputs(batch: 2, queries: 3, heads: 2, dim: 4, levels: [(3, 4), (2, 3)], points: 2, seed: 9)
        let cases: [(String, () -> Tensor)] = [
            ("value rank", { x.fused(x.value.flatten(startDim: 2)) }),
            ("heads", { x.fused(x.value.slice(dim: 2, start: 0, end: 1)) }),
            ("rows", { x.fused(x.value.slice(dim: 1, start: 1)) }),
            ("weights", { x.fused(nil, nil, x.weights.slice(dim: 4, start: 1)) }),
            ("dtype", { x.fused(x.value.to(.float64)) }),
            (
                "levels",
                {
                    Functional.msDeformAttn(
                        value: x.value, spatialShapes: Tensor([3, 4], shape: [1, 2]),
                        levelStartIndex: Tensor([0]), samplingLocations: x.locations,
                        attentionWeights: x.weights)
                }
            ),
            (
                "start index",
                {
                    Functional.msDeformAttn(
                        value: x.value, spatialShapes: x.spatialShapes,
                        levelStartIndex: Tensor([0, 13]), samplingLocations: x.locations,
                        attentionWeights: x.weights)
                }
            ),
            ("reference rank", { x.gridSample(nil, x.locations.flatten(startDim: 4)) }),
            ("reference rows", { x.gridSample(x.value.slice(dim: 1, start: 1)) }),
        ]
        for (name, op) in cases {
            do {
                _ = try Torch.catching { op() }
                Issue.record("\(name): no error")
            } catch TorchError.libtorch(let message) {
                #expect(message.contains("ms_deform_attn") || name.hasPrefix("reference"), "\(name): \(message)")
            } catch {
                Issue.record("\(name): unexpected error \(error)")
            }
        }
    }
}
