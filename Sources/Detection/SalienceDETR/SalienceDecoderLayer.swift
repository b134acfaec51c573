import NN
import Torch

/// Salience DETR decoder layer (post-norm): self-attention (q = k = x + pos, v = x, optional
/// mask) → residual → `norm2`; deformable cross-attention of x + pos into the memory around the
/// reference boxes → residual → `norm1`; FFN → residual → `norm3`.
/// Keys, in the official order: `cross_attn`, `norm1`, `self_attn`, `norm2`, `linear1`,
/// `linear2`, `norm3`.
struct SalienceDecoderLayer: Module {
    let path: ModulePath
    let crossAttn: MultiScaleDeformableAttention
    let norm1: LayerNorm
    let selfAttn: MultiheadAttention
    let norm2: LayerNorm
    let linear1: Linear, linear2: Linear
    let norm3: LayerNorm
    let dropout: Double

    init(_ p: ModulePath, config c: SalienceDETRConfig) {
        path = p
        let d = c.hiddenDim
        crossAttn = MultiScaleDeformableAttention(
            p / "cross_attn", embedDim: d, numLevels: c.numFeatureLevels,
            numHeads: c.numHeads, numPoints: c.numPoints)
        norm1 = LayerNorm(p / "norm1", d)
        selfAttn = MultiheadAttention(p / "self_attn", embedDim: d, numHeads: c.numHeads, dropout: c.dropout)
        norm2 = LayerNorm(p / "norm2", d)
        linear1 = Linear(p / "linear1", inFeatures: d, outFeatures: c.dimFeedforward)
        linear2 = Linear(p / "linear2", inFeatures: c.dimFeedforward, outFeatures: d)
        norm3 = LayerNorm(p / "norm3", d)
        dropout = c.dropout
        SalienceInit.xavier([selfAttn.outProj, linear1, linear2], store: p.store)
    }

    /// - Parameters:
    ///   - query, pos: [B, Q, C]
    ///   - referencePoints: [B, Q, L, 4] boxes scaled to each level's valid area
    ///   - memory: [B, N, C]; keyPaddingMask [B, N]
    ///   - attnMask: bool [Q, Q], true = blocked (denoising groups), or nil
    /// - Returns: [B, Q, C]
    func callAsFunction(
        _ query: Tensor, pos: Tensor, referencePoints: Tensor, memory: Tensor, layout: MultiLevelLayout,
        keyPaddingMask: Tensor?, attnMask: Tensor?, training: Bool, generator: Generator?
    ) -> Tensor {
        func drop(_ x: Tensor) -> Tensor { Functional.dropout(x, p: dropout, training: training, generator: generator) }
        let qk = (query + pos).transpose(0, 1)  // [Q, B, C]
        let sa = selfAttn.attend(
            query: qk, key: qk, value: query.transpose(0, 1), attnMask: attnMask, training: training,
            generator: generator)
        var x = norm2(query + drop(sa.transpose(0, 1)))
        let ca = crossAttn(
            query: x + pos, referencePoints: referencePoints, value: memory, spatialShapes: layout.hw,
            keyPaddingMask: keyPaddingMask)
        x = norm1(x + drop(ca))
        return norm3(x + drop(linear2(drop(linear1(x, relu: true)))))
    }
}
