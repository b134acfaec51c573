import Torch

/// Batch normalisation with fixed statistics and affine terms (torchvision's / DETR's
/// `FrozenBatchNorm2d`): y = x·scale + (b - mean·scale), scale = w·(var + eps)^-½.
///
/// Keys: buffers `weight`, `bias`, `running_mean`, `running_var` (nothing is trainable).
/// A checkpoint's `num_batches_tracked` for this module (saved from a regular BatchNorm2d) is
/// dropped on load, as the PyTorch class does. eps is 1e-5 in torchvision, DETR, Conditional DETR
/// and Salience DETR.
public struct FrozenBatchNorm2d: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor
    public let bias: Tensor
    public let runningMean: Tensor
    public let runningVar: Tensor
    public let eps: Double

    public init(_ p: ModulePath, numFeatures: Int, eps: Double = 1e-5) {
        path = p
        weight = p.buffer("weight", shape: [numFeatures], initializer: .ones)
        bias = p.buffer("bias", shape: [numFeatures], initializer: .zeros)
        runningMean = p.buffer("running_mean", shape: [numFeatures], initializer: .zeros)
        runningVar = p.buffer("running_var", shape: [numFeatures], initializer: .ones)
        p.ignoreOnLoad("num_batches_tracked")
        self.eps = eps
    }

    /// - Parameter x: [B, C, H, W]
    /// - Returns: [B, C, H, W]
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let w = weight.reshape(1, -1, 1, 1), b = bias.reshape(1, -1, 1, 1)
        let rv = runningVar.reshape(1, -1, 1, 1), rm = runningMean.reshape(1, -1, 1, 1)
        let scale = w * (rv + eps).rsqrt()
        let shift = b - rm * scale
        // shift + x·scale in one pass over x: the same two roundings as x·scale + shift.
        return shift.addcmul(x, scale)
    }

    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor { self(x) }
}
