import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// One unforced chain from `pre.batch` and the targets through the model and SetCriterion to
/// the gradients, against the official Conditional DETR (fixtures README §B, tolerances §D).
@Suite(.serialized, .needsFixtures) struct ConditionalDETRLossParityTests {
    @Test func lossesMatchingAndGradientsMatchFixture() throws {
        let dir = try TestSupport.fixtures("conditional_detr")
        let config = try ModelConfig.load(contentsOf: dir.appendingPathComponent("tiny.config.json"))
        let model = ConditionalDETR(ParameterStore().root, config: config)
        try model.load(stateDict: WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors)
        let eval = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_eval.safetensors")).tensors
        let ref = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_train.safetensors")).tensors
        let info = try TestSupport.fixtureJSON("conditional_detr/tiny.json")
        let train = try #require(info["train"] as? [String: Any])
        let images = try TestSupport.imageCount(eval)
        let targets = try (0..<images).map {
            DetectionTarget(
                labels: try #require(ref["target.\($0).labels"]), boxes: try #require(ref["target.\($0).boxes"]))
        }

        let out = model.forward(images: eval["pre.batch"]!, mask: eval["pre.mask"]!, training: true).output
        TestSupport.expectClose(out.final.logits, ref["train.out.pred_logits"]!, atol: 1e-4, rtol: 1e-4, "train logits")
        TestSupport.expectClose(out.final.boxes, ref["train.out.pred_boxes"]!, atol: 1e-4, rtol: 1e-4, "train boxes")

        let criterion = SetCriterion(
            matcher: HungarianMatcher(
                costClass: config.matcher.costClass,
                costBbox: config.matcher.costBbox,
                costGiou: config.matcher.costGiou),
            numClasses: config.numClasses, focalAlpha: config.focalAlpha)
        let (terms, matches) = try criterion(out, targets: targets)
        let groups =
            ["final"] + (config.conditional!.auxLoss ? (0..<(config.numDecoderLayers - 1)).map { "aux\($0)" } : [])
        #expect(matches.count == groups.count)
        for (group, m) in zip(groups, matches) {
            for i in 0..<images {
                #expect(m[i].predictions == ref["match.\(group).\(i).src"]!.ints, "\(group) image \(i) src")
                #expect(m[i].targets == ref["match.\(group).\(i).tgt"]!.ints, "\(group) image \(i) tgt")
            }
        }
        var checked = 0
        for (name, value) in terms {
            let r = try #require(ref["loss.\(name)"], "fixture has no loss.\(name)")
            let (a, b) = (value.item(), r.item())
            #expect(abs(a - b) <= 1e-5 * Swift.max(1, abs(b)), "\(name): \(a) vs \(b)")
            checked += 1
        }
        // Every term the official criterion returned (`tiny.json` train.losses), and no other.
        let recorded = try #require(train["losses"] as? [String: Any])
        #expect(Set(terms.map(\.name)) == Set(recorded.keys))
        #expect(checked == recorded.count)
        let total = try #require(
            terms.weightedSum { name in
                config.lossWeights.first { name == $0.key || name.hasPrefix($0.key + "_") }?.value
            })
        #expect(abs(total.item() - ref["loss.total"]!.item()) <= 1e-5 * Swift.max(1, abs(ref["loss.total"]!.item())))

        model.zeroGrad(setToNone: true)
        total.backward()
        let params = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.key, $0.tensor) })
        var grads = 0
        for key in ref.keys where key.hasPrefix("grad.") {
            let name = String(key.dropFirst(5))
            let g = try #require(params[name]?.grad, "no gradient for \(name)")
            let r = ref[key]!
            let scale = r.abs().max().item()
            #expect(TestSupport.maxAbsDiff(g, r) <= 1e-6 + 1e-3 * scale, "grad \(name)")
            grads += 1
        }
        #expect(grads == (try #require(train["grad_recorded"] as? [String])).count)
    }
}
