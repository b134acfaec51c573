import Torch

/// A convolution followed by a `FrozenBatchNorm2d`: the pair ResNet stages are built from.
/// It registers nothing of its own; the keys are those of the two modules it is given
/// (`conv1.weight`, `bn1.running_mean`, ...).
///
/// When the convolution's weight needs no gradient (inference, frozen stages) the pair runs as
/// ONE convolution whose weight and bias have the normalisation folded in: w' = w·s and
/// b' = (b_conv − μ)·s + β per output channel, s = γ·(σ² + eps)^-½, in channels-last layout. That
/// removes two passes over every activation and lets oneDNN add the bias inside the
/// convolution; the result is the pair's up to float32 rounding (relative differences ~1e-6).
/// The folded tensors are cached and rebuilt when any source tensor changes (libtorch's version
/// counters see checkpoint loads and optimizer steps). A trained convolution runs the two
/// modules as they are, as the official code does: folding there moved weight gradients of the
/// Conditional DETR fixture by 3e-3 relative, beyond its parity tolerance.
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
    ///   - residual: added to the result before the ReLU (of the result's shape)
    ///   - residualIsScratch: the caller no longer needs `residual` (it may be overwritten)
    ///   - relu: apply ReLU to the result (in place: the convolution's backward does not need its output)
    /// - Returns: [B, out, H', W']
    public func callAsFunction(
        _ x: Tensor, plus residual: Tensor? = nil, residualIsScratch: Bool = false, relu: Bool = false
    ) -> Tensor {
        if gradientNeeded(by: [conv.weight, conv.bias]) {
            var y = bn(conv(x))
            if let residual { y = y.add_(residual) }
            return relu ? y.relu_() : y
        }
        // Folded: one convolution, with the addition and the ReLU fused where oneDNN runs it.
        let (w, b) = folded()
        return Functional.conv2d(
            x, weight: w, bias: b, stride: conv.stride, padding: conv.padding, dilation: conv.dilation,
            groups: conv.groups, plus: residual, residualIsScratch: residualIsScratch, relu: relu)
    }

    /// The folded weight [out, in/groups, kh, kw] (channels-last) and bias [out].
    func folded() -> (weight: Tensor, bias: Tensor) {
        let sources = [conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar] + (conv.bias.map { [$0] } ?? [])
        let made = cache.value(derivedFrom: sources) {
            let f = BatchNormFolding.fold(
                weight: conv.weight, convBias: conv.bias, gamma: bn.weight, beta: bn.bias,
                mean: bn.runningMean, variance: bn.runningVar, eps: bn.eps)
            return [f.weight, f.bias]
        }
        return (made[0], made[1])
    }
}
