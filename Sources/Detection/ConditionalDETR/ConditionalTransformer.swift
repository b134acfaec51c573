import NN
import Torch

/// Encoder and decoder of Conditional DETR. Keys under `transformer.`: `encoder.layers.N.*`,
/// `decoder.layers.N.*`, `decoder.norm`, `decoder.query_scale`, `decoder.ref_point_head`.
struct ConditionalTransformer: Module {
    let path: ModulePath
    let encoderLayers: ModuleList<ConditionalEncoderLayer>
    let decoderLayers: ModuleList<ConditionalDecoderLayer>
    let decoderNorm: LayerNorm
    let queryScale: MLP
    let refPointHead: MLP
    let sine: PositionEmbeddingSine

    init(_ p: ModulePath, config c: ConditionalDETRConfig) {
        path = p
        let d = c.hiddenDim
        encoderLayers = ModuleList(p / "encoder" / "layers", count: c.numEncoderLayers) { q, _ in
            ConditionalEncoderLayer(q, dim: d, heads: c.numHeads, feedforward: c.dimFeedforward, dropout: c.dropout)
        }
        decoderLayers = ModuleList(p / "decoder" / "layers", count: c.numDecoderLayers) { q, i in
            ConditionalDecoderLayer(
                q, dim: d, heads: c.numHeads, feedforward: c.dimFeedforward, dropout: c.dropout,
                isFirst: i == 0)
        }
        decoderNorm = LayerNorm(p / "decoder" / "norm", d)
        queryScale = MLP(p / "decoder" / "query_scale", inputDim: d, hiddenDim: d, outputDim: d, numLayers: 2)
        refPointHead = MLP(p / "decoder" / "ref_point_head", inputDim: d, hiddenDim: d, outputDim: 2, numLayers: 2)
        // The official code hard-codes 128 features, which is d/2 only at width 256 (and fails
        // at other widths); d/2 reproduces it there and works at every width.
        sine = PositionEmbeddingSine(numPosFeats: d / 2, temperature: c.positionEmbedding.temperature)
    }

    /// Encoder memory. src, pos: [HW, B, d]; mask: [B, HW] -> [HW, B, d]
    /// - Parameter checkpoint: activation checkpointing of every encoder layer
    func encode(
        _ src: Tensor, pos: Tensor, mask: Tensor, training: Bool, generator: Generator?, checkpoint: Bool = false
    ) -> Tensor {
        var x = src
        for layer in encoderLayers {
            x = layer.checkpointed(checkpoint, [x, pos], generator: generator) {
                layer($0[0], pos: $0[1], mask: mask, training: training, generator: generator)
            }
        }
        return x
    }

    /// Decoder states of every layer after the shared norm, and the reference points.
    /// - Parameters: memory, pos [HW, B, d]; mask [B, HW]; queryEmbed [Q, d]; groups: Group DETR
    ///   groups the Q queries form (self-attention stays within a group)
    /// - Returns: hs [L, B, Q, d], reference [B, Q, 2] (sigmoid, x/y)
    func decode(
        memory: Tensor, pos: Tensor, mask: Tensor, queryEmbed: Tensor, groups: Int = 1, training: Bool,
        generator: Generator?
    ) -> (hs: Tensor, reference: Tensor) {
        let b = memory.size(1)
        let queryPos = queryEmbed.unsqueeze(1).repeat([1, b, 1])  // [Q, B, d]
        var output = queryPos.zerosLike()
        let reference = refPointHead(queryPos).sigmoid()  // [Q, B, 2]
        let sineEmbed = sine.embedCoordinates(reference)  // [Q, B, d]
        var intermediate: [Tensor] = []
        for (i, layer) in decoderLayers.enumerated() {
            let embed = i == 0 ? sineEmbed : sineEmbed * queryScale(output)
            output = layer(
                output, memory: memory, memoryMask: mask, pos: pos, queryPos: queryPos,
                querySineEmbed: embed, groups: groups, training: training, generator: generator)
            intermediate.append(decoderNorm(output))
        }
        return (Tensor.stack(intermediate).transpose(1, 2), reference.transpose(0, 1))
    }
}
