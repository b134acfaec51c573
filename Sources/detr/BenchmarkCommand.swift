import ArgumentParser
import Datasets
import Detection
import Foundation
import NN
import Records
import Torch
import Training
import Vision

/// `detr benchmark`: inference (or training-step) latency and throughput of a detector on
/// synthetic input.
struct Benchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "benchmark",
        abstract: "Measure inference latency, throughput and memory of a detector.",
        discussion: """
            Random weights are used unless --weights is given; the input is a random normalised batch. \
            Inference also reports the multiply-adds of one forward per stage (backbone, neck, encoder, decoder, \
            heads), counted from the operators it runs as fvcore counts FLOPs. \
            With --train every iteration is one optimizer step of the official recipe (training-mode forward, \
            matching and losses against 5 synthetic objects per image, backward, gradient clipping, AdamW).
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Input size HxW (padded batch size).")
    var size: String = "800x1333"

    @Option(name: .customLong("batch-size"), help: "Images per forward pass.")
    var batchSize: Int = 1

    @Option(help: "Timed iterations.")
    var iterations: Int = 10

    @Option(help: "Untimed warm-up iterations.")
    var warmup: Int = 2

    @Flag(
        help:
            """
            Time each stage (backbone, neck, encoder, decoder, post-process; a name with a dot, e.g. encoder.layers, \
            is a part of the stage before the dot).
            """
    )
    var breakdown = false

    @Flag(help: "Print the results as JSON.")
    var json = false

    @Flag(help: "Time training steps (forward, losses, backward, optimizer) instead of inference.")
    var train = false

    @Option(
        name: .customLong("checkpoint-activations"),
        help: "With --train: activation checkpointing of backbone, encoder, all or none (default none).")
    var checkpointActivations: ActivationCheckpointing = []

    @Flag(
        name: .customLong("grid-sample"),
        help: "Deformable attention through the grid_sample composition instead of the fused CPU kernel.")
    var gridSample = false

    @Option(
        help: ArgumentHelp(
            "After the timed iterations, profile one more and print the N operators with the most self time.",
            valueName: "N"))
    var profile: Int?

    @Flag(name: .customLong("profile-shapes"), help: "With --profile: one row per operator and input shapes.")
    var profileShapes = false

    @Option(
        name: .customLong("trace"), help: "With --profile: also write a Chrome trace (chrome://tracing, Perfetto) here."
    )
    var tracePath: String?

    var parsedSize: (Int, Int)? {
        let p = size.lowercased().split(separator: "x").compactMap { Int($0) }
        return p.count == 2 && p[0] > 0 && p[1] > 0 ? (p[0], p[1]) : nil
    }

    func validate() throws {
        try model.require(weights: false)
        guard parsedSize != nil else { throw ValidationError("--size must look like 800x1333") }
        guard batchSize >= 1, iterations >= 1, warmup >= 0 else {
            throw ValidationError("--batch-size and --iterations must be at least 1, --warmup at least 0")
        }
        if let profile, profile < 1 { throw ValidationError("--profile must be at least 1") }
        if profile == nil && (profileShapes || tracePath != nil) {
            throw ValidationError("--profile-shapes and --trace need --profile N")
        }
        if train && breakdown {
            throw ValidationError("--breakdown times inference stages; it cannot be combined with --train")
        }
    }

    func run() throws {
        MSDeformAttnSettings.forceGridSample = gridSample
        let (h, w) = parsedSize!
        let predictor: Predictor
        do {
            predictor =
                model.weights == nil
                ? Predictor(detector: try model.makeRandomDetector(), device: model.device, precision: model.precision)
                : try model.loadPredictor()
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let detector = predictor.detector
        // A random normalised batch of HxW images, padded as the evaluation pads one (Salience DETR:
        // to a multiple of 32, like the official code; 800x1333 runs as 800x1344 with the last
        // columns masked).
        let g = Generator(seed: 1)
        let batch = ImageBatch.collate(
            (0..<batchSize).map { _ in Tensor.randn([3, h, w], generator: g) },
            originalSizes: Array(repeating: (height: h, width: w), count: batchSize),
            sizeDivisor: predictor.transform.sizeDivisor
        ).to(model.device)
        let timer = StageTimer()
        // One iteration: an optimizer step with --train, else a forward pass and post-processing.
        let iteration: () throws -> Void
        if train {
            iteration = try trainingStep(model: detector, batch: batch, device: model.device)
        } else {
            iteration = {
                let out = predictor.forward(batch, timer: breakdown ? timer : nil)
                timer.measure("post-process") {
                    _ = predictor.detections(of: out, in: batch, options: [DetectionOptions()])
                }
            }
        }
        // Multiply-adds of one inference forward (counted from a recording of it).
        let multiplyAdds = train ? nil : Self.countMultiplyAdds(predictor, batch)
        var latencies: [Double] = []
        for i in 0..<(warmup + iterations) {
            if i == warmup { timer.reset() }
            let start = DispatchTime.now().uptimeNanoseconds
            try iteration()
            if i >= warmup { latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
        }
        report(model: detector, latencies: latencies, timer: timer, multiplyAdds: multiplyAdds)
        if let profile {
            printProfile(
                try OperatorProfiler.profile(recordShapes: profileShapes, tracePath: tracePath, iteration).rows,
                top: profile)
        }
    }

    /// Multiply-adds of one forward of `predictor` on `batch` (`OperationTrace.multiplyAdds`),
    /// by stage; the class and box heads count as "heads".
    static func countMultiplyAdds(_ predictor: Predictor, _ batch: ImageBatch) -> MultiplyAddCount {
        let trace = OperationTrace(purpose: .analysis)
        trace.addInput(batch.images, name: "images")
        trace.addInput(batch.mask, name: "mask")
        trace.addInitializers(of: predictor.detector)
        // The stages are labelled by the timer's stage names.
        _ = trace.record { predictor.forward(batch, timer: StageTimer()) }
        return trace.multiplyAdds { key in
            ["class_embed", "bbox_embed", "class_head", "bbox_head"].contains { key.contains($0) }
        }
    }

    /// The `top` operators by self time (one profiled iteration), with their share of it.
    func printProfile(_ rows: [OperatorProfiler.Row], top: Int) {
        let total = Double(rows.reduce(0) { $0 + $1.selfNanoseconds })
        if json {
            let entries = rows.prefix(top).map {
                ProfileEntry(
                    name: $0.name, shapes: $0.shapes, calls: $0.calls,
                    totalMs: Double($0.totalNanoseconds) / 1e6, selfMs: Double($0.selfNanoseconds) / 1e6)
            }
            print(
                (try? JSONOutput.encode(
                    ProfileReport(profile: Array(entries), profiledSelfMs: total / 1e6),
                    snakeCaseKeys: true)) ?? "{}")
            return
        }
        print(
            String(
                format: "\nprofile of one iteration (%.1f ms of operator self time), top %d by self time:", total / 1e6,
                top))
        print("     self ms   total ms   share  calls  operator")
        for r in rows.prefix(top) {
            let shapes = r.shapes.isEmpty ? "" : "  [\(r.shapes)]"
            print(
                String(
                    format: "%12.1f %10.1f %6.1f%% %6d  ", Double(r.selfNanoseconds) / 1e6,
                    Double(r.totalNanoseconds) / 1e6,
                    100 * Double(r.selfNanoseconds) / max(total, 1), r.calls) + r.name + shapes)
        }
    }

    /// One optimizer step of the official recipe on `batch` with fixed synthetic targets.
    func trainingStep(model: any Detector, batch: ImageBatch, device: Device) throws -> () throws -> Void {
        let cfg = model.modelConfig
        let g = Generator(seed: 2)
        let targets = (0..<batchSize).map { _ in
            let centres = Tensor.rand([5, 2], generator: g) * 0.6 + 0.2
            let sides = Tensor.rand([5, 2], generator: g) * 0.2 + 0.05
            let labels = Tensor((0..<5).map { cfg.numClasses > 1 ? 1 + $0 % (cfg.numClasses - 1) : 0 })
            return DetectionTarget(
                labels: labels.to(device),
                boxes: Tensor.cat([centres, sides], dim: 1).to(device))
        }
        // The official recipe as it fine-tunes pretrained weights (early backbone stages frozen).
        let options = cfg.recipe.trainingOptions(epochs: nil, iterationsPerEpoch: 1000)
        let trainer = Trainer(model: model, options: options, generator: Generator(seed: 3))
        trainer.checkpointing = checkpointActivations
        trainer.precision = self.model.precision
        let item = TrainingBatch(index: 0, images: batch, targets: targets, imageIds: Array(0..<batchSize))
        return { try trainer.trainEpoch([item], count: 1) { _ in } }
    }

    func report(model: any Detector, latencies: [Double], timer: StageTimer, multiplyAdds: MultiplyAddCount?) {
        let sorted = latencies.sorted()
        func pct(_ p: Double) -> Double {
            sorted[Swift.min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))]
        }
        let mean = latencies.reduce(0, +) / Double(latencies.count)
        let ips = Double(batchSize) / (mean / 1000)
        let params = model.parameterCount
        let peak = Self.peakResidentMiB()
        let stages = timer.order.map { ($0, timer.totals[$0]! * 1000 / Double(iterations)) }
        let engine = Engine.current
        if json {
            let record = BenchmarkReport(
                config: self.model.configName, mode: train ? "train" : "inference", size: size,
                deformableAttention: deformableAttentionPath, device: self.model.device.description,
                precision: self.model.precision.rawValue,
                batchSize: batchSize, iterations: iterations, threads: Torch.numThreads, parameters: params,
                meanMs: mean, p50Ms: pct(0.5), p90Ms: pct(0.9), imagesPerS: ips, peakRssMib: peak,
                stagesMs: breakdown ? Dictionary(uniqueKeysWithValues: stages) : nil,
                multiplyAdds: multiplyAdds?.total,
                multiplyAddsByStage: multiplyAdds.map { Dictionary(uniqueKeysWithValues: $0.stages.map { ($0.name, $0.count) }) },
                engine: engine)
            print((try? JSONOutput.encode(record, snakeCaseKeys: true)) ?? "{}")
            return
        }
        print(
            """
            model        \(self.model.configName) (\(model.modelConfig.architecture.rawValue)), \
            \(String(format: "%.2f", Double(params) / 1e6))M parameters
            """
        )
        print("engine       \(engine.summary)")
        if train {
            // What data-parallel training all-reduces per step: every trained parameter as float32.
            let trained = model.parameters().filter(\.requiresGrad)
            let count = trained.reduce(0) { $0 + $1.count }
            print(
                String(
                    format: "gradients    %.2fM trained parameters (%.1f MB all-reduced per step by data-parallel training)",
                    Double(count) / 1e6, Double((count + trained.count) * 4) / 1e6))
        }
        print(
            """
            input        \(batchSize) x 3 x \(size), \(self.model.precision), \(Torch.numThreads) threads, \(iterations) \
            \(train ? "training steps" : "iterations") after \(warmup) warm-up
            """
        )
        print(String(format: "latency      mean %.1f ms   p50 %.1f ms   p90 %.1f ms", mean, pct(0.5), pct(0.9)))
        print(String(format: "throughput   %.2f images/s", ips))
        print(String(format: "peak memory  %.0f MiB resident", peak))
        if let multiplyAdds {
            let g = { (n: Int) in String(format: "%.2f G", Double(n) / 1e9) }
            print(
                "multiply-adds \(g(multiplyAdds.total)) per forward ("
                    + multiplyAdds.stages.map { "\($0.name) \(g($0.count))" }.joined(separator: ", ") + ")")
        }
        if breakdown {
            for (name, ms) in stages {
                print("  " + name.padding(toLength: 18, withPad: " ", startingAt: 0) + String(format: "%8.1f ms", ms))
            }
        }
    }

    /// Which deformable-attention implementation the forward takes on `device`: the fused CPU
    /// kernel, the shim's CUDA kernels (DETR_MSDA_CUDA=1 and a shim built with them), or the
    /// grid_sample composition.
    var deformableAttentionPath: String {
        if gridSample { return "grid_sample" }
        if case .cuda = model.device {
            return MSDeformAttnSettings.useCUDAKernel && MSDeformAttnSettings.cudaKernelAvailable
                ? "cuda_kernel" : "grid_sample"
        }
        return "fused"
    }

    /// VmHWM of this process (Linux), in MiB.
    static func peakResidentMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            // "VmHWM:\t  123 kB": a tab, then spaces that pad the number to 8 digits (none beyond).
            let kb = Double(line.split(whereSeparator: { $0 == " " || $0 == "\t" }).dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}

/// `detr benchmark --json`: one object (snake_case keys, sorted).
struct BenchmarkReport: Encodable {
    var config, mode, size, deformableAttention, device, precision: String
    var batchSize, iterations, threads, parameters: Int
    var meanMs, p50Ms, p90Ms, imagesPerS, peakRssMib: Double
    /// Mean milliseconds per stage (`--breakdown`).
    var stagesMs: [String: Double]?
    /// Multiply-adds of one inference forward (fvcore's FLOP count), and per stage.
    var multiplyAdds: Int?
    var multiplyAddsByStage: [String: Int]?
    var engine: Engine
}

/// `detr benchmark --profile N --json`: the top operators of one profiled iteration.
struct ProfileReport: Encodable {
    var profile: [ProfileEntry]
    var profiledSelfMs: Double
}

/// One operator: self and total milliseconds, calls, input shapes (`--profile-shapes`).
struct ProfileEntry: Encodable {
    var name, shapes: String
    var calls: Int
    var totalMs, selfMs: Double
}
