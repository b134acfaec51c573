import Torch

/// Everything Salience DETR is trained with: `HybridSetCriterion` on the final decoder layer,
/// every earlier layer and the two-stage encoder proposals (each matched on its own), the same
/// losses on the denoising queries with their fixed pairs, and the salience loss. Terms are
/// unweighted, named and ordered as the official loss dict: `loss_class`, `loss_bbox`,
/// `loss_giou`, then `_0`…`_{L−2}`, `_enc`, `_dn`, `_dn_0`…, and `loss_salience`
/// (40 terms for 6 decoder layers).
public struct SalienceCriterion: Sendable {
    public var set: HybridSetCriterion
    public var salience: SalienceLoss

    public init(set: HybridSetCriterion, salience: SalienceLoss = SalienceLoss()) {
        self.set = set
        self.salience = salience
    }

    /// The official configuration: matcher costs from `config.matcher` (log eps 1e-6), focal
    /// α/γ from the config.
    public init(config: SalienceDETRConfig) { self.init(common: config.common) }

    /// The official configuration from the common settings of `config`.
    public init(config: ModelConfig) { self.init(common: config.common) }

    private init(common config: CommonConfig) {
        let matcher = HungarianMatcher(
            costClass: config.matcher.costClass, costBbox: config.matcher.costBbox,
            costGiou: config.matcher.costGiou, alpha: config.focalAlpha,
            gamma: config.focalGamma, eps: 1e-6)
        self.init(
            set: HybridSetCriterion(
                matcher: matcher, numClasses: config.numClasses, alpha: config.focalAlpha,
                gamma: config.focalGamma),
            salience: SalienceLoss(alpha: config.focalAlpha, gamma: config.focalGamma))
    }

    /// Loss terms and the matchings used.
    /// - Parameters:
    ///   - output: a training forward's output; denoising terms need `output.denoising`, the
    ///     encoder terms `output.encoder`, the salience term `output.salience` (each is skipped
    ///     when absent)
    ///   - targets: labels [n_b] and boxes [n_b, 4] cxcywh normalised, per image
    ///   - targetsPerProcess: data-parallel training's all-reduced target count divided by the
    ///     number of processes (nil: this batch's count). The salience loss keeps its own batch's
    ///     normaliser, as the official code does.
    /// - Returns: terms, and the matchings by group: "final", "aux0"…, "enc"
    /// - Throws: `MatchingError` for non-finite predictions
    public func callAsFunction(
        _ output: DetectorOutput, targets: [DetectionTarget], targetsPerProcess: Double? = nil
    ) throws
        -> (terms: LossTerms, matches: [(group: String, indices: [MatchIndices])])
    {
        let counts = targets.map(\.count)
        // Official num_boxes: the target count (all-reduced / processes in data-parallel training), at least 1.
        let numBoxes = Swift.max(targetsPerProcess ?? Double(counts.reduce(0, +)), 1)
        var terms = LossTerms()
        var matches: [(group: String, indices: [MatchIndices])] = []

        func matched(_ p: Predictions, group: String, suffix: String) throws {
            let indices = try set.match(p, targets: targets)
            matches.append((group, indices))
            terms.append(
                contentsOf: set.losses(p, targets: targets, indices: indices, numBoxes: numBoxes),
                suffix: suffix)
        }
        try matched(output.final, group: "final", suffix: "")
        for (i, aux) in output.auxiliary.enumerated() { try matched(aux, group: "aux\(i)", suffix: "_\(i)") }
        if let encoder = output.encoder { try matched(encoder, group: "enc", suffix: "_enc") }

        if let dn = output.denoising {
            let indices = HybridSetCriterion.denoisingIndices(
                targetCounts: counts, groups: dn.groups,
                groupSize: dn.groupSize)
            let normaliser = numBoxes * Double(dn.groups)
            terms.append(
                contentsOf: set.losses(dn.final, targets: targets, indices: indices, numBoxes: normaliser),
                suffix: "_dn")
            for (i, aux) in dn.auxiliary.enumerated() {
                terms.append(
                    contentsOf: set.losses(aux, targets: targets, indices: indices, numBoxes: normaliser),
                    suffix: "_dn_\(i)")
            }
        }
        if let maps = output.salience {
            terms.append("loss_salience", salience(maps, targets: targets))
        }
        return (terms, matches)
    }
}
