import Detection
import Foundation
import TestSupport
import Testing
import Torch
import Vision

@Suite struct EvalTransformTests {
    /// Unforced chain: raw uint8 images -> resized uint8 -> padded normalised batch and mask, with
    /// the fixture config's `min_size` / `max_size`.
    @Test(.needsFixtures, arguments: ["conditional_detr", "salience_detr"])
    func rawImagesToBatchMatchFixture(dir: String) throws {
        let t = try TestSupport.fixtureTensors("\(dir)/tiny_eval.safetensors")
        let config = try TestSupport.fixtureJSON("\(dir)/tiny.config.json")
        let minSize = try #require(config["min_size"] as? Int), maxSize = try #require(config["max_size"] as? Int)
        let transform: EvalTransform =
            dir == "salience_detr"
            ? .salienceDetr(minSize: minSize, maxSize: maxSize)
            : .conditionalDetr(minSize: minSize, maxSize: maxSize)
        let images = try (0..<TestSupport.imageCount(t)).map { try Image(tensor: try #require(t["in.image.\($0)"])) }
        for (i, img) in images.enumerated() {
            let resized = transform.resize(img)
            let ref = try #require(t["pre.resized_u8.\(i)"])
            #expect(TestSupport.maxAbsDiff(resized.tensor(), ref) == 0, "\(dir) resized image \(i)")
        }
        let batch = transform.batch(images)
        TestSupport.expectClose(batch.images, try #require(t["pre.batch"]), atol: 1e-6, rtol: 0, "\(dir) pre.batch")
        #expect(batch.mask.bools == (try #require(t["pre.mask"])).bools)
        #expect(batch.imageSizes.flatMap { [$0.height, $0.width] } == (try #require(t["pre.image_sizes"])).ints)
        #expect(batch.originalSizes.flatMap { [$0.height, $0.width] } == (try #require(t["pre.orig_sizes"])).ints)
    }

    @Test func resizeRulesFollowTheOfficialQuirks() {
        // README quirk 8: 100x190 gives 112x213 (Salience) vs 112x212 (Conditional) at 128/213.
        let s = EvalTransform.salienceDetr(minSize: 128, maxSize: 213).targetSize(height: 100, width: 190)
        let c = EvalTransform.conditionalDetr(minSize: 128, maxSize: 213).targetSize(height: 100, width: 190)
        #expect(s.height == 112 && s.width == 213)
        #expect(c.height == 112 && c.width == 212)
        // Spec: 375x500 -> 799x1066 for Salience at 800/1333; 160/200 is 0.79999995 in float32.
        let r = EvalTransform.salienceDetr(minSize: 800, maxSize: 1333).targetSize(height: 375, width: 500)
        #expect(r.height == 799 && r.width == 1066)
        let q = EvalTransform.salienceDetr(minSize: 160, maxSize: 1333).targetSize(height: 200, width: 200)
        #expect(q.height == 159 && q.width == 159)
        let d = EvalTransform.conditionalDetr(minSize: 800, maxSize: 1333).targetSize(height: 480, width: 640)
        #expect(d.height == 800 && d.width == 1066)
    }

    /// Very narrow images: where the official rules give a 0-pixel side (and the official code
    /// fails), that side is 1 pixel; the other side keeps the official size.
    @Test func aSideTheOfficialRulesMakeEmptyIsOnePixel() {
        let salience = EvalTransform.salienceDetr(minSize: 128, maxSize: 213)
        // Official (torch float32, measured): (213, 0), (0, 213), (0, 212).
        #expect(salience.targetSize(height: 300, width: 1) == (213, 1))
        #expect(salience.targetSize(height: 1, width: 300) == (1, 213))
        #expect(salience.targetSize(height: 1, width: 20000) == (1, 212))
        let conditional = EvalTransform.conditionalDetr(minSize: 128, maxSize: 213)
        #expect(conditional.targetSize(height: 1, width: 300) == (1, 300))  // official, size rounds to 1
        #expect(conditional.targetSize(height: 1, width: 5000) == (1, 213))  // official: size 0
        #expect(conditional.targetSize(height: 20000, width: 1) == (213, 1))
    }
}
