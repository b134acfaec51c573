import NN
import TestSupport
import Testing
import Torch

/// An `nn.TransformerEncoderLayer` (post-norm, ReLU, dropout 0) from our modules.
struct EncoderLayer: Module {
    let path: ModulePath
    let selfAttn: MultiheadAttention
    let linear1: Linear
    let linear2: Linear
    let norm1: LayerNorm
    let norm2: LayerNorm

    init(_ p: ModulePath, dim: Int, heads: Int, feedforward: Int) {
        path = p
        selfAttn = MultiheadAttention(p / "self_attn", embedDim: dim, numHeads: heads)
        linear1 = Linear(p / "linear1", inFeatures: dim, outFeatures: feedforward)
        linear2 = Linear(p / "linear2", inFeatures: feedforward, outFeatures: dim)
        norm1 = LayerNorm(p / "norm1", dim)
        norm2 = LayerNorm(p / "norm2", dim)
    }

    /// x [L, B, E], keyPaddingMask [B, L]
    func callAsFunction(_ x: Tensor, keyPaddingMask: Tensor?) -> Tensor {
        let y = norm1(x + selfAttn(query: x, key: x, value: x, keyPaddingMask: keyPaddingMask).output)
        return norm2(y + linear2(linear1(y).relu()))
    }
}

/// The `Composite` module of generate.py: children of every kind, plus a parameter and buffers
/// registered on the parent after its children (PyTorch still lists them first).
struct Composite: Module {
    let path: ModulePath
    let layers: ModuleList<EncoderLayer>
    let downsample: Sequential
    let head: MLP
    let frozen: FrozenBatchNorm2d
    let alpha: Tensor
    let table: Tensor
    let scratch: Tensor

    init(_ p: ModulePath) {
        path = p
        layers = ModuleList(p / "layers", count: 2) { q, _ in EncoderLayer(q, dim: 8, heads: 2, feedforward: 16) }
        downsample = Sequential(
            p / "downsample",
            [
                { Conv2d($0, inChannels: 3, outChannels: 4, kernelSize: 3, bias: false) },
                { BatchNorm2d($0, numFeatures: 4) },
                { _ in Activation.relu },
            ])
        head = MLP(p / "head", inputDim: 8, hiddenDim: 16, outputDim: 4, numLayers: 2)
        frozen = FrozenBatchNorm2d(p / "frozen", numFeatures: 4)
        alpha = p.parameter("alpha", shape: [3], initializer: .zeros)
        table = p.buffer("table", shape: [2, 2], initializer: .zeros)
        scratch = p.buffer("scratch", shape: [1], initializer: .zeros, persistent: false)
    }
}

