import NN
import Torch

/// The Swin Transformer (V1) backbone of Salience DETR (torchvision's SwinTransformer as a
/// feature extractor, followed by an NHWC -> NCHW permute), computing in NHWC.
///
/// Keys (under the backbone's path): `0.features.0.0` stem conv (patch × patch, stride patch),
/// `0.features.0.2` stem LayerNorm; stage i = `0.features.{2i+1}.{j}` (`SwinBlock`); the
/// `PatchMerging` after stage i = `0.features.{2i+2}`. Only stages 0...`lastStage` and the
/// merges between them are built; there is no final norm or classifier.
public struct SwinTransformer: Module {
    public let path: ModulePath
    public let config: SwinConfig
    let stemConv: Conv2d
    let stemNorm: LayerNorm
    /// Blocks of the built stages.
    let stages: [ModuleList<SwinBlock>]
    /// merges[i] follows stage i (i < lastStage).
    let merges: [PatchMerging]
    /// embedDim · 2^i for stages 0...3.
    public let stageChannels: [Int]
    let layouts: SwinWindowLayoutCache

    /// - Parameter lastStage: the last stage to build (0...3).
    public init(_ p: ModulePath, config: SwinConfig, lastStage: Int = 3) {
        precondition(
            config.depths.count == 4 && config.numHeads.count == 4 && (0...3).contains(lastStage),
            "SwinTransformer: 4 stages expected, last stage \(lastStage)")
        precondition(
            config.patchSize.count == 2 && config.windowSize.count == 2,
            "SwinTransformer: patch and window sizes are [h, w]")
        path = p
        self.config = config
        let features = p / 0 / "features"
        let embed = config.embedDim
        stemConv = Conv2d(
            features / 0 / 0, inChannels: 3, outChannels: embed,
            kernelSize: (config.patchSize[0], config.patchSize[1]),
            stride: (config.patchSize[0], config.patchSize[1]))
        stemNorm = LayerNorm(features / 0 / 2, embed, eps: 1e-5)
        let layouts = SwinWindowLayoutCache(window: (config.windowSize[0], config.windowSize[1]))
        // Stochastic depth grows linearly over the blocks of all four stages, built or not.
        let rates = StochasticDepth.linearRates(last: config.stochasticDepthProb, blocks: config.depths.reduce(0, +))
        var stages: [ModuleList<SwinBlock>] = [], merges: [PatchMerging] = []
        var firstBlock = 0
        for s in 0...lastStage {
            let dim = embed << s
            let offset = firstBlock
            stages.append(
                ModuleList(features / (2 * s + 1), count: config.depths[s]) { q, j in
                    SwinBlock(
                        q, dim: dim, heads: config.numHeads[s], shifted: j % 2 == 1, config: config,
                        stochasticDepth: rates[offset + j], layouts: layouts)
                })
            firstBlock += config.depths[s]
            if s < lastStage { merges.append(PatchMerging(features / (2 * s + 2), dim: dim)) }
        }
        self.stages = stages
        self.merges = merges
        self.layouts = layouts
        stageChannels = (0..<4).map { embed << $0 }
    }

    /// The official initialisation of every Linear: trunc_normal_(std=0.02) weights, whose
    /// truncation at ±2 lies 100 standard deviations out (so N(0, 0.02²)), and zero biases.
    static func resetLinear(_ linear: Linear, generator: Generator?) {
        withNoGrad {
            let w = linear.weight
            _ = w.copy_(
                ParameterInit.normal(mean: 0, std: 0.02).make(shape: w.shape, dtype: w.dtype, generator: generator))
            _ = linear.bias?.zero_()
        }
    }

    /// Stage outputs for `indices` (increasing, within the built stages).
    /// - Parameters:
    ///   - x: [B, 3, H, W]
    ///   - training: stochastic depth and dropout
    ///   - generator: their randomness
    ///   - checkpoint: activation checkpointing of every block
    /// - Returns: one [B, C_i, H/(p·2^i), W/(p·2^i)] per index (p = patch size), the raw stage
    ///   outputs permuted from NHWC (channels-last strides)
    public func callAsFunction(
        _ x: Tensor, returning indices: [Int], training: Bool, generator: Generator?, checkpoint: Bool
    ) -> [Tensor] {
        guard let last = indices.max() else { return [] }
        precondition(last < stages.count, "SwinTransformer: stage \(last) is not built")
        // A channels-last convolution output is contiguous once permuted to NHWC.
        var y = stemNorm(stemConv(x.contiguous(.channelsLast)).permute(0, 2, 3, 1))
        var out: [Tensor] = []
        for s in 0...last {
            if s > 0 { y = merges[s - 1](y) }
            for block in stages[s] {
                y = block.checkpointed(checkpoint, [y], generator: generator) {
                    block($0[0], training: training, generator: generator)
                }
            }
            if indices.contains(s) { out.append(y.permute(0, 3, 1, 2)) }
        }
        return out
    }
}

extension SwinTransformer: Backbone {
    /// torchvision's classification Swin (`features.*`; `norm.*`, `head.*` unused) sits at `0.`.
    public static var publishedRoot: String { "0." }

    /// The official `_freeze_stages`: any index freezes the stem (`0.features.0`); index i freezes
    /// stage i (`0.features.{2i+1}`) and the merge after it (`0.features.{2i+2}`, stages 0...2).
    public static func isFrozen(_ key: String, freezeIndices: [Int]) -> Bool {
        guard !freezeIndices.isEmpty else { return false }
        if key.hasPrefix("0.features.0.") { return true }
        return freezeIndices.contains { i in
            key.hasPrefix("0.features.\(2 * i + 1).") || (i < 3 && key.hasPrefix("0.features.\(2 * i + 2)."))
        }
    }
}
