import Torch

/// Multi-head attention with `nn.MultiheadAttention`'s parameters and semantics
/// (PyTorch 1.13, `batch_first=False`, no `add_bias_kv` / `add_zero_attn`).
///
/// Keys, in PyTorch's order: `in_proj_weight` [3E, E] (or, when kdim or vdim differ from E,
/// `q_proj_weight` [E, E], `k_proj_weight` [E, kdim], `v_proj_weight` [E, vdim]),
/// `in_proj_bias` [3E], `out_proj.weight` [E, E], `out_proj.bias` [E].
public struct MultiheadAttention: Module {
    public let path: ModulePath
    public let embedDim: Int
    public let numHeads: Int
    public let dropout: Double
    /// Packed q/k/v projection [3E, E] (nil with separate projections).
    public let inProjWeight: Tensor?
    public let qProjWeight: Tensor?
    public let kProjWeight: Tensor?
    public let vProjWeight: Tensor?
    public let inProjBias: Tensor?
    public let outProj: Linear
    /// Source of the attention-weight dropout (global generator when nil).
    public let generator: Generator?

    /// Initialised like PyTorch: xavier_uniform_ projections, zero biases.
    public init(
        _ p: ModulePath, embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true,
        kdim: Int? = nil, vdim: Int? = nil, generator: Generator? = nil
    ) {
        precondition(
            embedDim % numHeads == 0, "MultiheadAttention \(p): \(embedDim) not divisible by \(numHeads) heads")
        path = p
        self.embedDim = embedDim
        self.numHeads = numHeads
        self.dropout = dropout
        self.generator = generator
        let kdim = kdim ?? embedDim, vdim = vdim ?? embedDim
        if kdim == embedDim && vdim == embedDim {
            inProjWeight = p.parameter(
                "in_proj_weight", shape: [3 * embedDim, embedDim], initializer: .xavierUniform())
            (qProjWeight, kProjWeight, vProjWeight) = (nil, nil, nil)
        } else {
            inProjWeight = nil
            qProjWeight = p.parameter("q_proj_weight", shape: [embedDim, embedDim], initializer: .xavierUniform())
            kProjWeight = p.parameter("k_proj_weight", shape: [embedDim, kdim], initializer: .xavierUniform())
            vProjWeight = p.parameter("v_proj_weight", shape: [embedDim, vdim], initializer: .xavierUniform())
        }
        inProjBias = bias ? p.parameter("in_proj_bias", shape: [3 * embedDim], initializer: .zeros) : nil
        outProj = Linear(p / "out_proj", inFeatures: embedDim, outFeatures: embedDim, bias: bias)
        if let b = outProj.bias { withNoGrad { _ = b.zero_() } }
    }

    /// Attention of `query` over `key`/`value` (sequence first).
    ///
    /// Passing the same `Tensor` object as query and key (and value) selects PyTorch's fused
    /// self-attention projection, as `q is k` does in Python.
    /// - Parameters:
    ///   - query: [L, B, E]
    ///   - key: [S, B, kdim]
    ///   - value: [S, B, vdim]
    ///   - keyPaddingMask: bool [B, S], true = ignore that key
    ///   - attnMask: bool (true = not allowed) or float (added to the logits), [L, S] or [B·heads, L, S]
    ///   - training: applies dropout to the attention weights
    ///   - generator: dropout randomness for this call (the module's own when nil)
    /// - Returns: output [L, B, E] and the head-averaged attention weights [B, L, S]
    public func callAsFunction(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil,
        attnMask: Tensor? = nil, training: Bool = false, generator: Generator? = nil
    )
        -> (output: Tensor, weights: Tensor)
    {
        let (tgtLen, batch, srcLen) = (query.size(0), query.size(1), key.size(0))
        let h = heads(query, key, value, keyPaddingMask: keyPaddingMask, attnMask: attnMask)
        let (out, weights) = Attention.scaledDotProduct(
            q: h.q, k: h.k, v: h.v, mask: h.mask, dropout: dropout,
            training: training, generator: generator ?? self.generator)
        let output = outProj(Attention.mergeHeads(out, batch: batch))  // [L, B, E]
        let averaged = weights.view(batch, numHeads, tgtLen, srcLen).sum(dim: 1) / numHeads
        return (output, averaged)
    }

    /// The output of `callAsFunction` without the attention weights, through the fused kernel of
    /// `Attention.attend` (exactly the explicit computation when dropout applies in training).
    /// - Returns: [L, B, E]
    public func attend(
        query: Tensor, key: Tensor, value: Tensor, keyPaddingMask: Tensor? = nil,
        attnMask: Tensor? = nil, training: Bool = false, generator: Generator? = nil
    ) -> Tensor {
        let batch = query.size(1)
        let h = heads(query, key, value, keyPaddingMask: keyPaddingMask, attnMask: attnMask)
        let out = Attention.attend(
            q: h.q, k: h.k, v: h.v, mask: h.mask, batch: batch,
            scale: 1 / Double(embedDim / numHeads).squareRoot(), dropout: dropout,
            training: training, generator: generator ?? self.generator)
        return outProj(Attention.mergeHeads(out, batch: batch))
    }

    /// The projected, head-split q [B·heads, L, d], k, v [B·heads, S, d] and the additive mask
    /// ([1 or B·heads, L or 1, S], nil without masks) both forwards start from.
    func heads(
        _ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor?, attnMask: Tensor?
    )
        -> (q: Tensor, k: Tensor, v: Tensor, mask: Tensor?)
    {
        precondition(query.size(2) == embedDim, "MultiheadAttention \(path): query dim \(query.size(2)) != \(embedDim)")
        let (q, k, v) = project(query, key, value)
        let mask = Attention.additiveMask(
            keyPaddingMask: keyPaddingMask, attnMask: attnMask, batch: query.size(1),
            heads: numHeads, targetLength: query.size(0), sourceLength: key.size(0),
            dtype: q.dtype)
        return (
            Attention.splitHeads(q, heads: numHeads), Attention.splitHeads(k, heads: numHeads),
            Attention.splitHeads(v, heads: numHeads), mask
        )
    }

    /// The in-projection, following `_in_projection_packed` / `_in_projection`.
    /// - Returns: q [L, B, E], k [S, B, E], v [S, B, E]
    func project(_ query: Tensor, _ key: Tensor, _ value: Tensor) -> (Tensor, Tensor, Tensor) {
        let e = embedDim
        let biases = inProjBias?.chunk(3, dim: 0)
        guard let w = inProjWeight else {
            return (
                Tensor.linear(query, weight: qProjWeight!, bias: biases?[0]),
                Tensor.linear(key, weight: kProjWeight!, bias: biases?[1]),
                Tensor.linear(value, weight: vProjWeight!, bias: biases?[2])
            )
        }
        if key === value {
            if query === key {
                let qkv = Tensor.linear(query, weight: w, bias: inProjBias).chunk(3, dim: -1)
                return (qkv[0], qkv[1], qkv[2])
            }
            let ws = w.split(sizes: [e, 2 * e], dim: 0)
            let bs = inProjBias?.split(sizes: [e, 2 * e], dim: 0)
            let kv = Tensor.linear(key, weight: ws[1], bias: bs?[1]).chunk(2, dim: -1)
            return (Tensor.linear(query, weight: ws[0], bias: bs?[0]), kv[0], kv[1])
        }
        let ws = w.chunk(3, dim: 0)
        return (
            Tensor.linear(query, weight: ws[0], bias: biases?[0]),
            Tensor.linear(key, weight: ws[1], bias: biases?[1]),
            Tensor.linear(value, weight: ws[2], bias: biases?[2])
        )
    }
}
