import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// FocalNet behaviour the tiny Salience DETR fixture does not reach: odd input sizes, the
/// non-default switches (checked against a plain op-by-op reference written from the model's
/// definition), training randomness, freezing and initialisation.
@Suite struct FocalNetTests {
    /// A small FocalNet config: 4 channels, one block per stage, 2 focal levels.
    static func tiny(_ edit: (inout FocalNetConfig) -> Void = { _ in }) -> FocalNetConfig {
        var c = FocalNetConfig()
        c.embedDim = 4
        c.depths = [1, 1, 2, 1]
        c.focalLevels = [2, 2, 2, 2]
        c.focalWindows = [3, 3, 3, 3]
        edit(&c)
        return c
    }

    /// A FocalNet returning all four stages, with weights redrawn to unit-scale values (layer
    /// scales near 1, so that every branch matters).
    static func model(_ config: FocalNetConfig, returning: [Int] = [0, 1, 2, 3], seed: UInt64 = 7) -> FocalNet {
        let net = FocalNet(
            ParameterStore(generator: Generator(seed: seed)).root, config: config, returnIndices: returning)
        let g = Generator(seed: seed + 1)
        withNoGrad {
            for (key, t) in net.namedParameters() {
                let noise = Tensor.randn(t.shape, generator: g)
                if t.rank >= 2 {
                    _ = t.copy_(noise / Double(t.shape.dropFirst().reduce(1, *)).squareRoot())
                } else if key.hasSuffix("bias") {
                    _ = t.copy_(noise * 0.1)
                } else {
                    _ = t.copy_(noise * 0.1 + 1)  // LayerNorm weights, layer scales
                }
            }
        }
        return net
    }

    static func input(_ shape: [Int], seed: UInt64 = 3) -> Tensor {
        Tensor.randn(shape, generator: Generator(seed: seed))
    }

    /// max|a-b| / max(1, max|b|).
    static func error(_ a: Tensor, _ b: Tensor) -> Double {
        TestSupport.maxAbsDiff(a.to(.float64), b.to(.float64)) / max(1, b.abs().max().item())
    }

