import TestSupport
import Testing
import Torch

/// Activations, convolution, pooling, resampling and normalisation against `torch.nn.functional`.
@Suite struct OpsNNFunctionalTests {
    @Test func activations() throws {
        let x = try Ref.get("nn.act.x")  // [3, 7]
        try check(x.relu(), "nn.relu")
        try check(x.gelu(), "nn.gelu")
        try check(x.gelu(approximate: true), "nn.gelu_tanh")
        try check(x.silu(), "nn.silu")
        try check(x.sigmoid(), "nn.sigmoid")
        try check(x.tanh(), "nn.tanh")
        try check(x.leakyRelu(0.1), "nn.leaky_relu")
        try check(x.hardsigmoid(), "nn.hardsigmoid")
        try check(x.softmax(dim: 1), "nn.softmax_d1")
        try check(x.softmax(dim: 0), "nn.softmax_d0")
        try check((x * 50).softmax(dim: -1), "nn.softmax_big")  // no overflow
        try check(x.logSoftmax(dim: 1), "nn.log_softmax_d1")
        try check((x * 50).logSoftmax(dim: -1), "nn.log_softmax_big")
    }

    @Test func conv2d() throws {
        let x = try Ref.get("nn.conv.x")  // [2, 4, 7, 6]
        func conv(
            _ name: String, hasBias: Bool = true, stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
            dilation: (Int, Int) = (1, 1), groups: Int = 1
        ) throws {
            let w = try Ref.get("nn.conv.\(name).w")
            let b = hasBias ? try Ref.get("nn.conv.\(name).b") : nil
            let y = Functional.conv2d(
                x, weight: w, bias: b, stride: stride, padding: padding, dilation: dilation,
                groups: groups)
            try check(y, "nn.conv.\(name)", atol: 2e-5)
        }
        try conv("basic")
        try conv("s2p1", stride: (2, 2), padding: (1, 1))
        try conv("dil2", hasBias: false, padding: (2, 2), dilation: (2, 2))
        try conv("groups2", padding: (1, 1), groups: 2)
        try conv("depthwise", hasBias: false, padding: (1, 1), groups: 4)
        try conv("rect", stride: (2, 1), padding: (0, 1))
        try conv("pw")
    }

    /// The convolution with its residual addition and ReLU (oneDNN's fused kernel without
    /// gradients) equals the three operations, for layouts, strides, groups and an in-place
    /// residual; with a gradient to compute it takes the three operations and differentiates.
    @Test func convolutionWithResidualAndReLU() throws {
        let g = Generator(seed: 5)
        for (stride, padding, groups, channelsLast) in [((1, 1), (0, 0), 1, true), ((2, 2), (1, 1), 1, false), ((1, 1), (1, 1), 2, true)] {
            let x = Tensor.randn([2, 4, 9, 8], generator: g)
            let xs = channelsLast ? x.contiguous(.channelsLast) : x
            let k = padding.0 == 0 ? 1 : 3
            let w = Tensor.randn([6, 4 / groups, k, k], generator: g).contiguous(.channelsLast)
            let b = Tensor.randn([6], generator: g)
            let plain = Functional.conv2d(xs, weight: w, bias: b, stride: stride, padding: padding, groups: groups)
            let r = Tensor.randn(plain.shape, generator: g)
            let expected = (plain + r).relu()
            let label = "stride \(stride), groups \(groups), channels-last \(channelsLast)"
            let fused = Functional.conv2d(
                xs, weight: w, bias: b, stride: stride, padding: padding, groups: groups, plus: r, relu: true)
            #expect(TestSupport.maxAbsDiff(fused, expected) <= 1e-5, "\(label)")
            #expect(TestSupport.maxAbsDiff(r, expected) > 0.1, "\(label): the residual is left alone")
            let scratch = r.clone()
            let inPlace = Functional.conv2d(
                xs, weight: w, bias: b, stride: stride, padding: padding, groups: groups, plus: scratch,
                residualIsScratch: true, relu: true)
            #expect(TestSupport.maxAbsDiff(inPlace, expected) <= 1e-5, "\(label): scratch residual")
            let unary = Functional.conv2d(
                xs, weight: w, bias: b, stride: stride, padding: padding, groups: groups, plus: nil, relu: true)
            #expect(TestSupport.maxAbsDiff(unary, plain.relu()) <= 1e-5, "\(label): ReLU only")
            let none = Functional.conv2d(
                xs, weight: w, bias: b, stride: stride, padding: padding, groups: groups, plus: nil, relu: false)
            #expect(TestSupport.maxAbsDiff(none, plain) <= 1e-5, "\(label): neither")
        }
        // With gradients: the three operations, differentiable in the input and the residual.
        let x = Tensor.randn([1, 3, 5, 5], generator: g).requiringGrad()
        let w = Tensor.randn([2, 3, 3, 3], generator: g)
        let r = Tensor.randn([1, 2, 5, 5], generator: g).requiringGrad()
        let y = Functional.conv2d(x, weight: w, padding: (1, 1), plus: r, relu: true)
        y.sum().backward()
        let positive = (Functional.conv2d(x, weight: w, padding: (1, 1)) + r) .> 0
        #expect(TestSupport.maxAbsDiff(try #require(r.grad), positive.to(.float32)) == 0)
        #expect(x.grad != nil)
    }

