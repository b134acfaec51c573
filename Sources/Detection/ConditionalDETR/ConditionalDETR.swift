import Foundation
import NN
import Torch
import Vision

/// Conditional DETR (ICCV 2021) with a ResNet backbone. Parameter keys equal the official
/// checkpoints' (`backbone.0.body.*`, `transformer.*`, `class_embed`, `bbox_embed`,
/// `query_embed`, `input_proj`).
public struct ConditionalDETR: Module {
    public let path: ModulePath
    public let config: ConditionalDETRConfig
    let transformer: ConditionalTransformer
    let classEmbed: Linear
    let bboxEmbed: MLP
    let queryEmbed: Embedding
    let inputProj: Conv2d
    public let backbone: ResNet
    let positionEmbedding: PositionEmbeddingSine

    /// A model of a config holding a Conditional DETR configuration.
    public init(_ p: ModulePath, config: ModelConfig) {
        guard let conditional = config.conditional else {
            preconditionFailure("ConditionalDETR needs a conditional_detr config")
        }
        self.init(p, config: conditional)
    }

    /// Builds the model with freshly initialised parameters in `p`'s store.
    public init(_ p: ModulePath, config: ConditionalDETRConfig) {
        path = p
        self.config = config
        let d = config.hiddenDim
        // Registration order = the official state dict's order.
        transformer = ConditionalTransformer(p / "transformer", config: config)
        classEmbed = Linear(p / "class_embed", inFeatures: d, outFeatures: config.numClasses)
        bboxEmbed = MLP(p / "bbox_embed", inputDim: d, hiddenDim: d, outputDim: 4, numLayers: 3)
        queryEmbed = Embedding(p / "query_embed", numEmbeddings: config.numQueries * config.groupDetr, embeddingDim: d)
        let c5Channels = 512 * (config.backbone.block == .bottleneck ? 4 : 1)
        inputProj = Conv2d(p / "input_proj", inChannels: c5Channels, outChannels: d, kernelSize: 1)
        backbone = ResNet(
            p / "backbone" / "0" / "body", block: config.backbone.block, layers: config.backbone.layers,
            dilateLastStage: config.backbone.dilation)
        positionEmbedding = PositionEmbeddingSine(numPosFeats: d / 2, temperature: config.positionEmbedding.temperature)
        initializeLikeOfficial()
    }

    /// The official initialisation (matters when training from scratch; checkpoints overwrite it):
    /// Xavier-uniform on every transformer matrix, attention output biases 0, class bias
    /// −log((1 − 0.01)/0.01) (focal-loss prior), last box layer 0.
    private func initializeLikeOfficial() {
        let store = path.store
        withNoGrad {
            for (key, t) in transformer.namedParameters() {
                if t.rank > 1 {
                    _ = t.copy_(
                        ParameterInit.xavierUniform().make(shape: t.shape, dtype: t.dtype, generator: store.generator))
                } else if key.hasSuffix("attn.out_proj.bias") {
                    _ = t.zero_()
                }
            }
            _ = classEmbed.bias?.fill_(-Foundation.log((1 - 0.01) / 0.01))
            let last = bboxEmbed.layers[bboxEmbed.layers.count - 1]
            _ = last.weight.zero_()
            _ = last.bias?.zero_()
        }
    }

    /// Intermediate tensors of one forward pass (for parity tests and visualisation).
    public struct Trace: @unchecked Sendable {
        /// [B, C5, h, w]
        public var c5: Tensor
        /// [B, h, w] bool
        public var mask: Tensor
        /// [B, d, h, w]
        public var pos: Tensor
        /// [B, d, h, w]
        public var projected: Tensor
        /// [HW, B, d]
        public var memory: Tensor
        /// [L, B, Q, d]
        public var hs: Tensor
        /// [B, Q, 2]
        public var reference: Tensor
    }

    /// - Parameters:
    ///   - images: [B, 3, H, W] normalised, zero-padded
    ///   - mask: [B, H, W] bool, true = padding (bottom/right)
    ///   - training: dropout and every Group DETR query group
    ///   - generator: dropout randomness (libtorch's global generator when nil)
    ///   - timer: per-stage wall time ("backbone", "neck", "encoder", "decoder")
    /// - Returns: predictions of the last decoder layer, auxiliary ones of earlier layers
    ///   ([B, Q·groupDetr, ·] in training, [B, Q, ·] otherwise), and the intermediate tensors
    public func forward(
        images: Tensor, mask: Tensor, training: Bool, generator: Generator? = nil,
        timer: StageTimer? = nil, checkpointing: ActivationCheckpointing = []
    )
        -> (output: DetectorOutput, trace: Trace)
    {
        let c5 = timer.measure("backbone") {
            backbone(images, returning: [3], checkpoint: checkpointing.contains(.backbone))[0]
        }
        let (h, w) = (c5.size(2), c5.size(3))
        let featMask = paddingMask(mask, height: h, width: w)  // [B, h, w]
        let pos = positionEmbedding(mask: featMask)  // [B, d, h, w]
        let src = timer.measure("neck") { inputProj(c5) }
        let srcSeq = src.flatten(startDim: 2).permute(2, 0, 1)  // [HW, B, d]
        let posSeq = pos.flatten(startDim: 2).permute(2, 0, 1)
        let maskSeq = featMask.flatten(startDim: 1)  // [B, HW]
        let memory = timer.measure("encoder") {
            transformer.encode(
                srcSeq, pos: posSeq, mask: maskSeq, training: training, generator: generator,
                checkpoint: checkpointing.contains(.encoder))
        }
        // Group DETR: every group in training, the first one at inference.
        let groups = training ? config.groupDetr : 1
        let queries =
            groups == config.groupDetr ? queryEmbed.weight : queryEmbed.weight.slice(dim: 0, end: config.numQueries)
        let (hs, reference) = timer.measure("decoder") {
            transformer.decode(
                memory: memory, pos: posSeq, mask: maskSeq, queryEmbed: queries, groups: groups,
                training: training, generator: generator)
        }
        let refLogit = reference.inverseSigmoid()  // [B, Q, 2]
        let logits = classEmbed(hs)  // [L, B, Q, C]
        let t = bboxEmbed(hs)  // [L, B, Q, 4]
        let shifted = Tensor.cat([t.slice(dim: -1, end: 2) + refLogit, t.slice(dim: -1, start: 2)], dim: -1)
        let boxes = shifted.sigmoid()
        let layers = hs.size(0)
        let preds = (0..<layers).map { Predictions(logits: logits[$0], boxes: boxes[$0]) }
        let output = DetectorOutput(final: preds[layers - 1], auxiliary: config.auxLoss ? Array(preds.dropLast()) : [])
        return (
            output,
            Trace(c5: c5, mask: featMask, pos: pos, projected: src, memory: memory, hs: hs, reference: reference)
        )
    }
}
