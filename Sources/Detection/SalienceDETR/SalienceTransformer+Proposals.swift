import Torch

extension SalienceTransformer {
    /// `gen_encoder_output_proposals`: one proposal per token — its cell centre normalised by the
    /// image's valid extent of that level, size 0.05·2^level — and the memory projected by the
    /// shared `enc_output` + `enc_output_norm`.
    ///
    /// Proposals are in inverse-sigmoid space and +inf where the token is padding or any
    /// coordinate falls outside (0.01, 0.99); the memory of those tokens is zeroed before the
    /// projection.
    /// - Parameters:
    ///   - memory: [B, N, C]
    ///   - mask: [B, N] bool, true = padding
    /// - Returns: memory [B, N, C] and proposals [B, N, 4] (cx, cy, w, h)
    func encoderOutputProposals(
        _ memory: Tensor, mask: Tensor, layout: MultiLevelLayout
    )
        -> (memory: Tensor, proposals: Tensor)
    {
        let (n, dtype, device) = (memory.size(0), memory.dtype, memory.device)
        var perLevel: [Tensor] = []
        for (l, shape) in layout.shapes.enumerated() {
            let (h, w) = (shape.height, shape.width)
            let m = mask.slice(dim: 1, start: layout.starts[l], end: layout.starts[l] + h * w).view(n, h, w)
            let validH = m.select(dim: 2, index: 0).logicalNot().sum(dim: 1)  // [B] int64
            let validW = m.select(dim: 1, index: 0).logicalNot().sum(dim: 1)
            let gx = Tensor.arange(from: 0, to: Double(w), dtype: dtype, device: device).view(1, w).expand([h, w])
            let gy = Tensor.arange(from: 0, to: Double(h), dtype: dtype, device: device).view(h, 1).expand([h, w])
            let grid = Tensor.stack([gx, gy], dim: -1)  // [h, w, 2]
            let scale = Tensor.stack([validW, validH], dim: -1).view(n, 1, 1, 2)
            let centres = (grid.unsqueeze(0).expand([n, -1, -1, -1]) + 0.5) / scale  // [B, h, w, 2]
            let wh = centres.onesLike() * 0.05 * Double(1 << l)
            perLevel.append(Tensor.cat([centres, wh], dim: -1).view(n, -1, 4))
        }
        var proposals = Tensor.cat(perLevel, dim: 1)  // [B, N, 4]
        let valid = ((proposals .> Float(0.01)) .& (proposals .< Float(0.99))).all(dims: [-1], keepDim: true)
        proposals = (proposals / (1 - proposals)).log()
            .maskedFill(mask.unsqueeze(-1) .| valid.logicalNot(), Float.infinity)
        let kept = memory * mask.logicalNot().unsqueeze(-1) * valid
        return (encOutputNorm(encOutput(kept)), proposals)
    }
}
