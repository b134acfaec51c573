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

    /// Pillow's `Image.resize(BILINEAR)` on random images (Tests/Fixtures/vision/generate_resize.py):
    /// both orders of its two passes, growing and shrinking, one unchanged side, one-pixel sides.
    @Test func matchesPillowForEveryPassOrder() throws {
        let cases = try TestSupport.reference("vision/resize.safetensors")
        let count = cases.keys.filter { $0.hasPrefix("in.") }.count
        #expect(count > 0)
        for i in 0..<count {
            let input = try #require(cases["in.\(i)"]), expected = try #require(cases["out.\(i)"])
            let image = Image(width: input.size(1), height: input.size(0), pixels: input.toArray(UInt8.self))
            let out = image.resizedBilinear(width: expected.size(1), height: expected.size(0))
            let want = expected.toArray(UInt8.self)
            let differing = zip(out.pixels, want).filter { $0 != $1 }.count
            #expect(
                out.pixels.count == want.count && differing == 0,
                "case \(i): \(input.shape) -> \(expected.shape), \(differing) values differ")
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
