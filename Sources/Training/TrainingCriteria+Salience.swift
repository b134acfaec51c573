import Detection

extension TrainingCriteria {
    /// Salience DETR's hybrid criterion with denoising and salience losses.
    static func salience(config: ModelConfig) throws -> any TrainingCriterion {
        SalienceDETRCriterion(config: config)
    }
}

/// Salience DETR's criterion (`SalienceCriterion`) with the config's weights: `loss_class`,
/// `loss_bbox`, `loss_giou` and their `_i`, `_enc`, `_dn`, `_dn_i` copies, and `loss_salience`.
public struct SalienceDETRCriterion: TrainingCriterion {
    public var criterion: SalienceCriterion
    public var weights: [String: Double]

    public init(config: ModelConfig) {
        criterion = SalienceCriterion(config: config)
        weights = config.lossWeights
    }

    public func losses(_ output: DetectorOutput, targets: [DetectionTarget]) throws -> LossTerms {
        try criterion(output, targets: targets).terms
    }

    public func weight(of term: String) -> Double? {
        term.hasPrefix("loss_") ? baseWeight(weights, term) : nil
    }
}
