import ArgumentParser
import Detection
import Foundation
import NN
import Torch

/// The options naming a model and where it runs, shared by every command that runs one
/// (`@OptionGroup`): config, weights, device, precision, threads. Whether `--config` and
/// `--weights` are required depends on the command (`require`).
struct ModelOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "A preset (\(ModelConfig.presetNames.joined(separator: ", "))) or a JSON config file.")
    var config: String?

    @Option(
        name: .long,
        help: """
            Weights: an official .pth checkpoint (state dict or training checkpoint) or .safetensors. detr train: \
            the initial weights (tensors whose shape differs are re-initialised; without them the model trains \
            from scratch and no backbone stage is frozen).
            """)
    var weights: String?

    @Option(name: .long, help: "cpu or cuda[:N].")
    var device: Device = .cpu

    @Option(
        help: """
            fp32, or mixed precision bf16/fp16 (libtorch autocast: matmul, linear and convolution in \
            bfloat16/float16, the rest and the post-processing in float32; training: fp16 with dynamic loss \
            scaling, weights and optimizer state in float32).
            """)
    var precision: Precision = .fp32

    @Option(
        parsing: .unconditional,
        help: "libtorch's intra-op threads (default: one per core; per worker with --nproc: the cores shared).")
    var threads: Int?

    func validate() throws {
        if let threads, !(1...1024).contains(threads) {
            throw ValidationError("--threads must be in 1...1024, got \(threads)")
        }
    }

    /// Checks that the command's required model options are there.
    func require(weights needsWeights: Bool = true) throws {
        guard config != nil else { throw ValidationError("missing --config (a preset or a JSON config file)") }
        if needsWeights && weights == nil { throw ValidationError("missing --weights") }
    }

    /// The config (after `require`).
    var configName: String { config ?? "" }

    /// Sets libtorch's thread count when `--threads` was given, and says on stderr when
    /// `--precision bf16` asks this CPU for arithmetic it does not have (unless `quiet`).
    func prepareEngine(quiet: Bool = false) {
        if let threads { Torch.numThreads = threads }
        if !quiet, let note = precisionNote { Terminal.note(note) }
    }

    /// Without AVX512_BF16 or AMX, oneDNN computes bfloat16 products by converting to float32
    /// inside its kernels: the results are bf16's, the time is more than fp32's.
    var precisionNote: String? {
        guard precision == .bf16, device == .cpu, Engine.current.bf16Path == "emulated" else { return nil }
        return """
            detr: note: --precision bf16: this CPU has no bfloat16 arithmetic (AVX512_BF16 or AMX), so it is \
            emulated and slower than fp32 here
            """
    }

    /// The configured detector with its weights loaded, and its class names (from the checkpoint
    /// when it stores them); errors name the file and the problem.
    func loadDetectorAndNames() throws -> (detector: any Detector, names: [String]) {
        prepareEngine()
        return try DetectorFactory.load(config: configName, weights: weights ?? "", device: device)
    }

    /// The inference pipeline of the configured detector with its weights.
    func loadPredictor() throws -> Predictor {
        let (detector, names) = try loadDetectorAndNames()
        return Predictor(detector: detector, names: names, device: device, precision: precision)
    }

    /// A freshly initialised detector of the config (random weights, seeded), for benchmarks and
    /// load tests.
    func makeRandomDetector(seed: UInt64 = 0) throws -> any Detector {
        prepareEngine()
        let config = try ModelConfig.load(presetOrPath: configName)
        return try DetectorFactory.make(
            config: config, store: try ParameterStore(dtype: .float32, device: device, generator: Generator(seed: seed))
        )
    }
}
