import Datasets
import Foundation
import NN
import Torch

/// One step's batch as this process runs it, with what the processes agreed on before the
/// forward pass.
struct SynchronizedStep {
    /// The batch to run (data-parallel with padding to the global batch: padded to the step's
    /// largest image).
    var batch: TrainingBatch
    /// The box losses' normaliser per process (the step's target count over the processes);
    /// nil: this batch's own count.
    var targetsPerProcess: Double?
    /// Images of the whole step.
    var images: Int
    /// Batch statistics summed over the processes (trainable batch norms).
    var statistics: SynchronizedBatchStatistics?
}

/// What a training step shares with the other processes of data-parallel training, at the
/// three points where it must: before the forward pass (the box-loss normaliser, the image count,
/// the padded size), after the losses (their average), and in the backward pass (the gradients'
/// average). One process shares nothing (`LocalSynchronization`).
protocol StepSynchronization {
    /// The step of `batch`; nil when no process has an image (the step is skipped everywhere).
    func begin(_ batch: TrainingBatch) throws -> SynchronizedStep?
    /// The loss values (terms, then the total) as every process logs and checks them.
    func average(_ values: [Double], placeholder: Bool) throws -> [Double]
    /// The backward pass of `loss`, leaving in `gradients` what every process applies; returns
    /// the seconds spent averaging them over the processes (nil: none shared).
    func backward(_ loss: Tensor, gradients: [Tensor]) throws -> Double?
}

/// One process: nothing is shared.
struct LocalSynchronization: StepSynchronization {
    func begin(_ batch: TrainingBatch) throws -> SynchronizedStep? {
        SynchronizedStep(batch: batch, targetsPerProcess: nil, images: batch.count, statistics: nil)
    }

    func average(_ values: [Double], placeholder: Bool) throws -> [Double] { values }

    func backward(_ loss: Tensor, gradients: [Tensor]) throws -> Double? {
        loss.backward()
        return nil
    }
}

/// Data-parallel training over c10d: each process trains on its share of every global batch.
struct DataParallelSynchronization: StepSynchronization {
    let parallel: DataParallel
    /// Pad every process's batch to the step's largest image (`Trainer.padToGlobalBatch`).
    let padToGlobalBatch: Bool

    func begin(_ batch: TrainingBatch) throws -> SynchronizedStep? {
        let own = batch.isPlaceholder ? [0, 0] : [Double(batch.targets.reduce(0) { $0 + $1.count }), 1]
        let total = try parallel.sum([own[0], own[1] * Double(batch.count)])
        // No process has an image: skipped everywhere, as one process skips an empty batch.
        guard total[1] > 0 else { return nil }
        var padded = batch
        if padToGlobalBatch {
            let size = try parallel.max([Double(batch.images.images.size(2)), Double(batch.images.images.size(3))])
            padded = batch.padded(height: Int(size[0]), width: Int(size[1]))
        }
        return SynchronizedStep(
            batch: padded, targetsPerProcess: total[0] / Double(parallel.size), images: Int(total[1]),
            statistics: SynchronizedBatchStatistics(group: parallel.group, weight: batch.isPlaceholder ? 0 : 1))
    }

    /// The official logs average every term over the processes; a placeholder adds zero (but a
    /// non-finite value, which would poison the averaged gradients, stops all).
    func average(_ values: [Double], placeholder: Bool) throws -> [Double] {
        let own = placeholder ? values.map { $0.isFinite ? 0 : $0 } : values
        return try parallel.sum(own).map { $0 / Double(parallel.size) }
    }

    func backward(_ loss: Tensor, gradients: [Tensor]) throws -> Double? {
        do { try Torch.catching { loss.backward() } } catch {
            // A synchronised batch norm's all-reduce of the backward pass failed.
            guard parallel.group.hasFailed, case TorchError.libtorch(let message) = error else { throw error }
            throw ProcessGroupError(message: message)
        }
        let start = Date()
        try parallel.averageGradients(gradients)
        return Date().timeIntervalSince(start)
    }
}
