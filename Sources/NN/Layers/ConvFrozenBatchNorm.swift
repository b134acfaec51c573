import Foundation
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
    private let cache = FoldedWeights()

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
    func needsGradient(_ x: Tensor) -> Bool {
        guard isGradEnabled else { return false }
        return x.requiresGrad || conv.weight.requiresGrad || (conv.bias?.requiresGrad ?? false)
            || bn.weight.requiresGrad || bn.bias.requiresGrad
    }

    /// The folded weight [out, in/groups, kh, kw] (channels-last) and bias [out].
    func folded() -> (weight: Tensor, bias: Tensor) {
        let sources = [conv.weight, bn.weight, bn.bias, bn.runningMean, bn.runningVar] + (conv.bias.map { [$0] } ?? [])
        let versions = sources.map(\.version)
        return cache.value(for: versions) {
            withNoGrad {
                let scale = bn.weight * (bn.runningVar + bn.eps).rsqrt()                // [out]
                var shift = bn.bias - bn.runningMean * scale
                if let b = conv.bias { shift = shift + b * scale }
                let w = (conv.weight * scale.reshape(-1, 1, 1, 1)).contiguous(.channelsLast)
                return (w, shift.contiguous())
            }
        }
    }
}

/// The folded weight and bias of one `ConvFrozenBatchNorm`, with the source versions they were
/// made from. Shared by copies of the module; safe to use from several threads.
private final class FoldedWeights: @unchecked Sendable {
    private let lock = NSLock()
    private var versions: [Int64] = []
    private var value: (weight: Tensor, bias: Tensor)?

    func value(for versions: [Int64], make: () -> (weight: Tensor, bias: Tensor)) -> (weight: Tensor, bias: Tensor) {
        lock.lock()
        defer { lock.unlock() }
        if let value, versions == self.versions { return value }
        let made = make()
        value = made
        self.versions = versions
        return made
    }
}
