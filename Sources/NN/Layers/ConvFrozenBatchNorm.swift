import Torch

/// A convolution followed by a `FrozenBatchNorm2d`: the pair ResNet stages are built from.
/// It registers nothing of its own; the keys are those of the two modules it is given
/// (`conv1.weight`, `bn1.running_mean`, ...).
///
/// When the result needs no gradient (inference, or a frozen stage whose input needs none) the
/// pair runs as ONE convolution whose weight and bias have the normalisation folded in:
/// w' = w·s and b' = (b_conv·s) + β − μ·s per output channel, s = γ·(σ² + eps)^-½, in channels-last
/// layout. That removes two passes over every activation and lets oneDNN add the bias inside
/// the convolution. The folded tensors are cached and rebuilt when any of the source tensors
/// changes (libtorch's version counters see checkpoint loads and optimizer steps). Folding
/// changes float32 rounding only (relative differences ~1e-6). When a gradient is needed the
/// two modules run as they are, exactly as the official code computes them.
public struct ConvFrozenBatchNorm {
    public let conv: Conv2d
    public let bn: FrozenBatchNorm2d
    private let cache = DerivedTensorCache()

    public init(conv: Conv2d, bn: FrozenBatchNorm2d) {
        self.conv = conv
        self.bn = bn
    }

    /// - Parameters:
    ///   - x: [B, in, H, W]
    ///   - relu: apply ReLU to the result (in place on the folded path)
    /// - Returns: [B, out, H', W'] (channels-last on the folded path)
    public func callAsFunction(_ x: Tensor, relu: Bool = false) -> Tensor {
        guard !needsGradient(x) else {
            let y = bn(conv(x))
            return relu ? y.relu() : y
        }
        let (w, b) = folded()
        let y = Functional.conv2d(x, weight: w, bias: b, stride: conv.stride, padding: conv.padding,
                                  dilation: conv.dilation, groups: conv.groups)
        return relu ? y.relu_() : y
    }

    /// Whether autograd has to see the unfused computation.
    func needsGradient(_ x: Tensor) -> Bool { gradientNeeded(by: [x, conv.weight, conv.bias, bn.weight, bn.bias]) }

    /// The folded weight [out, in/groups, kh, kw] (channels-last) and bias [out].
    func folded() -> (weight: Tensor, bias: Tensor) {
        let sources = [conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar] + (conv.bias.map { [$0] } ?? [])
        let made = cache.value(derivedFrom: sources) {
            let f = BatchNormFolding.fold(weight: conv.weight, convBias: conv.bias, gamma: bn.weight, beta: bn.bias,
                                          mean: bn.runningMean, variance: bn.runningVar, eps: bn.eps)
            return [f.weight, f.bias]
        }
        return (made[0], made[1])
    }
}
