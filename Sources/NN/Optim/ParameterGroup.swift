import Torch

/// Parameters sharing a learning rate and weight decay (one `param_groups` entry of a PyTorch
/// optimizer). Parameters are named by their state-dict keys, which also name their optimizer
/// state in checkpoints.
public struct ParameterGroup {
    public var parameters: [(key: String, tensor: Tensor)]
    /// The learning rate used by the next `step()`.
    public var lr: Double
    /// The learning rate the group started with (PyTorch's `initial_lr`, the base of schedules).
    public var initialLR: Double
    public var weightDecay: Double

    public init(parameters: [(key: String, tensor: Tensor)], lr: Double, weightDecay: Double) {
        self.parameters = parameters
        self.lr = lr
        self.initialLR = lr
        self.weightDecay = weightDecay
    }

    /// Splits named parameters into groups: each parameter joins the first group whose
    /// predicate accepts its key, or the last (default) group. Groups that end up empty are kept,
    /// so group indices stay stable.
    /// - Parameters:
    ///   - rules: (predicate, lr, weightDecay) for the special groups, in priority order.
    ///   - defaultLR, defaultWeightDecay: the group of everything else (appended last).
    public static func partition(
        _ parameters: [(key: String, tensor: Tensor)],
        rules: [(matches: (String) -> Bool, lr: Double, weightDecay: Double)],
        defaultLR: Double, defaultWeightDecay: Double
    ) -> [ParameterGroup] {
        var groups = rules.map { ParameterGroup(parameters: [], lr: $0.lr, weightDecay: $0.weightDecay) }
        groups.append(ParameterGroup(parameters: [], lr: defaultLR, weightDecay: defaultWeightDecay))
        for p in parameters {
            let i = rules.firstIndex { $0.matches(p.key) } ?? rules.count
            groups[i].parameters.append(p)
        }
        return groups
    }
}
