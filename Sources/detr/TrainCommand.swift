import ArgumentParser
import Datasets
import Detection
import Foundation
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
            log.jsonl (one JSON object per step and per evaluation) and config.json; with a validation set, \
            best_ap.safetensors and best_ap50.safetensors hold the weights (and class names) of the evaluation \
            best in AP and AP50 so far, marked "best" in its log record.

            Data-parallel training: --nproc N starts N worker processes on this machine; on several machines \
            start one `detr train` per process with torchrun's environment variables (RANK, WORLD_SIZE, \
            LOCAL_RANK, MASTER_ADDR, MASTER_PORT; rank 0 hosts the rendezvous store unless \
            TORCHELASTIC_USE_AGENT_STORE=True), or under torchrun itself. --batch-size is per process; rank 0 \
            writes OUTPUT (a shared directory when resuming on several machines).
            """)

    @OptionGroup var model: ModelOptions
    @Option(name: .customLong("train-images"), help: "Directory of the training images.") var trainImages: String
    @Option(name: .customLong("train-annotations"), help: "Annotations of the training images: a COCO .json, a YOLO data.yaml (labels beside the images) or a VOC Annotations folder or ImageSets/Main/<split>.txt.")
    var trainAnnotations: String
    @Option(name: .customLong("val-images"), help: "Directory of the validation images.") var valImages: String?
    @Option(name: .customLong("val-annotations"), help: "Annotation file of the validation images.")
    var valAnnotations: String?
    @Option(name: .customLong("annotation-format"), help: "The annotations' format: coco, yolo or voc (default: told by the path).")
    var annotationFormat: AnnotationFormat?
    @Option(
        name: .customLong("backbone-weights"),
        help: """
            The backbone's published ImageNet weights as their authors release them (torchvision's \
            resnet50/101 and convnext_large .pth, the Swin-L and FocalNet-L releases; .pth or .safetensors), \
            loaded as the official code loads them; the early stages then stay frozen as in the official recipe \
            (default: the config's backbone.weights).
            """)
    var backboneWeights: String?
    @Option(help: "Output directory.") var output: String
    @Option(parsing: .unconditional, help: "Epochs (default: the official recipe's).") var epochs: Int?
    @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Images per step.") var batchSize: Int = 2
    @Option(parsing: .unconditional, help: "Learning rate (default 1e-4).") var lr: Double?
    @Option(name: .customLong("lr-backbone"), parsing: .unconditional, help: "Backbone learning rate (default 1e-5).")
    var lrBackbone: Double?
    @Option(parsing: .unconditional, help: "Data-loading threads.") var workers: Int = 2
    @Option(parsing: .unconditional, help: "Random seed (data order, augmentation, initialisation).") var seed: UInt64 =
        42
    @Option(
        name: .customLong("lr-drop"), parsing: .unconditional,
        help: "Epoch at which the learning rate drops ×0.1 (default: recipe's).")
    var lrDrop: Int?
    @Option(
        name: .customLong("clip-max-norm"), parsing: .unconditional,
        help: "Gradient clipping by global norm, 0 = off (default: recipe's 0.1).")
    var clipMaxNorm: Double?
    @Option(name: .customLong("warmup"), parsing: .unconditional, help: "Linear warmup iterations (default: recipe's).")
    var warmup: Int?
    @Option(
        name: .customLong("checkpoint-activations"),
        help: """
            Recompute the activations of these parts in the backward pass instead of keeping them: backbone \
            (every block), encoder (every layer), all or none. The same gradients for about a third more \
            time per step, and much less memory (default none).
            """)
    var checkpointActivations: ActivationCheckpointing = []
    @Option(
        name: .customLong("checkpoint-every"), parsing: .unconditional,
        help: """
            Also write the checkpoint every N optimizer steps inside an epoch (atomically), so a killed or \
            restarted run loses at most N steps (default 0: after each epoch only).
            """)
    var checkpointEvery = 0
    @Option(
        name: .customLong("keep-epochs"), parsing: .unconditional,
        help: "Also keep the last N epochs' checkpoints as OUTPUT/epoch_<E>.safetensors (default 0: none).")
    var keepEpochs = 0
    @Option(
        name: .customLong("ema-decay"), parsing: .unconditional,
        help: """
            Keep a moving average of the weights with this decay (e.g. 0.9999; off by default): it is \
            evaluated, kept as best_*.safetensors and read as the checkpoint's weights.
            """)
    var emaDecay: Double?
    @Option(
        name: .customLong("ema-tau"), parsing: .unconditional,
        help: "Warm-up of --ema-decay in steps: decay·(1 − exp(−step/tau)), as D-FINE and DEIM (0: none).")
    var emaTau: Double = 2000
    @Flag(
        help: """
            Continue from OUTPUT/checkpoint.safetensors (implied where torchrun restarted the workers: \
            TORCHELASTIC_RESTART_COUNT above 0 on any rank).
            """)
    var resume = false
    @Flag(name: .shortAndLong, help: "No progress line.") var quiet = false
    @Flag(name: .shortAndLong, help: "One line per step (all loss terms) instead of the progress line.")
    var verbose = false
    @Option(
        parsing: .unconditional,
        help: """
            Data-parallel worker processes on this machine (like torchrun --nproc-per-node); each trains on \
            --batch-size images of every step.
            """)
    var nproc: Int?
    @Option(
        name: .customLong("dist-backend"),
        help: "Process-group backend of data-parallel training: gloo (CPU) or nccl (CUDA). Default: by --device.")
    var distBackend: ProcessGroup.Backend?
    @Option(
        name: .customLong("dist-timeout"), parsing: .unconditional,
        help: "Seconds a data-parallel worker waits for the others (rendezvous, each step) before it fails.")
    var distTimeout: Double = 600
    @Flag(
        name: .customLong("pad-global-batch"),
        help: """
            Data-parallel: pad every worker's images to the largest of the whole step, so N workers compute what \
            one process computes with N times the batch (costs padding; off: each pads its own, as the official \
            recipes do).
            """)
    var padGlobalBatch = false

    func validate() throws {
        try model.require(weights: false)
        func check(_ value: Int?, _ name: String, _ range: ClosedRange<Int>) throws {
            if let value, !range.contains(value) {
                throw ValidationError("\(name) must be in \(range.lowerBound)...\(range.upperBound), got \(value)")
            }
        }
        func check(_ value: Double?, _ name: String, _ range: ClosedRange<Double>) throws {
            if let value, !(value.isFinite && range.contains(value)) {
                throw ValidationError(
                    "\(name) must be in [\(String(format: "%g", range.lowerBound)), "
                        + "\(String(format: "%g", range.upperBound))], got \(value)")
            }
        }
        try check(batchSize, "--batch-size", 1...4096)
        try check(workers, "--workers", 0...256)
        try check(keepEpochs, "--keep-epochs", 0...100_000)
        try check(checkpointEvery, "--checkpoint-every", 0...100_000_000)
        if let emaDecay, !(emaDecay >= 0 && emaDecay < 1) {
            throw ValidationError("--ema-decay must be in [0, 1), got \(emaDecay)")
        }
        try check(emaTau, "--ema-tau", 0...1e9)
        try check(epochs, "--epochs", 1...1_000_000)
        try check(lrDrop, "--lr-drop", 1...1_000_000)
        try check(warmup, "--warmup", 0...100_000_000)
        try check(nproc, "--nproc", 1...1024)
        try check(lr, "--lr", 0...10)
        try check(lrBackbone, "--lr-backbone", 0...10)
        try check(clipMaxNorm, "--clip-max-norm", 0...1e6)
        try check(distTimeout, "--dist-timeout", 0.001...86_400)
        guard (valImages == nil) == (valAnnotations == nil) else {
            throw ValidationError("give both --val-images and --val-annotations, or neither")
        }
    }

    func run() throws {
        let world: World?
        do { world = try World.fromEnvironment(ProcessInfo.processInfo.environment) } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        // Errors of a worker say which rank it is.
        let prefix = world.map { $0.size > 1 ? "rank \($0.rank): " : "" } ?? ""
        do {
            if let nproc, nproc > 1 {
                guard world == nil else {
                    throw ValidationError(
                        "--nproc starts workers itself; it cannot run inside a worker (WORLD_SIZE is set)")
                }
                try launch(processes: nproc)
            } else {
                try train(world: world)
            }
        } catch let e as ExitCode { throw e } catch let e as ValidationError { throw e } catch {
            // A failed collective names the rank itself.
            Terminal.error((error is ProcessGroupError ? "" : prefix) + "\(error)")
            throw ExitCode(1)
        }
    }

    /// `--nproc N`: this executable again, N times, with the same arguments but `--nproc`.
    func launch(processes: Int) throws {
        var arguments: [String] = []
        var skipNext = false
        for a in CommandLine.arguments.dropFirst() {
            if skipNext {
                skipNext = false
            } else if a == "--nproc" {
                skipNext = true
            } else if !a.hasPrefix("--nproc=") {
                arguments.append(a)
            }
        }
        let selfPath =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        var launcher = LocalLauncher(
            executable: URL(fileURLWithPath: selfPath), arguments: arguments, processes: processes,
            timeout: distTimeout,
            threadsPerProcess: model.threads ?? Swift.max(1, ProcessInfo.processInfo.activeProcessorCount / processes))
        launcher.outputDirectories = [URL(fileURLWithPath: output)]
        let outcome = try launcher.run { port in
            if !quiet {
                Terminal.note("started \(processes) worker processes (rendezvous 127.0.0.1:\(port)); rank 0 reports")
            }
        }
        if case .failed(let rank, let reason) = outcome {
            Terminal.error("rank \(rank) of \(processes) \(reason); the other ranks were stopped")
            throw ExitCode(1)
        }
    }

    func train(world: World?) throws {
        model.prepareEngine(quiet: quiet || (world?.rank ?? 0) != 0)
        var settings = TrainingRun.Settings(
            config: try ModelConfig.load(presetOrPath: model.configName),
            trainImages: URL(fileURLWithPath: trainImages),
            trainAnnotations: URL(fileURLWithPath: trainAnnotations),
            output: URL(fileURLWithPath: output))
        if let valImages, let valAnnotations {
            settings.validation = (URL(fileURLWithPath: valImages), URL(fileURLWithPath: valAnnotations))
        }
        settings.annotationFormat = annotationFormat
        settings.initialWeights = model.weights.map { URL(fileURLWithPath: $0) }
        settings.backboneWeights = backboneWeights.map { URL(fileURLWithPath: $0) }
        settings.batchSize = batchSize
        settings.seed = seed
        settings.workers = workers
        settings.device = model.device
        settings.precision = model.precision
        settings.epochs = epochs
        settings.checkpointEvery = checkpointEvery
        settings.checkpointActivations = checkpointActivations
        settings.adjustOptions = { [lr, lrBackbone, lrDrop, clipMaxNorm, warmup] o in
            if let lr { o.lr = lr }
            if let lrBackbone { o.lrBackbone = lrBackbone }
            if let lrDrop { o.schedule.milestones = [lrDrop] }
            if let clipMaxNorm { o.clipMaxNorm = clipMaxNorm }
            if let warmup { o.schedule.warmupIterations = warmup }
        }
        settings.padToGlobalBatch = padGlobalBatch
        settings.keepEpochs = keepEpochs
        settings.emaDecay = emaDecay
        settings.emaTau = emaTau
        var parallel: DataParallel?
        if let world, world.size > 1 {
            let env = ProcessInfo.processInfo.environment
            if let launcher = env[LocalLauncher.parentVariable].flatMap(Int32.init) { Torch.exitWithParent(launcher) }
            let isCUDA: Bool
            if case .cuda = model.device { isCUDA = true } else { isCUDA = false }
            if isCUDA { settings.device = .cuda(world.localRank) }
            parallel = try DataParallel(
                world: world, backend: distBackend ?? (isCUDA ? .nccl : .gloo), interface: env["GLOO_SOCKET_IFNAME"],
                timeout: distTimeout)
        }
        // torchrun restarts a failed worker group (`--max-restarts`): the restarted workers continue
        // from the last checkpoint, as --resume. They know by TORCHELASTIC_RESTART_COUNT above 0 on
        // any rank (each agent counts only its own workers' failures), and rank 0's checkpoint decides.
        let checkpoint = URL(fileURLWithPath: output).appendingPathComponent("checkpoint.safetensors").path
        var restart = [
            (world?.restartCount ?? 0) > 0 ? 1.0 : 0, FileManager.default.fileExists(atPath: checkpoint) ? 1 : 0,
        ]
        if let parallel {
            restart = try parallel.max([restart[0], parallel.isMain ? restart[1] : 0])
        }
        settings.resume = resume || (restart[0] > 0 && restart[1] > 0)
        do {
            try train(settings, parallel: parallel)
        } catch {
            parallel?.reportFailure(error)
            throw error
        }
    }

    func train(_ settings: TrainingRun.Settings, parallel: DataParallel?) throws {
        // Only rank 0 reports progress.
        let quiet = self.quiet || !(parallel?.isMain ?? true)
        let run = try TrainingRun(settings, parallel: parallel)
        let epochs = run.options.epochs
        if !quiet {
            if let report = run.backboneReport { Terminal.note(report.summary) }
            if settings.config.numClassesFromDataset {
                Terminal.note(
                    "num_classes auto: \(run.settings.config.numClasses) (the dataset's largest category id + 1)")
            }
            let keys = run.reinitialisedKeys
            if !keys.isEmpty {
                Terminal.note(
                    """
                    initial weights: \(keys.count) tensors re-initialised \
                    (\(keys.prefix(3).joined(separator: ", "))...)
                    """
                )
            }
            if let (epoch, step, iteration) = run.resumedAt {
                Terminal.note(
                    "resuming after epoch \(epoch)"
                        + (iteration > 0 ? " and \(iteration) batches of epoch \(epoch + 1)" : "") + " (step \(step))")
            }
            if run.settings.batchSize != settings.batchSize {
                Terminal.note(
                    "the checkpoint was written by another number of processes: \(run.settings.batchSize) images "
                        + "per process keep its global batch (--batch-size \(settings.batchSize) is not used)")
            }
            if let parallel {
                Terminal.note(
                    "data-parallel: \(parallel.size) processes (\(parallel.group.backend.rawValue)), "
                        + "\(run.settings.batchSize) images each per step, "
                        + String(format: "%.1f MB of gradients all-reduced per step", Double(run.trainer.allReduceBytes) / 1e6))
            }
            Terminal.note(
                "training \(settings.config.architecture.rawValue) on \(run.data.count) images "
                    + "(\(run.data.report.imagesWithoutAnnotations) without annotations skipped), "
                    + "\(run.loader.batchCount) steps per epoch, epochs \(run.trainer.epoch + 1)...\(epochs)")
        }
        var progress: ProgressBar?
        try run.run { event in
            switch event {
            case .step(let r):
                if verbose && !quiet {
                    let terms = r.terms.map { String(format: "%@ %.4f", $0.name, $0.value) }.joined(separator: "  ")
                    let time =
                        String(format: "%.1f ms, %d images", r.seconds * 1000, r.images)
                        + (r.allReduceSeconds.map { String(format: ", all-reduce %.1f ms", $0 * 1000) } ?? "")
                    Terminal.note(
                        String(
                            format: "epoch %d step %d  loss %.4f  lr %.2e  %@  (%@)", r.epoch + 1, r.step, r.loss,
                            r.lr, terms, time))
                    return
                }
                if progress == nil {
                    progress = ProgressBar(
                        total: r.iterations, label: "epoch \(r.epoch + 1)/\(epochs)",
                        enabled: !quiet && Terminal.stderrIsTTY, detailWidth: 90)
                    // A run resumed inside an epoch starts with its earlier batches done.
                    if r.iteration > 0 { progress?.advance(by: r.iteration) }
                }
                let main = r.terms.filter { Self.progressTerms.contains($0.name) }
                    .map { String(format: "%@ %.3f", $0.name.replacingOccurrences(of: "loss_", with: ""), $0.value) }
                progress?.advance(
                    detail: String(format: "loss %.4f  ", r.loss) + main.joined(separator: " ")
                        + String(format: "  lr %.1e", r.lr))
            case .epochFinished(let epoch, let seconds, let skipped):
                progress?.finish()
                progress = nil
                for s in skipped { Terminal.note("detr: warning: skipped \(s)") }
                if settings.validation == nil && !quiet {
                    Terminal.note("epoch \(epoch) done in \(ProgressBar.clock(seconds))")
                }
            case .evaluated(let epoch, let summary):
                if !quiet {
                    let s = summary.stats
                    Terminal.note(String(format: "epoch %d: AP %.3f  AP50 %.3f  AP75 %.3f", epoch, s[0], s[1], s[2]))
                }
            }
        }
        if !quiet { Terminal.note("checkpoint: \(run.checkpointURL.path)") }
    }

    /// Loss terms shown on the progress line (both architectures' names).
    static let progressTerms: Set<String> = ["loss_ce", "loss_class", "loss_bbox", "loss_giou", "loss_salience"]
}

extension ProcessGroup.Backend: ExpressibleByArgument {}

extension ActivationCheckpointing: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["backbone", "encoder", "all", "none"] }
}