@Suite struct ModuleSystemTests {
    @Test func stateDictKeysAndOrderEqualPyTorch() throws {
        let store = ParameterStore()
        let model = Composite(store.root)
        let expected = refGroup("composite.param")
        #expect(model.stateDict().keys == expected.keys)
        for (k, t) in model.stateDict() { #expect(t.shape == expected[k]!.shape, "\(k)") }
        #expect(model.namedBuffers().map(\.key).contains("scratch"))
        #expect(!model.stateDict().contains("scratch"))
        #expect(model.namedParameters().first?.key == "alpha")
        // A subtree's keys are relative to it, like `submodule.state_dict()`.
        #expect(model.layers[1].norm2.stateDict().keys == ["weight", "bias"])
        #expect(model.layers.stateDict().keys.first == "0.self_attn.in_proj_weight")
    }

    @Test func loadedCompositeMatchesPyTorchForward() throws {
        let model = Composite(ParameterStore().root)
        try model.load(stateDict: refGroup("composite.param"))
        TestSupport.expectClose(model.alpha, ref("composite.param.alpha"), atol: 0, "alpha")
        var y = ref("composite.in.x")
        for layer in model.layers { y = layer(y, keyPaddingMask: ref("composite.in.key_padding_mask")) }
        TestSupport.expectClose(y, ref("composite.out.y"), atol: 1e-5, "two encoder layers")
    }

    @Test func loadReportsEveryProblemInOneError() throws {
        let model = Composite(ParameterStore().root)
        var sd = refGroup("composite.param")
        sd["layers.0.linear1.bias"] = nil
        sd["head.layers.1.weight"] = nil
        sd["extra.weight"] = Tensor.zeros([2])
        sd["layers.1.norm1.weight"] = Tensor.zeros([7])
        let before = model.layers[0].linear2.weight.floats
        do {
            try model.load(stateDict: sd, source: "bad.pth")
            Issue.record("load succeeded")
        } catch let error as StateDictLoadError {
            #expect(error.missingKeys == ["layers.0.linear1.bias", "head.layers.1.weight"])
            #expect(error.unexpectedKeys == ["extra.weight"])
            #expect(error.shapeMismatches == [.init(key: "layers.1.norm1.weight", checkpoint: [7], model: [8])])
            let text = error.description
            for part in [
                "bad.pth", "missing keys (2)", "unexpected keys (1)", "shape mismatches (1)",
                "layers.1.norm1.weight: checkpoint [7], model [8]",
            ] {
                #expect(text.contains(part), "description lacks '\(part)':\n\(text)")
            }
        }
        #expect(model.layers[0].linear2.weight.floats == before, "nothing is copied when loading fails")

        // Non-strict: missing and unexpected keys are reported, shape mismatches still throw.
        #expect(throws: StateDictLoadError.self) { try model.load(stateDict: sd, strict: false) }
        sd["layers.1.norm1.weight"] = nil
        let report = try model.load(stateDict: sd, strict: false)
        #expect(report.missingKeys == ["layers.0.linear1.bias", "layers.1.norm1.weight", "head.layers.1.weight"])
        #expect(report.unexpectedKeys == ["extra.weight"])
        TestSupport.expectClose(
            model.layers[0].linear2.weight, ref("composite.param.layers.0.linear2.weight"),
            atol: 0, "loaded in non-strict mode")
    }

    @Test func float16CheckpointIsUpcast() throws {
        let model = Composite(ParameterStore().root)
        var half = StateDict()
        for (k, t) in refGroup("composite.param") { half[k] = t.dtype == .float32 ? t.to(.float16) : t }
        try model.load(stateDict: half)
        #expect(model.alpha.dtype == .float32)
        TestSupport.expectClose(model.alpha, ref("composite.param.alpha"), atol: 2e-3, rtol: 1e-3, "float16 alpha")
        #expect(model.alpha.requiresGrad)
    }

    @Test func batchNormCountersAreOptionalAndFrozenOnesIgnored() throws {
        let store = ParameterStore()
        let bn = BatchNorm2d(store.root / "bn", numFeatures: 4)
        let frozen = FrozenBatchNorm2d(store.root / "frozen", numFeatures: 4)
        _ = (bn, frozen)
        let root = Root(path: store.root)
        var sd = root.stateDict()
        sd["bn.num_batches_tracked"] = nil  // older checkpoints lack it
        sd["frozen.num_batches_tracked"] = Tensor(scalar: Int64(5))  // saved from a trainable BatchNorm2d
        let report = try root.load(stateDict: sd, strict: true)
        #expect(report.missingKeys.isEmpty && report.unexpectedKeys.isEmpty)
    }

    @Test func freezeAndTrainableParameters() {
        let model = Composite(ParameterStore().root)
        let total = model.namedParameters().count
        model.layers[0].freeze()
        #expect(model.trainableParameters().count == total - 12)
        #expect(!model.layers[0].selfAttn.inProjWeight!.requiresGrad)
        model.freeze { $0.hasPrefix("head.") }
        #expect(model.trainableParameters().count == total - 16)
        model.unfreeze()
        #expect(model.trainableParameters().count == total)
        model.head.layers[0].weight.requiresGrad = false
        #expect(model.trainableParameters().count == total - 1)
    }

    @Test func stateDictSharesStorageButNotGradients() {
        let lin = Linear(ParameterStore().root, inFeatures: 2, outFeatures: 2)
        let w = lin.stateDict()["weight"]!
        #expect(!w.requiresGrad)
        withNoGrad { _ = lin.weight.fill_(3.0) }
        #expect(w.floats == [3, 3, 3, 3])
    }

    @Test func seededInitialisationIsReproducible() {
        let a = Linear(ParameterStore(generator: Generator(seed: 9)).root, inFeatures: 16, outFeatures: 4)
        let b = Linear(ParameterStore(generator: Generator(seed: 9)).root, inFeatures: 16, outFeatures: 4)
        #expect(a.weight.floats == b.weight.floats)
        #expect(a.weight.abs().max().item() <= 0.25)  // kaiming_uniform(a=sqrt 5): bound 1/sqrt(16)
    }
}

/// The whole store as a module.
struct Root: Module { let path: ModulePath }
