import NN
import Torch

/// LayerNorm over the channels of an NCHW map (torchvision's `LayerNorm2d`: permute to NHWC,
/// normalise the last dimension, permute back). Keys: `weight`, `bias` [C].
struct LayerNorm2d: Module {
    let path: ModulePath
    let norm: LayerNorm

    init(_ p: ModulePath, channels: Int, eps: Double) {
        path = p
        norm = LayerNorm(p, normalizedShape: [channels], eps: eps)
    }

    /// - Parameter x: [B, C, H, W] (a channels-last layout makes both permutes free)
    /// - Returns: [B, C, H, W]
    func callAsFunction(_ x: Tensor) -> Tensor {
        norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
    }
}
