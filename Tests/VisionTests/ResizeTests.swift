import Foundation
import TestSupport
import Testing
import Torch
import Vision

@Suite struct ResizeTests {
    /// The Conditional DETR fixture's `pre.resized_u8.*` are PIL-resized `in.image.*`: must match exactly.
    @Test(.needsFixtures) func pilBilinearMatchesConditionalDetrFixture() throws {
        let t = try TestSupport.fixtureTensors("conditional_detr/tiny_eval.safetensors")
        for i in 0..<(try TestSupport.imageCount(t)) {
            let raw = try Image(tensor: try #require(t["in.image.\(i)"]))
            let ref = try #require(t["pre.resized_u8.\(i)"])
            let out = raw.resizedBilinear(width: ref.size(2), height: ref.size(1))
            let diff = TestSupport.maxAbsDiff(out.tensor(), ref)
            #expect(diff == 0, "image \(i): max diff \(diff)")
        }
    }

    @Test func upsamplingAndIdentity() throws {
        let img = Image(width: 2, height: 2, pixels: [0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0])
        #expect(img.resizedBilinear(width: 2, height: 2) == img)
        let up = img.resizedBilinear(width: 4, height: 3)
        #expect(up.width == 4 && up.height == 3)
        #expect(up.pixels.count == 36)
    }
}
