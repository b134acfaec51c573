import Datasets
import Detection
import Foundation
import NN
import Torch
import Vision

/// What one optimizer step produced (for progress lines and the JSON-lines log).
public struct StepReport: Sendable {
    public var epoch: Int
    /// Index of the batch within the epoch (0-based) and batches per epoch.
    public var iteration: Int
    public var iterations: Int
    /// Optimizer steps taken so far (after this one).
    public var step: Int
    /// Learning rate of the default (last) parameter group.
    public var lr: Double
    /// Weighted total loss.
    public var loss: Double
    /// Unweighted terms, official names, in criterion order.
    public var terms: [(name: String, value: Double)]
    /// Global L2 norm of the gradients the optimizer received, before clipping (after the
    /// data-parallel average and the fp16 unscaling); nil for a skipped (overflowed) fp16 step.
    public var gradNorm: Double?
    public var images: Int
    /// Seconds this step took (data wait excluded).
    public var seconds: Double
    /// Seconds of it spent in the gradients' all-reduce (data-parallel training; nil in one process).
    public var allReduceSeconds: Double?
}

/// A loss that is NaN or infinite: training stops with the step and the term named.
public struct NonFiniteLoss: SubjectError {
    public var epoch: Int
    public var step: Int
    public var term: String
    public var value: Double
    public var subject: String? { nil }
    public var problem: String {
        """
        loss term '\(term)' is \(value) at epoch \(epoch), step \(step): training stopped (lower the learning rate \
        or check the data)
        """
    }
}

/// A failure inside one training step (e.g. matching non-finite predictions), with its position.
public struct TrainingStepError: SubjectError {
    public var epoch: Int
    public var step: Int
    public var underlying: any Error
    public var subject: String? { nil }
    public var problem: String {
        """
        training stopped at epoch \(epoch), step \(step): \(underlying) (the model produced invalid values; lower \
        the learning rate or check the data)
        """
    }
}

/// The optimisation loop of the official recipes: forward in training mode, criterion, weighted
/// sum, backward, gradient clipping by global norm, AdamW with per-group learning rates from the
/// schedule. Epoch and step counters and the dropout generator are part of its checkpoint.
///
/// With `parallel`, each process trains on its share of every global batch (`DataShard`): the
/// processes agree on the step's target count (the box losses' normaliser) and image count before
/// the forward pass, average the loss terms (for the log and the finiteness check, so all stop
/// together) and the gradients after it, then take identical optimizer steps.
public final class Trainer {
    public let model: any Detector
    public let criterion: any TrainingCriterion
    public let optimizer: AdamW
    public let schedule: TrainingSchedule
    /// Gradient clipping max norm (0 = off).
    public let clipMaxNorm: Double
    /// Source of dropout and denoising randomness.
    public let generator: Generator
    /// The process group of data-parallel training (nil: one process).
    public let parallel: DataParallel?
    /// Data-parallel training: pad every process's batch to the step's largest image (all
    /// processes' batches), as one process would pad the whole global batch. The step then
    /// computes what one process computes on the global batch (up to float rounding), at the cost
    /// of the padding; off, each process pads its own batch, as the official recipes do.
    public var padToGlobalBatch = false
    public private(set) var epoch = 0
    public private(set) var step = 0
    /// Batches of the current epoch already trained on (0 between epochs); a checkpoint written
    /// inside an epoch continues with the next one.
    public private(set) var iteration = 0
    /// fp32, or mixed precision: the forward under autocast (the criterion in float32 on its
    /// float32 outputs); fp16 also scales the loss (`lossScaler`).
    public var precision: Precision = .fp32 {
        didSet { lossScaler = precision == .fp16 ? (lossScaler ?? LossScaler()) : nil }
    }
    /// The parts whose activations the forward pass recomputes in the backward pass instead of
    /// keeping (`ForwardOptions.checkpointing`): the same gradients, less memory.
    public var checkpointing: ActivationCheckpointing = []
    /// Dynamic loss scaling of fp16 training (nil otherwise); part of the checkpoint.
    public private(set) var lossScaler: LossScaler?
    /// The moving average of the weights (`--ema-decay`), updated after every step taken; part
    /// of the checkpoint.
    public var weightAverage: WeightAverage?
    private let trainable: [(key: String, tensor: Tensor)]

