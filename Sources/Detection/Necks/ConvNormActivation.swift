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
    private let cache = DerivedTensorCache()

    /// - Parameter padding: defaults to (kernelSize − 1) / 2 ("same" for odd kernels at stride 1)
    init(
        _ p: ModulePath, inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int? = nil,
        groups: Int = 1, norm: Norm, activation: Activation?
    ) {
        path = p
        conv = Conv2d(
            p / "0", inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
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

    /// Every tensor the folded convolution is computed from.
    var foldSources: [Tensor] {
        [conv.weight, conv.bias, batchNorm?.weight, batchNorm?.bias, batchNorm?.runningMean, batchNorm?.runningVar]
            .compactMap { $0 }
    }

    /// Inference (evaluation mode, no gradient needed) with a batch norm that has running
    /// statistics: the convolution with the normalisation folded in (`BatchNormFolding`), cached
    /// until the weights change. nil where the modules must run as they are.
    func folded(for x: Tensor, training: Bool) -> (weight: Tensor, bias: Tensor)? {
        guard !training, let bn = batchNorm, let mean = bn.runningMean, let variance = bn.runningVar,
            !gradientNeeded(by: [x, conv.weight, conv.bias, bn.weight, bn.bias])
        else { return nil }
        let made = cache.value(derivedFrom: foldSources) {
            let f = BatchNormFolding.fold(
                weight: conv.weight, convBias: conv.bias, gamma: bn.weight, beta: bn.bias,
                mean: mean, variance: variance, eps: bn.eps)
            return [f.weight, f.bias]
        }
        return (made[0], made[1])
    }

    /// - Parameters:
    ///   - x: [B, in, H, W]
    ///   - training: BatchNorm2d uses (and updates) batch statistics when true, running ones otherwise
    /// - Returns: [B, out, H', W']
    ///   - batchStatistics: synchronises the batch norm's training statistics across processes
    func callAsFunction(_ x: Tensor, training: Bool, batchStatistics: (any BatchStatisticsReducer)? = nil) -> Tensor {
        if let (w, b) = folded(for: x, training: training) {
            let y = Functional.conv2d(
                x, weight: w, bias: b, stride: conv.stride, padding: conv.padding,
                dilation: conv.dilation, groups: conv.groups)
            return activation.map { $0(y) } ?? y
        }
        var y = conv(x)
        if let groupNorm { y = groupNorm(y) }
        if let batchNorm { y = batchNorm(y, training: training, synchronizedBy: batchStatistics) }
        if let activation { y = activation(y) }
        return y
    }
}
