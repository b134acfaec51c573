import Foundation

/// A Conditional DETR configuration: the common settings (read and written through it directly,
/// `config.hiddenDim`) and Conditional DETR's own. Every field has the official R50 default.
public struct ConditionalDETRConfig: CommonConfigured, Equatable, Sendable {
    public var common = CommonConfig(
        numQueries: 300, dropout: 0.1, numSelect: 100, lossWeights: ["loss_ce": 2, "loss_bbox": 5, "loss_giou": 2])
    /// Per-layer outputs and losses.
    public var auxLoss: Bool = true
    /// Group DETR (the official `--group_detr`): training runs `groupDetr` independent groups of
    /// `numQueries` queries (self-attention within a group, one-to-one matching per group);
    /// inference uses the first group only. `query_embed.weight` has numQueries·groupDetr rows.
    public var groupDetr: Int = 1

    /// The official R50 configuration.
    public init() {}
}

extension ConditionalDETRConfig: ArchitectureConfig {
    static let architecture = Architecture.conditionalDetr
    static let widthKey = "hidden_dim"
    static var ownFields: [ConfigField<Self>] {
        [
            ConfigField("aux_loss", \.auxLoss),
            // Written only when it is not the default, as the official configs leave it out.
            ConfigField(
                key: "group_detr", read: { r, c in try r.read("group_detr", &c.groupDetr) },
                write: { c, container in
                    if c.groupDetr != 1 { try container.encode(c.groupDetr, forKey: "group_detr") }
                }),
        ]
    }
    static var positionEmbeddingFields: [ConfigField<PositionEmbeddingConfig>] {
        [ConfigField("temperature", \.temperature)]
    }
    static let backboneRules = BackboneRules(families: [.resnet], selectsStages: false, dilation: true)

    var modelConfig: ModelConfig { .conditionalDetr(self) }
    var recipe: any DetectorRecipe { ConditionalDETRRecipe(config: self) }

    func validateOwn() throws {
        try ConfigRange.check(groupDetr, "group_detr", 1...64)
    }
}
