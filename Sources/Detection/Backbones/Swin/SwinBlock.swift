import NN
import Torch

/// A Swin V1 block (pre-norm): x + attn(norm1(x)), then x + mlp(norm2(x)), each branch under
/// stochastic depth. MLP = Linear(C, r·C) -> GELU (erf) -> dropout -> Linear(r·C, C) -> dropout.
/// Keys: `norm1`, `attn.*`, `norm2`, `mlp.0`, `mlp.3` (torchvision's MLP numbering).
struct SwinBlock: Module {
    let path: ModulePath
    /// Pre-norms of the attention and the MLP branch.
    let norm1, norm2: LayerNorm
    let attn: ShiftedWindowAttention
    /// `mlp.0` (C -> r·C) and `mlp.3` (r·C -> C).
    let mlpIn, mlpOut: Linear
    /// Applied to each branch's output in training.
    let stochasticDepth: StochasticDepth
    let dropout: Double

    /// - Parameters:
    ///   - shifted: odd blocks of a stage attend in windows shifted by half a window
    ///   - stochasticDepth: this block's drop probability (training)
    init(
        _ p: ModulePath, dim: Int, heads: Int, shifted: Bool, config: SwinConfig, stochasticDepth: Double,
        layouts: SwinWindowLayoutCache
    ) {
        path = p
        norm1 = LayerNorm(p / "norm1", dim, eps: 1e-5)
        attn = ShiftedWindowAttention(
            p / "attn", dim: dim, heads: heads, shifted: shifted, attentionDropout: config.attentionDropout,
            dropout: config.dropout, layouts: layouts)
        norm2 = LayerNorm(p / "norm2", dim, eps: 1e-5)
        let hidden = Int(Double(dim) * config.mlpRatio)
        mlpIn = Linear(p / "mlp" / 0, inFeatures: dim, outFeatures: hidden)
        mlpOut = Linear(p / "mlp" / 3, inFeatures: hidden, outFeatures: dim)
        SwinTransformer.resetLinear(mlpIn, generator: p.store.generator)
        SwinTransformer.resetLinear(mlpOut, generator: p.store.generator)
        self.stochasticDepth = StochasticDepth(p: stochasticDepth)
        dropout = config.dropout
    }

    /// - Parameter x: [B, H, W, C]
    /// - Returns: [B, H, W, C]
    func callAsFunction(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        let attended = attn(norm1(x), training: training, generator: generator)
        let y = x + stochasticDepth(attended, training: training, generator: generator)
        var m = mlpIn(gelu: norm2(y))
        if training && dropout > 0 { m = Functional.dropout(m, p: dropout, training: true, generator: generator) }
        m = mlpOut(m)
        if training && dropout > 0 { m = Functional.dropout(m, p: dropout, training: true, generator: generator) }
        return y + stochasticDepth(m, training: training, generator: generator)
    }
}
