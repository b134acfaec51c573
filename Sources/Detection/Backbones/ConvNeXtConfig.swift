/// ConvNeXt settings (`backbone` with `"type": "convnext"`); defaults are the official
/// ConvNeXt-L of Salience DETR.
public struct ConvNeXtConfig: Equatable, Sendable {
    /// Channels per stage (a downsample leads from stage i to channels[i + 1]).
    public var channels: [Int] = [192, 384, 768, 1536]
    /// Blocks per stage.
    public var depths: [Int] = [3, 3, 27, 3]
    /// Initial value of the [C, 1, 1] `layer_scale` parameters.
    public var layerScale: Double = 1e-6
    /// Stochastic depth of the last block; linear from 0 over all blocks (training).
    public var stochasticDepthProb: Double = 0.5

    public init() {}
}