    @Test func pooling() throws {
        let x = try Ref.get("nn.pool.x")  // [2, 3, 7, 8]
        try check(Functional.maxPool2d(x, kernel: (3, 3), stride: (2, 2), padding: (1, 1)), "nn.pool.max_k3s2p1")
        try check(Functional.maxPool2d(x, kernel: (2, 2)), "nn.pool.max_k2")
        try check(Functional.maxPool2d(x, kernel: (3, 3), stride: (2, 2), ceilMode: true), "nn.pool.max_ceil")
        try check(Functional.maxPool2d(x, kernel: (2, 2), stride: (1, 1), dilation: (2, 2)), "nn.pool.max_dil2")
        try check(Functional.avgPool2d(x, kernel: (2, 2)), "nn.pool.avg_k2")
        try check(Functional.avgPool2d(x, kernel: (3, 3), stride: (1, 1), padding: (1, 1)), "nn.pool.avg_k3s1p1")
        try check(Functional.adaptiveAvgPool2d(x, outputSize: (3, 2)), "nn.pool.adaptive_3x2")
        try check(Functional.adaptiveAvgPool2d(x, outputSize: (1, 1)), "nn.pool.adaptive_1x1")
    }

    @Test func interpolate() throws {
        let x = try Ref.get("nn.interp.x")  // [1, 2, 5, 7]
        func interp(_ name: String, _ size: (Int, Int), _ mode: InterpolationMode, _ ac: Bool = false) throws {
            try check(Functional.interpolate(x, size: size, mode: mode, alignCorners: ac), "nn.interp.\(name)")
        }
        try interp("nearest_up", (10, 14), .nearest)
        try interp("nearest_down", (3, 4), .nearest)
        try interp("nearest_odd", (8, 9), .nearest)
        try interp("bilinear_up_noac", (9, 13), .bilinear, false)
        try interp("bilinear_up_ac", (9, 13), .bilinear, true)
        try interp("bilinear_down_noac", (3, 4), .bilinear, false)
        try interp("bilinear_down_ac", (3, 4), .bilinear, true)
        try interp("bilinear_aa_down", (3, 4), .bilinearAntialias, false)
        try interp("bilinear_aa_down_ac", (2, 3), .bilinearAntialias, true)
        try interp("bilinear_aa_up", (8, 11), .bilinearAntialias, false)
        try interp("bicubic_up", (8, 9), .bicubic, false)
    }

