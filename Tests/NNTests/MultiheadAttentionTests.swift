import NN
import TestSupport
import Testing
import Torch

/// `MultiheadAttention` against `nn.MultiheadAttention` (PyTorch 1.13, dropout 0).
@Suite struct MultiheadAttentionTests {
    let store = ParameterStore(generator: Generator(seed: 2))

    func mha(kdim: Int? = nil, vdim: Int? = nil) -> MultiheadAttention {
        MultiheadAttention(store.root, embedDim: 8, numHeads: 2, kdim: kdim, vdim: vdim)
    }

    @Test func parameterLayout() {
        #expect(mha().stateDict().keys == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"])
        let separate = MultiheadAttention(ParameterStore().root, embedDim: 8, numHeads: 2, kdim: 6, vdim: 7)
        #expect(
            separate.stateDict().keys == [
                "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias",
                "out_proj.weight", "out_proj.bias",
            ])
        #expect(separate.kProjWeight?.shape == [8, 6] && separate.vProjWeight?.shape == [8, 7])
    }

    /// Query, key and value are the same tensor (PyTorch's fused projection).
    @Test func selfAttention() throws {
        let m = mha()
        try checkCase("mha_self", m) { i in
            let x = i["query"]!
            let (y, w) = m(query: x, key: x, value: x)
            return ["y": y, "weights": w]
        }
    }

    @Test func boolKeyPaddingAndAttentionMasks() throws {
        let m = mha()
        try checkCase("mha_bool_masks", m) { i in
            let kv = i["key"]!
            let (y, w) = m(
                query: i["query"]!, key: kv, value: kv, keyPaddingMask: i["key_padding_mask"],
                attnMask: i["attn_mask"])
            return ["y": y, "weights": w]
        }
    }

    @Test func floatAttentionMaskPerHead() throws {
        let m = mha()
        try checkCase("mha_float_mask", m) { i in
            let (y, w) = m(
                query: i["query"]!, key: i["key"]!, value: i["value"]!,
                keyPaddingMask: i["key_padding_mask"], attnMask: i["attn_mask"])
            return ["y": y, "weights": w]
        }
    }

    @Test func separateKeyAndValueDimensions() throws {
        let m = mha(kdim: 6, vdim: 7)
        try checkCase("mha_kdim_vdim", m) { i in
            let (y, w) = m(
                query: i["query"]!, key: i["key"]!, value: i["value"]!,
                keyPaddingMask: i["key_padding_mask"])
            return ["y": y, "weights": w]
        }
    }

    @Test func maskedKeysGetZeroWeight() throws {
        let m = mha()
        try m.load(stateDict: refGroup("mha_bool_masks.param"))
        let kv = ref("mha_bool_masks.in.key")
        let kpm = ref("mha_bool_masks.in.key_padding_mask")
        let (_, w) = m(query: ref("mha_bool_masks.in.query"), key: kv, value: kv, keyPaddingMask: kpm)
        #expect(w.maskedSelect(kpm.unsqueeze(1).expand(w.shape)).abs().max().item() == 0)
        TestSupport.expectClose(w.sum(dim: -1), Tensor.ones([2, 4]), atol: 1e-6, "rows sum to 1")
    }

    @Test func dropoutOnlyWhenTraining() {
        let m = MultiheadAttention(
            store.root / "d", embedDim: 8, numHeads: 2, dropout: 0.5, generator: Generator(seed: 4))
        let x = Tensor.randn([4, 2, 8])
        let (_, evalWeights) = m(query: x, key: x, value: x, training: false)
        let (_, trainWeights) = m(query: x, key: x, value: x, training: true)
        TestSupport.expectClose(evalWeights.sum(dim: -1), Tensor.ones([2, 4]), atol: 1e-6, "eval rows")
        #expect(TestSupport.maxAbsDiff(evalWeights, trainWeights) > 1e-3)
    }
}
