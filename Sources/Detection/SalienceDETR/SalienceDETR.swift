import NN
import Torch
import Vision

/// Salience DETR (CVPR 2024) with a ResNet, Swin, ConvNeXt or FocalNet backbone. Parameter keys equal the
/// official checkpoints' (`backbone.*`, `neck.convs.*`, `position_embedding.dim_t{x,y}`,
/// `transformer.*`, `denoising_generator.label_encoder.weight`); a checkpoint's `_classes_`
/// buffer (encoded class names) is accepted and ignored.
///
/// Small inputs, which crash the official code, run: encoder self-attention uses
/// min(topk_sa, foreground tokens) tokens, and the decoder gets min(num_queries, tokens) queries,
/// topped up with NMS-suppressed proposals when too few survive NMS
/// (see `SalienceTransformer.selectQueries`).
///
/// Training: `forward(images:mask:training: true, generator:, denoising:)` with contrastive denoising queries
/// from `denoisingQueries(for:noise:)` returns their predictions in `output.denoising`; the
/// salience maps for the salience loss are in `output.salience` (`SalienceCriterion` consumes both).
public struct SalienceDETR: Module {
    public let path: ModulePath
    public let config: SalienceDETRConfig
    /// ResNet, Swin, ConvNeXt or FocalNet (`config.backbone.type`).
    public let backbone: any Backbone
    let neck: ChannelMapper
    let positionEmbedding: PositionEmbeddingSineModule
    let transformer: SalienceTransformer
    /// Label embedding of the contrastive denoising queries (training; see `denoisingQueries(for:noise:)`).
    let labelEncoder: Embedding

    /// A model of a config holding a Salience DETR configuration.
    public init(_ p: ModulePath, config: ModelConfig) {
        guard let salience = config.salience else { preconditionFailure("SalienceDETR needs a salience_detr config") }
        self.init(p, config: salience)
    }

    /// Builds the model with freshly initialised parameters in `p`'s store.
    public init(_ p: ModulePath, config: SalienceDETRConfig) {
        let returned = config.backbone.returnIndices
        precondition(
            !returned.isEmpty && returned == returned.sorted() && returned.allSatisfy { (0...3).contains($0) },
            "SalienceDETR: return_indices must be increasing stage indices 0...3, got \(returned)")
        path = p
        self.config = config
        let d = config.hiddenDim
        let backbone = makeBackbone(p / "backbone", config: config.backbone, lastStage: returned.max()!)
        self.backbone = backbone
        neck = ChannelMapper(
            p / "neck", inChannels: returned.map { backbone.stageChannels[$0] }, outChannels: d,
            numOuts: config.numFeatureLevels)
        positionEmbedding = PositionEmbeddingSineModule(
            p / "position_embedding", numPosFeats: d / 2,
            temperature: config.positionEmbedding.temperature,
            offset: config.positionEmbedding.offset)
        transformer = SalienceTransformer(p / "transformer", config: config)
        labelEncoder = Embedding(
            p / "denoising_generator" / "label_encoder", numEmbeddings: config.numClasses,
            embeddingDim: d)
        p.ignoreOnLoad("_classes_")
        // freeze_indices: the stem and the listed stages get no gradient.
        backbone.freezeStages(config.backbone.freezeIndices)
    }

    /// Intermediate tensors of one forward pass (for parity tests and visualisation).
    public struct Trace: @unchecked Sendable {
        /// Backbone stages given to the neck, [B, C_i, h_i, w_i].
        public var backbone: [Tensor]
        /// Neck outputs (transformer input levels), [B, C, h_l, w_l].
        public var neck: [Tensor]
        /// Per-level padding masks [B, h_l, w_l] (true = padding).
        public var masks: [Tensor]
        /// Sine position embeddings [B, C, h_l, w_l] (without level embeddings).
        public var positions: [Tensor]
        /// Everything the transformer computed.
        public var transformer: SalienceTransformer.Output
    }

