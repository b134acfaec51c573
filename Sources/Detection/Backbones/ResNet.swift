import NN
import Torch

/// A torchvision-style ResNet (v1.5) with FrozenBatchNorm2d and no classifier, returning
/// the outputs of selected stages. Keys: `conv1`, `bn1`, `layer1.0.conv1`, ... (no `fc`).
public struct ResNet: Module {
    public let path: ModulePath
    let stem: ConvFrozenBatchNorm
    let stages: [[any ResNetBlockModule]]
    /// Output channels of layer1...layer4.
    public let stageChannels: [Int]
    /// Total stride of layer1...layer4 (4, 8, 16, 32; 16 for layer4 with DC5).
    public let stageStrides: [Int]

    /// - Parameters:
    ///   - layers: blocks per stage ([3,4,6,3] = R50).
    ///   - dilateLastStage: DC5 — layer4 keeps stride 16 and dilates its 3x3 convolutions.
    ///   - stages: how many stages to build (later ones are not registered).
    public init(
        _ p: ModulePath, block: ResNetBlock, layers: [Int], dilateLastStage: Bool = false, stages count: Int = 4
    ) {
        precondition(layers.count == 4 && (1...4).contains(count), "ResNet: 4 stage sizes expected")
        path = p
        stem = ConvFrozenBatchNorm(
            conv: Conv2d(
                p / "conv1", inChannels: 3, outChannels: 64, kernelSize: 7, stride: 2, padding: 3, bias: false),
            bn: FrozenBatchNorm2d(p / "bn1", numFeatures: 64))
        let expansion = block == .bottleneck ? Bottleneck.expansion : BasicBlock.expansion
        var inChannels = 64, dilation = 1, stride = 4
        var built: [[any ResNetBlockModule]] = [], channels: [Int] = [], strides: [Int] = []
        for s in 0..<count {
            let planes = 64 << s
            var blockStride = s == 0 ? 1 : 2
            let previousDilation = dilation
            if s == 3 && dilateLastStage {
                dilation *= blockStride
                blockStride = 1
            }
            stride *= blockStride
            let stage = p / "layer\(s + 1)"
            var blocks: [any ResNetBlockModule] = []
            for b in 0..<layers[s] {
                let q = stage / b
                let first = b == 0
                let needsDown = first && (blockStride != 1 || inChannels != planes * expansion)
                let d = first ? previousDilation : dilation
                let st = first ? blockStride : 1
                switch block {
                case .bottleneck:
                    blocks.append(
                        Bottleneck(
                            q, inChannels: inChannels, planes: planes, stride: st, dilation: d, downsample: needsDown))
                case .basic:
                    blocks.append(
                        BasicBlock(
                            q, inChannels: inChannels, planes: planes, stride: st, dilation: d, downsample: needsDown))
                }
                inChannels = planes * expansion
            }
            built.append(blocks)
            channels.append(planes * expansion)
            strides.append(stride)
        }
        stages = built
        stageChannels = channels
        stageStrides = strides
        initializeLikeTorchvision()
    }

    /// torchvision's ResNet initialisation: convolutions kaiming_normal_(fan_out, relu); the
    /// FrozenBatchNorm buffers start as the identity. Matters only when training from scratch
    /// (PyTorch's default conv init would shrink activations layer by layer without BatchNorm).
    private func initializeLikeTorchvision() {
        let store = path.store
        withNoGrad {
            for (key, w) in namedParameters() where key.hasSuffix("weight") && w.rank == 4 {
                _ = w.copy_(
                    ParameterInit.kaimingNormalReLU(fanOut: true).make(
                        shape: w.shape, dtype: w.dtype,
                        generator: store.generator))
            }
        }
    }

    /// Stage outputs for `indices` (0 = layer1 ... 3 = layer4), in increasing order.
    /// Runs in channels-last layout (oneDNN's fastest for these convolutions), so the returned
    /// tensors have NHWC strides; their values and shapes are those of the NCHW computation.
    /// - Parameters:
    ///   - x: [B, 3, H, W]
    ///   - checkpoint: activation checkpointing of every residual block
    /// - Returns: one [B, C_i, H/s_i, W/s_i] per requested index
    public func callAsFunction(_ x: Tensor, returning indices: [Int], checkpoint: Bool = false) -> [Tensor] {
        var y = stem(x.contiguous(.channelsLast), relu: true)
        y = Functional.maxPool2d(y, kernel: (3, 3), stride: (2, 2), padding: (1, 1))
        var out: [Tensor] = []
        let last = indices.max() ?? 0
        for s in 0...last {
            for block in stages[s] { y = block.checkpointed(checkpoint, [y], generator: nil) { block($0[0]) } }
            if indices.contains(s) { out.append(y) }
        }
        return out
    }
}

extension ResNet: Backbone {
    /// torchvision's classification ResNet: the same keys (`fc.*` and the batch norms'
    /// `num_batches_tracked` unused, as FrozenBatchNorm2d has none).
    public static var publishedRoot: String { "" }

    /// ResNet has no training-dependent layers (FrozenBatchNorm2d, no dropout).
    public func callAsFunction(
        _ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?, checkpoint: Bool
    )
        -> [Tensor]
    {
        self(x, returning: indices, checkpoint: checkpoint)
    }

    /// The stem (`conv1`, `bn1`) with any stage, and `layer{i+1}` for each listed index.
    public static func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool {
        guard !freezeIndices.isEmpty else { return false }
        if key.hasPrefix("conv1.") || key.hasPrefix("bn1.") { return true }
        return freezeIndices.contains { key.hasPrefix("layer\($0 + 1).") }
    }
}
