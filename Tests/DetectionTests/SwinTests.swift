import Detection
import Foundation
import NN
import Testing
import Torch

/// Swin backbone behaviour the official fixture does not reach (its maps are even and either
/// shifted on both axes or on none): a straightforward per-window transcription of the official
/// forward is compared with the batched implementation on maps with one axis inside a single
/// window and odd sizes before patch merging; plus training randomness, gradients under
/// freezing, the freeze rule and the bias cache.
@Suite struct SwinTests {
    /// Small Swin settings (4 stages of 2 blocks).
    static func tinyConfig(
        stochasticDepth: Double = 0.2, dropout: Double = 0, attentionDropout: Double = 0
    )
        -> SwinConfig
    {
        var c = SwinConfig()
        c.embedDim = 8
        c.depths = [2, 2, 2, 2]
        c.numHeads = [1, 2, 4, 8]
        c.stochasticDepthProb = stochasticDepth
        c.dropout = dropout
        c.attentionDropout = attentionDropout
        return c
    }

    /// A backbone whose weights have visible effects: bias tables N(0, 1), matrices N(0, 1/fanIn),
    /// LayerNorm weights 1 + N(0, 0.1²), biases N(0, 0.1²).
    static func randomized(_ config: SwinConfig, dtype: DType = .float64, seed: UInt64 = 11) -> SwinTransformer {
        let store = ParameterStore(dtype: dtype, generator: Generator(seed: seed))
        let model = SwinTransformer(store.root, config: config)
        let g = Generator(seed: seed + 1)
        withNoGrad {
            for (key, t) in model.namedParameters() {
                let z = Tensor.randn(t.shape, generator: g, dtype: dtype)
                if key.hasSuffix("relative_position_bias_table") {
                    t.copy_(z)
                } else if t.rank >= 2 {
                    t.copy_(z / Double(t.count / t.size(0)).squareRoot())
                } else if key.hasSuffix("weight") {
                    t.copy_(z * 0.1 + 1)
                } else {
                    t.copy_(z * 0.1)
                }
            }
        }
        return model
    }

    // MARK: the batched forward against a direct transcription

    @Test(arguments: [(20, 100), (100, 20), (64, 92)])
    func stagesMatchDirectComputation(height: Int, width: Int) {
        let config = Self.tinyConfig()
        let model = Self.randomized(config)
        let x = Tensor.randn([2, 3, height, width], generator: Generator(seed: 3), dtype: .float64)
        let ours = withNoGrad { model(x, returning: [0, 1, 2, 3], training: false, generator: nil) }
        let reference = SwinReference(model: model, config: config)
        let expected = withNoGrad { reference.stages(x) }
        for (s, (a, e)) in zip(ours, expected).enumerated() {
            let scale = max(1, e.abs().max().item())
            let diff = (a - e.permute(0, 3, 1, 2)).abs().max().item()
            #expect(diff <= 1e-9 * scale, "\(height)x\(width) stage \(s): max|a-b| = \(diff), max|ref| = \(scale)")
        }
    }

    /// The maps of a 20×100 input: stage 0 is 5×25 (padded 7×28) and stage 1 3×13 (padded 7×14),
    /// so odd blocks shift along W only; both merges pad odd sizes. A reference that shifts both
    /// axes, or neither, differs clearly: the comparison above can tell the rules apart.
    @Test func shiftIsDisabledPerAxis() {
        let config = Self.tinyConfig()
        let model = Self.randomized(config)
        let x = Tensor.randn([2, 3, 20, 100], generator: Generator(seed: 3), dtype: .float64)
        let ours = withNoGrad { model(x, returning: [1], training: false, generator: nil) }[0]
        for rule in [SwinReference.ShiftRule.bothOrNone, .always, .never] {
            var reference = SwinReference(model: model, config: config)
            reference.shiftRule = rule
            let other = withNoGrad { reference.stages(x) }[1].permute(0, 3, 1, 2)
            let diff = (ours - other).abs().max().item()
            #expect(diff > 1e-3, "shift rule \(rule) gives the same stage-1 output (max|a-b| = \(diff))")
        }
    }

    // MARK: training

