/// FocalNet settings (`backbone` with `"type": "focalnet"`); defaults are the official
/// FocalNet-L (large receptive field, 4 focal levels) of Salience DETR.
public struct FocalNetConfig: Equatable, Sendable {
    /// Stem patch size (h, w); the input is zero-padded to a multiple of it.
    public var patchSize: [Int] = [4, 4]
    /// Channels of stage 0; stage i has embedDim·2^i.
    public var embedDim: Int = 192
    /// Blocks per stage (4 stages).
    public var depths: [Int] = [2, 2, 18, 2]
    /// MLP inner width = Int(C · mlpRatio).
    public var mlpRatio: Double = 4.0
    /// Dropout in the patch embedding, modulation projection and MLP (training).
    public var dropout: Double = 0.0
    /// Stochastic depth of the last block; linear from 0 over all blocks (training).
    public var stochasticDepthProb: Double = 0.5
    /// Focal levels L per stage (depthwise kernels 2l + focalWindow, l = 0..<L).
    public var focalLevels: [Int] = [4, 4, 4, 4]
    /// Kernel of the first focal level per stage.
    public var focalWindows: [Int] = [3, 3, 3, 3]
    /// Overlapping conv embeddings: a 7x7 stride-4 stem and 3x3 stride-2 downsamples.
    public var useConvEmbed: Bool = true
    /// LayerNorm on the branch outputs (x + γ·norm(f(x))) instead of pre-norm.
    public var usePostLN: Bool = true
    /// LayerNorm `modulation.ln` before the modulation projection.
    public var usePostLNInModulation: Bool = false
    /// `gamma_1`/`gamma_2` [C] parameters (initial value 1e-4); false: a scalar 1.
    public var useLayerScale: Bool = true
    /// Divide the aggregated context by L + 1.
    public var normalizeModulator: Bool = true

    public init() {}
}
