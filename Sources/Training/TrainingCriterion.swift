import Detection
import Torch

/// A criterion with its official weight table: `losses` returns unweighted terms named like
/// the official loss keys; `weight(of:)` gives the weight of a term (nil: logged only).
public protocol TrainingCriterion {
    func losses(_ output: DetectorOutput, targets: [DetectionTarget]) throws -> LossTerms
    func weight(of term: String) -> Double?
}

extension TrainingCriterion {
    /// Σ weight · term, the loss that is back-propagated.
    public func total(_ terms: LossTerms) -> Tensor? { terms.weightedSum { weight(of: $0) } }
}

/// Weight of a term from a base table: `loss_bbox_3`, `loss_bbox_dn`, `loss_bbox_enc`,
/// `loss_bbox_dn_2` all take `loss_bbox`'s weight (the official configs copy it).
func baseWeight(_ table: [String: Double], _ term: String) -> Double? {
    if let w = table[term] { return w }
    var name = Substring(term)
    while let cut = name.lastIndex(of: "_") {
        name = name[..<cut]
        if let w = table[String(name)] { return w }
    }
    return nil
}

/// Conditional DETR's SetCriterion with the config's weights.
public struct ConditionalDETRCriterion: TrainingCriterion {
    public var criterion: SetCriterion
    public var weights: [String: Double]

    public init(config: ModelConfig) {
        criterion = SetCriterion(matcher: HungarianMatcher(costClass: config.matcher.costClass,
                                                           costBbox: config.matcher.costBbox,
                                                           costGiou: config.matcher.costGiou,
                                                           alpha: config.focalAlpha, gamma: config.focalGamma),
                                 numClasses: config.numClasses, focalAlpha: config.focalAlpha, groups: config.groupDetr)
        weights = config.lossWeights
    }

    public func losses(_ output: DetectorOutput, targets: [DetectionTarget]) throws -> LossTerms {
        try criterion(output, targets: targets).terms
    }

    public func weight(of term: String) -> Double? {
        term.hasPrefix("loss_") ? baseWeight(weights, term) : nil
    }
}
