import Torch

/// What the salience stage decides before the encoder: per-level salience logits, token budgets
/// and the foreground tokens each encoder layer refines.
///
/// Budgets (official semantics): focus_nums[b][l] = int(valid_tokens[b][l] · level_filter_ratio[l])
/// computed in float32; each level keeps k_l = max_b focus_nums[b][l] tokens for EVERY image (a
/// smaller image therefore also selects padded tokens, which all tie at the masked minimum
/// score); the per-level picks are merged and sorted by score, descending, with libtorch's
/// default (unstable) sort as the official code calls it; encoder layer j uses the first
/// int(Σ_l k_l · layer_filter_ratio[j]) of them, and only the first focus_token_nums[b] =
/// Σ_l focus_nums[b][l] of those are written back to image b's memory.
///
/// The order among tied padded tokens is not harmless: it decides which padded tokens fall
/// inside a layer's cut, and every token of a layer (padded ones too) competes for the layer's
/// top-k self-attention, where it is a key of the valid tokens chosen with it. With a stable
/// sort the padded tokens of a small image in a batch came in another order than the official
/// ones; with the same sort call as the official code the order is the official one on every
/// fixture set (the per-level `topk` is the same call too).
/// While an `OperationTrace` records, the budgets are never read back: every level keeps its
/// most tokens possible for the input size (all valid), `candidates` have those static lengths,
/// and the picks beyond the budgets held as tensors are masked out (`SalienceEncoder`), so that
/// one recording holds for every padding mask. Ties are then broken by the lower index (ONNX's
/// TopK), not in the order of libtorch's CPU kernel; the two differ only where padded tokens
/// are picked, i.e. for a batch whose smaller images take padded tokens to fill a level.
public struct SalienceSelection: @unchecked Sendable {
    /// Salience logits per level, [B, 1, h_l, w_l] (padding not masked).
    public var scores: [Tensor]
    /// Mask-predictor input per level after the top-down update, [B, h_l·w_l, C].
    public var predictorInputs: [Tensor]
    /// Non-padded tokens per image and level, [B, L] int64.
    public var validCounts: Tensor
    /// Tokens kept per level, k_l, [L] int64.
    public var levelCounts: Tensor
    /// Tokens written back per image, [B] int64.
    public var focusCounts: Tensor
    /// Tokens processed by each encoder layer, [layers] int64.
    public var layerCounts: Tensor
    /// Per encoder layer, [B, n_j] int64, by decreasing salience: the layer's tokens, and when
    /// `bounded`, after the first `layerCounts[j]` more tokens the layer does not process.
    public var candidates: [Tensor]
    /// Whether `candidates` have the static lengths of a recording (see above).
    public var bounded: Bool
    /// Flattened salience logits with padding set to their minimum, [B, N].
    public var foregroundScore: Tensor

    // Host copies of the budgets (read back: tests, diagnostics, the write-back of inference).

    /// Non-padded tokens per image and level ([B][L]).
    public var validTokenNums: [[Int]] {
        let l = validCounts.size(1), v = validCounts.ints
        return stride(from: 0, to: v.count, by: Swift.max(l, 1)).map { Array(v[$0..<($0 + l)]) }
    }
    /// Tokens kept per level, k_l ([L]).
    public var levelTokenNums: [Int] { levelCounts.ints }
    /// Tokens written back per image ([B]).
    public var focusTokenNums: [Int] { focusCounts.ints }
    /// Tokens processed by each encoder layer ([layers]).
    public var layerIndexCounts: [Int] { bounded ? layerCounts.ints : candidates.map { $0.size(1) } }
    /// Token indices per encoder layer, [B, layerIndexCounts[j]] int64, by decreasing salience.
    public var foregroundInds: [Tensor] {
        bounded ? zip(candidates, layerIndexCounts).map { $0.slice(dim: 1, end: $1) } : candidates
    }
}

/// The two-stage query selection: encoder proposals ranked by their best class logit, thinned by
/// per-level NMS.
public struct QuerySelection: @unchecked Sendable {
    /// Best class logit of the top-k tokens before NMS, [B, K], K = min(4·numQueries, N).
    public var topkScoresPreNMS: Tensor
    /// Their token indices, [B, K] int64.
    public var topkIndexPreNMS: Tensor
    /// Selected token indices, [B, Q] int64, Q = min(numQueries, K).
    public var topkIndex: Tensor
    /// Encoder class logits of the selected tokens, [B, Q, numClasses].
    public var logits: Tensor
    /// Encoder boxes of the selected tokens, [B, Q, 4] cxcywh (sigmoid).
    public var boxes: Tensor
}

extension QuerySelection {
    /// Replaces the selected tokens by `tokens` ([B, Q'] int64) and gathers their logits and
    /// boxes from the encoder outputs `logits` [B, N, K] and `boxes` [B, N, 4]; the pre-NMS
    /// ranking stays as selected.
    mutating func replay(_ tokens: Tensor, logits: Tensor, boxes: Tensor) {
        let index = tokens.to(.int64).to(logits.device)
        topkIndex = index
        self.logits = logits.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, logits.size(2)]))
        self.boxes = boxes.gather(dim: 1, index: index.unsqueeze(-1).expand([-1, -1, 4]))
    }
}
