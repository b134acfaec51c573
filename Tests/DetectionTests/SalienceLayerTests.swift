import Detection
import Foundation
import NN
import TestSupport
import Testing
import Torch

/// Unit checks of the Salience DETR building blocks.
@Suite struct SalienceLayerTests {
    @Test func batchedNMSFollowsTorchvision() {
        // Unit boxes along x at 0, 1, 2, 3 (2x2 boxes, neighbours overlap with IoU 1/3 > 0.3),
        // one far box, and a neighbour in another group.
        func box(_ x: Float, _ y: Float) -> [Float] { [x - 1, y - 1, x + 1, y + 1] }
        let boxes = box(0, 0) + box(1, 0) + box(2, 0) + box(3, 0) + box(10, 10) + box(1, 0)
        let scores: [Float] = [0.9, 0.95, 0.5, 0.5, 0.1, 0.99]
        let groups = [0, 0, 0, 0, 0, 1]
        let keep = BoxOps.batchedNMS(boxes: boxes, scores: scores, groups: groups, iouThreshold: 0.3)
        // group 0 by score: 1 (kept) suppresses 0 and 2; 3 kept; 4 kept. Group 1: 5 kept.
        #expect(keep == [5, 1, 3, 4])
        // Equal scores: lower index first; diagonal neighbours (IoU 1/7) survive.
        let diag = box(0, 0) + box(1, 1)
        #expect(BoxOps.batchedNMS(boxes: diag, scores: [0.5, 0.5], groups: [0, 0], iouThreshold: 0.3) == [0, 1])
        // Tensor form.
        let t = BoxOps.batchedNMS(
            boxes: Tensor(boxes, shape: [6, 4]), scores: Tensor(scores), groups: Tensor(groups),
            iouThreshold: 0.3)
        #expect(t.ints == [5, 1, 3, 4])
    }

    @Test func deformableCoreSamplesPixelCentres() {
        // One image, one head of 2 channels, levels 2x3 and 1x1, one query, 2 points per level.
        let level0: [Float] = (0..<12).map(Float.init)  // [6 tokens, 2 channels]
        let level1: [Float] = [100, 200]
        let value = Tensor(level0 + level1, shape: [1, 7, 1, 2])
        // Level 0: centre of pixel (x 2, y 1) and a point outside; level 1: its centre and a
        // point half a pixel right of it (bilinear with the zero border: half the value).
        let locations: [Float] = [2.5 / 3, 1.5 / 2, -1, -1, 0.5, 0.5, 1.0, 0.5]
        let weights: [Float] = [0.4, 0.1, 0.3, 0.2]
        let out = msDeformAttnCore(
            value: value, spatialShapes: [(2, 3), (1, 1)],
            samplingLocations: Tensor(locations, shape: [1, 1, 1, 2, 2, 2]),
            attentionWeights: Tensor(weights, shape: [1, 1, 1, 2, 2]))
        // pixel (y 1, x 2) is token 5: channels (10, 11)
        let expected: [Float] = [0.4 * 10 + 0.3 * 100 + 0.2 * 50, 0.4 * 11 + 0.3 * 200 + 0.2 * 100]
        #expect(out.shape == [1, 1, 2])
        #expect(zip(out.floats, expected).allSatisfy { abs($0 - $1) < 1e-4 })
    }

    @Test func aliasSharesOneTensorUnderTwoKeys() throws {
        struct Holder: Module {
            let path: ModulePath
            let head: Linear
            init(_ p: ModulePath) {
                path = p
                _ = Linear(p / "inner" / "other", inFeatures: 2, outFeatures: 2)
                head = Linear(p / "head", inFeatures: 2, outFeatures: 3)
                (p / "inner" / "tied").alias(of: head.path)
            }
        }
        let m = Holder(ParameterStore().root)
        #expect(
            m.stateDict().keys == [
                "inner.other.weight", "inner.other.bias", "inner.tied.weight", "inner.tied.bias",
                "head.weight", "head.bias",
            ])
        #expect(
            m.namedParameters().map(\.key) == ["inner.other.weight", "inner.other.bias", "head.weight", "head.bias"])
        #expect(m.parameterCount == 6 + 9)
        var sd = m.stateDict()
        sd["inner.tied.weight"] = Tensor.ones([3, 2])
        sd["head.weight"] = Tensor.full([3, 2], 2.0)
        try m.load(stateDict: sd)
        #expect(m.head.weight.floats == Array(repeating: 2, count: 6))  // later key in order wins
        sd["inner.tied.weight"] = nil
        sd["inner.tied.bias"] = nil
        try m.load(stateDict: sd)  // the alias is optional
    }
}