    @Test func oddSizesArePaddedBottomRightAtEveryEmbedding() {
        // Overlapping stem 7x7/4 on 37x50 padded to 40x52 -> 10x13; 3x3/2 downsamples of maps
        // padded to even sizes: 10x14 -> 5x7, 6x8 -> 3x4, 4x4 -> 2x2.
        let conv = Self.model(Self.tiny())
        let x = Self.input([2, 3, 37, 50])
        let out = withNoGrad { conv(x, returning: [0, 1, 2, 3], training: false, generator: nil) }
        #expect(out.map(\.shape) == [[2, 4, 10, 13], [2, 8, 5, 7], [2, 16, 3, 4], [2, 32, 2, 2]])
        // Zero padding at the bottom and right: explicitly padded input, same outputs.
        let padded = Functional.pad(x, [0, 2, 0, 3])
        let same = withNoGrad { conv(padded, returning: [0, 1, 2, 3], training: false, generator: nil) }
        for (a, b) in zip(out, same) { #expect(Self.error(a, b) < 1e-6) }
        // Padding at the top instead would change the result.
        let shifted = withNoGrad {
            conv(Functional.pad(x, [0, 2, 3, 0]), returning: [0, 1, 2, 3], training: false, generator: nil)
        }
        #expect(Self.error(shifted[0], out[0]) > 1e-3)

        // Non-overlapping patches 3x5: 37x50 -> 39x50 -> 13x10; 2x2 downsamples: 14x10 -> 7x5,
        // 8x6 -> 4x3, 4x4 -> 2x2.
        let patches = Self.model(
            Self.tiny {
                $0.useConvEmbed = false
                $0.patchSize = [3, 5]
            })
        let y = withNoGrad { patches(x, returning: [0, 1, 2, 3], training: false, generator: nil) }
        #expect(y.map(\.shape) == [[2, 4, 13, 10], [2, 8, 7, 5], [2, 16, 4, 3], [2, 32, 2, 2]])
    }

    static let switchCases = [
        "defaults", "patch embeddings", "pre-norm", "no layer scale", "LayerNorm in modulation",
        "unnormalised modulator", "levels and windows per stage",
    ]

    /// The tiny config with the switch of `name` changed.
    static func switchConfig(_ name: String) -> FocalNetConfig {
        tiny {
            switch name {
            case "patch embeddings":
                $0.useConvEmbed = false
                $0.patchSize = [3, 5]
            case "pre-norm": $0.usePostLN = false
            case "no layer scale": $0.useLayerScale = false
            case "LayerNorm in modulation": $0.usePostLNInModulation = true
            case "unnormalised modulator": $0.normalizeModulator = false
            case "levels and windows per stage":
                $0.focalLevels = [1, 3, 2, 4]
                $0.focalWindows = [5, 3, 1, 3]
            default: break
            }
        }
    }

    @Test(arguments: switchCases)
    func switchesMatchTheReference(name: String) {
        let config = Self.switchConfig(name)
        let net = Self.model(config, returning: [1, 2, 3])
        let x = Self.input([2, 3, 45, 62])
        let ours = withNoGrad { net(x, returning: [1, 2, 3], training: false, generator: nil) }
        let reference = withNoGrad {
            FocalNetReference(weights: net.stateDict(), config: config)(x, returning: [1, 2, 3])
        }
        #expect(ours.count == 3)
        for (l, (a, b)) in zip(ours, reference).enumerated() {
            #expect(a.shape == b.shape, "\(name) level \(l)")
            guard a.shape == b.shape else { continue }
            let e = Self.error(a, b)
            #expect(e < 1e-4, "\(name) level \(l): normalised error \(e)")
            #expect(b.abs().max().item() > 0.1, "\(name) level \(l): reference is degenerate")
        }
    }

    @Test func keysFollowTheSwitches() {
        func keys(_ edit: (inout FocalNetConfig) -> Void, returning: [Int] = [1, 2, 3]) -> [String] {
            let net = FocalNet(ParameterStore().root, config: Self.tiny(edit), returnIndices: returning)
            return Array(net.stateDict().keys)
        }
        let block = "0.layers.1.blocks.0."
        func blockKeys(_ all: [String]) -> [String] {
            all.filter { $0.hasPrefix(block) }.map { String($0.dropFirst(block.count)) }
        }
        let modulation = [
            "modulation.f.weight", "modulation.f.bias", "modulation.focal_layers.0.0.weight",
            "modulation.focal_layers.1.0.weight", "modulation.h.weight", "modulation.h.bias",
        ]
        let proj = ["modulation.proj.weight", "modulation.proj.bias"]
        let mlp = ["mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias"]
        let norm1 = ["norm1.weight", "norm1.bias"], norm2 = ["norm2.weight", "norm2.bias"]
        let gammas = ["gamma_1", "gamma_2"]
        #expect(blockKeys(keys { _ in }) == gammas + modulation + proj + norm1 + mlp + norm2)
        #expect(blockKeys(keys { $0.usePostLN = false }) == gammas + norm1 + modulation + proj + norm2 + mlp)
        #expect(blockKeys(keys { $0.useLayerScale = false }) == modulation + proj + norm1 + mlp + norm2)
        #expect(
            blockKeys(keys { $0.usePostLNInModulation = true })
                == gammas + modulation + ["modulation.ln.weight", "modulation.ln.bias"] + proj + norm1 + mlp + norm2)

        // Stages up to the last returned one; downsamples only where a later stage is built; output
        // norms named by stage.
        let pruned = keys({ _ in }, returning: [0, 2])
        #expect(pruned.contains("0.layers.1.downsample.proj.weight"))
        #expect(!pruned.contains { $0.hasPrefix("0.layers.2.downsample.") || $0.hasPrefix("0.layers.3.") })
        #expect(
            pruned.filter { $0.hasPrefix("1.") } == [
                "1.norm0.weight", "1.norm0.bias", "1.norm2.weight", "1.norm2.bias",
            ])

