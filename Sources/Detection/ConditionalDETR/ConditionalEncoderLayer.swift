import NN
import Torch

/// DETR's post-norm transformer encoder layer (self-attention with position added to q and k).
/// Keys: `self_attn.*` (nn.MultiheadAttention), `linear1`, `linear2`, `norm1`, `norm2`.
struct ConditionalEncoderLayer: Module {
    let path: ModulePath
    let selfAttn: MultiheadAttention
    let linear1: Linear, linear2: Linear
    let norm1: LayerNorm, norm2: LayerNorm
    let dropout: Double

    init(_ p: ModulePath, dim: Int, heads: Int, feedforward: Int, dropout: Double) {
        path = p
        selfAttn = MultiheadAttention(p / "self_attn", embedDim: dim, numHeads: heads, dropout: dropout)
        linear1 = Linear(p / "linear1", inFeatures: dim, outFeatures: feedforward)
        linear2 = Linear(p / "linear2", inFeatures: feedforward, outFeatures: dim)
        norm1 = LayerNorm(p / "norm1", dim)
        norm2 = LayerNorm(p / "norm2", dim)
        self.dropout = dropout
    }

    /// - Parameters: src, pos [HW, B, d]; mask [B, HW]
    /// - Returns: [HW, B, d]
    func callAsFunction(_ src: Tensor, pos: Tensor, mask: Tensor, training: Bool, generator: Generator?) -> Tensor {
        func drop(_ x: Tensor) -> Tensor { Functional.dropout(x, p: dropout, training: training, generator: generator) }
        let qk = src + pos
        let attn = selfAttn.attend(
            query: qk, key: qk, value: src, keyPaddingMask: mask, training: training,
            generator: generator)
        var x = norm1(src + drop(attn))
        x = norm2(x + drop(linear2(drop(linear1(x, relu: true)))))
        return x
    }
}
