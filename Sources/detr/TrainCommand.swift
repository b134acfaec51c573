import ArgumentParser
import Detection
import Foundation
import NN
import Torch
import Training

/// `detr train`: train or fine-tune a detector on a COCO-format dataset.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a detector on a COCO-format dataset (official recipe, checkpoints, resume).",
        discussion: """
        Category ids are used directly as classifier columns: num_classes in the config must exceed the \
        largest category id. OUTPUT gets checkpoint.safetensors (written atomically after every epoch), \
        log.jsonl (one JSON object per step and per evaluation) and config.json.
        """)

    @Option(help: "A preset or a JSON config file.") var config: String
    @Option(name: .customLong("train-images"), help: "Directory of the training images.") var trainImages: String
    @Option(name: .customLong("train-annotations"), help: "COCO-format annotation file of the training images.")
    var trainAnnotations: String
    @Option(name: .customLong("val-images"), help: "Directory of the validation images.") var valImages: String?
    @Option(name: .customLong("val-annotations"), help: "Annotation file of the validation images.") var valAnnotations: String?
    @Option(help: "Initial weights (.pth or .safetensors); tensors whose shape differs are re-initialised. Without it the model trains from scratch and no backbone stage is frozen.")
    var weights: String?
    @Option(help: "Output directory.") var output: String
    @Option(help: "Epochs (default: the official recipe's).") var epochs: Int?
    @Option(name: .customLong("batch-size"), help: "Images per step.") var batchSize: Int = 2
    @Option(help: "Learning rate (default 1e-4).") var lr: Double?
    @Option(name: .customLong("lr-backbone"), help: "Backbone learning rate (default 1e-5).") var lrBackbone: Double?
    @Option(help: "Data-loading threads.") var workers: Int = 2
    @Option(help: "Random seed (data order, augmentation, initialisation).") var seed: UInt64 = 42
    @Option(name: .customLong("lr-drop"), help: "Epoch at which the learning rate drops ×0.1 (default: recipe's).")
    var lrDrop: Int?
    @Option(name: .customLong("clip-max-norm"), help: "Gradient clipping by global norm, 0 = off (default: recipe's 0.1).")
    var clipMaxNorm: Double?
    @Option(name: .customLong("warmup"), help: "Linear warmup iterations (default: recipe's).")
    var warmup: Int?
    @Flag(help: "Continue from OUTPUT/checkpoint.safetensors.") var resume = false
    @Flag(name: .shortAndLong, help: "No progress line.") var quiet = false
    @Flag(name: .shortAndLong, help: "One line per step (all loss terms) instead of the progress line.") var verbose = false
    @Option(help: "cpu or cuda[:N].") var device: Device = .cpu

    func validate() throws {
        guard batchSize >= 1, workers >= 0 else { throw ValidationError("--batch-size must be >= 1, --workers >= 0") }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let clipMaxNorm, !(clipMaxNorm >= 0) { throw ValidationError("--clip-max-norm must be >= 0") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup must be >= 0") }
        guard (valImages == nil) == (valAnnotations == nil) else {
            throw ValidationError("give both --val-images and --val-annotations, or neither")
        }
    }

    func run() throws {
        do { try train() } catch let e as ExitCode { throw e } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }

    func train() throws {
        let cfg = try ModelConfig.load(presetOrPath: config)
        let out = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try AtomicFile.write(cfg.jsonData(), to: out.appendingPathComponent("config.json"))
        // Temporary files of a run that was killed while writing (AtomicFile's `.NAME.tmp-*`).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: out.path)) ?? []
            where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(at: out.appendingPathComponent(name))
        }
        let data = try COCODetectionDataset(imagesDirectory: URL(fileURLWithPath: trainImages),
                                            annotationFile: URL(fileURLWithPath: trainAnnotations))
        try data.validate(numClasses: cfg.numClasses)
        let dev = device
        let namesByColumn = (0..<cfg.numClasses).map { $0 < data.classNames.count ? data.classNames[$0] : nil }
        let classNamesJSON = String(decoding: try JSONEncoder().encode(namesByColumn), as: UTF8.self)
        let model = try DetectorFactory.make(config: cfg, store: ParameterStore(dtype: .float32, device: dev,
                                                                                generator: Generator(seed: seed)))
        if let weights {
            let reinit = try InitialWeights.load(URL(fileURLWithPath: weights), into: model)
            if !quiet && !reinit.isEmpty { Terminal.note("initial weights: \(reinit.count) tensors re-initialised (\(reinit.prefix(3).joined(separator: ", "))...)") }
        }
        // The official recipe of the architecture (Salience DETR's drops boxes under 1 px).
        let augmentation = DetectionAugmentation.official(for: cfg.architecture, minSize: cfg.minSize, maxSize: cfg.maxSize)
        let divisor = DetectorFactory.evalTransform(for: cfg).sizeDivisor
        let loader = try DataLoader(source: data, transform: .train(augmentation), batchSize: batchSize, seed: seed,
                                    sizeDivisor: divisor, workers: workers, unreadableImages: .skip)
        var options = TrainingOptions.official(for: cfg, epochs: epochs, iterationsPerEpoch: loader.batchCount)
        options.batchSize = batchSize
        options.seed = seed
        if let lr { options.lr = lr }
        if let lrBackbone { options.lrBackbone = lrBackbone }
        if let lrDrop { options.schedule.milestones = [lrDrop] }
        if let clipMaxNorm { options.clipMaxNorm = clipMaxNorm }
        if let warmup { options.schedule.warmupIterations = warmup }
        // The official recipes freeze early backbone stages of ImageNet-pretrained weights; from
        // scratch those random layers could never learn, so everything trains.
        options.freezeBackbone = weights != nil
        let trainer = Trainer(model: model, criterion: try TrainingCriteria.make(for: cfg), optimizer: TrainingRecipe.optimizer(for: model, options: options),
                              schedule: options.schedule, clipMaxNorm: options.clipMaxNorm, generator: Generator(seed: seed &+ 1))
        let checkpointURL = out.appendingPathComponent("checkpoint.safetensors")
        if resume {
            guard FileManager.default.fileExists(atPath: checkpointURL.path) else {
                throw WeightFileError(file: checkpointURL.path, problem: "no checkpoint to resume from")
            }
            try trainer.restore(TrainingCheckpoint.read(from: checkpointURL), source: checkpointURL.path)
            if !quiet { Terminal.note("resuming after epoch \(trainer.epoch) (step \(trainer.step))") }
        }
        let log = try TrainingLog(url: out.appendingPathComponent("log.jsonl"),
                                  resumingAt: resume ? (trainer.step, trainer.epoch) : nil)
        let showProgress = !quiet && Terminal.stderrIsTTY
        if !quiet {
            Terminal.note("training \(cfg.architecture.rawValue) on \(data.count) images (\(data.report.imagesWithoutAnnotations) without annotations skipped), \(loader.batchCount) steps per epoch, epochs \(trainer.epoch + 1)...\(options.epochs)")
        }
        /// Evaluates the model as it is after `trainer.epoch` epochs and logs the result.
        func evaluate() throws {
            guard let valImages, let valAnnotations else { return }
            let result = try DatasetEvaluator.run(model: model, imagesDirectory: URL(fileURLWithPath: valImages),
                                                  annotations: URL(fileURLWithPath: valAnnotations), batchSize: batchSize,
                                                  device: dev, workers: workers)
            var entry: [String: Any] = ["epoch": trainer.epoch, "eval": true]
            for line in result.summary.lines { entry[line.key] = line.value }
            log.write(entry)
            if !quiet {
                let s = result.summary.stats
                Terminal.note(String(format: "epoch %d: AP %.3f  AP50 %.3f  AP75 %.3f", trainer.epoch, s[0], s[1], s[2]))
            }
        }
        // A run killed between writing a checkpoint and logging its evaluation evaluates it now.
        if resume && trainer.epoch > 0 && !log.evaluatedEpochs.contains(trainer.epoch) { try evaluate() }
        while trainer.epoch < options.epochs {
            let epoch = trainer.epoch
            let start = Date()
            var images = 0
            let batches = loader.epoch(epoch)
            var loaderError: (any Error)?
            let sequence = AnySequence {
                AnyIterator { () -> TrainingBatch? in
                    let next: TrainingBatch?
                    do { next = try batches.next() } catch {
                        loaderError = error
                        return nil
                    }
                    guard var b = next else { return nil }
                    if dev != .cpu {
                        b.images.images = try! b.images.images.to(dev)
                        b.images.mask = try! b.images.mask.to(dev)
                        b.targets = b.targets.map { DetectionTarget(labels: try! $0.labels.to(dev), boxes: try! $0.boxes.to(dev)) }
                    }
                    return b
                }
            }
            try trainer.trainEpoch(sequence, count: loader.batchCount) { r in
                images += r.images
                var entry: [String: Any] = ["epoch": r.epoch, "step": r.step, "lr": r.lr, "loss": r.loss]
                for (n, v) in r.terms { entry[n] = v }
                log.write(entry)
                if verbose && !quiet {
                    let terms = r.terms.map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(separator: "  ")
                    Terminal.note(String(format: "epoch %d step %d  loss %.4f  lr %.2e  %@", r.epoch + 1, r.step, r.loss, r.lr, terms))
                } else if showProgress {
                    let elapsed = Date().timeIntervalSince(start)
                    let ips = Double(images) / Swift.max(elapsed, 1e-9)
                    let eta = elapsed / Double(r.iteration + 1) * Double(r.iterations - r.iteration - 1)
                    let main = r.terms.filter { ["loss_ce", "loss_class", "loss_bbox", "loss_giou", "loss_salience"].contains($0.name) }
                        .map { String(format: "%@ %.3f", $0.name.replacingOccurrences(of: "loss_", with: ""), $0.value) }
                        .joined(separator: " ")
                    let line = String(format: "\repoch %d/%d  %d/%d  loss %.4f  %@  lr %.1e  %.1f img/s  ETA %@\u{1B}[K",
                                      r.epoch + 1, options.epochs, r.iteration + 1, r.iterations, r.loss, main, r.lr, ips,
                                      ProgressBar.clock(eta))
                    FileHandle.standardError.write(Data(line.utf8))
                }
            }
            if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
            if let loaderError { throw loaderError }
            for skipped in batches.skippedImages { Terminal.note("detr: warning: skipped \(skipped)") }
            try trainer.checkpoint(extra: ["class_names": classNamesJSON]).write(to: checkpointURL)
            if valImages != nil {
                try evaluate()
            } else if !quiet {
                Terminal.note("epoch \(trainer.epoch) done in \(ProgressBar.clock(Date().timeIntervalSince(start)))")
            }
        }
        if !quiet { Terminal.note("checkpoint: \(checkpointURL.path)") }
    }
}
