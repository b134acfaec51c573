import NN
import Torch

/// Swin V1 downsampling between stages: each 2×2 patch's four C-vectors concatenated, normalised
/// and projected, [B, H, W, C] -> [B, ⌈H/2⌉, ⌈W/2⌉, 2C]. Keys: `norm` (LayerNorm 4C), `reduction`
/// (Linear 4C -> 2C, no bias).
struct PatchMerging: Module {
    let path: ModulePath
    let norm: LayerNorm
    let reduction: Linear

    init(_ p: ModulePath, dim: Int) {
        path = p
        norm = LayerNorm(p / "norm", 4 * dim, eps: 1e-5)
        reduction = Linear(p / "reduction", inFeatures: 4 * dim, outFeatures: 2 * dim, bias: false)
        SwinTransformer.resetLinear(reduction, generator: p.store.generator)
    }

    /// Odd H or W is zero-padded bottom/right first. The concatenation order is
    /// [x(2i, 2j), x(2i+1, 2j), x(2i, 2j+1), x(2i+1, 2j+1)]: the row offset varies fastest.
    /// - Parameter x: [B, H, W, C]
    /// - Returns: [B, ⌈H/2⌉, ⌈W/2⌉, 2C]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, h, w, c) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let even = h % 2 == 0 && w % 2 == 0 ? x : Functional.pad(x, [0, 0, 0, w % 2, 0, h % 2])
        let (h2, w2) = ((h + 1) / 2, (w + 1) / 2)
        // [B, h2, rowOffset, w2, colOffset, C] -> [B, h2, w2, colOffset, rowOffset, C]
        let merged = even.reshape(b, h2, 2, w2, 2, c).permute(0, 1, 3, 4, 2, 5).reshape(b, h2, w2, 4 * c)
        return reduction(norm(merged))
    }
}
