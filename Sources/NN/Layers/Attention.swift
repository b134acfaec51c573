import Foundation
import Torch

/// The head-splitting, masking and scaled dot-product steps of PyTorch 1.13's
/// `F.multi_head_attention_forward`, for attention modules with their own projections
/// (e.g. Conditional DETR's, which have no in-projection).
public enum Attention {
    /// Combines a key-padding mask and an attention mask into one additive float mask,
    /// as `F.multi_head_attention_forward` does.
    /// - Parameters:
    ///   - keyPaddingMask: bool [B, S], true = ignore that key.
    ///   - attnMask: bool (true = not allowed) or float (added) [L, S] or [B·heads, L, S].
    ///   - dtype: dtype of the attention logits.
    /// - Returns: float [1 or B·heads, L or 1, S] with -inf at masked positions, or nil without masks.
    public static func additiveMask(
        keyPaddingMask: Tensor?, attnMask: Tensor?, batch: Int, heads: Int,
        targetLength: Int, sourceLength: Int, dtype: DType
    ) -> Tensor? {
        var mask: Tensor?
        if let attnMask {
            precondition(
                attnMask.dtype == .bool || attnMask.dtype.isFloatingPoint,
                "attn_mask must be bool or floating point, got \(attnMask.dtype)")
            if attnMask.rank == 2 {
                precondition(
                    attnMask.shape == [targetLength, sourceLength],
                    "2-D attn_mask is \(attnMask.shape), expected [\(targetLength), \(sourceLength)]")
                mask = attnMask.unsqueeze(0)
            } else {
                precondition(
                    attnMask.shape == [batch * heads, targetLength, sourceLength],
                    "3-D attn_mask is \(attnMask.shape), expected [\(batch * heads), \(targetLength), \(sourceLength)]")
                mask = attnMask
            }
        }
        if let keyPaddingMask {
            precondition(keyPaddingMask.dtype == .bool, "key_padding_mask must be bool, got \(keyPaddingMask.dtype)")
            precondition(
                keyPaddingMask.shape == [batch, sourceLength],
                "key_padding_mask is \(keyPaddingMask.shape), expected [\(batch), \(sourceLength)]")
            let kpm = keyPaddingMask.view(batch, 1, 1, sourceLength).expand([-1, heads, -1, -1])
                .reshape(batch * heads, 1, sourceLength)
            if let m = mask {
                mask = m.dtype == .bool ? (m .| kpm) : m.maskedFill(kpm, -Double.infinity)
            } else {
                mask = kpm
            }
        }
        if let m = mask, m.dtype == .bool {
            mask = Tensor.zeros(m.shape, dtype: dtype, device: m.device).maskedFill(m, -Double.infinity)
        }
        return mask
    }

    /// softmax(q kᵀ / sqrt(d) + mask) v, with dropout on the weights in training.
    /// - Parameters:
    ///   - q: [N, L, d]; k: [N, S, d]; v: [N, S, dv]
    ///   - mask: additive, broadcastable to [N, L, S]
    /// - Returns: output [N, L, dv] and the attention weights [N, L, S] (after dropout, as PyTorch returns them)
    ///   - scale: factor applied to q (nil: division by sqrt(d), as PyTorch 1.13 computes it)
    public static func scaledDotProduct(
        q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, scale: Double? = nil,
        dropout: Double = 0, training: Bool = false, generator: Generator? = nil
    )
        -> (output: Tensor, weights: Tensor)
    {
        let qScaled = scale.map { $0 == 1 ? q : q * $0 } ?? q / Foundation.sqrt(Double(q.size(-1)))
        let kT = k.transpose(-2, -1)
        let logits = mask.map { $0.baddbmm(qScaled, kT) } ?? qScaled.bmm(kT)
        var weights = logits.softmax(dim: -1)
        if training && dropout > 0 {
            weights = Functional.dropout(weights, p: dropout, training: true, generator: generator)
        }
        return (weights.bmm(v), weights)
    }

    /// The output of `scaledDotProduct` without the weights, through libtorch's fused
    /// scaled-dot-product attention (flash attention on CPU: the [N, L, S] weights are never
    /// materialised) whenever no dropout applies; with dropout in training it is exactly
    /// `scaledDotProduct(...).output`. The fused kernel agrees with the explicit softmax to float32
    /// rounding (it accumulates the softmax blockwise).
    ///
    /// Scaling q by `scale` (1 for q already scaled) follows PyTorch 2's `q * E^-½`.
    /// - Parameters:
    ///   - q: [B·heads, L, d] (already scaled when `scale` is 1); k: [B·heads, S, d]; v: [B·heads, S, dv]
    ///   - mask: additive, shaped as `additiveMask` returns it ([1 or B·heads, L or 1, S])
    ///   - scale: factor applied to q kᵀ
    /// - Returns: [B·heads, L, dv]
    public static func attend(
        q: Tensor, k: Tensor, v: Tensor, mask: Tensor?, batch: Int, scale: Double,
        dropout: Double = 0, training: Bool = false, generator: Generator? = nil
    ) -> Tensor {
        if training && dropout > 0 {
            return scaledDotProduct(
                q: q, k: k, v: v, mask: mask, scale: scale, dropout: dropout, training: true,
                generator: generator
            ).output
        }
        // libtorch's CPU flash kernel needs v's head size to equal q's; for other shapes (Conditional
        // DETR's cross-attention: q and k carry content and position, 2d, v d) it falls back to a
        // reference path that also checks every row for being fully masked. The explicit product
        // computes the same to float32 rounding without those passes (every query has an unmasked
        // key: an image has at least one valid pixel). A recording keeps the one attention
        // operator, which its ONNX lowering expands.
        if q.size(-1) != v.size(-1) && !OperationTrace.isRecording {
            return scaledDotProduct(q: q, k: k, v: v, mask: mask, scale: scale).output
        }
        let (bh, len) = (q.size(0), q.size(1))
        let heads = bh / batch
        func split(_ t: Tensor) -> Tensor { t.view(batch, heads, t.size(1), t.size(2)) }
        let m4 = mask.map { m in m.view(m.size(0) == 1 ? 1 : batch, m.size(0) == 1 ? 1 : heads, m.size(1), m.size(2)) }
        return Functional.scaledDotProductAttention(split(q), split(k), split(v), mask: m4, scale: scale)
            .view(bh, len, v.size(2))
    }

    /// [L, B, heads·d] -> [B·heads, L, d]
    public static func splitHeads(_ x: Tensor, heads: Int) -> Tensor {
        let (len, batch, dim) = (x.size(0), x.size(1), x.size(2))
        return x.contiguous().view(len, batch * heads, dim / heads).transpose(0, 1)
    }

    /// [B·heads, L, d] -> [L, B, heads·d]
    public static func mergeHeads(_ x: Tensor, batch: Int) -> Tensor {
        let (bh, len, d) = (x.size(0), x.size(1), x.size(2))
        return x.transpose(0, 1).contiguous().view(len, batch, bh / batch * d)
    }
}
