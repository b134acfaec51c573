import Foundation
import NN
import Torch

/// Swin V1 (shifted) window multi-head self-attention with a relative position bias
/// (torchvision's `ShiftedWindowAttention`). Keys: `relative_position_bias_table`
/// [(2·Wh − 1)(2·Ww − 1), heads], `relative_position_index` (int64 buffer [N·N], N = Wh·Ww),
/// `qkv` (C -> 3C), `proj` (C -> C).
///
/// All windows of the batch go through one attention call: the token permutation of
/// `SwinWindowLayout` pads, rolls and partitions the map in one gather and undoes it (with the
/// crop) in one gather; the additive mask is the relative position bias [1, heads, N, N], plus
/// the shift mask in shifted blocks.
struct ShiftedWindowAttention: Module {
    let path: ModulePath
    /// [(2·Wh − 1)(2·Ww − 1), heads] parameter and its int64 [N·N] index buffer.
    let relativePositionBiasTable, relativePositionIndex: Tensor
    /// C -> 3C (queries, keys, values) and C -> C.
    let qkv, proj: Linear
    let heads: Int
    let window: (height: Int, width: Int)
    /// Half-window cyclic shift (odd blocks of a stage); disabled per axis by the layout.
    let shifted: Bool
    /// Dropout on the attention weights (training).
    let attentionDropout: Double
    /// Dropout after `proj` (training).
    let dropout: Double
    let layouts: SwinWindowLayoutCache
    private let biasCache = DerivedTensorCache()

    /// The table is drawn from N(0, 0.02²) (the official trunc_normal_(std=0.02) truncates at ±2,
    /// 100 standard deviations out), the linears as `SwinTransformer.resetLinear` says.
    init(
        _ p: ModulePath, dim: Int, heads: Int, shifted: Bool, attentionDropout: Double, dropout: Double,
        layouts: SwinWindowLayoutCache
    ) {
        precondition(dim % heads == 0, "ShiftedWindowAttention \(p): \(dim) channels for \(heads) heads")
        path = p
        window = layouts.window
        let tableSize = (2 * window.height - 1) * (2 * window.width - 1)
        relativePositionBiasTable = p.parameter(
            "relative_position_bias_table", shape: [tableSize, heads], initializer: .normal(mean: 0, std: 0.02))
        relativePositionIndex = p.buffer(
            "relative_position_index", Self.relativePositionIndex(window: window))
        qkv = Linear(p / "qkv", inFeatures: dim, outFeatures: 3 * dim)
        proj = Linear(p / "proj", inFeatures: dim, outFeatures: dim)
        SwinTransformer.resetLinear(qkv, generator: p.store.generator)
        SwinTransformer.resetLinear(proj, generator: p.store.generator)
        self.heads = heads
        self.shifted = shifted
        self.attentionDropout = attentionDropout
        self.dropout = dropout
        self.layouts = layouts
    }

    /// int64 [N·N]: entry a·N + b is the table row of query a and key b, with a = (ya, xa) and
    /// b = (yb, xb) row-major in the window: (ya − yb + Wh − 1)·(2·Ww − 1) + (xa − xb + Ww − 1).
    static func relativePositionIndex(window: (height: Int, width: Int)) -> Tensor {
        let n = window.height * window.width
        var index: [Int] = []
        index.reserveCapacity(n * n)
        for a in 0..<n {
            for b in 0..<n {
                let dy = a / window.width - b / window.width, dx = a % window.width - b % window.width
                index.append((dy + window.height - 1) * (2 * window.width - 1) + dx + window.width - 1)
            }
        }
        return Tensor(index)
    }

    /// The table gathered by the index: [1, heads, N, N]. Recomputed while the table needs a
    /// gradient; otherwise cached until the table or the index changes.
    func relativePositionBias() -> Tensor {
        let n = window.height * window.width
        let make = {
            self.relativePositionBiasTable.indexSelect(dim: 0, index: self.relativePositionIndex)
                .view(n, n, self.heads).permute(2, 0, 1).contiguous().unsqueeze(0)
        }
        if gradientNeeded(by: [relativePositionBiasTable]) { return make() }
        return biasCache.value(derivedFrom: [relativePositionBiasTable, relativePositionIndex]) { [make()] }[0]
    }

    /// - Parameters:
    ///   - x: [B, H, W, C] (the block's normalised input)
    ///   - training: attention and output dropout
    ///   - generator: their randomness
    /// - Returns: [B, H, W, C]
    func callAsFunction(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        let (b, h, w, c) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let layout = layouts.layout(height: h, width: w, shifted: shifted, dtype: x.dtype, device: x.device)
        let (hp, wp) = (layout.paddedHeight, layout.paddedWidth)
        let n = window.height * window.width, nW = layout.windowCount, d = c / heads
        let padded = layout.isPadded ? Functional.pad(x, [0, 0, 0, wp - w, 0, hp - h]) : x
        // [B, nW·N, C] in window order, then [3, B·nW, heads, N, d]
        let tokens = padded.reshape(b, hp * wp, c).indexSelect(dim: 1, index: layout.gather)
        let qkvs = qkv(tokens).view(b * nW, n, 3, heads, d).permute(2, 0, 3, 1, 4)
        let (q, k, v) = (qkvs[0], qkvs[1], qkvs[2])
        var mask = relativePositionBias()
        if let shiftMask = layout.shiftMask {
            // [B, nW, heads, N, N] = shift mask of each window + bias of each head
            mask = (shiftMask.view(1, nW, 1, n, n).expand([b, nW, 1, n, n]) + mask.view(1, 1, heads, n, n))
                .view(b * nW, heads, n, n)
        }
        let scale = 1 / Double(d).squareRoot()
        let attended: Tensor
        if training && attentionDropout > 0 {
            let logits = (q * scale).matmul(k.transpose(-2, -1)) + mask
            let weights = Functional.dropout(
                logits.softmax(dim: -1), p: attentionDropout, training: true, generator: generator)
            attended = weights.matmul(v)
        } else {
            attended = Functional.scaledDotProductAttention(q, k, v, mask: mask, scale: scale)
        }
        // [B·nW, heads, N, d] -> [B, nW·N, C]
        var y = proj(attended.transpose(1, 2).reshape(b, nW * n, c))
        if training && dropout > 0 {
            y = Functional.dropout(y, p: dropout, training: true, generator: generator)
        }
        return y.indexSelect(dim: 1, index: layout.scatter).view(b, h, w, c)
    }
}
