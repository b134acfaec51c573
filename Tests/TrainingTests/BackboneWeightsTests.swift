import Detection
import Diagnostics
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Training

/// `InitialWeights.loadBackbone` on files laid out as the published classification weights: the
/// backbone's own tensors under the family's bare keys plus what the published files carry
/// besides (classifier head, final norm, batch-norm counters).
@Suite struct BackboneWeightsTests {
    /// Small configs of each family (the official key layout at toy sizes).
    static func config(_ family: String) -> ModelConfig {
        if family == "conditional" {
            return TestSupport.tinyConditionalConfig(numClasses: 4, numQueries: 6, decoderLayers: 1, dropout: 0)
        }
        var c = TestSupport.tinySalienceConfig()
        switch family {
        case "swin":
            c.backbone.type = .swin
            c.backbone.swin.embedDim = 8
            c.backbone.swin.depths = [1, 1, 2, 1]
            c.backbone.swin.numHeads = [1, 2, 2, 4]
            c.backbone.swin.windowSize = [4, 4]
        case "convnext":
            c.backbone.type = .convnext
            c.backbone.convnext.channels = [8, 16, 32, 64]
            c.backbone.convnext.depths = [1, 1, 2, 1]
        case "focalnet":
            c.backbone.type = .focalnet
            c.backbone.focalnet.embedDim = 8
            c.backbone.focalnet.depths = [1, 1, 2, 1]
            c.backbone.focalnet.focalLevels = [2, 2, 2, 2]
        default: break
        }
        return c
    }

    /// What a published file of `family` holds besides the backbone tensors (width `c` of the
    /// last stage, `bnKeys` the running means of the batch norms).
    static func extras(_ family: String, lastWidth c: Int, runningMeans: [String]) -> StateDict {
        var out = StateDict()
        let g = Generator(seed: 99)
        switch family {
        case "resnet", "conditional":
            out["fc.weight"] = Tensor.randn([1000, c], generator: g)
            out["fc.bias"] = Tensor.randn([1000], generator: g)
            for key in runningMeans {
                out[key.replacingOccurrences(of: ".running_mean", with: ".num_batches_tracked")] = Tensor(scalar: Int64(7))
            }
        case "convnext":
            out["classifier.0.weight"] = Tensor.randn([c], generator: g)
            out["classifier.0.bias"] = Tensor.randn([c], generator: g)
            out["classifier.2.weight"] = Tensor.randn([1000, c], generator: g)
            out["classifier.2.bias"] = Tensor.randn([1000], generator: g)
        default:
            out["norm.weight"] = Tensor.randn([c], generator: g)
            out["norm.bias"] = Tensor.randn([c], generator: g)
            out["head.weight"] = Tensor.randn([1000, c], generator: g)
            out["head.bias"] = Tensor.randn([1000], generator: g)
        }
        return out
    }

