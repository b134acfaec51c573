import Foundation
import NN
import TestSupport
import Testing
import Torch

/// The inference-only fast paths (folded batch norm, oneDNN linear, fused attention) against the
/// computations autograd sees, which the parity tests check against PyTorch.
@Suite struct InferencePathTests {
    func maxDifference(_ a: Tensor, _ b: Tensor) -> Double { (a - b).abs().max().item() }

    let store = ParameterStore(generator: Generator(seed: 3))

    /// Random, non-trivial statistics and affine terms.
    func randomize(_ bn: FrozenBatchNorm2d, _ g: Generator) {
        withNoGrad {
            bn.weight.copy_(Tensor.rand([bn.weight.size(0)], generator: g) + 0.5)
            bn.bias.copy_(Tensor.randn([bn.bias.size(0)], generator: g))
            bn.runningMean.copy_(Tensor.randn([bn.runningMean.size(0)], generator: g))
            bn.runningVar.copy_(Tensor.rand([bn.runningVar.size(0)], generator: g) + 0.1)
        }
    }

    @Test func foldedConvBatchNormMatchesTheUnfusedPairAndFollowsWeightChanges() {
        let g = Generator(seed: 5)
        let conv = Conv2d(store.root / "conv", inChannels: 6, outChannels: 8, kernelSize: 3, stride: 2, padding: 1)
        let bn = FrozenBatchNorm2d(store.root / "bn", numFeatures: 8)
        randomize(bn, g)
        let unit = ConvFrozenBatchNorm(conv: conv, bn: bn)
        let x = Tensor.randn([2, 6, 11, 9], generator: g)
        func unfused() -> Tensor { withNoGrad { bn(conv(x)).relu() } }
        // A trained convolution runs the pair as it is.
        let tracked = unit(x, relu: true)
        #expect(tracked.requiresGrad)
        #expect(maxDifference(tracked.detach(), unfused()) == 0)
        // A frozen convolution whose input needs a gradient is folded, and gradients reach the input.
        let frozen = ConvFrozenBatchNorm(
            conv: Conv2d(store.root / "frozen", inChannels: 6, outChannels: 8, kernelSize: 1, bias: false), bn: bn)
        frozen.conv.weight.requiresGrad = false
        let input = x.clone().requiringGrad()
        let out = frozen(input, relu: true)
        let grad = gradients(of: [out.sum()], withRespectTo: [input])[0]
        let reference = gradients(of: [bn(frozen.conv(input)).relu().sum()], withRespectTo: [input])[0]
        TestSupport.expectClose(grad, reference, atol: 1e-5, rtol: 1e-5, "input gradient through the fold")
        let folded = withNoGrad { unit(x, relu: true) }
        #expect(folded.isContiguous(.channelsLast))
        TestSupport.expectClose(folded, unfused(), atol: 1e-5, rtol: 1e-5, "folded")
        // A checkpoint load (in-place copy) must rebuild the folded weights.
        withNoGrad {
            _ = bn.runningVar.copy_(bn.runningVar * 4); _ = conv.weight.mul_(-1)
        }
        let reloaded = withNoGrad { unit(x, relu: true) }
        #expect(maxDifference(reloaded, folded) > 1e-3)
        TestSupport.expectClose(reloaded, unfused(), atol: 1e-5, rtol: 1e-5, "after weight change")
    }

    @Test func oneDNNLinearMatchesLinearWithAutograd() {
        let g = Generator(seed: 7)
        let m = Linear(store.root / "fc", inFeatures: 40, outFeatures: 24)
        let x = Tensor.randn([3, 50, 40], generator: g)
        let reference = m(x.clone().requiringGrad()).detach()  // at::linear (gradient needed)
        let fast = withNoGrad { m(x) }
        TestSupport.expectClose(fast, reference, atol: 1e-5, rtol: 1e-5, "linear")
        TestSupport.expectClose(
            withNoGrad { m(x, relu: true) }, reference.relu(), atol: 1e-5, rtol: 1e-5, "linear+relu")
        // A non-contiguous input (a transposed view) gives the same values.
        let xt = Tensor.randn([40, 7], generator: g).transpose(0, 1)
        TestSupport.expectClose(
            withNoGrad { m(xt) }, m(xt.contiguous().requiringGrad()).detach(), atol: 1e-5,
            rtol: 1e-5, "transposed input")
    }

