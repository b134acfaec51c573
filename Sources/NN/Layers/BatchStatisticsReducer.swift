import Torch

/// Sums batch-normalisation statistics over the processes of a data-parallel step, so that
/// `BatchNorm2d` in training normalises with the statistics of the whole global batch (PyTorch's
/// `SyncBatchNorm`, which the official Salience DETR recipe switches to when it trains on several
/// processes): every process then computes what one process computes on the global batch.
public protocol BatchStatisticsReducer: AnyObject, Sendable {
    /// This process's share of the step: 1, or 0 for a placeholder batch, whose statistics count
    /// nothing.
    var weight: Double { get }
    /// Σ over the processes of `t` (same shape on every process), differentiable: the backward
    /// pass sums the gradients of every process's result. Every process calls it for the same
    /// layers in the same order.
    func sum(_ t: Tensor) -> Tensor
}
