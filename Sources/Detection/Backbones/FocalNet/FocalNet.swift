import NN
import Torch

/// FocalNet (focal modulation networks) as Salience DETR's backbone: the official feature
/// extractor of stages 0...`lastStage` followed by a LayerNorm per returned stage.
///
/// Keys (relative to the backbone): `0.patch_embed.{proj,norm}`; `0.layers.{i}.blocks.{j}.*`
/// (see `FocalNetBlock`); `0.layers.{i}.downsample.{proj,norm}` for i < `lastStage` (the
/// downsample of the last built stage feeds nothing and does not exist); `1.norm{i}` for each
/// returned stage i.
///
/// The maps are NHWC [B, H, W, C] inside. Stage i has embed_dim·2^i channels and stride 4·2^i
/// (for inputs that are multiples of the patch size and even at every stage; otherwise each
/// embedding zero-pads bottom/right first). Padding of the input batch is processed like image
/// content: the global context of the focal modulation averages over it.
public struct FocalNet: Module {
    public let path: ModulePath
    public let config: FocalNetConfig
    public let stageChannels: [Int]
    /// The stages whose outputs have a LayerNorm (`return_indices`), increasing.
    public let returnIndices: [Int]
    let patchEmbed: FocalNetPatchEmbed
    /// Blocks of stages 0...lastStage.
    let stages: [[FocalNetBlock]]
    /// Downsample after stage i, for i < lastStage.
    let downsamples: [FocalNetPatchEmbed]
    /// Output LayerNorm of stage i (nil for stages that are not returned).
    let outputNorms: [LayerNorm?]

    /// - Parameters:
    ///   - returnIndices: increasing stage indices in 0...3 whose outputs get a LayerNorm
    ///   - lastStage: the last stage to build (at least the largest returned index, the default)
    public init(_ p: ModulePath, config: FocalNetConfig, returnIndices: [Int], lastStage: Int? = nil) {
        precondition(
            !returnIndices.isEmpty && returnIndices == returnIndices.sorted()
                && returnIndices.allSatisfy { (0...3).contains($0) },
            "FocalNet: return indices must be increasing stage indices 0...3, got \(returnIndices)")
        let last = lastStage ?? returnIndices.max()!
        precondition(
            (returnIndices.max()!...3).contains(last), "FocalNet: last stage \(last) must cover \(returnIndices)")
        precondition(
            [config.depths, config.focalLevels, config.focalWindows].allSatisfy { $0.count == 4 }
                && config.patchSize.count == 2,
            "FocalNet: four stages and a [h, w] patch size expected")
        path = p
        self.config = config
        self.returnIndices = returnIndices
        let channels = (0..<4).map { config.embedDim << $0 }
        stageChannels = channels
        let features = p / 0
        let patch = (config.patchSize[0], config.patchSize[1])
        patchEmbed = FocalNetPatchEmbed(
            features / "patch_embed", inChannels: 3, outChannels: channels[0], patchSize: patch,
            overlapping: config.useConvEmbed, stem: true)
        // Rates over all blocks of the network, built or not.
        let rates = StochasticDepth.linearRates(last: config.stochasticDepthProb, blocks: config.depths.reduce(0, +))
        var blockIndex = 0
        var stages: [[FocalNetBlock]] = [], downsamples: [FocalNetPatchEmbed] = []
        for s in 0...last {
            let layer = features / "layers" / s
            stages.append(
                (0..<config.depths[s]).map { j in
                    defer { blockIndex += 1 }
                    return FocalNetBlock(
                        layer / "blocks" / j, dim: channels[s], config: config, levels: config.focalLevels[s],
                        window: config.focalWindows[s], stochasticDepth: rates[blockIndex])
                })
            if s < last {
                downsamples.append(
                    FocalNetPatchEmbed(
                        layer / "downsample", inChannels: channels[s], outChannels: channels[s + 1], patchSize: (2, 2),
                        overlapping: config.useConvEmbed, stem: false))
            }
        }
        self.stages = stages
        self.downsamples = downsamples
        outputNorms = (0..<4).map { s in
            returnIndices.contains(s) ? LayerNorm(p / 1 / "norm\(s)", channels[s], eps: 1e-5) : nil
        }
        initializeLikeOfficial()
    }

    /// The official initialisation: Linear weights N(0, 0.02²) (torch's trunc_normal_ with its
    /// default bounds ±2 cuts at 100 standard deviations, so it draws the same distribution),
    /// Linear biases 0; LayerNorms 1 / 0, layer scales 1e-4 (already so from construction);
    /// convolutions keep PyTorch's default.
    private func initializeLikeOfficial() {
        let generator = path.store.generator
        withNoGrad {
            for block in stages.joined() {
                let m = block.modulation
                for linear in [m.f, m.proj, block.fc1, block.fc2] {
                    _ = linear.weight.copy_(
                        ParameterInit.normal(mean: 0, std: 0.02).make(
                            shape: linear.weight.shape, dtype: linear.weight.dtype, generator: generator))
                    _ = linear.bias?.zero_()
                }
            }
        }
    }

    /// - Parameters:
    ///   - x: [B, 3, H, W]
    ///   - indices: increasing stages, each one of `returnIndices`
    ///   - checkpoint: activation checkpointing of every block
    /// - Returns: per index the LayerNorm-ed stage output [B, C_i, H_i, W_i] (an NCHW view of
    ///   NHWC memory: channels-last strides)
    public func callAsFunction(
        _ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?, checkpoint: Bool
    )
        -> [Tensor]
    {
        precondition(
            !indices.isEmpty && indices == indices.sorted() && indices.allSatisfy { returnIndices.contains($0) },
            "FocalNet: can return only stages \(returnIndices), asked for \(indices)")
        var y = patchEmbed(x)
        if training && config.dropout > 0 {
            y = Functional.dropout(y, p: config.dropout, training: true, generator: generator)
        }
        var out: [Tensor] = []
        let last = indices.max()!
        for s in 0...last {
            for block in stages[s] {
                y = block.checkpointed(checkpoint, [y], generator: generator) {
                    block($0[0], training: training, generator: generator)
                }
            }
            if indices.contains(s) { out.append(outputNorms[s]!(y).permute(0, 3, 1, 2)) }
            if s < last { y = downsamples[s](y.permute(0, 3, 1, 2)) }
        }
        return out
    }
}

extension FocalNet: Backbone {
    /// The classification FocalNet (`patch_embed.*`, `layers.*`; `norm.*`, `head.*` unused) sits
    /// at `0.`; the output norms `1.norm{i}` are not in its files.
    public static var publishedRoot: String { "0." }

    /// The official rule: a non-empty `freezeIndices` freezes the patch embedding and every listed
    /// stage `0.layers.{i}` (its blocks and its downsample); the output norms stay trainable.
    /// Freezing stops gradients only: stochastic depth and dropout of frozen blocks stay active
    /// in training.
    public static func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool {
        guard !freezeIndices.isEmpty else { return false }
        if key.hasPrefix("0.patch_embed.") { return true }
        return freezeIndices.contains { key.hasPrefix("0.layers.\($0).") }
    }
}
