import Torch

/// The sampling-and-weighting core of multi-scale deformable attention, with the official
/// convention: a location (x, y) in [0, 1] of level l reads the value map at pixel coordinates
/// (x·w_l − 0.5, y·h_l − 0.5) bilinearly, zero outside (what `grid_sample(2·loc − 1, bilinear,
/// zeros, align_corners=False)` computes in `multi_scale_deformable_attn_pytorch`).
///
/// CPU tensors use the fused kernel of the shim (forward and backward); other devices use the
/// grid_sample composition (`Functional.msDeformAttnGridSample`), which is also the kernel's
/// test oracle.
/// - Parameters:
///   - value: [B, S, H, Dh] projected values of all levels, level-major, each level row-major;
///     S = Σ h_l·w_l
///   - spatialShapes: (h_l, w_l) of every level, in token order
///   - samplingLocations: [B, Q, H, L, P, 2] normalised (x, y)
///   - attentionWeights: [B, Q, H, L, P], softmax-normalised over L·P per head
/// - Returns: [B, Q, H·Dh]
public func msDeformAttnCore(
    value: Tensor, spatialShapes: [(height: Int, width: Int)], samplingLocations: Tensor,
    attentionWeights: Tensor
) -> Tensor {
    let s = value.size(1)
    precondition(
        samplingLocations.size(3) == spatialShapes.count,
        "msDeformAttnCore: \(samplingLocations.size(3)) sampled levels, \(spatialShapes.count) shapes")
    precondition(
        spatialShapes.reduce(0) { $0 + $1.height * $1.width } == s,
        "msDeformAttnCore: spatial shapes do not cover the \(s) value tokens")
    var starts: [Int] = [], offset = 0
    for shape in spatialShapes {
        starts.append(offset)
        offset += shape.height * shape.width
    }
    let device = value.device
    let shapes = Tensor(spatialShapes.flatMap { [$0.height, $0.width] }, shape: [spatialShapes.count, 2]).to(
        device)
    let levelStart = Tensor(starts).to(device)
    return Functional.msDeformAttn(
        value: value, spatialShapes: shapes, levelStartIndex: levelStart,
        samplingLocations: samplingLocations, attentionWeights: attentionWeights)
}
