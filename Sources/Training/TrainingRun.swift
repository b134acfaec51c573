import COCO
import Datasets
import Detection
import Foundation
import NN
import Torch

/// A training run of the official recipe on a COCO-format dataset, written to one directory:
/// `config.json`, `checkpoint.safetensors` (atomically after every epoch, and every
/// `checkpointEvery` steps) and `log.jsonl` (a record per step and per evaluation). `init` prepares everything (and restores the checkpoint
/// when resuming); `run` trains the remaining epochs and reports progress through its callback.
/// The library never prints: a front end renders the events.
///
/// Data-parallel (`parallel`): every process builds the same run, trains on its share of every
/// global batch of `batchSize` × processes images and evaluates its share of the validation
/// batches; rank 0 alone writes the directory (config, log, checkpoint with every rank's
/// generator state). A checkpoint resumes with any number of processes that divides its global
/// batch (the data order and schedule stay the original run's).
public final class TrainingRun {
    /// What to train on, where to write, and the changes to the recipe's hyper-parameters.
    public struct Settings: Sendable {
        public var config: ModelConfig
        public var trainImages: URL
        public var trainAnnotations: URL
        /// Evaluated after every epoch when set.
        public var validation: (images: URL, annotations: URL)?
        /// The format of both annotation sources (told by each path when nil).
        public var annotationFormat: AnnotationFormat?
        /// Initial weights (.pth or .safetensors); tensors whose shape differs are re-initialised.
        /// Without them or `backboneWeights` the model trains from scratch and no backbone stage is
        /// frozen.
        public var initialWeights: URL?
        /// The backbone's published ImageNet weights (`InitialWeights.loadBackbone`; nil: the
        /// config's `backbone.weights`), loaded before `initialWeights`.
        public var backboneWeights: URL?
        public var output: URL
        public var batchSize = 2
        public var seed: UInt64 = 42
        /// Data-loading threads.
        public var workers = 2
        public var device: Device = .cpu
        /// fp32, or mixed precision (bf16; fp16 with dynamic loss scaling) for training and evaluation.
        public var precision: Precision = .fp32
        /// Continue from `output/checkpoint.safetensors`.
        public var resume = false
        /// Epochs (nil: the recipe's); the recipe's schedule is laid out for them.
        public var epochs: Int?
        /// Changes to the recipe's hyper-parameters, applied once they are known (after the
        /// dataset gave the steps per epoch).
        public var adjustOptions: @Sendable (inout TrainingOptions) -> Void = { _ in }
        /// Data-parallel: pad every process's batch to the whole step's largest image
        /// (`Trainer.padToGlobalBatch`).
        public var padToGlobalBatch = false
        /// Activation checkpointing of these parts of the model (`Trainer.checkpointing`).
        public var checkpointActivations: ActivationCheckpointing = []
        /// The checkpoint is also written after every this many optimizer steps inside an epoch
        /// (0: only after each epoch), so a run that is killed loses at most that many steps.
        public var checkpointEvery = 0
        /// The last this many epochs' checkpoints are kept as `epoch_<N>.safetensors` (0: none).
        public var keepEpochs = 0
        /// A moving average of the weights with this decay (`WeightAverage`; nil: none): evaluated,
        /// written to `best_*` and read as the checkpoint's model weights.
        public var emaDecay: Double?
        /// The decay's warm-up in steps (`WeightAverage.tau`; 0: none).
        public var emaTau: Double = 2000

        public init(config: ModelConfig, trainImages: URL, trainAnnotations: URL, output: URL) {
            self.config = config
            self.trainImages = trainImages
            self.trainAnnotations = trainAnnotations
            self.output = output
        }
    }

    /// What happens during `run`, in order.
    public enum Event {
        /// One optimizer step.
        case step(StepReport)
        /// An epoch's checkpoint is written; `skippedImages` could not be read and were left out.
        case epochFinished(epoch: Int, seconds: Double, skippedImages: [String])
        /// The model after `epoch` epochs was evaluated on the validation set.
        case evaluated(epoch: Int, summary: COCOSummary)
    }

