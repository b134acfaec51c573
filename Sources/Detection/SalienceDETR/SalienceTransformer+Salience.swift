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
        let device = memory.device
        let bounded = OperationTrace.isRecordingGraph
        // The ratios are buffers: reading them back does not depend on the input.
        let levelRatio = levelFilterRatio.to(.float32).floats, layerRatio = layerFilterRatio.to(.float32).floats
        // int(valid · ratio) in float32, as `(valid_token_nums * level_filter_ratio).int()`: [B, L].
        let validCounts = Tensor.stack(masks.map { $0.logicalNot().sum(dims: [1, 2]) }, dim: 1)
        let focus = (validCounts.to(.float32) * levelFilterRatio.to(.float32).to(device)).to(.int64)
        let levelCounts = focus.amax(dims: [0])  // k_l, [L]
        let focusCounts = focus.sum(dim: 1)  // [B]
        // Picks per level: k_l, or while recording the most the level can keep (every token valid).
        let picks =
            bounded
            ? layout.shapes.enumerated().map { Int(Float($1.height * $1.width) * levelRatio[$0]) }
            : levelCounts.ints

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
            if picks[l] > 0 {
                let top = masked.topk(picks[l], dim: 1)
                var values = top.values
                if bounded {
                    // Picks from k_l on are not kept: −inf sorts them behind every kept one.
                    let notKept = Tensor.arange(picks[l], device: device) .>= levelCounts.select(dim: 0, index: l)
                    values = values.maskedFill(notKept, -Float.infinity)
                }
                pickedScores.insert(values, at: 0)
                pickedInds.insert(top.indices + layout.starts[l], at: 0)
            }
        }
        let merged: Tensor
        if pickedInds.isEmpty {
            merged = Tensor.zeros([b, 0], dtype: .int64, device: device)
        } else {
            let order = Tensor.cat(pickedScores, dim: 1).sort(dim: 1, descending: true, stable: false).indices
            merged = Tensor.cat(pickedInds, dim: 1).gather(dim: 1, index: order)  // [B, Σ picks_l]
        }
        let numPicks = merged.size(1)
        // int(num_inds · ratio) in float32, as `(num_inds * layer_filter_ratio).to(int64)`.
        let kept = levelCounts.sum()  // num_inds = Σ k_l
        let layerCounts = (kept.to(.float32) * layerFilterRatio.to(.float32).to(device)).to(.int64).minimum(kept)
        let candidates = layerRatio.map { merged.slice(dim: 1, end: Swift.min(numPicks, Int(Float(numPicks) * $0))) }
        let flat = MultiLevelLayout.flatten(scores).squeeze(dim: -1)  // [B, N]
        let foregroundScore = Tensor.where(maskFlatten, flat.min(), flat)
        return SalienceSelection(
            scores: scores, predictorInputs: inputs, validCounts: validCounts, levelCounts: levelCounts,
            focusCounts: focusCounts, layerCounts: layerCounts, candidates: candidates, bounded: bounded,
            foregroundScore: foregroundScore)
    }
}
