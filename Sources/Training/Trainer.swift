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
    public var images: Int
    /// Seconds this step took (data wait excluded).
    public var seconds: Double
}

/// A loss that is NaN or infinite: training stops with the step and the term named.
public struct NonFiniteLoss: Error, CustomStringConvertible {
    public var epoch: Int
    public var step: Int
    public var term: String
    public var value: Double
    public var description: String {
        """
        loss term '\(term)' is \(value) at epoch \(epoch), step \(step): training stopped (lower the learning rate \
        or check the data)
        """
    }
}

/// A failure inside one training step (e.g. matching non-finite predictions), with its position.
public struct TrainingStepError: Error, CustomStringConvertible {
    public var epoch: Int
    public var step: Int
    public var underlying: any Error
    public var description: String {
        """
        training stopped at epoch \(epoch), step \(step): \(underlying) (the model produced invalid values; lower \
        the learning rate or check the data)
        """
    }
}

/// The optimisation loop of the official recipes: forward in training mode, criterion, weighted
/// sum, backward, gradient clipping by global norm, AdamW with per-group learning rates from the
/// schedule. Epoch and step counters and the dropout generator are part of its checkpoint.
public final class Trainer {
    public let model: any Detector
    public let criterion: any TrainingCriterion
    public let optimizer: AdamW
    public let schedule: TrainingSchedule
    /// Gradient clipping max norm (0 = off).
    public let clipMaxNorm: Double
    /// Source of dropout and denoising randomness.
    public let generator: Generator
    public private(set) var epoch = 0
    public private(set) var step = 0
    /// fp32, or mixed precision: the forward under autocast (the criterion in float32 on its
    /// float32 outputs); fp16 also scales the loss (`lossScaler`).
    public var precision: Precision = .fp32 {
        didSet { lossScaler = precision == .fp16 ? (lossScaler ?? LossScaler()) : nil }
    }
    /// Dynamic loss scaling of fp16 training (nil otherwise); part of the checkpoint.
    public private(set) var lossScaler: LossScaler?
    /// Steps skipped because fp16 gradients overflowed (their loss is still reported).
    public private(set) var skippedSteps = 0
    private let trainable: [(key: String, tensor: Tensor)]

    public init(
        model: any Detector, criterion: any TrainingCriterion, optimizer: AdamW, schedule: TrainingSchedule,
        clipMaxNorm: Double, generator: Generator
    ) {
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer
        self.schedule = schedule
        self.clipMaxNorm = clipMaxNorm
        self.generator = generator
        trainable = optimizer.allParameters
    }

    /// The official recipe of `model`'s architecture (`config.recipe`): its criterion, and its
    /// freezing and AdamW parameter groups applied with `options`.
    public convenience init(model: any Detector, options: TrainingOptions, generator: Generator) {
        let recipe = model.config.recipe
        self.init(
            model: model, criterion: recipe.criterion(), optimizer: recipe.optimizer(for: model, options: options),
            schedule: options.schedule, clipMaxNorm: options.clipMaxNorm, generator: generator)
    }

    /// Runs one epoch over `batches` (`count` of them), reporting each step.
    /// - Throws: `NonFiniteLoss`, matching errors; the model is then left as after the last good step.
    public func trainEpoch<S: Sequence>(_ batches: S, count: Int, report: (StepReport) -> Void) throws
    where S.Element == TrainingBatch {
        for (i, item) in batches.enumerated() {
            let start = Date()
            let output = model(
                item.images, targets: item.targets, options: .training(generator: generator, precision: precision))
            let terms: LossTerms
            do {
                terms = try criterion.losses(output, targets: item.targets)
            } catch {
                throw TrainingStepError(epoch: epoch, step: step, underlying: error)
            }
            var values: [(String, Double)] = []
            for (name, t) in terms {
                let v = t.item()
                guard v.isFinite else { throw NonFiniteLoss(epoch: epoch, step: step, term: name, value: v) }
                values.append((name, v))
            }
            guard let total = criterion.total(terms) else { continue }
            let loss = total.item()
            guard loss.isFinite else { throw NonFiniteLoss(epoch: epoch, step: step, term: "total", value: loss) }
            optimizer.zeroGrad(setToNone: true)
            var finite = true
            if var scaler = lossScaler {
                (total * scaler.scale).backward()
                finite = scaler.unscale(trainable.map(\.tensor))
                scaler.update(finite: finite)
                lossScaler = scaler
            } else {
                total.backward()
            }
            if clipMaxNorm > 0 && finite { _ = clipGradNorm(trainable, maxNorm: clipMaxNorm) }
            for g in optimizer.groups.indices {
                optimizer.groups[g].lr = schedule.lr(
                    baseLR: optimizer.groups[g].initialLR, epoch: epoch, iteration: step)
            }
            // An overflowed fp16 step changes nothing but the scale (as GradScaler skips it).
            if finite { optimizer.step() } else { skippedSteps += 1 }
            step += 1
            report(
                StepReport(
                    epoch: epoch, iteration: i, iterations: count, step: step,
                    lr: optimizer.groups.last?.lr ?? 0, loss: loss, terms: values,
                    images: item.images.count, seconds: Date().timeIntervalSince(start)))
        }
        epoch += 1
    }

    /// Everything needed to continue exactly: model, optimizer, counters, generator state.
    public func checkpoint(extra: [String: String] = [:]) -> TrainingCheckpoint {
        TrainingCheckpoint(
            model: model.stateDict(), optimizer: optimizer.stateDict(),
            generators: ["dropout": generator.state], epoch: epoch, step: step, config: model.config,
            extra: extra.merging(lossScaler.map { [Self.lossScalerKey: $0.encoded] } ?? [:]) { a, _ in a })
    }

    /// Restores a checkpoint written by `checkpoint()`.
    public func restore(_ c: TrainingCheckpoint, source: String) throws {
        try model.load(stateDict: c.model, strict: true, source: source)
        if let o = c.optimizer { try optimizer.load(o) }
        if let g = c.generators["dropout"] { try generator.setState(g) }
        if lossScaler != nil, let state = c.extra[Self.lossScalerKey] {
            do { lossScaler = try LossScaler(encoded: state) } catch {
                throw FileError(file: source, problem: "unreadable loss-scaler state: \(error)")
            }
        }
        epoch = c.epoch
        step = c.step
    }

    /// The checkpoint metadata entry of the fp16 loss scaler.
    static let lossScalerKey = "loss_scaler"
}
