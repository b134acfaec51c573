import Torch

extension SalienceTransformer {
    /// The hierarchical salience scores and the foreground tokens of every encoder layer
    /// (budget rules in `SalienceSelection`).
    ///
    /// Levels are scored from the coarsest down: below the top, the previous level's raw logit map
    /// is upsampled (bilinear, corners aligned) and the level's tokens become
    /// x + x·up·alpha[l] before the mask predictor.
    /// - Parameters:
    ///   - memory: [B, N, C] projected input features (`gen_encoder_output_proposals` of feat + pos)
    ///   - masks: [B, h_l, w_l] per level; maskFlatten [B, N]
    func salienceSelection(
        _ memory: Tensor, masks: [Tensor], maskFlatten: Tensor, layout: MultiLevelLayout
    )
        -> SalienceSelection
    {
        let b = memory.size(0)
        let levels = layout.levelCount
        let levelRatio = levelFilterRatio.to(.float32).floats, layerRatio = layerFilterRatio.to(.float32).floats
        // [L][B] -> [B][L]
        let validPerLevel = masks.map { $0.logicalNot().sum(dims: [1, 2]).ints }
        let validTokenNums = (0..<b).map { i in (0..<levels).map { validPerLevel[$0][i] } }
        // int(valid · ratio) in float32, as `(valid_token_nums * level_filter_ratio).int()`.
        let focus = validTokenNums.map { row in (0..<levels).map { Int(Float(row[$0]) * levelRatio[$0]) } }
        let levelTokenNums = (0..<levels).map { l in focus.map { $0[l] }.max() ?? 0 }
        let focusTokenNums = focus.map { $0.reduce(0, +) }

        var scores = [Tensor](repeating: Tensor(scalar: Float(0)), count: levels)
        var inputs = scores
        var pickedScores: [Tensor] = [], pickedInds: [Tensor] = []
        var higher: Tensor? = nil  // [B, 1, h, w]
        for l in stride(from: levels - 1, through: 0, by: -1) {
            let (h, w) = (layout.shapes[l].height, layout.shapes[l].width)
            var x = memory.slice(dim: 1, start: layout.starts[l], end: layout.starts[l] + h * w)
            if let higher {
                let up = Functional.interpolate(higher, size: (h, w), mode: .bilinear, alignCorners: true)
                    .view(b, -1, h * w).transpose(1, 2)  // [B, hw, 1]
                x = x + x * up * alpha[l]
            }
            inputs[l] = x
            let score = encMaskPredictor(x)  // [B, hw, 1]
            let levelMask = maskFlatten.slice(dim: 1, start: layout.starts[l], end: layout.starts[l] + h * w)
            let masked = Tensor.where(levelMask, score.min(), score.squeeze(dim: -1))  // [B, hw]
            let map = score.transpose(1, 2).reshape(b, 1, h, w)
            scores[l] = map
            higher = map
            if levelTokenNums[l] > 0 {
                let top = masked.topk(levelTokenNums[l], dim: 1)
                pickedScores.insert(top.values, at: 0)
                pickedInds.insert(top.indices + layout.starts[l], at: 0)
            }
        }
        let merged: Tensor
        if pickedInds.isEmpty {
            merged = Tensor.zeros([b, 0], dtype: .int64, device: memory.device)
        } else {
            let order = Tensor.cat(pickedScores, dim: 1).sort(dim: 1, descending: true, stable: false).indices
            merged = Tensor.cat(pickedInds, dim: 1).gather(dim: 1, index: order)  // [B, Σ k_l]
        }
        let numInds = merged.size(1)
        // int(num_inds · ratio) in float32, as `(num_inds * layer_filter_ratio).to(int64)`.
        let counts = layerRatio.map { Swift.min(numInds, Int(Float(numInds) * $0)) }
        let foregroundInds = counts.map { merged.slice(dim: 1, end: $0) }
        let flat = MultiLevelLayout.flatten(scores).squeeze(dim: -1)  // [B, N]
        let foregroundScore = Tensor.where(maskFlatten, flat.min(), flat)
        return SalienceSelection(
            scores: scores, predictorInputs: inputs, validTokenNums: validTokenNums,
            levelTokenNums: levelTokenNums, focusTokenNums: focusTokenNums, layerIndexCounts: counts,
            foregroundInds: foregroundInds, foregroundScore: foregroundScore)
    }
}
