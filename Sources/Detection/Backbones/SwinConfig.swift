/// Swin Transformer (V1) settings (`backbone` with `"type": "swin"`); defaults are the official
/// Swin-L of Salience DETR.
public struct SwinConfig: Equatable, Sendable {
    /// Stem convolution kernel = stride (h, w).
    public var patchSize: [Int] = [4, 4]
    /// Channels of stage 0; stage i has embedDim·2^i.
    public var embedDim: Int = 192
    /// Blocks per stage (4 stages).
    public var depths: [Int] = [2, 2, 18, 2]
    /// Attention heads per stage.
    public var numHeads: [Int] = [6, 12, 24, 48]
    /// Attention window (h, w); odd blocks of a stage shift by half a window.
    public var windowSize: [Int] = [7, 7]
    /// MLP inner width = Int(C · mlpRatio).
    public var mlpRatio: Double = 4.0
    /// Dropout after the attention projection and in the MLP (training).
    public var dropout: Double = 0.0
    /// Dropout on attention weights (training).
    public var attentionDropout: Double = 0.0
    /// Stochastic depth of the last block; linear from 0 over all blocks (training).
    public var stochasticDepthProb: Double = 0.2

    public init() {}
}