    @Test func trainingIsStochasticAndReproducible() {
        let model = Self.randomized(
            Self.tinyConfig(stochasticDepth: 0.5, dropout: 0.1, attentionDropout: 0.1), dtype: .float32)
        let x = Tensor.randn([4, 3, 64, 64], generator: Generator(seed: 5))
        func run(training: Bool, seed: UInt64) -> [Tensor] {
            withNoGrad { model(x, returning: [1, 2, 3], training: training, generator: Generator(seed: seed)) }
        }
        func maxDiff(_ a: [Tensor], _ b: [Tensor]) -> Double {
            zip(a, b).map { ($0 - $1).abs().max().item() }.max()!
        }
        let eval = run(training: false, seed: 1)
        #expect(maxDiff(eval, run(training: false, seed: 2)) == 0, "eval must not depend on the generator")
        let train = run(training: true, seed: 1)
        #expect(maxDiff(train, eval) > 1e-3, "training output equals eval output")
        #expect(maxDiff(train, run(training: true, seed: 1)) == 0, "same seed, different training output")
        #expect(maxDiff(train, run(training: true, seed: 2)) > 1e-3, "another seed gives the same output")
    }

    /// Attention dropout 0 runs the fused attention with a mask that needs a gradient, 0.1 the
    /// explicit softmax path; both must reach the bias tables.
    @Test(arguments: [0.0, 0.1])
    func gradientsReachOnlyUnfrozenParameters(attentionDropout: Double) {
        let model = Self.randomized(
            Self.tinyConfig(stochasticDepth: 0.2, dropout: 0.1, attentionDropout: attentionDropout), dtype: .float32)
        model.freezeStages([0])
        let x = Tensor.randn([4, 3, 64, 64], generator: Generator(seed: 5))
        let outs = model(x, returning: [1, 2, 3], training: true, generator: Generator(seed: 9))
        outs.map { $0.square().mean() }.reduce(Tensor.zeros([]), +).backward()
        var frozen = 0, trained = 0
        for (key, t) in model.namedParameters() {
            if model.isFrozen(key, freezeIndices: [0]) {
                frozen += 1
                #expect(!t.requiresGrad && t.grad == nil, "\(key) is frozen but has a gradient")
            } else {
                trained += 1
                let norm = t.grad.map { $0.abs().sum().item() } ?? 0
                #expect(t.requiresGrad && norm > 0, "\(key) gets no gradient")
            }
        }
        // stem (4), stage 0 (2 blocks of 13), the first merge (3)
        #expect(frozen == 4 + 2 * 13 + 3)
        #expect(trained == model.namedParameters().count - frozen && trained > 0)
    }

    /// Training with attention dropout takes the explicit softmax path; with a negligible rate it
    /// must compute what the fused inference path computes.
    @Test func explicitAttentionMatchesFusedAttention() {
        let model = Self.randomized(Self.tinyConfig(stochasticDepth: 0, attentionDropout: 1e-12))
        let x = Tensor.randn([2, 3, 64, 92], generator: Generator(seed: 3), dtype: .float64)
        let fused = withNoGrad { model(x, returning: [0, 1, 2, 3], training: false, generator: nil) }
        let explicit = withNoGrad { model(x, returning: [0, 1, 2, 3], training: true, generator: Generator(seed: 1)) }
        for (s, (a, b)) in zip(explicit, fused).enumerated() {
            let diff = (a - b).abs().max().item()
            #expect(diff <= 1e-9 * max(1, b.abs().max().item()), "stage \(s): max|a-b| = \(diff)")
        }
    }

    // MARK: structure

    @Test func freezeRuleFollowsOfficialStages() {
        let model = SwinTransformer(ParameterStore().root, config: Self.tinyConfig())
        let features = Set(model.namedParameters().map { $0.key.split(separator: ".")[2] }.compactMap { Int($0) })
        #expect(features == Set(0...7))
        func frozenFeatures(_ indices: [Int]) -> Set<Int> {
            Set(
                model.namedParameters().filter { model.isFrozen($0.key, freezeIndices: indices) }
                    .map { Int($0.key.split(separator: ".")[2])! })
        }
        #expect(frozenFeatures([]) == [])
        #expect(frozenFeatures([0]) == [0, 1, 2])
        #expect(frozenFeatures([1, 3]) == [0, 3, 4, 7])
        #expect(frozenFeatures([2]) == [0, 5, 6])
    }

