import Torch

/// Batch normalisation over [B, C, H, W] (`nn.BatchNorm2d`).
///
/// Keys: `weight`, `bias` (parameters, when affine), then buffers `running_mean`, `running_var`
/// and `num_batches_tracked` (int64 scalar), as PyTorch registers them.
/// - training: normalises with the batch statistics and updates the running ones in place:
///   running = (1 - m)·running + m·batch (unbiased variance), m = `momentum`, or the cumulative
///   average 1/num_batches_tracked when `momentum` is nil; `num_batches_tracked` += 1.
/// - evaluation: normalises with the running statistics.
///
/// A checkpoint without `num_batches_tracked` (older PyTorch) loads; the counter is kept.
public struct BatchNorm2d: Module, Layer {
    public let path: ModulePath
    public let weight: Tensor?
    public let bias: Tensor?
    public let runningMean: Tensor?
    public let runningVar: Tensor?
    public let numBatchesTracked: Tensor?
    public let eps: Double
    public let momentum: Double?

    public init(
        _ p: ModulePath, numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1,
        affine: Bool = true, trackRunningStats: Bool = true
    ) {
        path = p
        weight = affine ? p.parameter("weight", shape: [numFeatures], initializer: .ones) : nil
        bias = affine ? p.parameter("bias", shape: [numFeatures], initializer: .zeros) : nil
        if trackRunningStats {
            runningMean = p.buffer("running_mean", shape: [numFeatures], initializer: .zeros)
            runningVar = p.buffer("running_var", shape: [numFeatures], initializer: .ones)
            numBatchesTracked = p.buffer("num_batches_tracked", Tensor(scalar: Int64(0)), requiredOnLoad: false)
        } else {
            runningMean = nil
            runningVar = nil
            numBatchesTracked = nil
        }
        self.eps = eps
        self.momentum = momentum
    }

    /// - Parameter x: [B, C, H, W]
    /// - Returns: [B, C, H, W]
    public func callAsFunction(_ x: Tensor, training: Bool) -> Tensor {
        var factor = momentum ?? 0
        if training, let numBatchesTracked {
            withNoGrad { _ = numBatchesTracked.add_(1) }
            if momentum == nil { factor = 1 / Double(numBatchesTracked.itemInt()) }
        }
        // Without running statistics, batch statistics are used in evaluation too.
        let useBatchStats = training || runningMean == nil
        return Functional.batchNorm(
            x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
            training: useBatchStats, momentum: factor, eps: eps)
    }

    /// Training with the statistics of every process's batch (`SyncBatchNorm`): mean and biased
    /// variance over the global batch (two sums over the processes, mean first, then squared
    /// deviations from it), the running statistics updated with the unbiased variance, as one
    /// process would on the whole global batch. Without `training` or a reducer, as above.
    /// - Parameter x: [B, C, H, W]
    /// - Returns: [B, C, H, W]
    public func callAsFunction(
        _ x: Tensor, training: Bool, synchronizedBy reducer: (any BatchStatisticsReducer)?
    )
        -> Tensor
    {
        guard training, let reducer else { return callAsFunction(x, training: training) }
        let c = x.size(1)
        let share = reducer.weight
        let localCount = Double(x.count / Swift.max(c, 1)) * share
        let first = reducer.sum(
            Tensor.cat([x.sum(dims: [0, 2, 3]) * share, Tensor([localCount]).to(x.dtype).to(x.device)]))  // [C + 1]
        let count = first.slice(dim: 0, start: c).item()
        let mean = first.slice(dim: 0, end: c) / count  // [C]
        let centered = x - mean.view(1, c, 1, 1)
        let variance = reducer.sum(centered.pow(2).sum(dims: [0, 2, 3]) * share) / count  // [C], biased
        var y = centered * (variance + eps).rsqrt().view(1, c, 1, 1)
        if let weight { y = y * weight.view(1, c, 1, 1) }
        if let bias { y = y + bias.view(1, c, 1, 1) }
        if let runningMean, let runningVar {
            var factor = momentum ?? 0
            withNoGrad {
                if let numBatchesTracked {
                    _ = numBatchesTracked.add_(1)
                    if momentum == nil { factor = 1 / Double(numBatchesTracked.itemInt()) }
                }
                let unbiased = variance.detach() * (count / Swift.max(count - 1, 1))
                runningMean.copy_(runningMean * (1 - factor) + mean.detach() * factor)
                runningVar.copy_(runningVar * (1 - factor) + unbiased * factor)
            }
        }
        return y
    }
}
