import NN
import Torch

/// One FocalNet block on an NHWC map: a focal-modulation branch and an MLP branch (Linear ->
/// exact GELU -> dropout -> Linear -> dropout), each added to the input after optional layer
/// scaling (`gamma_1`, `gamma_2` [C]) and stochastic depth.
///
/// Post-norm (`use_postln`): x + γ·norm(branch(x)), the LayerNorm on the branch output; pre-norm:
/// x + γ·branch(norm(x)).
///
/// Keys: `gamma_1`, `gamma_2` (with layer scale), then in the order the forward pass uses them:
/// post-norm `modulation`, `norm1`, `mlp.fc1`, `mlp.fc2`, `norm2`; pre-norm `norm1`, `modulation`,
/// `norm2`, `mlp.fc1`, `mlp.fc2`.
struct FocalNetBlock: Module {
    let path: ModulePath
    let gamma1: Tensor?
    let gamma2: Tensor?
    let modulation: FocalModulation
    let norm1: LayerNorm
    let fc1: Linear
    let fc2: Linear
    let norm2: LayerNorm
    let postNorm: Bool
    let dropout: Double
    let dropPath: StochasticDepth

    /// - Parameters:
    ///   - config: the backbone's settings (dropout, switches, MLP ratio)
    ///   - levels, window: focal levels and first kernel of this stage
    ///   - stochasticDepth: this block's drop probability (training)
    init(
        _ p: ModulePath, dim: Int, config: FocalNetConfig, levels: Int, window: Int, stochasticDepth: Double
    ) {
        path = p
        postNorm = config.usePostLN
        dropout = config.dropout
        dropPath = StochasticDepth(p: stochasticDepth)
        if config.useLayerScale {
            gamma1 = p.parameter("gamma_1", shape: [dim], initializer: .constant(1e-4))
            gamma2 = p.parameter("gamma_2", shape: [dim], initializer: .constant(1e-4))
        } else {
            (gamma1, gamma2) = (nil, nil)
        }
        let hidden = Int(Double(dim) * config.mlpRatio)
        func makeModulation() -> FocalModulation {
            FocalModulation(
                p / "modulation", dim: dim, levels: levels, window: window,
                normalize: config.normalizeModulator, postLN: config.usePostLNInModulation, dropout: config.dropout)
        }
        // Registration order = state-dict order = the order of use in the forward pass.
        if postNorm {
            modulation = makeModulation()
            norm1 = LayerNorm(p / "norm1", dim, eps: 1e-5)
            fc1 = Linear(p / "mlp" / "fc1", inFeatures: dim, outFeatures: hidden)
            fc2 = Linear(p / "mlp" / "fc2", inFeatures: hidden, outFeatures: dim)
            norm2 = LayerNorm(p / "norm2", dim, eps: 1e-5)
        } else {
            norm1 = LayerNorm(p / "norm1", dim, eps: 1e-5)
            modulation = makeModulation()
            norm2 = LayerNorm(p / "norm2", dim, eps: 1e-5)
            fc1 = Linear(p / "mlp" / "fc1", inFeatures: dim, outFeatures: hidden)
            fc2 = Linear(p / "mlp" / "fc2", inFeatures: hidden, outFeatures: dim)
        }
    }

    /// - Parameter x: [B, H, W, C]
    /// - Returns: [B, H, W, C]
    func callAsFunction(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        let focal =
            postNorm
            ? norm1(modulation(x, training: training, generator: generator))
            : modulation(norm1(x), training: training, generator: generator)
        let y = residual(x, focal, gamma1, training: training, generator: generator)
        let mlpOut =
            postNorm
            ? norm2(mlp(y, training: training, generator: generator))
            : mlp(norm2(y), training: training, generator: generator)
        return residual(y, mlpOut, gamma2, training: training, generator: generator)
    }

    /// fc2(drop(GELU(fc1(x)))) followed by dropout.
    private func mlp(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        let drop = training && dropout > 0
        var y = fc1(gelu: x)
        if drop { y = Functional.dropout(y, p: dropout, training: true, generator: generator) }
        y = fc2(y)
        if drop { y = Functional.dropout(y, p: dropout, training: true, generator: generator) }
        return y
    }

    /// x + drop_path(γ · branch); one fused multiply-add when no sample can be dropped.
    private func residual(
        _ x: Tensor, _ branch: Tensor, _ gamma: Tensor?, training: Bool, generator: Generator?
    ) -> Tensor {
        if training && dropPath.p > 0 {
            let scaled = gamma.map { branch * $0 } ?? branch
            return x + dropPath(scaled, training: true, generator: generator)
        }
        return gamma.map { x.addcmul(branch, $0) } ?? x + branch
    }
}