    public init(
        model: any Detector, criterion: any TrainingCriterion, optimizer: AdamW, schedule: TrainingSchedule,
        clipMaxNorm: Double, generator: Generator, parallel: DataParallel? = nil
    ) {
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer
        self.schedule = schedule
        self.clipMaxNorm = clipMaxNorm
        self.generator = generator
        self.parallel = parallel
        trainable = optimizer.allParameters
    }

    /// The official recipe of `model`'s architecture (`config.recipe`): its criterion, its
    /// freezing policy applied to `model` with `options`, and its AdamW parameter groups.
    public convenience init(
        model: any Detector, options: TrainingOptions, generator: Generator, parallel: DataParallel? = nil
    ) {
        let recipe = model.modelConfig.recipe
        recipe.freeze(model, options: options)
        self.init(
            model: model, criterion: recipe.criterion(), optimizer: recipe.optimizer(for: model, options: options),
            schedule: options.schedule, clipMaxNorm: options.clipMaxNorm, generator: generator, parallel: parallel)
    }

    /// Runs the rest of the current epoch over `batches`: the epoch's batches from number
    /// `iteration` on (of `count` in all), reporting each step.
    /// - Throws: `NonFiniteLoss`, matching errors, `ProcessGroupError` (data-parallel); the model
    ///   is then left as after the last good step.
    public func trainEpoch<S: Sequence>(_ batches: S, count: Int, report: (StepReport) throws -> Void) throws
    where S.Element == TrainingBatch {
        let sync: any StepSynchronization =
            parallel.map { DataParallelSynchronization(parallel: $0, padToGlobalBatch: padToGlobalBatch) }
            ?? LocalSynchronization()
        for item in batches {
            let start = Date()
            let i = iteration
            iteration += 1
            guard let shared = try sync.begin(item) else { continue }
            let batch = shared.batch
            let output = model(
                batch.images, targets: batch.targets,
                options: .training(
                    generator: generator, precision: precision, batchStatistics: shared.statistics,
                    checkpointing: checkpointing))
            if let failure = shared.statistics?.failure { throw failure }
            let terms: LossTerms
            do {
                terms = try criterion.losses(
                    output, targets: batch.targets, targetsPerProcess: shared.targetsPerProcess)
            } catch {
                throw TrainingStepError(epoch: epoch, step: step, underlying: error)
            }
            let weighted = criterion.total(terms).map { batch.isPlaceholder ? $0 * 0 : $0 }
            let own = terms.map { (name: $0.name, value: $0.value.item()) }
            let averaged = try sync.average(
                own.map(\.value) + [weighted?.item() ?? 0], placeholder: batch.isPlaceholder)
            let values = zip(own, averaged).map { (name: $0.name, value: $1) }
            let loss = averaged[own.count]
            for (name, v) in values where !v.isFinite {
                throw NonFiniteLoss(epoch: epoch, step: step, term: name, value: v)
            }
            guard let total = weighted else { continue }
            guard loss.isFinite else { throw NonFiniteLoss(epoch: epoch, step: step, term: "total", value: loss) }
            optimizer.zeroGrad(setToNone: true)
            // fp16: the loss is scaled for the backward pass and the gradients unscaled after it.
            let allReduceSeconds = try sync.backward(
                lossScaler.map { total * $0.scale } ?? total, gradients: trainable.map(\.tensor))
            // Every process has the same averaged gradients, so all of them skip an overflowed step.
            var finite = true
            if var scaler = lossScaler {
                finite = scaler.unscale(trainable.map(\.tensor))
                scaler.update(finite: finite)
                lossScaler = scaler
            }
            var gradNorm: Double?
            if finite {
                let grads = trainable.map(\.tensor)
                gradNorm = clipMaxNorm > 0 ? clipGradNorm(grads, maxNorm: clipMaxNorm) : globalGradNorm(grads)
            }
            for g in optimizer.groups.indices {
                optimizer.groups[g].lr = schedule.lr(
                    baseLR: optimizer.groups[g].initialLR, epoch: epoch, iteration: step)
            }
            // An overflowed fp16 step changes nothing but the scale (as GradScaler skips it).
            if finite {
                optimizer.step()
                weightAverage?.update()
            }
            step += 1
            try report(
                StepReport(
                    epoch: epoch, iteration: i, iterations: count, step: step,
                    lr: optimizer.groups.last?.lr ?? 0, loss: loss, terms: values, gradNorm: gradNorm,
                    images: shared.images, seconds: Date().timeIntervalSince(start),
                    allReduceSeconds: allReduceSeconds))
        }
        epoch += 1
        iteration = 0
    }

