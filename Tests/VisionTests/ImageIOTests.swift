import Foundation
import TestSupport
import Testing
import Torch
import Vision

/// Decoding is compared with PIL (same libjpeg-turbo) through Tests/Fixtures/vision/generate.py.
@Suite struct ImageIOTests {
    static let expected = try! TestSupport.reference("vision/expected.safetensors")

    static func url(_ name: String) -> URL { TestSupport.localFixture("vision/\(name)") }

    @Test(arguments: [
        "rgb.jpg", "rgb.png", "gray.jpg", "gray.png", "cmyk.jpg", "rgba.png", "palette.png",
        "orient3.jpg", "orient6.jpg", "orient8.jpg",
    ])
    func decodesLikePIL(name: String) throws {
        let image = try Image(contentsOf: Self.url(name))
        let ref = try #require(Self.expected[name])
        #expect([image.height, image.width, 3] == ref.shape)
        let ours = Tensor(image.pixels, shape: [image.height, image.width, 3])
        let diff = TestSupport.maxAbsDiff(ours, ref)
        // CMYK goes through PIL's own CMYK->RGB rounding; allow 1 level there, exact elsewhere.
        #expect(diff <= (name == "cmyk.jpg" ? 1 : 0), "\(name): max diff \(diff)")
    }

    @Test(arguments: ["orient3.jpg", "orient6.jpg", "orient8.jpg"])
    func appliesExifOrientationLikePIL(name: String) throws {
        let image = try Image(contentsOf: Self.url(name), applyExifOrientation: true)
        let ref = try #require(Self.expected[name + ".exif"])
        let ours = Tensor(image.pixels, shape: [image.height, image.width, 3])
        #expect(ours.shape == ref.shape)
        #expect(TestSupport.maxAbsDiff(ours, ref) == 0)
    }

    @Test func everyOrientationIsAPermutationOfPixels() {
        let img = Image(width: 3, height: 2, pixels: (0..<18).map { UInt8($0) })
        for o in 1...8 {
            let r = img.oriented(exif: o)
            #expect(r.pixels.sorted() == img.pixels.sorted())
            #expect(r.width * r.height == 6)
            #expect(r.width == (o >= 5 ? 2 : 3))
        }
    }

    @Test(arguments: ["truncated.jpg", "truncated.png"])
    func truncatedFilesAreErrorsNamingTheFile(name: String) {
        let url = Self.url(name)
        do {
            _ = try Image(contentsOf: url)
            Issue.record("\(name) decoded without error")
        } catch let e as FileError {
            #expect(e.file == url.path)
            #expect(e.description.contains(name))
            #expect(e.problem.contains("truncated") || e.problem.contains("corrupt"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func missingAndForeignFilesAreClearErrors() throws {
        #expect(throws: FileError(file: "/nonexistent/x.png", problem: "no such file")) {
            try Image(contentsOf: URL(fileURLWithPath: "/nonexistent/x.png"))
        }
        #expect(throws: FileError(file: "<memory>", problem: "not a JPEG or PNG image")) {
            try Image(data: Data("hello world".utf8))
        }
        #expect(throws: FileError.self) { try Image(data: Data()) }
    }

    @Test func corruptedBytesNeverCrash() throws {
        var state: UInt64 = 12345
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for name in ["rgb.jpg", "rgb.png"] {
            let data = try Data(contentsOf: Self.url(name))
            for _ in 0..<150 {
                var d = data
                let flips = Int(next() % 4) + 1
                for _ in 0..<flips { d[Int(next() % UInt64(d.count))] ^= UInt8(truncatingIfNeeded: next() | 1) }
                if next() % 3 == 0 { d = d.prefix(Int(next() % UInt64(d.count))) }
                if let img = try? Image(data: d) {
                    #expect(img.pixels.count == img.width * img.height * 3)
                }
            }
        }
    }

    @Test func pngRoundTripIsLossless() throws {
        let img = try Image(contentsOf: Self.url("rgb.png"))
        let back = try Image(data: img.encoded(.png))
        #expect(back == img)
    }

    @Test func jpegRoundTripIsClose() throws {
        // Smooth content: JPEG's chroma subsampling would blur the fixture's random channel.
        var px = [UInt8]()
        for y in 0..<32 { for x in 0..<48 { px += [UInt8(x * 5), UInt8(y * 7), UInt8((x + y) * 3)] } }
        let img = Image(width: 48, height: 32, pixels: px)
        let back = try Image(data: img.encoded(.jpeg(quality: 100)))
        #expect(back.width == img.width && back.height == img.height)
        let a = Tensor(img.pixels).to(.float32), b = Tensor(back.pixels).to(.float32)
        #expect((a - b).abs().mean().item() < 2)
    }

    @Test func tensorConversionIsCHW() throws {
        let img = Image(width: 2, height: 1, pixels: [1, 2, 3, 4, 5, 6])
        let t = img.tensor()
        #expect(t.shape == [3, 1, 2])
        #expect(t.dtype == .uint8)
        #expect(t.ints == [1, 4, 2, 5, 3, 6])
        #expect(try Image(tensor: t) == img)
    }

    @Test func writeIsAtomicAndByExtension() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vision-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let img = try Image(contentsOf: Self.url("rgb.png"))
        try img.write(to: dir.appendingPathComponent("a.png"))
        try img.write(to: dir.appendingPathComponent("a.jpg"))
        #expect(try Image(contentsOf: dir.appendingPathComponent("a.png")) == img)
        let head = try Data(contentsOf: dir.appendingPathComponent("a.jpg")).prefix(2)
        #expect(Array(head) == [0xFF, 0xD8])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["a.jpg", "a.png"])
        #expect(throws: FileError.self) { try img.write(to: URL(fileURLWithPath: "/nonexistent-dir/a.png")) }
    }
}
