import Torch

/// A criterion with its official weight table: `losses` returns unweighted terms named like
/// the official loss keys; `weight(of:)` gives the weight of a term (nil: logged only).
///
/// The box losses are normalised by `num_boxes`, the number of target boxes: in one process the
/// batch's count; in data-parallel training the official codes all-reduce it and divide by the
/// number of processes (`targetsPerProcess`), so that gradients averaged over the processes equal
/// those of one process on the whole global batch. Both are clamped at 1.
public protocol TrainingCriterion {
    /// - Parameter targetsPerProcess: the target boxes of all processes' batches divided by the
    ///   number of processes (nil: this batch's count)
    func losses(_ output: DetectorOutput, targets: [DetectionTarget], targetsPerProcess: Double?) throws -> LossTerms
    func weight(of term: String) -> Double?
}

extension TrainingCriterion {
    /// The terms of one process's batch (normalised by its own target count).
    public func losses(_ output: DetectorOutput, targets: [DetectionTarget]) throws -> LossTerms {
        try losses(output, targets: targets, targetsPerProcess: nil)
    }

    /// Σ weight · term, the loss that is back-propagated.
    public func total(_ terms: LossTerms) -> Tensor? { terms.weightedSum { weight(of: $0) } }
}

/// A loss function with a config's weight table (`loss_weights`): Conditional DETR's
/// `SetCriterion` or Salience DETR's `SalienceCriterion` (see each architecture's recipe).
public struct WeightedCriterion: TrainingCriterion {
    /// Weight per base term name (`loss_class`, `loss_bbox`, ...).
    public var weights: [String: Double]
    private let compute: (DetectorOutput, [DetectionTarget], Double?) throws -> LossTerms

    /// - Parameter compute: the unweighted terms of one batch (output, targets, targets per process)
    public init(
        weights: [String: Double], _ compute: @escaping (DetectorOutput, [DetectionTarget], Double?) throws -> LossTerms
    ) {
        self.weights = weights
        self.compute = compute
    }

    public func losses(
        _ output: DetectorOutput, targets: [DetectionTarget], targetsPerProcess: Double?
    ) throws
        -> LossTerms
    {
        try compute(output, targets, targetsPerProcess)
    }

    /// The weight of a `loss_*` term from its base name: `loss_bbox_3`, `loss_bbox_dn`,
    /// `loss_bbox_enc` and `loss_bbox_dn_2` all take `loss_bbox`'s weight (the official configs
    /// copy it); other terms (e.g. `class_error`) are logged only.
    public func weight(of term: String) -> Double? {
        guard term.hasPrefix("loss_") else { return nil }
        if let w = weights[term] { return w }
        var name = Substring(term)
        while let cut = name.lastIndex(of: "_") {
            name = name[..<cut]
            if let w = weights[String(name)] { return w }
        }
        return nil
    }
}
