import NN
import Torch

/// Salience DETR's `SqueezeAndExcitation` (a GCNet-style context block): softmax attention
/// pooling over all positions, then a 1×1 bottleneck (channels/16, ReLU, no biases) and a sigmoid
/// gate multiplied onto the input. Keys: `conv_mask.{weight,bias}`, `se_module.0.weight`,
/// `se_module.2.weight`.
struct SqueezeAndExcitation: Module {
    let path: ModulePath
    let convMask: Conv2d
    let reduce: Conv2d
    let expand: Conv2d

    init(_ p: ModulePath, channels: Int, reduction: Int = 16) {
        path = p
        convMask = Conv2d(p / "conv_mask", inChannels: channels, outChannels: 1, kernelSize: 1)
        reduce = Conv2d(
            p / "se_module" / 0, inChannels: channels, outChannels: channels / reduction, kernelSize: 1, bias: false)
        expand = Conv2d(
            p / "se_module" / 2, inChannels: channels / reduction, outChannels: channels, kernelSize: 1, bias: false)
    }

    /// x [B, C, H, W] -> [B, C, H, W]
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (b, c, h, w) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let input = x.view(b, c, h * w).unsqueeze(1)  // [B, 1, C, HW]
        let attention = convMask(x).view(b, 1, h * w).softmax(dim: 2).unsqueeze(-1)  // [B, 1, HW, 1]
        let context = input.matmul(attention).view(b, c, 1, 1)
        return expand(reduce(context).relu()).sigmoid() * x
    }
}

/// `RepVggPluXBlock`: act(BN(grouped 3×3) + BN(grouped 1×1)) → SqueezeAndExcitation, plus the
/// input. Keys: `conv1.*` (3×3), `conv2.*` (1×1), `se_module.*`.
struct RepVggPluXBlock: Module {
    let path: ModulePath
    let conv1: ConvNormActivation
    let conv2: ConvNormActivation
    let seModule: SqueezeAndExcitation
    let activation: Activation
    private let cache = DerivedTensorCache()

    init(_ p: ModulePath, channels: Int, groups: Int, activation: Activation) {
        path = p
        conv1 = ConvNormActivation(
            p / "conv1", inChannels: channels, outChannels: channels, kernelSize: 3, padding: 1,
            groups: groups, norm: .batchNorm, activation: nil)
        conv2 = ConvNormActivation(
            p / "conv2", inChannels: channels, outChannels: channels, kernelSize: 1, padding: 0,
            groups: groups, norm: .batchNorm, activation: nil)
        seModule = SqueezeAndExcitation(p / "se_module", channels: channels)
        self.activation = activation
    }

    /// x [B, C, H, W] -> [B, C, H, W]
    func callAsFunction(_ x: Tensor, training: Bool, batchStatistics: (any BatchStatisticsReducer)? = nil) -> Tensor {
        let y: Tensor
        if let (w, b) = merged(for: x, training: training) {
            y = Functional.conv2d(x, weight: w, bias: b, padding: (1, 1), groups: conv1.conv.groups)
        } else {
            y =
                conv1(x, training: training, batchStatistics: batchStatistics)
                + conv2(x, training: training, batchStatistics: batchStatistics)
        }
        return seModule(activation(y)) + x
    }

    /// RepVGG's re-parameterisation for inference: both branches folded with their batch norms,
    /// the 1x1 kernel placed at the centre of the 3x3 one, so one convolution computes
    /// conv1(x) + conv2(x) (exact up to float32 rounding). Cached until the weights change; nil in
    /// training or when a gradient is needed.
    func merged(for x: Tensor, training: Bool) -> (weight: Tensor, bias: Tensor)? {
        guard let a = conv1.folded(for: x, training: training), let b = conv2.folded(for: x, training: training)
        else { return nil }
        let made = cache.value(derivedFrom: conv1.foldSources + conv2.foldSources) {
            [(a.weight + Functional.pad(b.weight, [1, 1, 1, 1])).contiguous(.channelsLast), a.bias + b.bias]
        }
        return (made[0], made[1])
    }
}

/// `CSPRepPluXLayer` (expansion 1, three blocks): bottlenecks(conv1(x)) + conv2(x), with conv1
/// and conv2 1×1 conv-BN-act from 2C to C. Keys: `conv1.*`, `conv2.*`, `bottlenecks.<i>.*`.
struct CSPRepPluXLayer: Module {
    let path: ModulePath
    let conv1: ConvNormActivation
    let conv2: ConvNormActivation
    let bottlenecks: ModuleList<RepVggPluXBlock>

    init(_ p: ModulePath, inChannels: Int, outChannels: Int, numBlocks: Int = 3, groups: Int, activation: Activation) {
        path = p
        conv1 = ConvNormActivation(
            p / "conv1", inChannels: inChannels, outChannels: outChannels, kernelSize: 1,
            norm: .batchNorm, activation: activation)
        conv2 = ConvNormActivation(
            p / "conv2", inChannels: inChannels, outChannels: outChannels, kernelSize: 1,
            norm: .batchNorm, activation: activation)
        bottlenecks = ModuleList(p / "bottlenecks", count: numBlocks) { q, _ in
            RepVggPluXBlock(q, channels: outChannels, groups: groups, activation: activation)
        }
    }

    /// x [B, inChannels, H, W] -> [B, outChannels, H, W]
    func callAsFunction(_ x: Tensor, training: Bool, batchStatistics: (any BatchStatisticsReducer)? = nil) -> Tensor {
        var y = conv1(x, training: training, batchStatistics: batchStatistics)
        for block in bottlenecks { y = block(y, training: training, batchStatistics: batchStatistics) }
        return y + conv2(x, training: training, batchStatistics: batchStatistics)
    }
}