        // Patch embeddings without overlap: kernel = stride = patch size.
        let net = FocalNet(
            ParameterStore().root,
            config: Self.tiny {
                $0.useConvEmbed = false
                $0.patchSize = [3, 5]
            }, returnIndices: [1, 2, 3])
        let sd = net.stateDict()
        #expect(sd["0.patch_embed.proj.weight"]?.shape == [4, 3, 3, 5])
        #expect(sd["0.layers.0.downsample.proj.weight"]?.shape == [8, 4, 2, 2])
        let overlapping = FocalNet(ParameterStore().root, config: Self.tiny(), returnIndices: [1, 2, 3]).stateDict()
        #expect(overlapping["0.patch_embed.proj.weight"]?.shape == [4, 3, 7, 7])
        #expect(overlapping["0.layers.2.downsample.proj.weight"]?.shape == [32, 16, 3, 3])
    }

    /// Training randomness from stochastic depth alone and from dropout alone: outputs differ from
    /// eval, repeat with the same seeded generator and change with another seed; eval repeats.
    @Test(arguments: [(0.5, 0.0), (0.0, 0.1)])
    func trainingIsStochasticAndReproducible(stochasticDepth: Double, dropout: Double) {
        let config = Self.tiny {
            $0.stochasticDepthProb = stochasticDepth
            $0.dropout = dropout
        }
        let net = Self.model(config, returning: [1, 2, 3])
        let x = Self.input([4, 3, 32, 32])
        let eval = withNoGrad { net(x, returning: [1, 2, 3], training: false, generator: nil) }
        let evalAgain = withNoGrad { net(x, returning: [1, 2, 3], training: false, generator: nil) }
        for (a, b) in zip(eval, evalAgain) { #expect(TestSupport.maxAbsDiff(a, b) == 0) }
        func train(seed: UInt64) -> [Tensor] {
            withNoGrad { net(x, returning: [1, 2, 3], training: true, generator: Generator(seed: seed)) }
        }
        let first = train(seed: 11), again = train(seed: 11), other = train(seed: 12)
        for l in 0..<3 {
            #expect(Self.error(first[l], eval[l]) > 1e-3, "training differs from eval at level \(l)")
            #expect(TestSupport.maxAbsDiff(first[l], again[l]) == 0, "same seed, same output at level \(l)")
        }
        #expect((0..<3).contains { Self.error(first[$0], other[$0]) > 1e-3 }, "another seed, another output")
    }

    @Test func gradientsReachOnlyUnfrozenParameters() {
        let config = Self.tiny {
            $0.stochasticDepthProb = 0.5
            $0.dropout = 0.1
        }
        let net = Self.model(config, returning: [1, 2, 3])
        net.freezeStages([0])
        let x = Self.input([4, 3, 32, 32])
        // Gradients: none for the stem and stage 0 (frozen), some for everything else.
        let out = net(x, returning: [1, 2, 3], training: true, generator: Generator(seed: 13))
        out.map { ($0 * $0).mean() }.reduce(Tensor.zeros([]), +).backward()
        var nonzero = 0
        for (key, t) in net.namedParameters() {
            let frozen = key.hasPrefix("0.patch_embed.") || key.hasPrefix("0.layers.0.")
            #expect(frozen == !t.requiresGrad, "\(key)")
            if frozen {
                #expect(t.grad == nil, "\(key) is frozen but has a gradient")
            } else if let g = t.grad {
                #expect(g.isFinite().all().bools[0], "\(key)")
                if g.abs().max().item() > 0 { nonzero += 1 }
            } else {
                Issue.record("\(key) has no gradient")
            }
        }
        #expect(nonzero > net.trainableParameters().count / 2)
    }

    @Test func evenFocalWindowsAreRejected() throws {
        var config = try #require(ModelConfig.preset("salience-detr-focalnet-l"))
        try config.validate()
        config.backbone.focalnet.focalWindows = [3, 4, 3, 3]
        #expect(throws: ConfigError.self) { try config.validate() }
    }

    @Test func freezeRule() {
        let net = FocalNet(ParameterStore().root, config: Self.tiny(), returnIndices: [1, 2, 3])
        #expect(net.isFrozen("0.patch_embed.proj.weight", freezeIndices: [0]))
        #expect(net.isFrozen("0.layers.0.blocks.0.gamma_1", freezeIndices: [0]))
        #expect(net.isFrozen("0.layers.0.downsample.norm.bias", freezeIndices: [0]))
        #expect(!net.isFrozen("0.layers.1.blocks.0.gamma_1", freezeIndices: [0]))
        #expect(!net.isFrozen("1.norm1.weight", freezeIndices: [0, 1]))
        #expect(net.isFrozen("0.layers.1.downsample.proj.weight", freezeIndices: [0, 1]))
        #expect(net.isFrozen("0.patch_embed.norm.weight", freezeIndices: [2]))
        #expect(!net.isFrozen("0.layers.0.blocks.0.gamma_1", freezeIndices: [2]))
        #expect(!net.isFrozen("0.patch_embed.proj.weight", freezeIndices: []))
    }

    @Test func initialisationIsTheOfficialOne() throws {
        let net = FocalNet(
            ParameterStore(generator: Generator(seed: 5)).root, config: FocalNetConfig(), returnIndices: [1, 2, 3])
        let sd = net.stateDict()
        let gamma = try #require(sd["0.layers.2.blocks.3.gamma_2"])
        #expect(gamma.floats.allSatisfy { abs($0 - 1e-4) < 1e-9 })
        let f = try #require(sd["0.layers.1.blocks.0.modulation.f.weight"])
        let std = f.std().item()
        #expect(abs(std - 0.02) < 0.001 && abs(f.mean().item()) < 0.001, "f weight std \(std)")
        #expect(sd["0.layers.3.blocks.1.mlp.fc2.bias"]!.abs().max().item() == 0)
        #expect(sd["0.layers.0.blocks.1.norm2.weight"]!.floats.allSatisfy { $0 == 1 })
        #expect(sd["1.norm3.bias"]!.abs().max().item() == 0)
    }
}

