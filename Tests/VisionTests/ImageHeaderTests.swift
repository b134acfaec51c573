import Diagnostics
import Foundation
import TestSupport
import Testing
import Vision

/// Reading an image's size from its header agrees with decoding it, and rejects what is not one.
struct ImageHeaderTests {
    static func sample() throws -> Image {
        try Image(contentsOf: TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-2.png"))
    }

    @Test func pngAndJpegSizesMatchTheDecodedImage() throws {
        let image = try Self.sample()
        for (format, expected) in [(ImageFormat.png, ImageHeader.Format.png), (.jpeg(quality: 80), .jpeg)] {
            let data = try image.encoded(format)
            let header = try ImageHeader(data: data)
            #expect(header == ImageHeader(format: expected, width: image.width, height: image.height))
        }
    }

    @Test func notAnImageOrCutShort() throws {
        let png = try Self.sample().encoded(.png)
        let jpeg = try Self.sample().encoded(.jpeg(quality: 80))
        let cases: [(Data, String)] = [
            (Data(), "is empty"), (Data("GIF89a".utf8), "is not a JPEG or PNG image"),
            (png.prefix(16), "corrupt or truncated PNG (no IHDR header)"),
            (jpeg.prefix(4), "corrupt or truncated JPEG (no frame header)"),
        ]
        for (data, problem) in cases {
            #expect(throws: FileError(file: "x", problem: problem)) { try ImageHeader(data: data, name: "x") }
        }
    }
}