    @Test func fusedAttentionMatchesTheExplicitSoftmax() {
        let g = Generator(seed: 11)
        let (batch, heads, len, src, d) = (2, 4, 9, 13, 8)
        let q = Tensor.randn([batch * heads, len, d], generator: g)
        let k = Tensor.randn([batch * heads, src, d], generator: g)
        let v = Tensor.randn([batch * heads, src, d], generator: g)
        let padding = Tensor.rand([batch, src], generator: g) .> Float(0.7)
        let attnMask = Tensor.randn([len, src], generator: g)
        for (kpm, am) in [(nil, nil), (padding, nil), (nil, attnMask), (padding, attnMask)] as [(Tensor?, Tensor?)] {
            let mask = Attention.additiveMask(
                keyPaddingMask: kpm, attnMask: am, batch: batch, heads: heads,
                targetLength: len, sourceLength: src, dtype: .float32)
            let explicit = Attention.scaledDotProduct(q: q, k: k, v: v, mask: mask, scale: 0.25).output
            let fused = Attention.attend(q: q, k: k, v: v, mask: mask, batch: batch, scale: 0.25)
            TestSupport.expectClose(
                fused, explicit, atol: 1e-5, rtol: 1e-5,
                "masks: padding \(kpm != nil), attention \(am != nil)")
        }
        // Dropout in training: exactly the explicit computation with the same random stream.
        let mask = Attention.additiveMask(
            keyPaddingMask: padding, attnMask: nil, batch: batch, heads: heads,
            targetLength: len, sourceLength: src, dtype: .float32)
        let withDropout = Attention.attend(
            q: q, k: k, v: v, mask: mask, batch: batch, scale: 0.5, dropout: 0.3,
            training: true, generator: Generator(seed: 2))
        let explicit = Attention.scaledDotProduct(
            q: q, k: k, v: v, mask: mask, scale: 0.5, dropout: 0.3,
            training: true, generator: Generator(seed: 2)
        ).output
        #expect(maxDifference(withDropout, explicit) == 0)
        // ...and the dropout did act.
        let noDropout = Attention.scaledDotProduct(q: q, k: k, v: v, mask: mask, scale: 0.5).output
        #expect(maxDifference(withDropout, noDropout) > 1e-3)
    }

    @Test func multiheadAttendEqualsTheFullForward() {
        let g = Generator(seed: 13)
        let m = MultiheadAttention(store.root / "mha", embedDim: 16, numHeads: 4)
        let x = Tensor.randn([7, 2, 16], generator: g)
        let kpm = Tensor.rand([2, 7], generator: g) .> Float(0.6)
        let full = m(query: x, key: x, value: x, keyPaddingMask: kpm).output
        TestSupport.expectClose(
            m.attend(query: x, key: x, value: x, keyPaddingMask: kpm), full, atol: 1e-5, rtol: 1e-5,
            "attend")
    }

    @Test func operatorProfilerCountsOperatorsAndRefusesNesting() throws {
        let a = Tensor.randn([64, 64], generator: Generator(seed: 1))
        let (result, rows) = try OperatorProfiler.profile(recordShapes: true) { a.matmul(a).sum() }
        #expect(result.isDefined)
        let mm = rows.filter { $0.name == "aten::mm" }
        #expect(mm.count == 1 && mm.first?.calls == 1 && mm.first?.shapes == "64x64;64x64")
        #expect(rows.allSatisfy { $0.selfNanoseconds <= $0.totalNanoseconds })
        #expect(throws: TorchError.self) {
            try OperatorProfiler.profile { try OperatorProfiler.profile { 0 } }
        }
    }
}