    @Test func gridSample() throws {
        let x = try Ref.get("nn.grid.x"), grid = try Ref.get("nn.grid.grid")  // [2,3,5,6], [2,4,7,2]
        try check(Functional.gridSample(x, grid: grid), "nn.grid.bilinear_zeros")
        try check(Functional.gridSample(x, grid: grid, alignCorners: true), "nn.grid.bilinear_zeros_ac")
        try check(Functional.gridSample(x, grid: grid, nearest: true), "nn.grid.nearest_zeros")
        try check(Functional.gridSample(x, grid: grid, padding: .border), "nn.grid.bilinear_border")
        try check(Functional.gridSample(x, grid: grid, padding: .reflection), "nn.grid.bilinear_reflection")
    }

    @Test func layerAndGroupNorm() throws {
        let x = try Ref.get("nn.ln.x"), w = try Ref.get("nn.ln.w"), b = try Ref.get("nn.ln.b")
        try check(Functional.layerNorm(x, normalizedShape: [8], weight: w, bias: b), "nn.ln.affine")
        try check(
            Functional.layerNorm(x, normalizedShape: [3, 8], weight: nil, bias: nil, eps: 1e-6),
            "nn.ln.plain_2d")
        let gx = try Ref.get("nn.gn.x"), gw = try Ref.get("nn.gn.w"), gb = try Ref.get("nn.gn.b")
        try check(Functional.groupNorm(gx, groups: 3, weight: gw, bias: gb), "nn.gn.g3")
        try check(Functional.groupNorm(gx, groups: 1, weight: gw, bias: gb), "nn.gn.g1")
        try check(Functional.groupNorm(gx, groups: 6, weight: nil, bias: nil, eps: 1e-3), "nn.gn.g6_plain")
    }

    /// Training mode normalises with batch statistics and updates the running ones in place
    /// (unbiased variance, `momentum` weight on the new value); eval mode uses the running ones.
    @Test func batchNorm() throws {
        let x = try Ref.get("nn.bn.x"), w = try Ref.get("nn.bn.w"), b = try Ref.get("nn.bn.b")
        var rm = try Ref.get("nn.bn.rm0"), rv = try Ref.get("nn.bn.rv0")
        try check(
            Functional.batchNorm(x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: true),
            "nn.bn.train")
        try check(rm, "nn.bn.train.rm")
        try check(rv, "nn.bn.train.rv")
        rm = try Ref.get("nn.bn.rm0")
        rv = try Ref.get("nn.bn.rv0")
        try check(
            Functional.batchNorm(
                x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: true,
                momentum: 0.3, eps: 1e-3), "nn.bn.train_m03")
        try check(rm, "nn.bn.train_m03.rm")
        try check(rv, "nn.bn.train_m03.rv")
        rm = try Ref.get("nn.bn.rm0")
        rv = try Ref.get("nn.bn.rv0")
        try check(
            Functional.batchNorm(x, weight: w, bias: b, runningMean: rm, runningVar: rv, training: false),
            "nn.bn.eval")
        try check(rm, "nn.bn.rm0", atol: 0, rtol: 0)  // eval leaves the stats alone
        try check(
            Functional.batchNorm(x, weight: w, bias: b, runningMean: nil, runningVar: nil, training: true),
            "nn.bn.train_nostats")
    }

    @Test func embeddingPadAndFriends() throws {
        try check(
            Functional.embedding(Ref.get("nn.embedding.idx"), weight: Ref.get("nn.embedding.w")),
            "nn.embedding")
        try check(Functional.oneHot(Tensor([0, 4, 2, 2]), numClasses: 5), "nn.one_hot")
        try check(Functional.pad(Ref.get("nn.pad.x"), [1, 2, 0, 1], value: 0.5), "nn.pad")
        try check(Functional.pixelShuffle(Ref.get("nn.pixel_shuffle.x"), factor: 2), "nn.pixel_shuffle")
    }
}
