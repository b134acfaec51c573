import NN
import Torch

/// How a detector runs one forward pass.
public struct ForwardOptions: Sendable {
    /// Training mode: dropout on, all Group DETR query groups, denoising queries built from the
    /// targets (Salience DETR), the neck's BatchNorm running statistics updated.
    public var training: Bool
    /// Source of dropout and denoising randomness; libtorch's global generator when nil.
    public var generator: Generator?
    /// Collects per-stage wall time ("backbone", "neck", "encoder", "decoder", ...) when set.
    public var timer: StageTimer?
    /// Arithmetic precision: with bf16 or fp16 the forward runs under libtorch's autocast on the
    /// batch's device type, and `callAsFunction` returns float32 outputs.
    public var precision: Precision
    /// Data-parallel training: trainable batch norms (Salience DETR's neck) normalise with the
    /// statistics of all processes' batches (`SyncBatchNorm`). The backbone's are frozen.
    public var batchStatistics: (any BatchStatisticsReducer)?
    /// Two-stage query selection replayed (Salience DETR; Conditional DETR has no such stage):
    /// the encoder tokens that become the decoder's queries, [B, Q] int64 token indices in query
    /// order, used instead of the ones the forward selects. Where two proposals' scores tie to
    /// float rounding their order is implementation-defined and decides which query embedding
    /// pairs with which proposal; the parity tests replay the official order there.
    public var encoderQueries: Tensor?
    /// The parts of a training forward whose activations are recomputed in the backward pass
    /// instead of kept (`Module.checkpointed`): the same gradients, less memory, one more forward
    /// pass of those parts.
    public var checkpointing: ActivationCheckpointing = []

    public init(
        training: Bool = false, generator: Generator? = nil, timer: StageTimer? = nil, precision: Precision = .fp32,
        batchStatistics: (any BatchStatisticsReducer)? = nil
    ) {
        self.training = training
        self.generator = generator
        self.timer = timer
        self.precision = precision
        self.batchStatistics = batchStatistics
    }

    /// Inference without timing.
    public static var inference: ForwardOptions { ForwardOptions() }

    /// A training forward drawing its randomness from `generator`.
    public static func training(
        generator: Generator? = nil, precision: Precision = .fp32,
        batchStatistics: (any BatchStatisticsReducer)? = nil, checkpointing: ActivationCheckpointing = []
    ) -> ForwardOptions {
        var o = ForwardOptions(
            training: true, generator: generator, precision: precision, batchStatistics: batchStatistics)
        o.checkpointing = checkpointing
        return o
    }
}

/// Parts of a detector whose activations are checkpointed: every block of the backbone, every
/// encoder layer.
public struct ActivationCheckpointing: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let backbone = ActivationCheckpointing(rawValue: 1)
    public static let encoder = ActivationCheckpointing(rawValue: 2)
    public static let all: ActivationCheckpointing = [.backbone, .encoder]

    /// By name: "backbone", "encoder", "all" or "none"; nil for another name.
    public init?(name: String) {
        switch name {
        case "backbone": self = .backbone
        case "encoder": self = .encoder
        case "all": self = .all
        case "none": self = []
        default: return nil
        }
    }
}
