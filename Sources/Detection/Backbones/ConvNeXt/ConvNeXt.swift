import NN
import Torch

/// ConvNeXt (torchvision's, as Salience DETR's ConvNeXt-L uses it) returning raw stage outputs
/// (no output norm). Keys (no `0.` prefix): `features.0.{0,1}` stem conv 4x4/4 + LayerNorm2d,
/// `features.{2i+1}.{j}` blocks of stage i, `features.{2i+2}.{0,1}` LayerNorm2d + conv 2x2/2
/// downsampling after stage i. LayerNorm eps 1e-6 throughout. Padding of the batch is processed
/// like image content, as the official backbone does.
///
/// Runs in channels-last memory layout: the block's NCHW↔NHWC permutes are then views, and
/// oneDNN's depthwise and strided convolutions are fastest in it.
public struct ConvNeXt: Module {
    public let path: ModulePath
    let stem: Conv2d
    let stemNorm: LayerNorm2d
    let stages: [[ConvNeXtBlock]]
    /// Downsampling after stage i (LayerNorm2d, conv), for i < built stages − 1.
    let downsamples: [(norm: LayerNorm2d, conv: Conv2d)]
    public let stageChannels: [Int]

    /// - Parameters:
    ///   - config: channels and depths per stage, layer-scale initial value, stochastic depth of
    ///     the last block (linear from 0 over all blocks of the full network)
    ///   - lastStage: stages 0...lastStage are built (the official feature extractor prunes the
    ///     later ones)
    public init(_ p: ModulePath, config: ConvNeXtConfig, lastStage: Int) {
        precondition(config.channels.count == 4 && config.depths.count == 4, "ConvNeXt: 4 stages expected")
        precondition((0...3).contains(lastStage), "ConvNeXt: lastStage must be in 0...3")
        path = p
        let f = p / "features"
        let c = config.channels
        stem = Conv2d(f / 0 / 0, inChannels: 3, outChannels: c[0], kernelSize: 4, stride: 4)
        stemNorm = LayerNorm2d(f / 0 / 1, channels: c[0], eps: 1e-6)
        let rates = StochasticDepth.linearRates(last: config.stochasticDepthProb, blocks: config.depths.reduce(0, +))
        var stages: [[ConvNeXtBlock]] = [], downsamples: [(LayerNorm2d, Conv2d)] = []
        var block = 0
        for s in 0...lastStage {
            let stage = f / (2 * s + 1)
            stages.append(
                (0..<config.depths[s]).map { j in
                    defer { block += 1 }
                    return ConvNeXtBlock(
                        stage / j, channels: c[s], layerScale: config.layerScale, stochasticDepth: rates[block])
                })
            if s < lastStage {
                let d = f / (2 * s + 2)
                downsamples.append(
                    (
                        LayerNorm2d(d / 0, channels: c[s], eps: 1e-6),
                        Conv2d(d / 1, inChannels: c[s], outChannels: c[s + 1], kernelSize: 2, stride: 2)
                    ))
            }
        }
        self.stages = stages
        self.downsamples = downsamples
        stageChannels = c
        initializeLikeOfficial()
    }

    /// The official initialisation (for training from scratch; checkpoints overwrite it):
    /// convolution and linear weights N(0, 0.02²) (the official truncation at ±2 is 100σ away,
    /// so it never applies), their biases 0; LayerNorms ones and zeros.
    private func initializeLikeOfficial() {
        let store = path.store
        withNoGrad {
            for (key, t) in namedParameters() where t.rank >= 2 && key.hasSuffix("weight") {
                _ = t.copy_(
                    ParameterInit.normal(mean: 0, std: 0.02).make(
                        shape: t.shape, dtype: t.dtype, generator: store.generator))
            }
            for (key, t) in namedParameters() where t.rank == 1 && key.hasSuffix("bias") { _ = t.zero_() }
        }
    }

    /// Stage outputs for `indices`, in increasing order.
    /// - Parameters:
    ///   - x: [B, 3, H, W]
    ///   - checkpoint: activation checkpointing of every block
    /// - Returns: [B, C_i, H/2^(i+2), W/2^(i+2)] per index (channels-last layout)
    public func callAsFunction(
        _ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?, checkpoint: Bool
    )
        -> [Tensor]
    {
        var y = stemNorm(stem(x.contiguous(.channelsLast)))
        var out: [Tensor] = []
        for s in 0...(indices.max() ?? 0) {
            if s > 0 { y = downsamples[s - 1].conv(downsamples[s - 1].norm(y)) }
            for block in stages[s] {
                y = block.checkpointed(checkpoint, [y], generator: generator) {
                    block($0[0], training: training, generator: generator)
                }
            }
            if indices.contains(s) { out.append(y) }
        }
        return out
    }

    /// A non-empty `freezeIndices` freezes the stem (`features.0`); index i freezes stage i
    /// (`features.{2i+1}`) and the downsampling after it (`features.{2i+2}`).
    public static func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool {
        guard !freezeIndices.isEmpty else { return false }
        if key.hasPrefix("features.0.") { return true }
        return freezeIndices.contains {
            key.hasPrefix("features.\(2 * $0 + 1).") || key.hasPrefix("features.\(2 * $0 + 2).")
        }
    }
}

extension ConvNeXt: Backbone {
    /// torchvision's classification ConvNeXt: `features.*` as here, `classifier.*` unused.
    public static var publishedRoot: String { "" }
}
