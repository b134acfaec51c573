import Foundation
import NN
import Torch

/// The Salience DETR transformer: salience-filtered encoder, RepVGGPluX transformer neck,
/// two-stage query selection and the refining decoder. Keys under `transformer.` in the official
/// order: `level_embeds`, `alpha`, `level_filter_ratio`, `layer_filter_ratio`, `enc_output`,
/// `enc_output_norm`, `encoder.*` (incl. `encoder.enhance_mcsp`, an alias of
/// `encoder_class_head`), `neck.*`, `decoder.*`, `tgt_embed`, `encoder_class_head`,
/// `encoder_bbox_head`, `enc_mask_predictor`.
public struct SalienceTransformer: Module {
    public let path: ModulePath
    let levelEmbeds: Tensor
    /// Weights of the upsampled higher-level salience added to levels 0...2 ([3]).
    let alpha: Tensor
    let levelFilterRatio: Tensor
    let layerFilterRatio: Tensor
    let encOutput: Linear
    let encOutputNorm: LayerNorm
    let encoder: SalienceEncoder
    let neck: RepVGGPluXNetwork
    let decoder: SalienceDecoder
    let tgtEmbed: Embedding
    let encoderClassHead: Linear
    let encoderBboxHead: MLP
    let encMaskPredictor: MaskPredictor
    let numQueries: Int
    let numClasses: Int
    let dropout: Double
    /// IoU threshold of the per-level NMS on the encoder's top-k tokens.
    static let nmsIoUThreshold = 0.3

    init(_ p: ModulePath, config c: SalienceDETRConfig) {
        // The official module holds exactly 3 alpha weights: one per level below the top of 4.
        precondition(
            (2...4).contains(c.numFeatureLevels),
            "Salience DETR supports 2 to 4 feature levels, got \(c.numFeatureLevels)")
        precondition(
            c.levelFilterRatio.count == c.numFeatureLevels, "level_filter_ratio needs \(c.numFeatureLevels) entries")
        precondition(
            c.layerFilterRatio.count == c.numEncoderLayers, "layer_filter_ratio needs \(c.numEncoderLayers) entries")
        path = p
        let d = c.hiddenDim
        numQueries = c.numQueries
        numClasses = c.numClasses
        dropout = c.dropout
        levelEmbeds = p.parameter(
            "level_embeds", shape: [c.numFeatureLevels, d], initializer: .normal(mean: 0, std: 1))
        alpha = p.parameter("alpha", shape: [3], initializer: .uniform(low: -0.3, high: 0.3))
        levelFilterRatio = p.buffer("level_filter_ratio", Tensor(c.levelFilterRatio.map(Float.init)))
        layerFilterRatio = p.buffer("layer_filter_ratio", Tensor(c.layerFilterRatio.map(Float.init)))
        encOutput = Linear(p / "enc_output", inFeatures: d, outFeatures: d)
        encOutputNorm = LayerNorm(p / "enc_output_norm", d)
        encoder = SalienceEncoder(p / "encoder", config: c)
        neck = RepVGGPluXNetwork(p / "neck", channels: d, levels: c.numFeatureLevels, groups: c.transformerNeck.groups)
        decoder = SalienceDecoder(p / "decoder", config: c)
        tgtEmbed = Embedding(p / "tgt_embed", numEmbeddings: c.numQueries, embeddingDim: d)
        encoderClassHead = Linear(p / "encoder_class_head", inFeatures: d, outFeatures: c.numClasses)
        encoderBboxHead = MLP(p / "encoder_bbox_head", inputDim: d, hiddenDim: d, outputDim: 4, numLayers: 3)
        // `self.encoder.enhance_mcsp = self.encoder_class_head`: one head, two keys.
        (p / "encoder" / "enhance_mcsp").alias(of: encoderClassHead.path)
        encMaskPredictor = MaskPredictor(p / "enc_mask_predictor", inDim: d, hiddenDim: d)

        SalienceInit.xavier([encOutput], store: p.store)
        withNoGrad { _ = encOutput.bias?.zero_() }
        SalienceInit.focalPrior(encoderClassHead)
        SalienceInit.mlp(encoderBboxHead, store: p.store)
        SalienceInit.zeroLast(encoderBboxHead)
    }

    /// Everything one forward pass computes: predictions and the intermediates the parity tests read.
    public struct Output: @unchecked Sendable {
        /// [decoder layers, B, Q, numClasses]
        public var decoderLogits: Tensor
        /// [decoder layers, B, Q, 4] cxcywh normalised to the unpadded image
        public var decoderBoxes: Tensor
        public var layout: MultiLevelLayout
        /// [B, N] bool, true = padding
        public var maskFlatten: Tensor
        /// [B, L, 2] (valid_w / w, valid_h / h)
        public var validRatios: Tensor
        public var salience: SalienceSelection
        /// Encoder output incl. background embedding, before the transformer neck. [B, N, C]
        public var memoryPreNeck: Tensor
        /// Decoder value (after the neck). [B, N, C]
        public var memory: Tensor
        /// inverse-sigmoid proposals, +inf at padded or invalid tokens. [B, N, 4]
        public var outputProposals: Tensor
        public var queries: QuerySelection
        /// Decoder input queries [B, Q, C] and reference boxes [B, Q, 4] (matching part).
        public var decoderQuery: Tensor
        public var decoderReference: Tensor
        /// Denoising part of the decoder outputs, [decoder layers, B, D, numClasses] and
        /// [decoder layers, B, D, 4]; nil without denoising queries.
        public var denoisingLogits: Tensor? = nil
        public var denoisingBoxes: Tensor? = nil
    }