    /// Bytes the gradients' all-reduce of data-parallel training sends around per step: every
    /// parameter the optimizer updates as float32, and a presence flag for each.
    public var allReduceBytes: Int { (trainable.reduce(0) { $0 + $1.tensor.count } + trainable.count) * 4 }

    /// The checkpoint key of this process's generator state: "dropout" in one process and on
    /// rank 0, "dropout.rank<r>" on the other ranks of data-parallel training.
    public var generatorKey: String {
        let rank = parallel?.rank ?? 0
        return rank == 0 ? "dropout" : "dropout.rank\(rank)"
    }

    /// Everything needed to continue exactly: model, optimizer, counters, generator state.
    /// - Parameter generators: further generator states to store (the other ranks')
    public func checkpoint(extra: [String: String] = [:], generators: [String: Tensor] = [:]) -> TrainingCheckpoint {
        var extra = extra
        if let weightAverage { extra[Self.averageUpdatesKey] = "\(weightAverage.updates)" }
        if iteration > 0 { extra[Self.iterationKey] = "\(iteration)" }
        return TrainingCheckpoint(
            model: model.stateDict(), optimizer: optimizer.stateDict(), average: weightAverage?.stateDict,
            generators: generators.merging([generatorKey: generator.state]) { $1 }, epoch: epoch, step: step,
            config: model.modelConfig,
            extra: extra.merging(lossScaler.map { [Self.lossScalerKey: $0.encoded] } ?? [:]) { a, _ in a })
    }

    /// Restores a checkpoint written by `checkpoint()` (this rank's generator state, when stored).
    public func restore(_ c: TrainingCheckpoint, source: String) throws {
        try model.load(stateDict: c.model, strict: true, source: source)
        if let o = c.optimizer { try optimizer.load(o) }
        if let g = c.generators[generatorKey] { try generator.setState(g) }
        if lossScaler != nil, let state = c.extra[Self.lossScalerKey] {
            do { lossScaler = try LossScaler(encoded: state) } catch {
                throw FileError(file: source, problem: "unreadable loss-scaler state: \(error)")
            }
        }
        if let weightAverage {
            if let average = c.average, let updates = c.extra[Self.averageUpdatesKey].flatMap(Int.init) {
                try weightAverage.restore(average, updates: updates, source: source)
            } else {
                weightAverage.reset()
            }
        }
        guard let position = Int(c.extra[Self.iterationKey] ?? "0"), position >= 0 else {
            throw FileError(file: source, problem: "unreadable position in the epoch: \(c.extra[Self.iterationKey] ?? "")")
        }
        epoch = c.epoch
        step = c.step
        iteration = position
    }

    /// The checkpoint metadata entry of the fp16 loss scaler.
    static let lossScalerKey = "loss_scaler"
    /// The checkpoint metadata entry of the batches of the current epoch done (absent: none).
    static let iterationKey = "iteration"
    /// The checkpoint metadata entry of the weight average's update count.
    static let averageUpdatesKey = "ema_updates"
}