    @Test func buildsOnlyTheStagesUpToTheLastOne() {
        let model = SwinTransformer(ParameterStore().root, config: Self.tinyConfig(), lastStage: 2)
        let features = Set(model.stateDict().keys.map { Int($0.split(separator: ".")[2])! })
        #expect(features == Set(0...5), "stage 3 and the merge before it are not built")
        let index = model.stateDict()["0.features.1.0.attn.relative_position_index"]
        #expect(index?.dtype == .int64 && index?.shape == [49 * 49])
        #expect(model.stageChannels == [8, 16, 32, 64])
    }

    /// The relative position bias is cached at inference; loading new weights invalidates it.
    @Test func cachedBiasFollowsTableChanges() {
        let model = Self.randomized(Self.tinyConfig(), dtype: .float32)
        let x = Tensor.randn([1, 3, 32, 32], generator: Generator(seed: 5))
        let before = withNoGrad { model(x, returning: [0], training: false, generator: nil) }[0]
        let table = model.namedParameters().first { $0.key == "0.features.1.0.attn.relative_position_bias_table" }!
        // Row 84 is the offset (0, 0): it changes only the diagonal logits, so the softmax changes.
        withNoGrad { _ = table.tensor.narrow(dim: 0, start: 84, length: 1).add_(3.0) }
        let changed = withNoGrad { model(x, returning: [0], training: false, generator: nil) }[0]
        #expect((before - changed).abs().max().item() > 1e-3)
    }
}

/// The official Swin V1 forward written out directly from the state dict: explicit zero padding,
/// torch.roll, a loop over windows, the relative position bias from window coordinates and the
/// shift mask from the official slice assignments.
struct SwinReference {
    enum ShiftRule: Sendable { case perAxis, bothOrNone, always, never }

    let weights: StateDict
    let config: SwinConfig
    var shiftRule = ShiftRule.perAxis
    let window = 7

    init(model: SwinTransformer, config: SwinConfig) {
        weights = model.stateDict()
        self.config = config
    }

    func w(_ key: String) -> Tensor { weights[key]! }

    func layerNorm(_ x: Tensor, _ p: String) -> Tensor {
        Functional.layerNorm(x, normalizedShape: [x.size(-1)], weight: w(p + ".weight"), bias: w(p + ".bias"))
    }

    func linear(_ x: Tensor, _ p: String) -> Tensor {
        Tensor.linear(x, weight: w(p + ".weight"), bias: weights[p + ".bias"])
    }

    /// NHWC outputs of the four stages.
    func stages(_ x: Tensor) -> [Tensor] {
        let stem = Functional.conv2d(
            x, weight: w("0.features.0.0.weight"), bias: w("0.features.0.0.bias"), stride: (4, 4))
        var y = layerNorm(stem.permute(0, 2, 3, 1), "0.features.0.2")
        var out: [Tensor] = []
        for s in 0..<4 {
            if s > 0 { y = merge(y, "0.features.\(2 * s)") }
            for j in 0..<config.depths[s] {
                let p = "0.features.\(2 * s + 1).\(j)"
                y = y + attention(layerNorm(y, p + ".norm1"), p + ".attn", heads: config.numHeads[s], odd: j % 2 == 1)
                y = y + linear(linear(layerNorm(y, p + ".norm2"), p + ".mlp.0").gelu(), p + ".mlp.3")
            }
            out.append(y)
        }
        return out
    }

    func merge(_ x: Tensor, _ p: String) -> Tensor {
        let (h, w) = (x.size(1), x.size(2))
        let x = Functional.pad(x, [0, 0, 0, w % 2, 0, h % 2])
        func part(_ r: Int, _ c: Int) -> Tensor { x.slice(dim: 1, start: r, step: 2).slice(dim: 2, start: c, step: 2) }
        let merged = Tensor.cat([part(0, 0), part(1, 0), part(0, 1), part(1, 1)], dim: -1)
        return linear(layerNorm(merged, p + ".norm"), p + ".reduction")
    }

