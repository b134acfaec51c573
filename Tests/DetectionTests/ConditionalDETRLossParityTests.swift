import Detection
import Foundation
import NN
import Testing
import TestSupport
import Torch

/// One unforced chain from `pre.batch` and the targets through the model and SetCriterion to
/// the gradients, against the official Conditional DETR (fixtures README §B, tolerances §D).
@Suite(.serialized) struct ConditionalDETRLossParityTests {
    @Test func lossesMatchingAndGradientsMatchFixture() throws {
        guard TestSupport.fixturesAvailable() else { return }
        let dir = TestSupport.sharedFixtures!.appendingPathComponent("conditional_detr")
        let config = try ModelConfig.load(contentsOf: dir.appendingPathComponent("tiny.config.json"))
        let model = ConditionalDETR(ParameterStore().root, config: config)
        try model.load(stateDict: WeightFile.load(dir.appendingPathComponent("tiny.pth")).tensors)
        let eval = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_eval.safetensors")).tensors
        let ref = try Safetensors.read(contentsOf: dir.appendingPathComponent("tiny_train.safetensors")).tensors
        let targets = (0..<2).map { DetectionTarget(labels: ref["target.\($0).labels"]!, boxes: ref["target.\($0).boxes"]!) }

        let out = model.forward(images: eval["pre.batch"]!, mask: eval["pre.mask"]!, training: true).output
        TestSupport.expectClose(out.final.logits, ref["train.out.pred_logits"]!, atol: 1e-4, rtol: 1e-4, "train logits")
        TestSupport.expectClose(out.final.boxes, ref["train.out.pred_boxes"]!, atol: 1e-4, rtol: 1e-4, "train boxes")

        let criterion = SetCriterion(matcher: HungarianMatcher(costClass: config.matcher.costClass,
                                                               costBbox: config.matcher.costBbox,
                                                               costGiou: config.matcher.costGiou),
                                     numClasses: config.numClasses, focalAlpha: config.focalAlpha)
        let (terms, matches) = try criterion(out, targets: targets)
        for (group, m) in zip(["final", "aux0", "aux1"], matches) {
            for i in 0..<2 {
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
        #expect(checked == 13)
        let base = ["loss_ce": 2.0, "loss_bbox": 5.0, "loss_giou": 2.0]
        let total = try #require(terms.weightedSum { name in
            base.first { name == $0.key || name.hasPrefix($0.key + "_") }?.value
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
        #expect(grads >= 5)
    }
}
