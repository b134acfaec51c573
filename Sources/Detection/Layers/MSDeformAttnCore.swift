import Torch

/// The sampling-and-weighting core of multi-scale deformable attention, written with
/// `Functional.gridSample` exactly as the official pure-PyTorch path
/// (`multi_scale_deformable_attn_pytorch`): bilinear, zero padding, `align_corners=false`, on the
/// grid `2·location − 1`. A location (x, y) in [0, 1] of level l reads the value map at pixel
/// coordinates (x·w_l − 0.5, y·h_l − 0.5), the convention of the CUDA kernel.
///
/// Kept as one free function so a fused kernel can replace it without touching the module.
/// - Parameters:
///   - value: [B, S, H, Dh] projected values of all levels, level-major, each level row-major;
///     S = Σ h_l·w_l
///   - spatialShapes: (h_l, w_l) of every level, in token order
///   - samplingLocations: [B, Q, H, L, P, 2] normalised (x, y)
///   - attentionWeights: [B, Q, H, L, P], softmax-normalised over L·P per head
/// - Returns: [B, Q, H·Dh]
public func msDeformAttnCore(value: Tensor, spatialShapes: [(height: Int, width: Int)], samplingLocations: Tensor,
                             attentionWeights: Tensor) -> Tensor {
    let (b, s, heads, dh) = (value.size(0), value.size(1), value.size(2), value.size(3))
    let (q, levels, points) = (samplingLocations.size(1), samplingLocations.size(3), samplingLocations.size(4))
    precondition(levels == spatialShapes.count, "msDeformAttnCore: \(levels) sampled levels, \(spatialShapes.count) shapes")
    precondition(spatialShapes.reduce(0) { $0 + $1.height * $1.width } == s,
                 "msDeformAttnCore: spatial shapes do not cover the \(s) value tokens")
    let valueLevels = value.split(sizes: spatialShapes.map { $0.height * $0.width }, dim: 1)
    let grids = samplingLocations * 2 - 1
    var sampled: [Tensor] = []
    for (l, shape) in spatialShapes.enumerated() {
        // [B, hw, H, Dh] -> [B·H, Dh, h, w]
        let v = valueLevels[l].flatten(startDim: 2).transpose(1, 2).reshape(b * heads, dh, shape.height, shape.width)
        // [B, Q, H, P, 2] -> [B·H, Q, P, 2]
        let g = grids.select(dim: 3, index: l).transpose(1, 2).flatten(startDim: 0, endDim: 1)
        sampled.append(Functional.gridSample(v, grid: g))  // [B·H, Dh, Q, P]
    }
    let weights = attentionWeights.transpose(1, 2).reshape(b * heads, 1, q, levels * points)
    let stacked = Tensor.stack(sampled, dim: -2).flatten(startDim: -2)  // [B·H, Dh, Q, L·P]
    let out = (stacked * weights).sum(dim: -1)                            // [B·H, Dh, Q]
    return out.view(b, heads * dh, q).transpose(1, 2).contiguous()
}
