import Foundation

/// Which detector a config describes (`architecture` in JSON).
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
/// keys (ResNet: `block`, `layers`, `dilation`; the others: `swin`, `convnext`, `focalnet`), and
/// each architecture says which families and stage keys it takes (`BackboneRules`).
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
    /// The backbone's published ImageNet weights that `detr train` starts from (JSON `weights`;
    /// a relative path in a config file is relative to the file's folder). Not part of the
    /// architecture: every other command ignores it.
    public var weights: String?
}

/// Sine position embedding settings.
public struct PositionEmbeddingConfig: Equatable, Sendable {
    public var temperature: Double = 10000
    /// −0.5 for Salience DETR, 0 for Conditional DETR (which has no such key).
    public var offset: Double = 0
}

/// Hungarian matcher costs.
public struct MatcherConfig: Equatable, Sendable {
    public var costClass: Double = 2
    public var costBbox: Double = 5
    public var costGiou: Double = 2
}

/// The settings every DETR variant has. Field names mirror the official constructor arguments
/// (camelCase here, snake_case in JSON).
public struct CommonConfig: Equatable, Sendable {
    public var numClasses: Int = 91
    /// JSON `"num_classes": "auto"`: `detr train` sets `numClasses` to the training dataset's
    /// largest category id + 1 (ids are classifier columns); no model is built before that.
    public var numClassesFromDataset = false
    public var numQueries: Int
    /// The model width: `embed_dim` (Salience DETR) / `hidden_dim` (Conditional DETR) in JSON.
    public var hiddenDim: Int = 256
    public var numHeads: Int = 8
    public var numEncoderLayers: Int = 6
    public var numDecoderLayers: Int = 6
    public var dimFeedforward: Int = 2048
    public var dropout: Double
    public var backbone = BackboneConfig()
    public var positionEmbedding = PositionEmbeddingConfig()
    /// The evaluation resize (and the training one's scale).
    public var minSize: Int = 800
    public var maxSize: Int = 1333
    /// Detections the post-processing keeps per image (the official evaluation's top-k).
    public var numSelect: Int
    public var matcher = MatcherConfig()
    /// Loss weights by official loss key (aux/dn/enc copies get the same weight).
    public var lossWeights: [String: Double]
    public var focalAlpha: Double = 0.25
    public var focalGamma: Double = 2.0

    /// The defaults shared by both official R50 configurations, with the values that differ.
    public init(numQueries: Int, dropout: Double, numSelect: Int, lossWeights: [String: Double]) {
        self.numQueries = numQueries
        self.dropout = dropout
        self.numSelect = numSelect
        self.lossWeights = lossWeights
    }
}

/// A configuration with the common settings, which read and write through it directly
/// (`config.hiddenDim` for `config.common.hiddenDim`).
@dynamicMemberLookup
public protocol CommonConfigured {
    var common: CommonConfig { get set }
}

extension CommonConfigured {
    public subscript<T>(dynamicMember path: WritableKeyPath<CommonConfig, T>) -> T {
        get { common[keyPath: path] }
        set { common[keyPath: path] = newValue }
    }
}

/// A detector configuration: one case per architecture, each with its own config type (its
/// common part plus what only it has), its own JSON keys and rules, and its own recipe. The
/// common settings read and write through the enum directly (`config.numClasses`); what only one
/// architecture has, through its case (`config.salience?.topkSA`).
///
/// Adding an architecture: its folder (model, config type conforming to `ArchitectureConfig`,
/// recipe), one case here, and its line in `body`, `common` and `ModelConfig.architectures`.
public enum ModelConfig: CommonConfigured, Equatable, Sendable {
    case salienceDetr(SalienceDETRConfig)
    case conditionalDetr(ConditionalDETRConfig)

    /// The architectures a config file can name.
    static let architectures = [
        ArchitectureEntry(SalienceDETRConfig.self), ArchitectureEntry(ConditionalDETRConfig.self),
    ]

    /// The official R50 configuration of `architecture`.
    public init(architecture: Architecture) {
        self = Self.architectures.first { $0.architecture == architecture }!.official()
    }

    /// The case's config.
    var body: any ArchitectureConfig {
        switch self {
        case .salienceDetr(let c): c
        case .conditionalDetr(let c): c
        }
    }

    public var architecture: Architecture { type(of: body).architecture }

    /// The settings every architecture has.
    public var common: CommonConfig {
        get { body.common }
        set {
            switch self {
            case .salienceDetr(var c):
                c.common = newValue
                self = .salienceDetr(c)
            case .conditionalDetr(var c):
                c.common = newValue
                self = .conditionalDetr(c)
            }
        }
    }

    /// The Salience DETR config, nil for another architecture (setting it replaces the config).
    public var salience: SalienceDETRConfig? {
        get { if case .salienceDetr(let c) = self { c } else { nil } }
        set { if let newValue { self = .salienceDetr(newValue) } }
    }

    /// The Conditional DETR config, nil for another architecture (setting it replaces the config).
    public var conditional: ConditionalDETRConfig? {
        get { if case .conditionalDetr(let c) = self { c } else { nil } }
        set { if let newValue { self = .conditionalDetr(newValue) } }
    }

    /// The recipe of this config's architecture: how to build, preprocess for, train and
    /// post-process it.
    public var recipe: any DetectorRecipe { body.recipe }
}
