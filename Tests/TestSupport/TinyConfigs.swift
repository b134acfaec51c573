import Detection

extension TestSupport {
    /// A tiny Salience DETR for fast tests (64×64 inputs give 85 tokens).
    public static func tinySalienceConfig() -> ModelConfig {
        var c = SalienceDETRConfig()
        c.numClasses = 5
        c.numQueries = 12
        c.hiddenDim = 32
        c.numHeads = 4
        c.numEncoderLayers = 1
        c.layerFilterRatio = [1.0]
        c.numDecoderLayers = 2
        c.dimFeedforward = 64
        c.topkSA = 8
        c.backbone.block = .basic
        c.backbone.layers = [1, 1, 1, 1]
        c.denoising.num = 6
        c.numSelect = 10
        return .salienceDetr(c)
    }

    /// A tiny Conditional DETR (width 32, 4 heads, one encoder layer, basic-block ResNet).
    public static func tinyConditionalConfig(
        numClasses: Int, numQueries: Int, decoderLayers: Int,
        dropout: Double
    ) -> ModelConfig {
        var c = ModelConfig(architecture: .conditionalDetr)
        c.numClasses = numClasses
        c.numQueries = numQueries
        c.hiddenDim = 32
        c.numHeads = 4
        c.numEncoderLayers = 1
        c.numDecoderLayers = decoderLayers
        c.dimFeedforward = 64
        c.dropout = dropout
        c.backbone.block = .basic
        c.backbone.layers = [1, 1, 1, 1]
        return c
    }
}
