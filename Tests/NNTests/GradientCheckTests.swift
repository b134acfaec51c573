import NN
import TestSupport
import Testing
import Torch

/// Float64 finite-difference checks of the gradients of our layers (inputs and parameters).
@Suite struct GradientCheckTests {
    let g = Generator(seed: 11)

    /// sum(out · w) for a fixed random w, so every output element matters.
    func weighted(_ out: Tensor, _ w: Tensor) -> Tensor { (out * w).sum() }

    func named(_ m: some Module) -> [(String, Tensor)] { m.namedParameters().map { ($0.key, $0.tensor) } }

    @Test func linear() {
        let m = Linear(float64Store().root, inFeatures: 4, outFeatures: 3)
        let x = leaf([2, 4], g), w = Tensor.randn([2, 3], generator: g, dtype: .float64)
        let worst = gradientCheck([("x", x)] + named(m)) { weighted(m(x), w) }
        #expect(worst < 1e-7)
    }

    @Test func conv2d() {
        let m = Conv2d(
            float64Store().root, inChannels: 4, outChannels: 4, kernelSize: 3, stride: 2, padding: 1,
            dilation: 1, groups: 2)
        let x = leaf([1, 4, 5, 5], g), w = Tensor.randn([1, 4, 3, 3], generator: g, dtype: .float64)
        gradientCheck([("x", x)] + named(m)) { weighted(m(x), w) }
    }

    @Test func layerNorm() {
        let m = LayerNorm(float64Store().root, 6)
        withNoGrad {
            _ = m.weight!.normal_(generator: g)
            _ = m.bias!.normal_(generator: g)
        }
        let x = leaf([3, 6], g), w = Tensor.randn([3, 6], generator: g, dtype: .float64)
        gradientCheck([("x", x)] + named(m)) { weighted(m(x), w) }
    }

    @Test func groupNorm() {
        let m = GroupNorm(float64Store().root, numGroups: 2, numChannels: 4)
        withNoGrad { _ = m.weight!.normal_(generator: g) }
        let x = leaf([2, 4, 3, 2], g), w = Tensor.randn([2, 4, 3, 2], generator: g, dtype: .float64)
        gradientCheck([("x", x)] + named(m)) { weighted(m(x), w) }
    }

    @Test func multiheadAttentionWithMasks() {
        let m = MultiheadAttention(float64Store().root, embedDim: 4, numHeads: 2)
        withNoGrad {
            _ = m.inProjBias!.normal_(generator: g)
            _ = m.outProj.bias!.normal_(generator: g)
        }
        let q = leaf([3, 2, 4], g), kv = leaf([4, 2, 4], g)
        let kpm = Tensor([false, false, true, false, false, true, false, false], shape: [2, 4])
        let attnMask = Tensor.randn([3, 4], generator: g, dtype: .float64)
        let wy = Tensor.randn([3, 2, 4], generator: g, dtype: .float64)
        let ww = Tensor.randn([2, 3, 4], generator: g, dtype: .float64)
        gradientCheck([("query", q), ("kv", kv)] + named(m)) {
            let (y, weights) = m(query: q, key: kv, value: kv, keyPaddingMask: kpm, attnMask: attnMask)
            return weighted(y, wy) + weighted(weights, ww)
        }
    }

    @Test func multiheadAttentionSeparateProjections() {
        let m = MultiheadAttention(float64Store().root, embedDim: 4, numHeads: 2, kdim: 3, vdim: 5)
        let q = leaf([2, 1, 4], g), k = leaf([3, 1, 3], g), v = leaf([3, 1, 5], g)
        let wy = Tensor.randn([2, 1, 4], generator: g, dtype: .float64)
        gradientCheck([("query", q), ("key", k), ("value", v)] + named(m)) {
            weighted(m(query: q, key: k, value: v).output, wy)
        }
    }
}
