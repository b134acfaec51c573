import Foundation

/// Salience DETR's transformer neck.
public struct TransformerNeckConfig: Equatable, Sendable {
    public var type: String = "repvgg_plux"
    public var groups: Int = 4
}

/// Contrastive denoising (Salience DETR training).
public struct DenoisingConfig: Equatable, Sendable {
    public var num: Int = 100
    public var labelNoiseProb: Double = 0.5
    public var boxNoiseScale: Double = 1.0
}

/// A Salience DETR configuration: the common settings (read and written through it directly,
/// `config.hiddenDim`) and Salience DETR's own. Every field has the official R50 default.
public struct SalienceDETRConfig: CommonConfigured, Equatable, Sendable {
    public var common = CommonConfig(
        numQueries: 900, dropout: 0, numSelect: 300,
        lossWeights: ["loss_class": 1, "loss_bbox": 5, "loss_giou": 2, "loss_salience": 2])
    public var numFeatureLevels: Int = 4
    public var numPoints: Int = 4
    /// Foreground tokens the encoder updates (before the per-level and per-layer ratios).
    public var topkSA: Int = 300
    public var maxNumEmbedding: Int = 200
    public var levelFilterRatio: [Double] = [0.4, 0.8, 1.0, 1.0]
    public var layerFilterRatio: [Double] = [1.0, 0.8, 0.6, 0.6, 0.4, 0.2]
    public var transformerNeck = TransformerNeckConfig()
    public var denoising = DenoisingConfig()

    /// The official R50 configuration.
    public init() {
        common.positionEmbedding.offset = -0.5
    }
}

extension SalienceDETRConfig: ArchitectureConfig {
    static let architecture = Architecture.salienceDetr
    static let widthKey = "embed_dim"
    static var ownFields: [ConfigField<Self>] {
        [
            ConfigField("num_feature_levels", \.numFeatureLevels),
            ConfigField("num_points", \.numPoints),
            ConfigField("topk_sa", \.topkSA),
            ConfigField("max_num_embedding", \.maxNumEmbedding),
            ConfigField("level_filter_ratio", \.levelFilterRatio),
            ConfigField("layer_filter_ratio", \.layerFilterRatio),
            .object(
                "transformer_neck", \.transformerNeck,
                fields: [ConfigField("type", \.type), ConfigField("groups", \.groups)], context: "transformer_neck"),
            .object(
                "denoising", \.denoising,
                fields: [
                    ConfigField("num", \.num), ConfigField("label_noise_prob", \.labelNoiseProb),
                    ConfigField("box_noise_scale", \.boxNoiseScale),
                ], context: "denoising"),
        ]
    }
    static var positionEmbeddingFields: [ConfigField<PositionEmbeddingConfig>] {
        [ConfigField("temperature", \.temperature), ConfigField("offset", \.offset)]
    }
    static let backboneRules = BackboneRules(families: BackboneType.allCases, selectsStages: true, dilation: false)

    var modelConfig: ModelConfig { .salienceDetr(self) }
    var recipe: any DetectorRecipe { SalienceDETRRecipe(config: self) }

    func validateOwn() throws {
        func fail(_ p: String) -> ConfigError { ConfigError(source: "", problem: p) }
        try ConfigRange.check(numFeatureLevels, "num_feature_levels", 1...8)
        try ConfigRange.check(numPoints, "num_points", 1...64)
        try ConfigRange.check(topkSA, "topk_sa", 1...ConfigRange.maxQueries)
        try ConfigRange.check(maxNumEmbedding, "max_num_embedding", 1...ConfigRange.maxQueries)
        for (key, ratios) in [("level_filter_ratio", levelFilterRatio), ("layer_filter_ratio", layerFilterRatio)] {
            for (i, r) in ratios.enumerated() where !(r > 0 && r <= 1) {
                throw fail("'\(key)[\(i)]' must be in (0, 1], got \(r)")
            }
        }
        try ConfigRange.check(transformerNeck.groups, "transformer_neck.groups", 1...self.hiddenDim)
        try ConfigRange.check(denoising.num, "denoising.num", 0...ConfigRange.maxQueries)
        try ConfigRange.check(denoising.labelNoiseProb, "denoising.label_noise_prob", 0...1)
        try ConfigRange.check(denoising.boxNoiseScale, "denoising.box_noise_scale", 0...100)
        guard levelFilterRatio.count == numFeatureLevels else {
            throw fail("'level_filter_ratio' needs \(numFeatureLevels) values (num_feature_levels)")
        }
        guard layerFilterRatio.count == self.numEncoderLayers else {
            throw fail("'layer_filter_ratio' needs \(self.numEncoderLayers) values (num_encoder_layers)")
        }
        let r = self.backbone.returnIndices
        guard !r.isEmpty, r.allSatisfy({ (0..<4).contains($0) }), r == r.sorted(), Set(r).count == r.count,
            r.count <= numFeatureLevels
        else {
            throw fail(
                "'backbone.return_indices' must be increasing stage indices in 0...3, at most num_feature_levels")
        }
        guard self.backbone.freezeIndices.allSatisfy({ (0..<4).contains($0) }) else {
            throw fail("'backbone.freeze_indices' must be in 0...3")
        }
        guard transformerNeck.type == "repvgg_plux" else {
            throw fail("transformer_neck type '\(transformerNeck.type)' is not supported (only repvgg_plux)")
        }
        guard self.hiddenDim % transformerNeck.groups == 0 else {
            throw fail("embed_dim must be divisible by transformer_neck.groups")
        }
        guard (2...4).contains(numFeatureLevels) else {
            throw fail("'num_feature_levels' must be 2...4 (the salience update has one alpha per upper level)")
        }
        guard self.hiddenDim % 32 == 0 else {
            throw fail("'embed_dim' must be a multiple of 32 (GroupNorm(32) in the neck)")
        }
    }
}
