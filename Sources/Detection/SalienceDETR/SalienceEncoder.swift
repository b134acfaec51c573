import NN
import Torch

/// Salience DETR encoder: every layer refines only the foreground tokens chosen for it
/// (`SalienceSelection`), attending into the unchanged input features, and writes the first
/// focus_token_nums[b] of them back; then a learned background embedding is added to every
/// non-padded token the last layer did not process.
/// Keys: `layers.<i>.*`, `background_embedding.{row,col}_embed.weight`, and `enhance_mcsp.*`
/// (the transformer's encoder class head, registered there as an alias).
struct SalienceEncoder: Module {
    let path: ModulePath
    let layers: ModuleList<SalienceEncoderLayer>
    let backgroundEmbedding: PositionEmbeddingLearned
    let embedDim: Int

    init(_ p: ModulePath, config c: SalienceDETRConfig) {
        path = p
        embedDim = c.hiddenDim
        layers = ModuleList(p / "layers", count: c.numEncoderLayers) { q, _ in SalienceEncoderLayer(q, config: c) }
        backgroundEmbedding = PositionEmbeddingLearned(
            p / "background_embedding", numEmbeddings: c.maxNumEmbedding,
            numPosFeats: c.hiddenDim / 2)
    }

    /// Centres of every token of every level, normalised by that image's valid extent of the
    /// token's level, then rescaled to each level's valid ratio. A level with no valid pixel for
    /// an image (possible for tiny images in a batch with large ones) would divide by zero in the
    /// official code; its (all-padding) tokens are given the centres of a fully valid level instead.
    /// - Parameter validRatios: [B, L, 2]
    /// - Returns: [B, N, L, 2] (x, y)
    static func referencePoints(layout: MultiLevelLayout, validRatios: Tensor) -> Tensor {
        let (dtype, device) = (validRatios.dtype, validRatios.device)
        var perLevel: [Tensor] = []
        for (l, shape) in layout.shapes.enumerated() {
            let (h, w) = (shape.height, shape.width)
            let ys = (Tensor.arange(from: 0, to: Double(h), dtype: dtype, device: device) + 0.5).view(h, 1)
                .expand([h, w]).reshape(1, h * w)
            let xs = (Tensor.arange(from: 0, to: Double(w), dtype: dtype, device: device) + 0.5).view(1, w)
                .expand([h, w]).reshape(1, h * w)
            let ratio = validRatios.select(dim: 1, index: l)  // [B, 2]
            func nonZero(_ t: Tensor) -> Tensor { t + (t .== Float(0)).to(t.dtype) }
            let refY = ys / nonZero(ratio.select(dim: 1, index: 1).unsqueeze(1) * h)  // [B, hw]
            let refX = xs / nonZero(ratio.select(dim: 1, index: 0).unsqueeze(1) * w)
            perLevel.append(Tensor.stack([refX, refY], dim: -1))
        }
        return Tensor.cat(perLevel, dim: 1).unsqueeze(2) * validRatios.unsqueeze(1)
    }

