import NN
import Torch

/// A ConvNeXt block (torchvision's `CNBlock`): depthwise 7x7 convolution, LayerNorm over the
/// channels, Linear C→4C, exact GELU, Linear 4C→C, scaled by the per-channel `layer_scale`,
/// stochastic depth (training), residual. Keys: `layer_scale` [C, 1, 1], `block.0` (depthwise
/// conv with bias), `block.2` (LayerNorm, eps 1e-6), `block.3`, `block.5` (Linear).
struct ConvNeXtBlock: Module {
    let path: ModulePath
    /// [C, 1, 1] per-channel scale of the branch.
    let layerScale: Tensor
    let depthwise: Conv2d
    let norm: LayerNorm
    /// C -> 4C and 4C -> C.
    let expand, project: Linear
    let drop: StochasticDepth

    init(_ p: ModulePath, channels c: Int, layerScale: Double, stochasticDepth: Double) {
        path = p
        // Registration order = the official state dict's: the block's own parameter first.
        self.layerScale = p.parameter("layer_scale", shape: [c, 1, 1], initializer: .constant(layerScale))
        let b = p / "block"
        depthwise = Conv2d(b / 0, inChannels: c, outChannels: c, kernelSize: 7, padding: 3, groups: c)
        norm = LayerNorm(b / 2, normalizedShape: [c], eps: 1e-6)
        expand = Linear(b / 3, inFeatures: c, outFeatures: 4 * c)
        project = Linear(b / 5, inFeatures: 4 * c, outFeatures: c)
        drop = StochasticDepth(p: stochasticDepth)
    }

    /// - Parameter x: [B, C, H, W], channels-last layout (the NHWC permutes are then views)
    /// - Returns: [B, C, H, W], channels-last
    func callAsFunction(_ x: Tensor, training: Bool, generator: Generator?) -> Tensor {
        var y = depthwise(x).permute(0, 2, 3, 1)  // [B, H, W, C]
        y = project(expand(norm(y)).gelu())  // [B, H, W, C]
        y = y * layerScale.view(-1)  // per channel
        y = drop(y, training: training, generator: generator)
        return x + y.permute(0, 3, 1, 2)
    }
}