    /// - Parameters:
    ///   - images: [B, 3, H, W] normalised, zero-padded
    ///   - mask: [B, H, W] bool, true = padding (bottom/right)
    ///   - training: dropout and BatchNorm2d batch statistics (the neck's running statistics update)
    ///   - generator: dropout randomness (libtorch's global generator when nil)
    ///   - denoising: denoising queries (`denoisingQueries(for:noise:)`) for a training forward;
    ///     their predictions come back in `output.denoising`
    ///   - timer: per-stage wall time ("backbone", "neck", "encoder", "decoder")
    ///   - encoderQueries: [B, Q] int64 encoder tokens to use as the decoder's queries instead of
    ///     the selected ones (`ForwardOptions.encoderQueries`)
    ///   - checkpointing: the parts whose activations are recomputed in the backward pass
    /// - Returns: the last decoder layer's predictions, the earlier layers' as auxiliary ones, the
    ///   two-stage encoder predictions and the salience maps; and the intermediate tensors
    public func forward(
        images: Tensor, mask: Tensor, training: Bool, generator: Generator? = nil,
        denoising: DenoisingQueries? = nil, timer: StageTimer? = nil,
        batchStatistics: (any BatchStatisticsReducer)? = nil, encoderQueries: Tensor? = nil,
        checkpointing: ActivationCheckpointing = []
    )
        -> (output: DetectorOutput, trace: Trace)
    {
        let features = timer.measure("backbone") {
            backbone(
                images, returning: config.backbone.returnIndices, training: training, generator: generator,
                checkpoint: checkpointing.contains(.backbone))
        }
        let (levels, masks, positions) = timer.measure("neck") {
            let levels = neck(features)
            let masks = levels.map { paddingMask(mask, height: $0.size(2), width: $0.size(3)) }
            return (levels, masks, masks.map { positionEmbedding(mask: $0) })
        }
        let t = transformer(
            features: levels, masks: masks, positions: positions, training: training,
            generator: generator, denoising: denoising, timer: timer, batchStatistics: batchStatistics,
            encoderQueries: encoderQueries, checkpointEncoder: checkpointing.contains(.encoder))
        let layers = t.decoderLogits.size(0)
        let predictions = (0..<layers).map { Predictions(logits: t.decoderLogits[$0], boxes: t.decoderBoxes[$0]) }
        var dn: DenoisingPredictions?
        if let denoising, let logits = t.denoisingLogits, let boxes = t.denoisingBoxes {
            let p = (0..<layers).map { Predictions(logits: logits[$0], boxes: boxes[$0]) }
            dn = DenoisingPredictions(
                final: p[layers - 1], auxiliary: Array(p.dropLast()), groups: denoising.groups,
                groupSize: denoising.groupSize)
        }
        let (height, width) = (Double(images.size(2)), Double(images.size(3)))
        let salience = SalienceMaps(
            scores: t.salience.scores,
            strides: levels.map { (height / Double($0.size(2)), width / Double($0.size(3))) },
            mask: mask)
        let output = DetectorOutput(
            final: predictions[layers - 1], auxiliary: Array(predictions.dropLast()),
            encoder: Predictions(logits: t.queries.logits, boxes: t.queries.boxes),
            denoising: dn, salience: salience)
        return (output, Trace(backbone: features, neck: levels, masks: masks, positions: positions, transformer: t))
    }

    /// The transformer alone, from the neck's outputs on (eval mode, no denoising queries): the
    /// entry point of stage-by-stage checks that start from recorded neck outputs.
    /// - Parameters:
    ///   - features: [B, C, h_l, w_l] neck outputs per level, finest first
    ///   - masks: [B, h_l, w_l] bool per level, true = padding
    ///   - positions: [B, C, h_l, w_l] sine position embeddings per level
    ///   - encoderQueries: a replayed query selection (`ForwardOptions.encoderQueries`)
    public func transformerStages(
        features: [Tensor], masks: [Tensor], positions: [Tensor], encoderQueries: Tensor? = nil
    ) -> SalienceTransformer.Output {
        transformer(
            features: features, masks: masks, positions: positions, training: false, generator: nil,
            encoderQueries: encoderQueries)
    }
}