    public let settings: Settings
    public let data: COCODetectionDataset
    public let loader: DataLoader
    public let options: TrainingOptions
    public let model: any Detector
    public let trainer: Trainer
    /// The JSON-lines log (rank 0 of data-parallel training; nil on the other ranks).
    public let log: TrainingLog?
    public let checkpointURL: URL
    /// The process group of data-parallel training (nil: one process).
    public let parallel: DataParallel?
    /// What the backbone weights filled (nil without them).
    public let backboneReport: BackboneWeightsReport?
    /// Keys of the initial weights left at their fresh initialisation (shape mismatch or absent).
    public let reinitialisedKeys: [String]
    /// Where a resumed run continues: epochs, steps and batches of the current epoch already done
    /// (nil: a new run).
    public let resumedAt: (epoch: Int, step: Int, iteration: Int)?
    /// Class names by classifier column, stored in every checkpoint.
    private let classNamesJSON: String

    /// Prepares the run: reads the dataset (validated against `num_classes`), builds the model
    /// and trainer and, with `resume`, restores the checkpoint; then (only then, so that a run that
    /// cannot start leaves nothing) creates the output directory, writes `config.json`, removes
    /// temporary files a killed run left behind and trims the log to the checkpoint.
    /// - Parameter parallel: the process group of data-parallel training; every rank calls this
    ///   with the same settings (the model then starts from rank 0's state)
    /// - Throws: configuration, dataset, weight-file and checkpoint errors, naming the file;
    ///   `ProcessGroupError`
    public init(_ settings: Settings, parallel: DataParallel? = nil) throws {
        var settings = settings
        self.parallel = parallel
        let isMain = parallel?.isMain ?? true
        let out = settings.output
        let fm = FileManager.default
        let data = try COCODetectionDataset(
            imagesDirectory: settings.trainImages,
            annotationFile: settings.trainAnnotations, format: settings.annotationFormat)
        if settings.config.numClassesFromDataset {
            settings.config.numClasses = Swift.max(1, data.maxCategoryId + 1)
            settings.config.numClassesFromDataset = false
            try settings.config.validate()
        }
        let cfg = settings.config
        // A checkpoint of another number of processes resumes with the same global batch (per
        // process: its global batch / this number), so the data order and schedule stay its own.
        checkpointURL = out.appendingPathComponent("checkpoint.safetensors")
        var resumed: TrainingCheckpoint?
        if settings.resume {
            guard fm.fileExists(atPath: checkpointURL.path) else {
                throw FileError(file: checkpointURL.path, problem: "no checkpoint to resume from")
            }
            let checkpoint = try TrainingCheckpoint.read(from: checkpointURL)
            let saved = checkpoint.extra["world_size"].flatMap(Int.init) ?? 1
            let processes = parallel?.size ?? 1
            if saved != processes {
                guard let perProcess = checkpoint.extra["batch_size"].flatMap(Int.init), perProcess > 0 else {
                    throw FileError(
                        file: checkpointURL.path,
                        problem: """
                            was written by \(saved) process\(saved == 1 ? "" : "es") and does not say its batch \
                            size; resume it with as many (got \(processes))
                            """)
                }
                let global = saved * perProcess
                guard global % processes == 0 else {
                    throw FileError(
                        file: checkpointURL.path,
                        problem: """
                            has a global batch of \(global) images (\(saved) × \(perProcess)), which \(processes) \
                            processes cannot share evenly; resume it with a number of processes dividing \(global)
                            """)
                }
                settings.batchSize = global / processes
            }
            resumed = checkpoint
        }
        self.settings = settings
        try data.validate(numClasses: cfg.numClasses)
        self.data = data
        let namesByColumn = (0..<cfg.numClasses).map { $0 < data.classNames.count ? data.classNames[$0] : nil }
        classNamesJSON = String(decoding: try JSONEncoder().encode(namesByColumn), as: UTF8.self)
        let store = try ParameterStore(
            dtype: .float32, device: settings.device, generator: Generator(seed: settings.seed))
        let model = try DetectorFactory.make(config: cfg, store: store)
        self.model = model
        let backboneWeights = settings.backboneWeights ?? cfg.backbone.weights.map { URL(fileURLWithPath: $0) }
        backboneReport = try backboneWeights.map { try InitialWeights.loadBackbone($0, into: model) }
        reinitialisedKeys = try settings.initialWeights.map { try InitialWeights.load($0, into: model) } ?? []
        let recipe = cfg.recipe
        let loader = try DataLoader(
            source: data, transform: .train(recipe.trainAugmentation), batchSize: settings.batchSize,
            seed: settings.seed, sizeDivisor: recipe.evalTransform.sizeDivisor,
            workers: settings.workers, unreadableImages: .skip,
            shard: try parallel.map { try DataShard(rank: $0.rank, count: $0.size) })
        self.loader = loader
        var o = recipe.trainingOptions(epochs: settings.epochs, iterationsPerEpoch: loader.batchCount)
        o.batchSize = settings.batchSize
        o.seed = settings.seed
        settings.adjustOptions(&o)
        // The official recipes freeze early backbone stages of ImageNet-pretrained weights; from
        // scratch those random layers could never learn, so everything trains.
        o.freezeBackbone = settings.initialWeights != nil || backboneWeights != nil
        options = o
        // Rank 0 draws the single process's dropout stream; every other rank its own.
        let rank = UInt64(parallel?.rank ?? 0)
        let trainer = Trainer(
            model: model, options: o, generator: Generator(seed: settings.seed &+ 1 &+ rank &* SeededRandom.golden),
            parallel: parallel)
        trainer.padToGlobalBatch = settings.padToGlobalBatch
        trainer.checkpointing = settings.checkpointActivations
        trainer.precision = settings.precision
        trainer.weightAverage = settings.emaDecay.map { WeightAverage(model: model, decay: $0, tau: settings.emaTau) }
        self.trainer = trainer
        if let checkpoint = resumed {
            try trainer.restore(checkpoint, source: checkpointURL.path)
            resumedAt = (trainer.epoch, trainer.step, trainer.iteration)
        } else {
            resumedAt = nil
        }
        // Every rank starts from rank 0's state (DistributedDataParallel's initial broadcast).
        try parallel?.broadcastState(of: model)
        // Only a run that could start leaves output: everything above has been checked.
        if isMain {
            do {
                try fm.createDirectory(at: out, withIntermediateDirectories: true)
            } catch {
                throw FileError(
                    file: out.path, problem: "cannot create the output directory (\(error.localizedDescription))")
            }
            try AtomicFile.write(cfg.jsonData(), to: out.appendingPathComponent("config.json"))
            // Temporary files of a run that was killed while writing (AtomicFile's `.NAME.tmp-*`).
            for name in (try? fm.contentsOfDirectory(atPath: out.path)) ?? []
            where name.hasPrefix(".") && name.contains(".tmp-") {
                try? fm.removeItem(at: out.appendingPathComponent(name))
            }
        }
        log =
            isMain
            ? try TrainingLog(
                url: out.appendingPathComponent("log.jsonl"),
                resumingAt: resumedAt.map { (step: $0.step, epoch: $0.epoch) }) : nil
    }

