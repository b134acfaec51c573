import Foundation
import Torch

extension AdamW {
    /// Metadata key of the JSON hyperparameters.
    public static let metadataKey = "optimizer"

    struct Hyperparameters: Codable, Equatable {
        struct Group: Codable, Equatable {
            var lr: Double
            var initialLR: Double
            var weightDecay: Double
            var params: [String]
        }
        var type: String
        var beta1: Double
        var beta2: Double
        var eps: Double
        var groups: [Group]
    }

    /// Moments under `state.<parameter key>.exp_avg` / `.exp_avg_sq`, update counts under
    /// `state.<parameter key>.step` (int64 scalars), and the groups' hyperparameters and
    /// parameter keys as JSON in `metadata["optimizer"]`.
    public func stateDict() -> OptimizerState {
        var tensors = StateDict()
        for (key, _) in allParameters {
            guard let s = state[key] else { continue }
            tensors["state.\(key).exp_avg"] = s.expAvg.detach()
            tensors["state.\(key).exp_avg_sq"] = s.expAvgSq.detach()
            tensors["state.\(key).step"] = Tensor(scalar: Int64(s.step))
        }
        let h = Hyperparameters(
            type: "AdamW", beta1: beta1, beta2: beta2, eps: eps,
            groups: groups.map {
                .init(
                    lr: $0.lr, initialLR: $0.initialLR, weightDecay: $0.weightDecay,
                    params: $0.parameters.map(\.key))
            })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try! encoder.encode(h), as: UTF8.self)  // plain Codable values
        return OptimizerState(tensors: tensors, metadata: [Self.metadataKey: json])
    }

    /// Restores a snapshot taken with `stateDict()` from an optimizer with the same groups
    /// (same parameter keys in the same order and the same betas/eps). Group learning rates and
    /// weight decays are taken from the snapshot, as PyTorch's `load_state_dict` does.
    /// Nothing changes when it throws.
    public func load(_ snapshot: OptimizerState) throws {
        guard let json = snapshot.metadata[Self.metadataKey] else {
            throw OptimizerStateError("metadata has no '\(Self.metadataKey)' entry")
        }
        let h: Hyperparameters
        do {
            h = try JSONDecoder().decode(Hyperparameters.self, from: Data(json.utf8))
        } catch {
            throw OptimizerStateError("malformed '\(Self.metadataKey)' metadata (\(error))")
        }
        guard h.type == "AdamW" else { throw OptimizerStateError("snapshot is of a \(h.type) optimizer, not AdamW") }
        guard h.beta1 == beta1, h.beta2 == beta2, h.eps == eps else {
            throw OptimizerStateError(
                "snapshot has betas (\(h.beta1), \(h.beta2)) eps \(h.eps), "
                    + "optimizer has (\(beta1), \(beta2)) eps \(eps)")
        }
        guard h.groups.count == groups.count else {
            throw OptimizerStateError("snapshot has \(h.groups.count) parameter groups, optimizer has \(groups.count)")
        }
        for (i, (saved, current)) in zip(h.groups, groups).enumerated()
        where saved.params != current.parameters.map(\.key) {
            let missing = Set(current.parameters.map(\.key)).subtracting(saved.params).sorted()
            let extra = Set(saved.params).subtracting(current.parameters.map(\.key)).sorted()
            throw OptimizerStateError(
                "group \(i) parameters differ (not in snapshot: \(missing.prefix(10)); "
                    + "only in snapshot: \(extra.prefix(10)); or a different order)")
        }
        var restored: [String: ParameterState] = [:]
        for (key, p) in allParameters {
            let names = ["exp_avg", "exp_avg_sq", "step"].map { "state.\(key).\($0)" }
            let found = names.map { snapshot.tensors[$0] }
            if found.allSatisfy({ $0 == nil }) { continue }  // never updated
            guard let m = found[0], let v = found[1], let step = found[2] else {
                throw OptimizerStateError("state of '\(key)' is incomplete")
            }
            guard m.shape == p.shape, v.shape == p.shape else {
                throw OptimizerStateError("state of '\(key)' has shape \(m.shape), parameter has \(p.shape)")
            }
            let copy = { (t: Tensor) in withNoGrad { p.zerosLike().copy_(t) } }  // dtype/device of the parameter
            restored[key] = ParameterState(expAvg: copy(m), expAvgSq: copy(v), step: step.itemInt())
        }
        for (i, saved) in h.groups.enumerated() {
            groups[i].lr = saved.lr
            groups[i].initialLR = saved.initialLR
            groups[i].weightDecay = saved.weightDecay
        }
        state = restored
    }
}
