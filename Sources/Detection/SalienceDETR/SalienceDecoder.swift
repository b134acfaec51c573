import NN
import Torch

/// Salience DETR decoder with iterative box refinement ("look forward twice").
///
/// Per layer: the query position is `ref_point_head` of the sine embedding (embed_dim/2 features
/// per coordinate, order y, x, w, h) of the detached reference box scaled by the first level's
/// valid ratio; after the layer, class logits and boxes come from the shared `norm` of the output,
/// boxes as sigmoid(bbox_head(norm(x)) + inverse_sigmoid(reference)); the next reference is
/// sigmoid(bbox_head(x) + inverse_sigmoid(reference.detach())) from the UN-normed x.
/// Keys: `layers.<i>.*`, `ref_point_head.layers.{0,1}`, `class_head.<i>`, `bbox_head.<i>.layers.{0,1,2}`,
/// `norm`.
struct SalienceDecoder: Module {
    let path: ModulePath
    let layers: ModuleList<SalienceDecoderLayer>
    let refPointHead: MLP
    let classHead: ModuleList<Linear>
    let bboxHead: ModuleList<MLP>
    let norm: LayerNorm
    let sine: PositionEmbeddingSine
    /// inverse_sigmoid's clamp in the official code (util/misc.py).
    static let inverseSigmoidEps = 1e-3

    init(_ p: ModulePath, config c: SalienceDETRConfig) {
        path = p
        let d = c.hiddenDim
        layers = ModuleList(p / "layers", count: c.numDecoderLayers) { q, _ in SalienceDecoderLayer(q, config: c) }
        refPointHead = MLP(p / "ref_point_head", inputDim: 2 * d, hiddenDim: d, outputDim: d, numLayers: 2)
        classHead = ModuleList(p / "class_head", count: c.numDecoderLayers) { q, _ in
            Linear(q, inFeatures: d, outFeatures: c.numClasses)
        }
        bboxHead = ModuleList(p / "bbox_head", count: c.numDecoderLayers) { q, _ in
            MLP(q, inputDim: d, hiddenDim: d, outputDim: 4, numLayers: 3)
        }
        norm = LayerNorm(p / "norm", d)
        // The official code hard-codes 128 features, which is embed_dim/2 only at width 256 (and
        // fails at other widths); embed_dim/2 reproduces it there and works at every width.
        sine = PositionEmbeddingSine(numPosFeats: d / 2, temperature: c.positionEmbedding.temperature)
        SalienceInit.mlp(refPointHead, store: p.store)
        for head in classHead { SalienceInit.focalPrior(head) }
        for head in bboxHead {
            SalienceInit.mlp(head, store: p.store)
            SalienceInit.zeroLast(head)
        }
    }

    /// - Parameters:
    ///   - query: [B, Q, C] initial content queries
    ///   - referencePoints: [B, Q, 4] initial boxes (cxcywh, sigmoid space)
    ///   - memory: [B, N, C]; keyPaddingMask [B, N] (nil: nothing is padded); validRatios [B, L, 2]
    ///   - attnMask: [Q, Q] bool self-attention mask (denoising), or nil
    /// - Returns: logits [layers, B, Q, numClasses], boxes [layers, B, Q, 4]
    func callAsFunction(
        query: Tensor, referencePoints: Tensor, memory: Tensor, layout: MultiLevelLayout,
        validRatios: Tensor, keyPaddingMask: Tensor?, attnMask: Tensor?, training: Bool,
        generator: Generator?
    ) -> (logits: Tensor, boxes: Tensor) {
        let scale = Tensor.cat([validRatios, validRatios], dim: -1).unsqueeze(1)  // [B, 1, L, 4]
        var x = query
        var reference = referencePoints
        var logits: [Tensor] = [], boxes: [Tensor] = []
        for (i, layer) in layers.enumerated() {
            let referenceInput = reference.detach().unsqueeze(2) * scale  // [B, Q, L, 4]
            let queryPos = refPointHead(sine.embedCoordinates(referenceInput.select(dim: 2, index: 0)))
            x = layer(
                x, pos: queryPos, referencePoints: referenceInput, memory: memory, layout: layout,
                keyPaddingMask: keyPaddingMask, attnMask: attnMask, training: training, generator: generator)
            let normed = norm(x)
            logits.append(classHead[i](normed))
            boxes.append((bboxHead[i](normed) + reference.inverseSigmoid(eps: Self.inverseSigmoidEps)).sigmoid())
            if i == layers.count - 1 { break }
            reference = (bboxHead[i](x) + reference.detach().inverseSigmoid(eps: Self.inverseSigmoidEps)).sigmoid()
        }
        return (Tensor.stack(logits), Tensor.stack(boxes))
    }
}