    /// Trains until `options.epochs` epochs are done: after each epoch the checkpoint is written
    /// and, with a validation set, the model evaluated (and the result logged). A resumed run whose
    /// last checkpoint was never evaluated (killed in between) evaluates it first.
    /// - Throws: `NonFiniteLoss`, `TrainingStepError`, data-loading and file errors; the
    ///   checkpoint on disk is then the last complete epoch's
    public func run(events: (Event) -> Void) throws {
        var unevaluated =
            resumedAt != nil && trainer.epoch > 0 && trainer.iteration == 0
            && !(log?.evaluatedEpochs.contains(trainer.epoch) ?? false)
        if let parallel {
            // Rank 0's log decides (the evaluation is a collective step).
            unevaluated = try parallel.sum([parallel.isMain && unevaluated ? 1 : 0])[0] > 0
        }
        if unevaluated {
            try evaluate(events: events)
        }
        while trainer.epoch < options.epochs {
            let start = Date()
            let batches = loader.epoch(trainer.epoch, startingAt: trainer.iteration)
            // A failure to load a batch ends the epoch's sequence and is thrown below.
            var failure: (any Error)?
            let device = settings.device
            let sequence = AnySequence {
                AnyIterator { () -> TrainingBatch? in
                    do { return try batches.next()?.to(device) } catch {
                        failure = error
                        return nil
                    }
                }
            }
            let every = settings.checkpointEvery
            try trainer.trainEpoch(sequence, count: loader.batchCount) { report in
                log?.write(step: report)
                events(.step(report))
                // Inside the epoch only: its end writes one anyway.
                if every > 0 && report.step % every == 0 && report.iteration + 1 < report.iterations {
                    try writeCheckpoint()
                }
            }
            if let failure { throw failure }
            try writeCheckpoint()
            events(
                .epochFinished(
                    epoch: trainer.epoch, seconds: Date().timeIntervalSince(start),
                    skippedImages: batches.skippedImages.map { "\($0)" }))
            try evaluate(events: events)
        }
    }