    func shift(padded: Int, odd: Bool) -> Int {
        guard odd else { return 0 }
        switch shiftRule {
        case .perAxis, .bothOrNone: return window >= padded ? 0 : window / 2
        case .always: return window / 2
        case .never: return 0
        }
    }

    func attention(_ x: Tensor, _ p: String, heads: Int, odd: Bool) -> Tensor {
        let (b, h, wd, c) = (x.size(0), x.size(1), x.size(2), x.size(3))
        let hp = (h + window - 1) / window * window, wp = (wd + window - 1) / window * window
        var sh = shift(padded: hp, odd: odd), sw = shift(padded: wp, odd: odd)
        if shiftRule == .bothOrNone && (sh == 0 || sw == 0) { (sh, sw) = (0, 0) }
        let padded = Functional.pad(x, [0, 0, 0, wp - wd, 0, hp - h])
        let rolled = padded.roll(-sh, dim: 1).roll(-sw, dim: 2)
        let n = window * window, d = c / heads
        // bias[head, a, b] = table[(ya - yb + 6) * 13 + (xa - xb + 6), head]
        var rows: [Int] = []
        for a in 0..<n {
            for bb in 0..<n {
                rows.append(
                    (a / window - bb / window + window - 1) * (2 * window - 1) + a % window - bb % window + window - 1)
            }
        }
        let bias = w(p + ".relative_position_bias_table").index([.tensor(Tensor(rows))]).view(n, n, heads)
            .permute(2, 0, 1)
        let labels = officialRegionLabels(hp, wp, sh, sw)
        var windowRows: [Tensor] = []
        for wy in 0..<(hp / window) {
            var windowCols: [Tensor] = []
            for wx in 0..<(wp / window) {
                let tokens = rolled.slice(dim: 1, start: wy * window, end: (wy + 1) * window)
                    .slice(dim: 2, start: wx * window, end: (wx + 1) * window).reshape(b, n, c)
                let qkv = linear(tokens, p + ".qkv").view(b, n, 3, heads, d).permute(2, 0, 3, 1, 4)
                var logits = (qkv[0] * (1 / Double(d).squareRoot())).matmul(qkv[1].transpose(-2, -1)) + bias
                if sh > 0 || sw > 0 {
                    var mask: [Double] = []
                    for a in 0..<n {
                        for bb in 0..<n {
                            let la = labels[wy * window + a / window][wx * window + a % window]
                            let lb = labels[wy * window + bb / window][wx * window + bb % window]
                            mask.append(la == lb ? 0 : -100)
                        }
                    }
                    logits = logits + Tensor(mask, shape: [n, n]).to(x.dtype)
                }
                let o = logits.softmax(dim: -1).matmul(qkv[2]).transpose(1, 2).reshape(b, n, c)
                windowCols.append(linear(o, p + ".proj").view(b, window, window, c))
            }
            windowRows.append(Tensor.cat(windowCols, dim: 2))
        }
        let y = Tensor.cat(windowRows, dim: 1).roll(sh, dim: 1).roll(sw, dim: 2)
        return y.slice(dim: 1, end: h).slice(dim: 2, end: wd).contiguous()
    }

    /// The region labels of the official mask: slices [0:-window], [-window:-shift], [-shift:] per
    /// axis with Python's slice rules (a shift of 0 makes the last slice the whole axis), later
    /// assignments overwriting earlier ones.
    func officialRegionLabels(_ hp: Int, _ wp: Int, _ sh: Int, _ sw: Int) -> [[Int]] {
        func resolve(_ start: Int, _ end: Int?, _ n: Int) -> Range<Int> {
            let s = start < 0 ? max(start + n, 0) : min(start, n)
            let e = end.map { $0 < 0 ? max($0 + n, 0) : min($0, n) } ?? n
            return s < e ? s..<e : s..<s
        }
        func slices(_ n: Int, _ shift: Int) -> [Range<Int>] {
            [resolve(0, -window, n), resolve(-window, -shift, n), resolve(-shift, nil, n)]
        }
        var labels = Array(repeating: Array(repeating: 0, count: wp), count: hp)
        var count = 0
        for rows in slices(hp, sh) {
            for cols in slices(wp, sw) {
                for r in rows { for c in cols { labels[r][c] = count } }
                count += 1
            }
        }
        return labels
    }
}
