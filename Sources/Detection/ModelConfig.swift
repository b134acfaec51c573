import Foundation

/// Which detector a config describes.
public enum Architecture: String, Codable, Sendable {
    case salienceDetr = "salience_detr"
    case conditionalDetr = "conditional_detr"
}

/// ResNet block type.
public enum ResNetBlock: String, Codable, Sendable {
    case bottleneck
    case basic
}

/// Backbone families (`backbone.type`).
public enum BackboneType: String, Codable, Sendable, CaseIterable {
    case resnet, swin, convnext, focalnet
}

/// Backbone settings (`backbone` in JSON). `type` selects the family; each family reads its own
/// keys (ResNet: `block`, `layers`, `dilation`; the others: `swin`, `convnext`, `focalnet`).
public struct BackboneConfig: Equatable, Sendable {
    public var type: BackboneType = .resnet
    public var block: ResNetBlock = .bottleneck
    /// Blocks per stage ([3,4,6,3] for R50, [3,4,23,3] for R101).
    public var layers: [Int] = [3, 4, 6, 3]
    /// Stages returned (Salience DETR): stage indices 0...3.
    public var returnIndices: [Int] = [1, 2, 3]
    /// Stages frozen for training (Salience DETR); a non-empty list also freezes the stem.
    public var freezeIndices: [Int] = [0]
    /// DC5: dilate layer4 instead of striding (Conditional DETR).
    public var dilation: Bool = false
    /// Settings of `type` swin, convnext and focalnet (the official -L values by default).
    public var swin = SwinConfig()
    public var convnext = ConvNeXtConfig()
    public var focalnet = FocalNetConfig()
}

/// Sine position embedding settings.
public struct PositionEmbeddingConfig: Equatable, Sendable {
    public var temperature: Double = 10000
    /// −0.5 for Salience DETR, 0 for Conditional DETR.
    public var offset: Double = 0
}

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

/// Hungarian matcher costs.
public struct MatcherConfig: Equatable, Sendable {
    public var costClass: Double = 2
    public var costBbox: Double = 5
    public var costGiou: Double = 2
}

/// A detector configuration. Field names mirror the official constructor arguments
/// (camelCase here, snake_case in JSON: `ModelConfig+Codable.swift` reads every key). Every field has
/// the official R50 default of its architecture, so a JSON file may omit any key.
public struct ModelConfig: Equatable, Sendable {
    public var architecture: Architecture
    public var numClasses: Int = 91
    public var numQueries: Int
    /// `embed_dim` (Salience) / `hidden_dim` (Conditional).
    public var hiddenDim: Int = 256
    public var numHeads: Int = 8
    public var numEncoderLayers: Int = 6
    public var numDecoderLayers: Int = 6
    public var dimFeedforward: Int = 2048
    public var dropout: Double
    /// Per-layer outputs and losses (Conditional DETR).
    public var auxLoss: Bool = true
    /// Group DETR (Conditional DETR's `--group_detr`): training runs `groupDetr` independent groups
    /// of `numQueries` queries (self-attention within a group, one-to-one matching per group);
    /// inference uses the first group only. `query_embed.weight` has numQueries·groupDetr rows.
    public var groupDetr: Int = 1
    public var numFeatureLevels: Int = 4
    public var numPoints: Int = 4
    public var topkSA: Int = 300
    public var maxNumEmbedding: Int = 200
    public var levelFilterRatio: [Double] = [0.4, 0.8, 1.0, 1.0]
    public var layerFilterRatio: [Double] = [1.0, 0.8, 0.6, 0.6, 0.4, 0.2]
    public var backbone = BackboneConfig()
    public var positionEmbedding = PositionEmbeddingConfig()
    public var transformerNeck = TransformerNeckConfig()
    public var denoising = DenoisingConfig()
    public var minSize: Int = 800
    public var maxSize: Int = 1333
    public var numSelect: Int
    public var matcher = MatcherConfig()
    /// Loss weights by official loss key (aux/dn/enc copies get the same weight).
    public var lossWeights: [String: Double]
    public var focalAlpha: Double = 0.25
    public var focalGamma: Double = 2.0

    /// The official R50 configuration of `architecture`.
    public init(architecture: Architecture) {
        self.architecture = architecture
        switch architecture {
        case .salienceDetr:
            numQueries = 900
            dropout = 0.0
            numSelect = 300
            positionEmbedding.offset = -0.5
            lossWeights = ["loss_class": 1, "loss_bbox": 5, "loss_giou": 2, "loss_salience": 2]
        case .conditionalDetr:
            numQueries = 300
            dropout = 0.1
            numSelect = 100
            lossWeights = ["loss_ce": 2, "loss_bbox": 5, "loss_giou": 2]
        }
    }
}