    /// - Parameters:
    ///   - features: [B, C, h_l, w_l] per level, finest first
    ///   - masks: [B, h_l, w_l] bool per level, true = padding
    ///   - positions: [B, C, h_l, w_l] sine position embeddings per level
    ///   - training: dropout and BatchNorm2d batch statistics
    ///   - denoising: denoising queries put before the matching queries of the decoder (training);
    ///     their outputs come back separately
    ///   - timer: times "encoder" (salience, encoder, transformer neck, query selection) and "decoder"
    ///   - batchStatistics: synchronises the neck's batch statistics across data-parallel processes
    ///   - encoderQueries: [B, Q] int64 tokens replacing the selected queries (a replayed selection)
    ///   - checkpointEncoder: activation checkpointing of every encoder layer
    func callAsFunction(
        features: [Tensor], masks: [Tensor], positions: [Tensor], training: Bool,
        generator: Generator?, denoising: DenoisingQueries? = nil, timer: StageTimer? = nil,
        batchStatistics: (any BatchStatisticsReducer)? = nil, encoderQueries: Tensor? = nil,
        checkpointEncoder: Bool = false
    ) -> Output {
        let layout = MultiLevelLayout(features)
        let b = features[0].size(0)
        let featFlat = MultiLevelLayout.flatten(features)  // [B, N, C]
        let maskFlat = MultiLevelLayout.flattenMasks(masks)  // [B, N]
        let levelPos = MultiLevelLayout.flatten(
            positions.enumerated().map { l, pos in
                pos + levelEmbeds[l].view(1, -1, 1, 1)
            })
        let validRatios = MultiLevelLayout.validRatios(masks)  // [B, L, 2]
        // Deformable attention's values need no zeroing when nothing is padded (one host read per
        // forward). A recording always zeroes them: the same values, and nothing read back.
        let valuePaddingMask: Tensor? =
            OperationTrace.isRecordingGraph || maskFlat.any().item() != 0 ? maskFlat : nil

        let (salience, memoryPreNeck, memory, proposals, queries) = timer.measure("encoder") {
            // Parts of the encoder stage are timed too ("encoder.<part>").
            let salience = timer.measure("encoder.salience") {
                let backboneMemory = encoderOutputProposals(featFlat + levelPos, mask: maskFlat, layout: layout).memory
                return salienceSelection(backboneMemory, masks: masks, maskFlatten: maskFlat, layout: layout)
            }
            let memoryPreNeck = timer.measure("encoder.layers") {
                encoder(
                    featFlat, pos: levelPos, keyPaddingMask: maskFlat, valuePaddingMask: valuePaddingMask,
                    layout: layout,
                    validRatios: validRatios, selection: salience, classHead: encoderClassHead, training: training,
                    generator: generator, checkpoint: checkpointEncoder)
            }
            let memory = timer.measure("encoder.neck") {
                MultiLevelLayout.flatten(
                    neck(layout.unflatten(memoryPreNeck), training: training, batchStatistics: batchStatistics))
            }

            let (outputMemory, proposals) = timer.measure("encoder.proposals") {
                encoderOutputProposals(memory, mask: maskFlat, layout: layout)
            }
            let encLogits = encoderClassHead(outputMemory)  // [B, N, K]
            let encBoxes = (encoderBboxHead(outputMemory) + proposals).sigmoid()  // [B, N, 4]
            var queries = timer.measure("encoder.select") {
                selectQueries(logits: encLogits, boxes: encBoxes, layout: layout)
            }
            if let encoderQueries { queries.replay(encoderQueries, logits: encLogits, boxes: encBoxes) }
            return (salience, memoryPreNeck, memory, proposals, queries)
        }

        let q = queries.topkIndex.size(1)
        let reference = queries.boxes.detach()
        let target = tgtEmbed.weight.slice(dim: 0, end: q).unsqueeze(0).expand([b, -1, -1])
        // Denoising queries go first; the mask was built for numQueries matching queries and its
        // matching block is uniform, so fewer queries only crop it.
        let d = denoising?.count ?? 0
        var (decoderQuery, decoderReference, attnMask): (Tensor, Tensor, Tensor?) = (target, reference, nil)
        if let denoising, d > 0 {
            decoderQuery = Tensor.cat([denoising.labelQuery, target], dim: 1)  // [B, D + Q, C]
            decoderReference = Tensor.cat([denoising.boxQuery.sigmoid(), reference], dim: 1)
            attnMask = denoising.attnMask.slice(dim: 0, end: d + q).slice(dim: 1, end: d + q)
        }
        let (logits, boxes) = timer.measure("decoder") {
            decoder(
                query: decoderQuery, referencePoints: decoderReference, memory: memory, layout: layout,
                validRatios: validRatios, keyPaddingMask: valuePaddingMask, attnMask: attnMask, training: training,
                generator: generator)
        }
        var output = Output(
            decoderLogits: logits.slice(dim: 2, start: d), decoderBoxes: boxes.slice(dim: 2, start: d),
            layout: layout, maskFlatten: maskFlat, validRatios: validRatios, salience: salience,
            memoryPreNeck: memoryPreNeck, memory: memory, outputProposals: proposals, queries: queries,
            decoderQuery: target, decoderReference: reference)
        if denoising != nil {
            output.denoisingLogits = logits.slice(dim: 2, end: d)
            output.denoisingBoxes = boxes.slice(dim: 2, end: d)
        }
        return output
    }
}
