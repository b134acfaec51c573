import NN
import TestSupport
import Testing
import Torch

/// Layers against PyTorch 1.13 (outputs and gradients of inputs and parameters).
@Suite struct LayerTests {
    let store = ParameterStore(generator: Generator(seed: 1))

    @Test func linear() throws {
        let m = Linear(store.root, inFeatures: 5, outFeatures: 3)
        #expect(m.stateDict().keys == ["weight", "bias"])
        try checkCase("linear", m) { ["y": m($0["x"]!)] }
    }

    @Test func conv2dStrideGroups() throws {
        let m = Conv2d(store.root, inChannels: 4, outChannels: 6, kernelSize: 3, stride: 2, padding: 1, groups: 2)
        try checkCase("conv", m) { ["y": m($0["x"]!)] }
    }

    @Test func conv2dDilatedRectangularNoBias() throws {
        let m = Conv2d(
            store.root, inChannels: 3, outChannels: 5, kernelSize: (3, 2), stride: (1, 2), padding: (2, 1),
            dilation: (2, 2), bias: false)
        #expect(m.stateDict().keys == ["weight"])
        try checkCase("conv_dilated", m) { ["y": m($0["x"]!)] }
    }

    @Test func groupNorm() throws {
        let m = GroupNorm(store.root, numGroups: 2, numChannels: 6)
        try checkCase("groupnorm", m) { ["y": m($0["x"]!)] }
    }

    @Test func layerNorm() throws {
        let m = LayerNorm(store.root, 8)
        try checkCase("layernorm", m) { ["y": m($0["x"]!)] }
    }

    @Test func embedding() throws {
        let m = Embedding(store.root, numEmbeddings: 10, embeddingDim: 4)
        try checkCase("embedding", m) { ["y": m($0["idx"]!)] }
    }

    @Test func mlp() throws {
        let m = MLP(store.root, inputDim: 6, hiddenDim: 10, outputDim: 4, numLayers: 3)
        #expect(
            m.stateDict().keys == [
                "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                "layers.2.weight", "layers.2.bias",
            ])
        try checkCase("mlp", m) { ["y": m($0["x"]!)] }
    }

    @Test func frozenBatchNorm() throws {
        let m = FrozenBatchNorm2d(store.root, numFeatures: 3)
        #expect(m.namedParameters().isEmpty)
        #expect(m.stateDict().keys == ["weight", "bias", "running_mean", "running_var"])
        try checkCase("frozenbn", m) { ["y": m($0["x"]!)] }
    }

    /// Two training passes update the running statistics; evaluation then uses them.
    @Test(arguments: [("batchnorm", 0.1 as Double?), ("batchnorm_cumulative", nil)])
    func batchNormTrainingAndEval(name: String, momentum: Double?) throws {
        let m = BatchNorm2d(store.root, numFeatures: 3, momentum: momentum)
        #expect(m.stateDict().keys == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        #expect(m.numBatchesTracked?.dtype == .int64 && m.numBatchesTracked?.shape == [])
        try m.load(stateDict: refGroup("\(name).initial.param"))
        _ = m(ref("\(name).in.x1"), training: true)
        let x2 = ref("\(name).in.x2").clone().requiringGrad()
        let y2 = m(x2, training: true)
        TestSupport.expectClose(y2, ref("\(name).out.y2"), atol: 1e-5, "train output")
        (y2 * ref("\(name).gw.y2")).sum().backward()
        TestSupport.expectClose(x2.grad!, ref("\(name).grad.in.x2"), atol: 1e-5, "grad x")
        TestSupport.expectClose(m.weight!.grad!, ref("\(name).grad.param.weight"), atol: 1e-5, "grad weight")
        TestSupport.expectClose(m.bias!.grad!, ref("\(name).grad.param.bias"), atol: 1e-5, "grad bias")
        for (k, t) in refGroup("\(name).after.param") {
            TestSupport.expectClose(m.stateDict()[k]!, t, atol: 1e-6, "state \(k) after two training passes")
        }
        #expect(m.numBatchesTracked!.itemInt() == 2)
        TestSupport.expectClose(
            m(ref("\(name).in.x3"), training: false), ref("\(name).out.y3"), atol: 1e-5,
            "eval output")
        #expect(m.numBatchesTracked!.itemInt() == 2)
    }

    @Test func dropoutIsSeededAndScaled() {
        let x = Tensor.ones([1000])
        let a = Dropout(p: 0.25, generator: Generator(seed: 3))(x, training: true)
        let b = Dropout(p: 0.25, generator: Generator(seed: 3))(x, training: true)
        #expect(a.floats == b.floats)
        let kept = a.floats.filter { $0 != 0 }
        #expect(kept.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 })
        #expect(abs(Double(kept.count) / 1000 - 0.75) < 0.06)
        #expect(Dropout(p: 0.25)(x, training: false).floats == x.floats)
    }

    @Test func sequentialNumbersItsLayers() {
        let seq = Sequential(
            store.root / "downsample",
            [
                { Conv2d($0, inChannels: 3, outChannels: 4, kernelSize: 3, bias: false) },
                { BatchNorm2d($0, numFeatures: 4) },
                { _ in Activation.relu },
            ])
        #expect(
            seq.stateDict().keys == [
                "0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                "1.num_batches_tracked",
            ])
        #expect(seq.layer(0, as: Conv2d.self).outChannels == 4)
        let y = seq(Tensor.randn([2, 3, 6, 6]), training: false)
        #expect(y.shape == [2, 4, 4, 4])
        #expect(y.min().item() >= 0)
    }
}

@Suite struct StochasticDepthTests {
    /// Identity in eval and at p = 0; in training every sample is either dropped (all zeros) or
    /// scaled by 1/(1 − p), and about 1 − p of the samples survive.
    @Test func dropsWholeSamples() {
        let x = Tensor.ones([400, 3, 2])
        let drop = StochasticDepth(p: 0.25)
        #expect(drop(x, training: false).floats == x.floats)
        #expect(StochasticDepth(p: 0)(x, training: true).floats == x.floats)
        let y = drop(x, training: true, generator: Generator(seed: 7))
        let rows = y.view(400, 6).floats
        var kept = 0
        for r in 0..<400 {
            let v = Array(rows[(6 * r)..<(6 * r + 6)])
            #expect(v.allSatisfy { $0 == 0 } || v.allSatisfy { abs($0 - 1 / 0.75) < 1e-6 }, "row \(r): \(v)")
            if v[0] != 0 { kept += 1 }
        }
        #expect((260...340).contains(kept), "\(kept) of 400 kept at p = 0.25")
        let again = drop(x, training: true, generator: Generator(seed: 7))
        #expect(again.floats == y.floats, "seeded")
    }

    @Test func linearRatesGrowToTheLast() {
        #expect(StochasticDepth.linearRates(last: 0.2, blocks: 5) == [0, 0.05, 0.1, 0.15000000000000002, 0.2])
        #expect(StochasticDepth.linearRates(last: 0.5, blocks: 1) == [0])
    }
}