    @Test(arguments: ["resnet", "conditional", "swin", "convnext", "focalnet"])
    func fillsTheBackboneAsTheOfficialLoader(family: String) throws {
        let config = Self.config(family)
        let recipe = config.recipe
        let root = recipe.publishedBackboneRoot
        let source = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: 1)))
        let target = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: 2)))
        let published = source.stateDict().stripping(prefix: root)
        let lastWidth = published.keys.compactMap { published[$0] }.last { $0.shape.count >= 1 }.map { $0.shape[0] } ?? 1
        var file = published
        let extras = Self.extras(
            family, lastWidth: lastWidth, runningMeans: published.keys.filter { $0.hasSuffix(".running_mean") })
        for (k, v) in extras { file[k] = v }
        let dir = try TestSupport.temporaryDirectory("bb-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("\(family).safetensors")
        try Safetensors.write(file, to: url)
        let before = target.stateDict()
        let report = try InitialWeights.loadBackbone(url, into: target)
        #expect(report.root == root)
        #expect(report.loaded == published.count)
        #expect(report.unused == extras.keys, "\(family)")
        #expect(report.shapeMismatches.isEmpty)
        let after = target.stateDict()
        for key in after.keys {
            let now = try #require(after[key])
            if key.hasPrefix(root) {
                #expect(TestSupport.maxAbsDiff(now, try #require(published[String(key.dropFirst(root.count))])) == 0, "\(key)")
            } else {
                #expect(TestSupport.maxAbsDiff(now, try #require(before[key])) == 0, "\(key) changed")
            }
        }
        // Only the detection wrapper's own backbone tensors (FocalNet's output norms) stay.
        let wrapper = after.keys.filter { $0.hasPrefix(recipe.backbonePrefix) && !$0.hasPrefix(root) }
        #expect(report.leftInitialised == wrapper)
        #expect(family != "focalnet" || !wrapper.isEmpty)
        #expect(report.summary.contains("\(published.count) tensors into \(root.dropLast())"), "\(report.summary)")
    }

    /// A detector checkpoint gives its backbone: the tensors under the published root.
    @Test(arguments: ["conditional", "focalnet"])
    func takesTheBackboneOfADetectorCheckpoint(family: String) throws {
        let config = Self.config(family)
        let root = config.recipe.publishedBackboneRoot
        let source = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: 1)))
        let target = try DetectorFactory.make(config: config, store: ParameterStore(generator: Generator(seed: 2)))
        let dir = try TestSupport.temporaryDirectory("bb-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("detector.safetensors")
        try Safetensors.write(source.stateDict(), to: url)
        let report = try InitialWeights.loadBackbone(url, into: target)
        let backbone = source.stateDict().stripping(prefix: root)
        #expect(report.loaded == backbone.count && report.shapeMismatches.isEmpty)
        let after = target.stateDict().stripping(prefix: root)
        for key in backbone.keys {
            #expect(TestSupport.maxAbsDiff(try #require(after[key]), try #require(backbone[key])) == 0, "\(key)")
        }
    }

    @Test func refusesAFileOfAnotherFamily() throws {
        let resnet = try DetectorFactory.make(config: Self.config("resnet"))
        let swin = try DetectorFactory.make(config: Self.config("swin"))
        let dir = try TestSupport.temporaryDirectory("bb-weights")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("resnet.safetensors")
        try Safetensors.write(resnet.stateDict().stripping(prefix: "backbone."), to: url)
        #expect {
            try InitialWeights.loadBackbone(url, into: swin)
        } throws: { error in
            guard let e = error as? FileError else { return false }
            return e.file == url.path && e.problem.contains("no tensor fits the swin backbone")
        }
        // The same stem at another width: every shape differs, named in the error.
        var narrow = Self.config("convnext")
        narrow.backbone.convnext.channels = [4, 8, 16, 32]
        let other = try DetectorFactory.make(config: narrow)
        let convnext = try DetectorFactory.make(config: Self.config("convnext"))
        try Safetensors.write(other.stateDict().stripping(prefix: "backbone."), to: url)
        #expect {
            try InitialWeights.loadBackbone(url, into: convnext)
        } throws: { error in
            (error as? FileError)?.problem.contains("shapes differ, e.g. features.0.0.weight") == true
        }
    }
}

/// Opt-in (`DETR_PUBLISHED_BACKBONES`, made by `Benchmarks/backbones/published_weights.py`): the
/// full-size presets load files of the exact published layouts and compute what the official
/// backbones compute after their own loaders read the same files.
@Suite(
    .enabled(
        if: ProcessInfo.processInfo.environment["DETR_PUBLISHED_BACKBONES"] != nil,
        "set DETR_PUBLISHED_BACKBONES to the folder published_weights.py wrote"))
struct PublishedBackboneTests {
    static let presets = [
        "resnet": "salience-detr-r50", "conditional_resnet50": "conditional-detr-r50",
        "convnext": "salience-detr-convnext-l", "swin": "salience-detr-swin-l", "focalnet": "salience-detr-focalnet-l",
    ]

    @Test(arguments: ["resnet", "conditional_resnet50", "convnext", "swin", "focalnet"])
    func matchesTheOfficialBackbone(name: String) throws {
        let dir = URL(fileURLWithPath: ProcessInfo.processInfo.environment["DETR_PUBLISHED_BACKBONES"]!)
        let file = dir.appendingPathComponent("\(name).pth")
        guard FileManager.default.fileExists(atPath: file.path) else {
            Issue.record("\(file.path) missing: run published_weights.py")
            return
        }
        let reference = try Safetensors.read(contentsOf: dir.appendingPathComponent("\(name).safetensors"))
        let preset = try #require(Self.presets[name])
        let config = try #require(ModelConfig.preset(preset))
        let model = try DetectorFactory.make(config: config)
        let report = try InitialWeights.loadBackbone(file, into: model)
        #expect(report.loaded == Int(try #require(reference.metadata["filled"])), "\(report.summary)")
        #expect(report.shapeMismatches.isEmpty, "\(report.summary)")
        let x = try #require(reference.tensors["input"])
        let outputs: [Tensor] = withNoGrad {
            if let m = model as? SalienceDETR {
                m.backbone(x, returning: config.backbone.returnIndices, training: false, generator: nil)
            } else if let m = model as? ConditionalDETR {
                m.backbone(x, returning: [3])
            } else {
                []
            }
        }
        let count = reference.tensors.keys.filter { $0.hasPrefix("out") }.count
        #expect(outputs.count == count)
        for (i, out) in outputs.enumerated() {
            TestSupport.expectClose(
                out.contiguous(), try #require(reference.tensors["out\(i)"]), atol: 1e-5, rtol: 1e-4, "\(name) out\(i)")
        }
    }
}