    /// - Parameters:
    ///   - features: [B, N, C] flattened multi-level features (queries of the first layer and the
    ///     value of every layer)
    ///   - pos: [B, N, C] position + level embeddings; keyPaddingMask [B, N]; valuePaddingMask: the same
    ///     mask, or nil when nothing is padded (deformable attention then zeroes no value)
    ///   - validRatios: [B, L, 2]
    ///   - selection: foreground tokens and budgets
    ///   - classHead: the shared encoder class head (`enhance_mcsp`)
    ///   - checkpoint: activation checkpointing of every layer
    /// - Returns: memory [B, N, C]
    func callAsFunction(
        _ features: Tensor, pos: Tensor, keyPaddingMask: Tensor, valuePaddingMask: Tensor?,
        layout: MultiLevelLayout, validRatios: Tensor, selection: SalienceSelection, classHead: Linear,
        training: Bool, generator: Generator?, checkpoint: Bool = false
    ) -> Tensor {
        let (b, n, c) = (features.size(0), features.size(1), features.size(2))
        let levels = layout.levelCount
        let references = Self.referencePoints(layout: layout, validRatios: validRatios).view(b, n, levels * 2)
        var output = features
        // The first layer that runs (a layer with no selected token is skipped).
        let firstRun = selection.candidates.firstIndex { $0.size(1) > 0 } ?? 0
        for (j, layer) in layers.enumerated() {
            let inds = selection.candidates[j]  // [B, n_j]
            let nj = inds.size(1)
            // Nothing selected (only for degenerate, nearly empty inputs): the layer is skipped.
            guard nj > 0 else { continue }
            // Bounded candidates: the layer's own tokens are the first layerCounts[j].
            let position = Tensor.arange(nj, device: inds.device).unsqueeze(0)  // [1, n_j]
            let own = selection.bounded ? position .< selection.layerCounts.select(dim: 0, index: j) : nil
            let query = output.selectRows(inds)  // [B, n_j, C]
            let queryPos = pos.selectRows(inds)
            let foreground = selection.foregroundScore.gather(dim: 1, index: inds)
            let refs = references.selectRows(inds).view(b, nj, levels, 2)
            let refined = layer.checkpointed(
                checkpoint, [query, queryPos, features, refs, classHead(query), foreground], generator: generator
            ) { t in
                layer(
                    t[0], pos: t[1], value: t[2], referencePoints: t[3], layout: layout,
                    keyPaddingMask: valuePaddingMask, scoreTarget: t[4], foreground: t[5],
                    tokens: own, training: training, generator: generator)
            }.to(output.dtype)  // under mixed precision, written back in the features' dtype (as a Python setitem casts)
            // Only the first focus_token_nums[i] tokens of image i are written back.
            if let own {
                // The other candidates write their own value back (the tokens are distinct).
                let written = own .& (position .< selection.focusCounts.unsqueeze(1))  // [B, n_j]
                let src = Tensor.where(written.unsqueeze(-1), refined, query)
                output = output.scatter(dim: 1, index: inds.unsqueeze(-1).expand([-1, -1, c]), src: src)
                continue
            }
            let counts = (0..<b).map { Swift.min(selection.focusTokenNums[$0], nj) }
            if isGradEnabled && counts.allSatisfy({ $0 == nj }) {
                // Every selected token is written (always so for one image): one scatter.
                output = output.scatter(dim: 1, index: inds.unsqueeze(-1).expand([-1, -1, c]), src: refined)
            } else if isGradEnabled {
                output = Tensor.stack(
                    (0..<b).map { i in
                        let m = counts[i]
                        let rowIndex = inds[i].slice(dim: 0, end: m).unsqueeze(-1).expand([-1, c]).contiguous()
                        return output[i].scatter(dim: 0, index: rowIndex, src: refined[i].slice(dim: 0, end: m))
                    })
            } else {
                // Without autograd the write-back is in place, into a copy of the features made once.
                if j == firstRun { output = features.clone() }
                for i in 0..<b {
                    let m = counts[i]
                    output[i].indexPut_([.tensor(inds[i].slice(dim: 0, end: m))], refined[i].slice(dim: 0, end: m))
                }
            }
        }
        // Background embedding: zero at the last layer's tokens and at padding.
        var background = Tensor.cat(
            layout.shapes.map { backgroundEmbedding.flattened(height: $0.height, width: $0.width) },
            dim: 0
        ).unsqueeze(0).repeat([b, 1, 1])  // [B, N, C]
        if let last = selection.candidates.last, last.size(1) > 0 {
            let index = last.unsqueeze(-1).expand([-1, -1, c]).contiguous()
            var src = Tensor.zeros(index.shape, dtype: background.dtype, device: background.device)
            if selection.bounded {
                // Candidates beyond the last layer's own tokens keep their embedding.
                let notOwn = Tensor.arange(last.size(1), device: last.device).unsqueeze(0)
                    .>= selection.layerCounts.select(dim: 0, index: layers.count - 1)
                src = Tensor.where(notOwn.unsqueeze(-1), background.gather(dim: 1, index: index), src)
            }
            background = background.scatter(dim: 1, index: index, src: src)
        }
        background = background * keyPaddingMask.logicalNot().unsqueeze(-1)
        return output + background
    }
}
