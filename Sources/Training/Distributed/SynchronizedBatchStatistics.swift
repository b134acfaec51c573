import NN
import Torch

/// Batch statistics summed over a data-parallel process group, for one step's forward pass.
///
/// A sum that fails cannot throw out of the model's forward pass: the failure is recorded, this
/// and every later sum return this process's own values unsummed (no further waiting on a
/// stopped peer), and the trainer throws the failure as soon as the forward pass returns.
final class SynchronizedBatchStatistics: BatchStatisticsReducer, @unchecked Sendable {
    let group: ProcessGroup
    let weight: Double
    private(set) var failure: (any Error)?

    init(group: ProcessGroup, weight: Double) {
        self.group = group
        self.weight = weight
    }

    func sum(_ t: Tensor) -> Tensor {
        guard failure == nil else { return t }
        do {
            return try group.differentiableSum(t)
        } catch {
            failure = error
            return t
        }
    }
}