/// FocalNet written op by op as the model is defined (NHWC maps, permute copies to NCHW around
/// the convolutions, per-level gated sums, division by L + 1 before `h`), reading the weights
/// from a state dict. Independent of `FocalNet`'s fused formulation.
struct FocalNetReference {
    let weights: StateDict
    let config: FocalNetConfig

    func w(_ key: String) -> Tensor { weights[key]! }

    func layerNorm(_ x: Tensor, _ key: String) -> Tensor {
        Functional.layerNorm(x, normalizedShape: [x.size(-1)], weight: w(key + ".weight"), bias: w(key + ".bias"))
    }

    func linear(_ x: Tensor, _ key: String) -> Tensor {
        Tensor.linear(x, weight: w(key + ".weight"), bias: w(key + ".bias"))
    }

    /// NHWC in and out.
    func embed(_ x: Tensor, _ key: String, patch: (Int, Int), stem: Bool) -> Tensor {
        let (h, wd) = (x.size(1), x.size(2))
        let padded = Functional.pad(
            x, [0, 0, 0, (patch.1 - wd % patch.1) % patch.1, 0, (patch.0 - h % patch.0) % patch.0])
        let (stride, padding) =
            config.useConvEmbed ? (stem ? ((4, 4), (2, 2)) : ((2, 2), (1, 1))) : (patch, (0, 0))
        let y = Functional.conv2d(
            padded.permute(0, 3, 1, 2).contiguous(), weight: w(key + ".proj.weight"), bias: w(key + ".proj.bias"),
            stride: stride, padding: padding)
        return layerNorm(y.permute(0, 2, 3, 1).contiguous(), key + ".norm")
    }

    func modulation(_ x: Tensor, _ key: String, levels: Int) -> Tensor {
        let c = x.size(-1)
        let y = linear(x, key + ".f").permute(0, 3, 1, 2).contiguous()
        let parts = y.split(sizes: [c, c, levels + 1], dim: 1)
        var ctx = parts[1]
        var all = Tensor.zeros(ctx.shape)
        for l in 0..<levels {
            let kernel = w(key + ".focal_layers.\(l).0.weight")
            ctx = Functional.conv2d(
                ctx, weight: kernel, padding: (kernel.size(2) / 2, kernel.size(3) / 2), groups: c
            ).gelu()
            all = all + ctx * parts[2].narrow(dim: 1, start: l, length: 1)
        }
        let global = ctx.mean(dim: 2, keepDim: true).mean(dim: 3, keepDim: true).gelu()
        all = all + global * parts[2].narrow(dim: 1, start: levels, length: 1)
        if config.normalizeModulator { all = all / Double(levels + 1) }
        let hOut = Functional.conv2d(all, weight: w(key + ".h.weight"), bias: w(key + ".h.bias"))
        var out = (parts[0] * hOut).permute(0, 2, 3, 1).contiguous()
        if config.usePostLNInModulation { out = layerNorm(out, key + ".ln") }
        return linear(out, key + ".proj")
    }

    func block(_ x: Tensor, _ key: String, levels: Int) -> Tensor {
        let one = Tensor.ones([x.size(-1)])
        let g1 = config.useLayerScale ? w(key + ".gamma_1") : one
        let g2 = config.useLayerScale ? w(key + ".gamma_2") : one
        func mlp(_ y: Tensor) -> Tensor { linear(linear(y, key + ".mlp.fc1").gelu(), key + ".mlp.fc2") }
        if config.usePostLN {
            let y = x + g1 * layerNorm(modulation(x, key + ".modulation", levels: levels), key + ".norm1")
            return y + g2 * layerNorm(mlp(y), key + ".norm2")
        }
        let y = x + g1 * modulation(layerNorm(x, key + ".norm1"), key + ".modulation", levels: levels)
        return y + g2 * mlp(layerNorm(y, key + ".norm2"))
    }

    func callAsFunction(_ images: Tensor, returning indices: [Int]) -> [Tensor] {
        var x = embed(
            images.permute(0, 2, 3, 1), "0.patch_embed", patch: (config.patchSize[0], config.patchSize[1]), stem: true)
        var out: [Tensor] = []
        for s in 0...indices.max()! {
            for j in 0..<config.depths[s] { x = block(x, "0.layers.\(s).blocks.\(j)", levels: config.focalLevels[s]) }
            if indices.contains(s) { out.append(layerNorm(x, "1.norm\(s)").permute(0, 3, 1, 2)) }
            if s < indices.max()! { x = embed(x, "0.layers.\(s).downsample", patch: (2, 2), stem: false) }
        }
        return out
    }
}
