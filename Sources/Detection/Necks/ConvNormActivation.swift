import NN
import Torch

/// torchvision's `Conv2dNormActivation`: convolution (`0`), normalisation (`1`), optional
/// activation (no parameters). The convolution has no bias when a normalisation follows.
/// Keys: `0.weight`, `1.weight`, `1.bias` (+ `1.running_mean`, `1.running_var`,
/// `1.num_batches_tracked` for BatchNorm2d).
struct ConvNormActivation: Module {
    /// The normalisation after the convolution.
    enum Norm {
        case groupNorm(groups: Int)
        case batchNorm
    }

    let path: ModulePath
    let conv: Conv2d
    let groupNorm: GroupNorm?
    let batchNorm: BatchNorm2d?
    let activation: Activation?

    /// - Parameter padding: defaults to (kernelSize − 1) / 2 ("same" for odd kernels at stride 1)
    init(_ p: ModulePath, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int? = nil,
         groups: Int = 1, norm: Norm, activation: Activation?) {
        path = p
        conv = Conv2d(p / "0", inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                      padding: padding ?? (kernelSize - 1) / 2, groups: groups, bias: false)
        switch norm {
        case .groupNorm(let g):
            groupNorm = GroupNorm(p / "1", numGroups: g, numChannels: outChannels)
            batchNorm = nil
        case .batchNorm:
            groupNorm = nil
            batchNorm = BatchNorm2d(p / "1", numFeatures: outChannels)
        }
        self.activation = activation
    }

    /// - Parameters:
    ///   - x: [B, in, H, W]
    ///   - training: BatchNorm2d uses (and updates) batch statistics when true, running ones otherwise
    /// - Returns: [B, out, H', W']
    func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        var y = conv(x)
        if let groupNorm { y = groupNorm(y) }
        if let batchNorm { y = batchNorm(y, training: training) }
        if let activation { y = activation(y) }
        return y
    }
}
