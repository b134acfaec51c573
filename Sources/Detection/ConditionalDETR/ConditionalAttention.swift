import NN
import Torch

/// Conditional DETR's attention: the query/key/value projections live in the decoder layer,
/// so this module only splits heads, attends and applies `out_proj`. Query/key width may
/// differ from the value width (cross-attention concatenates content and position, 2·d).
/// Keys: `out_proj.weight`, `out_proj.bias`.
struct ConditionalAttention: Module {
    let path: ModulePath
    let outProj: Linear
    let numHeads: Int
    let dropout: Double

    init(_ p: ModulePath, valueDim: Int, numHeads: Int, dropout: Double) {
        path = p
        outProj = Linear(p / "out_proj", inFeatures: valueDim, outFeatures: valueDim)
        self.numHeads = numHeads
        self.dropout = dropout
    }

    /// - Parameters:
    ///   - query: [L, B, Eq]; key: [S, B, Eq]; value: [S, B, Ev]
    ///   - keyPaddingMask: [B, S] bool, true = ignore
    /// - Returns: [L, B, Ev]
    func callAsFunction(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor?, training: Bool,
        generator: Generator?
    ) -> Tensor {
        let batch = query.size(1)
        let headDim = query.size(2) / numHeads
        // The official code multiplies by head_dim^-0.5 (not a division by sqrt).
        let q = Attention.splitHeads(query * (1 / Double(headDim).squareRoot()), heads: numHeads)  // [B·h, L, d]
        let k = Attention.splitHeads(key, heads: numHeads)  // [B·h, S, d]
        let v = Attention.splitHeads(value, heads: numHeads)  // [B·h, S, dv]
        let mask = Attention.additiveMask(
            keyPaddingMask: keyPaddingMask, attnMask: nil, batch: batch, heads: numHeads,
            targetLength: query.size(0), sourceLength: key.size(0), dtype: q.dtype)
        let out = Attention.attend(
            q: q, k: k, v: v, mask: mask, batch: batch, scale: 1, dropout: dropout,
            training: training, generator: generator)  // [B·h, L, dv]
        return outProj(Attention.mergeHeads(out, batch: batch))
    }
}
