import NN
import Torch

/// Conditional DETR decoder layer (post-norm): self-attention with separate content/position
/// projections, conditional cross-attention whose query and key concatenate content and
/// spatial parts per head, FFN. Only layer 0 has `ca_qpos_proj`.
struct ConditionalDecoderLayer: Module {
    let path: ModulePath
    let saQcontentProj: Linear, saQposProj: Linear, saKcontentProj: Linear, saKposProj: Linear, saVProj: Linear
    let selfAttn: ConditionalAttention
    let caQcontentProj: Linear, caQposProj: Linear?, caKcontentProj: Linear, caKposProj: Linear, caVProj: Linear
    let caQposSineProj: Linear
    let crossAttn: ConditionalAttention
    let linear1: Linear, linear2: Linear
    let norm1: LayerNorm, norm2: LayerNorm, norm3: LayerNorm
    let heads: Int
    let dropout: Double

    init(_ p: ModulePath, dim d: Int, heads: Int, feedforward: Int, dropout: Double, isFirst: Bool) {
        path = p
        func lin(_ name: String) -> Linear { Linear(p / name, inFeatures: d, outFeatures: d) }
        // Registration order follows the official module so state-dict order matches.
        saQcontentProj = lin("sa_qcontent_proj")
        saQposProj = lin("sa_qpos_proj")
        saKcontentProj = lin("sa_kcontent_proj")
        saKposProj = lin("sa_kpos_proj")
        saVProj = lin("sa_v_proj")
        selfAttn = ConditionalAttention(p / "self_attn", valueDim: d, numHeads: heads, dropout: dropout)
        caQcontentProj = lin("ca_qcontent_proj")
        caQposProj = isFirst ? lin("ca_qpos_proj") : nil
        caKcontentProj = lin("ca_kcontent_proj")
        caKposProj = lin("ca_kpos_proj")
        caVProj = lin("ca_v_proj")
        caQposSineProj = lin("ca_qpos_sine_proj")
        crossAttn = ConditionalAttention(p / "cross_attn", valueDim: d, numHeads: heads, dropout: dropout)
        linear1 = Linear(p / "linear1", inFeatures: d, outFeatures: feedforward)
        linear2 = Linear(p / "linear2", inFeatures: feedforward, outFeatures: d)
        norm1 = LayerNorm(p / "norm1", d)
        norm2 = LayerNorm(p / "norm2", d)
        norm3 = LayerNorm(p / "norm3", d)
        self.heads = heads
        self.dropout = dropout
    }

    /// - Parameters:
    ///   - tgt, queryPos, querySineEmbed: [Q, B, d]
    ///   - memory, pos: [HW, B, d]; memoryMask: [B, HW]
    ///   - groups: Group DETR groups of consecutive queries; self-attention stays within a group
    ///     (the groups are stacked along the batch axis, as the official code does)
    /// - Returns: [Q, B, d]
    func callAsFunction(
        _ tgt: Tensor, memory: Tensor, memoryMask: Tensor, pos: Tensor, queryPos: Tensor,
        querySineEmbed: Tensor, groups: Int = 1, training: Bool, generator: Generator?
    ) -> Tensor {
        func drop(_ x: Tensor) -> Tensor { Functional.dropout(x, p: dropout, training: training, generator: generator) }
        // Self-attention: [Q, B, d] -> [Q/G, G·B, d] (group-major along the batch axis) and back.
        func toGroups(_ x: Tensor) -> Tensor { groups == 1 ? x : Tensor.cat(x.chunk(groups, dim: 0), dim: 1) }
        func fromGroups(_ x: Tensor) -> Tensor { groups == 1 ? x : Tensor.cat(x.chunk(groups, dim: 1), dim: 0) }
        let q = saQcontentProj(tgt) + saQposProj(queryPos)
        let k = saKcontentProj(tgt) + saKposProj(queryPos)
        let sa = fromGroups(
            selfAttn(
                query: toGroups(q), key: toGroups(k), value: toGroups(saVProj(tgt)), keyPaddingMask: nil,
                training: training, generator: generator))
        var x = norm1(tgt + drop(sa))

        // Conditional cross-attention: per head, [content ‖ spatial] for queries and keys.
        let (nq, b, d) = (x.size(0), x.size(1), x.size(2))
        let hw = memory.size(0)
        let kPos = caKposProj(pos)
        var qc = caQcontentProj(x), kc = caKcontentProj(memory)
        if let caQposProj {
            qc = qc + caQposProj(queryPos)
            kc = kc + kPos
        }
        let sine = caQposSineProj(querySineEmbed).view(nq, b, heads, d / heads)
        let query = Tensor.cat([qc.view(nq, b, heads, d / heads), sine], dim: 3).view(nq, b, 2 * d)
        let key = Tensor.cat([kc.view(hw, b, heads, d / heads), kPos.view(hw, b, heads, d / heads)], dim: 3)
            .view(hw, b, 2 * d)
        let ca = crossAttn(
            query: query, key: key, value: caVProj(memory), keyPaddingMask: memoryMask,
            training: training, generator: generator)
        x = norm2(x + drop(ca))
        x = norm3(x + drop(linear2(drop(linear1(x, relu: true)))))
        return x
    }
}
