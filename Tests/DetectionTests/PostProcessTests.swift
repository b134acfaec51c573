import Detection
import Foundation
import TestSupport
import Testing
import Torch

@Suite struct PostProcessTests {
    /// PostProcess on the fixture's final outputs reproduces `post.*` (as a multiset: near-tied
    /// scores may swap ranks, README quirk 12).
    @Test(.needsFixtures, arguments: ["conditional_detr", "salience_detr"])
    func matchesFixture(dir: String) throws {
        let t = try TestSupport.fixtureTensors("\(dir)/tiny_eval.safetensors")
        let config = try ModelConfig.load(contentsOf: TestSupport.fixtures("\(dir)/tiny.config.json"))
        let orig = TestSupport.sizes(try #require(t["post.target_sizes"]))
        let pp = PostProcess(numSelect: config.numSelect)
        let dets = pp.detections(
            logits: try #require(t["out.pred_logits"]), boxes: try #require(t["out.pred_boxes"]),
            originalSizes: orig)
        #expect(dets.count == (try TestSupport.imageCount(t)))
        for i in 0..<dets.count {
            TestSupport.expectSameDetections(DetectionList(dets[i]), try DetectionList(fixture: t, image: i), "\(dir) image \(i)")
        }
    }

    @Test func thresholdAndTopK() {
        let logits = Tensor([0, 2, -2, 1] as [Float], shape: [1, 2, 2])
        let boxes = Tensor([0.5, 0.5, 0.2, 0.2, 0.25, 0.25, 0.5, 0.5] as [Float], shape: [1, 2, 4])
        let pp = PostProcess(numSelect: 4)
        let all = pp.detections(logits: logits, boxes: boxes, originalSizes: [(100, 200)])[0]
        #expect(all.map(\.label) == [1, 1, 0, 0])
        #expect(zip(all[0].box.corners, [80, 40, 120, 60] as [Float]).allSatisfy { abs($0 - $1) < 1e-4 })
        // Scores: sigmoid(2) 0.88, sigmoid(1) 0.73, 0.5, sigmoid(-2) 0.12.
        let kept = pp.detections(logits: logits, boxes: boxes, originalSizes: [(100, 200)], threshold: 0.6)[0]
        #expect(kept.count == 2 && kept[0].score > 0.8)
        let some = PostProcess(numSelect: 1).detections(
            logits: logits, boxes: boxes, originalSizes: [(100, 200)], threshold: 0.6)[0]
        #expect(some.count == 1 && some[0].score > 0.8)
    }

    @Test func giouOfIdenticalAndDisjointBoxes() {
        let a = Tensor([0, 0, 1, 1, 2, 2, 3, 3] as [Float], shape: [2, 4])
        let g = BoxOps.generalizedIoU(a, a).floats
        #expect(abs(g[0] - 1) < 1e-6 && abs(g[3] - 1) < 1e-6)
        #expect(abs(g[1] - (0 - (9 - 2) / 9.0)) < 1e-6)
        let c = BoxOps.xyxyToCxcywh(BoxOps.cxcywhToXyxy(Tensor([0.5, 0.4, 0.2, 0.1] as [Float], shape: [1, 4])))
        #expect(TestSupport.maxAbsDiff(c, Tensor([0.5, 0.4, 0.2, 0.1] as [Float], shape: [1, 4])) < 1e-7)
    }
}