    /// Writes the checkpoint (rank 0; in data-parallel training with every rank's generator state
    /// and the number of processes). Every rank calls it at the same step.
    private func writeCheckpoint() throws {
        var extra = ["class_names": classNamesJSON, "batch_size": "\(settings.batchSize)"]
        var generators: [String: Tensor] = [:]
        if let parallel {
            extra["world_size"] = "\(parallel.size)"
            let states = try parallel.allGather(trainer.generator.state.bytes())
            for (r, state) in states.enumerated() where r > 0 {
                generators["dropout.rank\(r)"] = Tensor(state)
            }
            guard parallel.isMain else { return }
        }
        try trainer.checkpoint(extra: extra, generators: generators).write(to: checkpointURL)
        guard settings.keepEpochs > 0, trainer.iteration == 0 else { return }
        try AtomicFile.write(try Data(contentsOf: checkpointURL), to: epochCheckpointURL(trainer.epoch))
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: settings.output.path)) ?? []
        where name.hasPrefix("epoch_") && name.hasSuffix(".safetensors") {
            let number = Int(name.dropFirst("epoch_".count).dropLast(".safetensors".count))
            if let number, number <= trainer.epoch - settings.keepEpochs {
                try? fm.removeItem(at: settings.output.appendingPathComponent(name))
            }
        }
    }

    /// A second model holding the weight average, for evaluation (built once).
    private var averagedModel: (any Detector)?

    /// The model evaluation runs and `best_*` keeps: the weight average when training keeps one.
    private func evaluatedModel() throws -> any Detector {
        guard let average = trainer.weightAverage else { return model }
        let copy =
            try averagedModel
            ?? DetectorFactory.make(
                config: settings.config,
                store: try ParameterStore(dtype: .float32, device: settings.device, generator: Generator(seed: 0)))
        averagedModel = copy
        try copy.load(stateDict: average.stateDict, strict: true, source: "the weight average")
        return copy
    }

    /// Where `--keep-epochs` keeps the checkpoint after `epoch` epochs.
    public func epochCheckpointURL(_ epoch: Int) -> URL {
        settings.output.appendingPathComponent("epoch_\(epoch).safetensors")
    }

    /// The metrics whose best evaluation keeps its weights, with the file they go to.
    public static let bestMetrics = [("AP", "best_ap.safetensors"), ("AP50", "best_ap50.safetensors")]

    /// Writes the model's weights (with class names, config and epoch, loadable by
    /// `detr predict --weights`) to the `best_*` file of every metric in which `summary` beats all
    /// earlier evaluations of the run; returns those metrics.
    private func keepBest(_ summary: COCOSummary) throws -> [String] {
        let values = Dictionary(summary.lines.map { ($0.key, $0.value) }) { a, _ in a }
        let earlier = (log?.evaluations ?? [:]).filter { $0.key != trainer.epoch }.map(\.value)
        var best: [String] = []
        for (metric, file) in Self.bestMetrics {
            guard let value = values[metric], value.isFinite, earlier.allSatisfy({ value > ($0[metric] ?? -.infinity) })
            else { continue }
            let meta = [
                "class_names": classNamesJSON,
                "config": String(decoding: try settings.config.jsonData(), as: UTF8.self),
                "epoch": "\(trainer.epoch)", metric: "\(value)",
            ]
            try Safetensors.write(
                try evaluatedModel().stateDict(), metadata: meta, to: settings.output.appendingPathComponent(file))
            best.append(metric)
        }
        return best
    }

    /// Evaluates the model as it is after `trainer.epoch` epochs (when a validation set is set)
    /// and logs the result (data-parallel: each rank evaluates its share, rank 0 the whole).
    private func evaluate(events: (Event) -> Void) throws {
        guard let validation = settings.validation else { return }
        let predictor = Predictor(
            detector: try evaluatedModel(), device: settings.device, precision: settings.precision)
        let result: DatasetEvaluation
        if let parallel {
            guard
                let r = try parallel.evaluate(
                    predictor: predictor, imagesDirectory: validation.images, annotations: validation.annotations,
                    format: settings.annotationFormat, batchSize: settings.batchSize, workers: settings.workers)
            else { return }
            result = r
        } else {
            result = try DatasetEvaluator.run(
                predictor: predictor, imagesDirectory: validation.images,
                annotations: validation.annotations, format: settings.annotationFormat, batchSize: settings.batchSize,
                workers: settings.workers)
        }
        let best = log == nil ? [] : try keepBest(result.summary)
        log?.write(evaluation: result.summary, epoch: trainer.epoch, best: best)
        events(.evaluated(epoch: trainer.epoch, summary: result.summary))
    }
}
