import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch
import Vision

/// Group DETR for Conditional DETR (the official `--group_detr G`): G groups of queries that only
/// see each other within their group, matched and supervised per group. Checked by its defining
/// property: a G-group training forward equals G separate single-group forwards, and the grouped
/// criterion equals the mean of the per-group criteria.
@Suite struct GroupDETRTests {
    static let groups = 3

    static func config(groups: Int) -> ModelConfig {
        var c = TestSupport.tinyConditionalConfig(numClasses: 5, numQueries: 6, decoderLayers: 3, dropout: 0)
        c.conditional?.groupDetr = groups
        return c
    }

    static func batch() -> ImageBatch {
        let g = Generator(seed: 21)
        let images = Tensor.randn([2, 3, 64, 80], generator: g)
        var mask = [Bool](repeating: false, count: 2 * 64 * 80)
        for y in 0..<64 { for x in 60..<80 { mask[(64 + y) * 80 + x] = true } }  // image 1 is 64x60
        return ImageBatch(
            images: images, mask: Tensor(mask, shape: [2, 64, 80]), imageSizes: [(64, 80), (64, 60)],
            originalSizes: [(64, 80), (64, 60)])
    }

    /// The grouped model and, for each group, a single-group model holding that group's queries.
    static func models() throws -> (grouped: ConditionalDETR, single: [ConditionalDETR]) {
        let grouped = ConditionalDETR(
            ParameterStore(generator: Generator(seed: 4)).root, config: config(groups: groups))
        let q = grouped.config.numQueries
        let state = grouped.stateDict()
        let single = try (0..<groups).map { g -> ConditionalDETR in
            let m = ConditionalDETR(ParameterStore().root, config: config(groups: 1))
            var s = state
            s["query_embed.weight"] = state["query_embed.weight"]!.slice(dim: 0, start: g * q, end: (g + 1) * q)
                .contiguous()
            try m.load(stateDict: s)
            return m
        }
        return (grouped, single)
    }

    @Test func groupedForwardEqualsSeparateGroups() throws {
        let (grouped, single) = try Self.models()
        let b = Self.batch()
        let q = grouped.config.numQueries
        #expect(grouped.stateDict()["query_embed.weight"]!.shape == [q * Self.groups, 32])
        let out = withNoGrad { grouped(b, options: .training()) }
        #expect(out.final.logits.shape == [2, q * Self.groups, 5])
        #expect(out.auxiliary.count == 2)
        for (g, m) in single.enumerated() {
            let ref = withNoGrad { m(b, options: .training()) }
            for (layer, (a, r)) in zip(out.auxiliary + [out.final], ref.auxiliary + [ref.final]).enumerated() {
                TestSupport.expectClose(
                    a.logits.slice(dim: 1, start: g * q, end: (g + 1) * q), r.logits, atol: 1e-5, rtol: 1e-5,
                    "group \(g) layer \(layer) logits")
                TestSupport.expectClose(
                    a.boxes.slice(dim: 1, start: g * q, end: (g + 1) * q), r.boxes, atol: 1e-6, rtol: 1e-5,
                    "group \(g) layer \(layer) boxes")
            }
        }
        // Inference uses the first group only.
        let evalOut = withNoGrad { grouped(b) }
        let evalRef = withNoGrad { single[0](b) }
        #expect(evalOut.final.logits.shape == [2, q, 5])
        TestSupport.expectClose(evalOut.final.logits, evalRef.final.logits, atol: 1e-5, rtol: 1e-5, "eval logits")
        TestSupport.expectClose(evalOut.final.boxes, evalRef.final.boxes, atol: 1e-6, rtol: 1e-5, "eval boxes")
    }

    static func targets() -> [DetectionTarget] {
        [
            DetectionTarget(
                labels: Tensor([1, 4, 2]),
                boxes: Tensor([0.3, 0.3, 0.2, 0.2, 0.6, 0.7, 0.3, 0.4, 0.5, 0.5, 0.9, 0.8] as [Float], shape: [3, 4])),
            DetectionTarget(labels: Tensor([3]), boxes: Tensor([0.2, 0.6, 0.1, 0.3] as [Float], shape: [1, 4])),
        ]
    }

    @Test func matcherMatchesEachGroupSeparately() throws {
        let g = Generator(seed: 8)
        let (q, groups) = (7, 4)
        let logits = Tensor.randn([2, q * groups, 5], generator: g)
        let boxes = Tensor.rand([2, q * groups, 4], generator: g) * 0.5 + 0.25
        let matcher = HungarianMatcher()
        let grouped = try matcher(logits: logits, boxes: boxes, targets: Self.targets(), groups: groups)
        var expected = [MatchIndices](repeating: MatchIndices(predictions: [], targets: []), count: 2)
        for k in 0..<groups {
            let part = try matcher(
                logits: logits.slice(dim: 1, start: k * q, end: (k + 1) * q),
                boxes: boxes.slice(dim: 1, start: k * q, end: (k + 1) * q), targets: Self.targets())
            for i in 0..<2 {
                expected[i].predictions += part[i].predictions.map { $0 + k * q }
                expected[i].targets += part[i].targets
            }
        }
        #expect(grouped == expected)
        #expect(grouped[0].predictions.count == 3 * groups && grouped[1].predictions.count == groups)
    }

    @Test func criterionIsTheMeanOfPerGroupCriteria() throws {
        let (grouped, single) = try Self.models()
        let b = Self.batch()
        let out = withNoGrad { grouped(b, options: .training()) }
        let matcher = HungarianMatcher()
        let groupedTerms = try SetCriterion(matcher: matcher, numClasses: 5, groups: Self.groups)(
            out, targets: Self.targets()
        ).terms
        var sums: [String: Double] = [:]
        for m in single {
            let t = try SetCriterion(matcher: matcher, numClasses: 5)(
                withNoGrad { m(b, options: .training()) }, targets: Self.targets()
            ).terms
            for (name, v) in t { sums[name, default: 0] += v.item() }
        }
        var checked = 0
        for (name, v) in groupedTerms where name.hasPrefix("loss_") || name == "class_error" {
            let mean = sums[name]! / Double(Self.groups)
            #expect(abs(v.item() - mean) <= 1e-5 * Swift.max(1, abs(mean)), "\(name): \(v.item()) vs mean \(mean)")
            checked += 1
        }
        #expect(checked == 10)  // loss_ce/bbox/giou for 3 layers + class_error
    }

    @Test func configAndCheckpointErrors() throws {
        var c = Self.config(groups: 11)
        let json = try c.jsonData()
        #expect(try JSONDecoder().decode(ModelConfig.self, from: json) == c)
        #expect(String(decoding: json, as: UTF8.self).contains("\"group_detr\" : 11"))
        c.conditional?.groupDetr = 0
        #expect(throws: ConfigError.self) { try c.validate() }
        // An 11-group checkpoint loaded into a single-group config names the fix.
        let grouped = ConditionalDETR(ParameterStore().root, config: Self.config(groups: 11))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "group-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Safetensors.write(grouped.stateDict(), to: url)
        let model = ConditionalDETR(ParameterStore().root, config: Self.config(groups: 1))
        do {
            try DetectorFactory.loadWeights(url, into: model)
            Issue.record("loading an 11-group checkpoint into a 1-group model should fail")
        } catch let e as CheckpointMismatch {
            #expect(e.description.contains("\"group_detr\": 11"), "\(e)")
        }
    }
}
