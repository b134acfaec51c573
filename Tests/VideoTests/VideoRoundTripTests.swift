import Diagnostics
import Foundation
import Testing
import Video
import Vision

/// VideoWriter → VideoReader: frame count, size, rate, times and pixels, per container.
///
/// Measured on these frames (FFmpeg 5.1): the mean absolute difference to the originals is
/// 1.8-2.3 levels (H.264 crf 18, MPEG-4 q2, VP9, VP8), at most 9-12 levels away from the red
/// block's edges; at its edges yuv420p's half-resolution colour differs by up to ~106 levels.
@Suite struct VideoRoundTripTests {
    static let size = (width: 96, height: 64)

    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("video-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A smooth gradient (blue changing with k) with a red 24×24 block moving 6 px right per frame.
    static func frame(_ k: Int, width: Int = size.width, height: Int = size.height) -> Image {
        var px = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            for x in 0..<width {
                let i = 3 * (y * width + x)
                if Self.inBlock(x, y, k) {
                    px[i] = 230
                    px[i + 1] = 40
                    px[i + 2] = 40
                } else {
                    px[i] = UInt8(x * 255 / (width - 1))
                    px[i + 1] = UInt8(y * 255 / (height - 1))
                    px[i + 2] = UInt8(128 + 8 * k)
                }
            }
        }
        return Image(width: width, height: height, pixels: px)
    }

    static func inBlock(_ x: Int, _ y: Int, _ k: Int, margin: Int = 0) -> Bool {
        x >= 8 + 6 * k - margin && x < 32 + 6 * k + margin && y >= 16 - margin && y < 40 + margin
    }

    static func meanDifference(_ a: Image, _ b: Image) -> Double {
        zip(a.pixels, b.pixels).reduce(0.0) { $0 + Double(abs(Int($1.0) - Int($1.1))) } / Double(a.pixels.count)
    }

    /// The largest difference at pixels more than 3 px away from the block's edges.
    static func maxDifferenceAwayFromEdges(_ decoded: Image, _ original: Image, frame k: Int) -> Int {
        var worst = 0
        for y in 0..<original.height {
            for x in 0..<original.width
            where !(Self.inBlock(x, y, k, margin: 3) && !Self.inBlock(x, y, k, margin: -3)) {
                for c in 0..<3 {
                    let i = 3 * (y * original.width + x) + c
                    worst = max(worst, abs(Int(decoded.pixels[i]) - Int(original.pixels[i])))
                }
            }
        }
        return worst
    }

    static func write(
        _ frames: [Image], to url: URL, rate: FrameRate = FrameRate(10), encoder: String? = nil
    ) throws
        -> VideoWriter
    {
        let writer = try VideoWriter(
            url: url, width: frames[0].width, height: frames[0].height, frameRate: rate, encoder: encoder)
        for f in frames { try writer.write(f) }
        try writer.finish()
        return writer
    }

    static func readAll(_ reader: VideoReader) throws -> [VideoFrame] {
        var frames: [VideoFrame] = []
        while let f = try reader.next() { frames.append(f) }
        return frames
    }

    @Test(
        arguments: [
            ("clip.mp4", nil, "libx264", "h264"), ("clip.mkv", nil, "libx264", "h264"),
            ("clip.mov", nil, "libx264", "h264"),
            ("clip.avi", nil, "mpeg4", "mpeg4"), ("clip.webm", nil, "libvpx-vp9", "vp9"),
            ("clip.mp4", "mpeg4", "mpeg4", "mpeg4"), ("clip.webm", "libvpx", "libvpx", "vp8"),
        ] as [(String, String?, String, String)])
    func roundTrip(name: String, encoder: String?, expectedEncoder: String, codec: String) throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent(name)
        let originals = (0..<8).map { Self.frame($0) }
        let writer = try Self.write(originals, to: url, encoder: encoder)
        #expect(writer.encoder == expectedEncoder)
        #expect(writer.frameCount == 8)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == [name])  // no temporary left

        let reader = try VideoReader(contentsOf: url)
        #expect(reader.info.width == 96 && reader.info.height == 64)
        #expect(reader.info.frameRate.value == 10)
        #expect(reader.info.frameCount == 8)
        #expect(reader.info.codec == codec)
        #expect(reader.info.rotation == 0)
        let frames = try Self.readAll(reader)
        #expect(frames.map(\.index) == Array(0..<8))
        for f in frames {
            #expect(abs(f.time - Double(f.index) / 10) < 1e-6, "frame \(f.index) at \(f.time) s")
            #expect(f.image.width == 96 && f.image.height == 64)
            let own = Self.meanDifference(f.image, originals[f.index])
            #expect(own <= 3, "\(name) frame \(f.index): mean difference \(own)")
            #expect(Self.maxDifferenceAwayFromEdges(f.image, originals[f.index], frame: f.index) <= 16)
            for (k, other) in originals.enumerated() where k != f.index {
                #expect(Self.meanDifference(f.image, other) > own, "frame \(f.index) is closer to frame \(k)")
            }
        }
        #expect(try reader.next() == nil)  // stays at its end
    }

    @Test func everyKeepsEveryNthFrameWithTheSamePixels() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("clip.mp4")
        _ = try Self.write((0..<8).map { Self.frame($0) }, to: url)
        let all = try Self.readAll(try VideoReader(contentsOf: url))
        let reader = try VideoReader(contentsOf: url, every: 3)
        #expect(reader.keptFrameEstimate == 3)
        let kept = try Self.readAll(reader)
        #expect(kept.map(\.index) == [0, 3, 6])
        for f in kept {
            #expect(f.image == all[f.index].image)
            #expect(f.time == all[f.index].time)
        }
    }

    @Test func oddSizesAreRoundedUpByRepeatingTheLastColumnAndRow() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("odd.mp4")
        let original = Self.frame(1, width: 75, height: 51)
        _ = try Self.write([original, original], to: url)
        let frames = try Self.readAll(try VideoReader(contentsOf: url))
        #expect(frames.count == 2)
        let f = try #require(frames.first).image
        #expect(f.width == 76 && f.height == 52)
        // The stored 75×51 part matches (mean 3.6 levels: the block's edges are a larger share of
        // this smaller frame); the added column repeats the last one.
        var crop = [UInt8]()
        for y in 0..<51 { crop += f.pixels[(3 * y * 76)..<(3 * (y * 76 + 75))] }
        let stored = Image(width: 75, height: 51, pixels: crop)
        #expect(Self.meanDifference(stored, original) <= 4)
        #expect(Self.maxDifferenceAwayFromEdges(stored, original, frame: 1) <= 20)  // 17 measured
        let last = (0..<51).map { Int(f.pixels[3 * ($0 * 76 + 74) + 1]) - Int(f.pixels[3 * ($0 * 76 + 75) + 1]) }
        #expect(last.map(abs).max()! <= 8)
    }

    @Test func framesOfAnotherSizeAreScaled() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("scaled.mkv")
        let writer = try VideoWriter(url: url, width: 48, height: 32, frameRate: FrameRate(5))
        try writer.write(Self.frame(0))  // 96×64
        try writer.finish()
        let frames = try Self.readAll(try VideoReader(contentsOf: url))
        #expect(frames.count == 1 && frames[0].image.width == 48 && frames[0].image.height == 32)
    }

    @Test(arguments: [(90, 6), (180, 3), (270, 8)])
    func rotationMetadataTurnsFramesUpright(rotation: Int, exif: Int) throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("turned.mp4")
        let original = Self.frame(2)
        let writer = try VideoWriter(
            url: url, width: 96, height: 64, frameRate: FrameRate(30000, 1001), rotation: rotation)
        try writer.write(original)
        try writer.finish()

        let reader = try VideoReader(contentsOf: url)
        #expect(reader.info.rotation == rotation)
        #expect(reader.info.frameRate == FrameRate(30000, 1001))
        let upright = try #require(try reader.next()).image
        let expected = original.oriented(exif: exif)
        #expect(upright.width == expected.width && upright.height == expected.height)
        #expect(Self.meanDifference(upright, expected) <= 3)

        let stored = try #require(try VideoReader(contentsOf: url, applyRotation: false).next()).image
        #expect(stored.width == 96 && Self.meanDifference(stored, original) <= 3)
    }

    @Test func corruptMissingAndTruncatedFilesAreErrorsNamingTheFile() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        func openError(_ url: URL) -> FileError? {
            do {
                _ = try Self.readAll(try VideoReader(contentsOf: url))
                return nil
            } catch { return error as? FileError }
        }

        let missing = dir.appendingPathComponent("missing.mp4")
        #expect(openError(missing) == FileError(file: missing.path, problem: "no such file"))

        let random = dir.appendingPathComponent("random.mp4")
        // Fixed noise (a multiplicative hash of the index): unseeded random bytes are sometimes
        // probed as some raw format, which made this test flaky.
        try Data((0..<4096).map { UInt8(truncatingIfNeeded: (UInt32($0) &* 2_654_435_761) >> 13) }).write(to: random)
        let e1 = try #require(openError(random))
        #expect(e1.file == random.path && e1.problem.contains("Invalid data"), "\(e1)")

        let empty = dir.appendingPathComponent("empty.mkv")
        try Data().write(to: empty)
        #expect(openError(empty)?.file == empty.path)

        // An mp4 cut in half loses its index (written last): it cannot be opened.
        let frames = (0..<8).map { Self.frame($0) }
        let mp4 = dir.appendingPathComponent("clip.mp4")
        _ = try Self.write(frames, to: mp4)
        let data = try Data(contentsOf: mp4)
        let cutMP4 = dir.appendingPathComponent("cut.mp4")
        try data.prefix(data.count / 2).write(to: cutMP4)
        let e2 = try #require(openError(cutMP4))
        #expect(e2.file == cutMP4.path && e2.problem.contains("moov atom not found"), "\(e2)")

        // A Matroska file cut short opens; the error comes where the data ends.
        let mkv = dir.appendingPathComponent("clip.mkv")
        _ = try Self.write(frames, to: mkv)
        let mkvData = try Data(contentsOf: mkv)
        let cutMKV = dir.appendingPathComponent("cut.mkv")
        try mkvData.prefix(mkvData.count * 2 / 3).write(to: cutMKV)
        let reader = try VideoReader(contentsOf: cutMKV)
        var decoded = 0
        do {
            while try reader.next() != nil { decoded += 1 }
            Issue.record("a cut-off mkv decoded without an error")
        } catch let e as FileError {
            #expect(e.file == cutMKV.path && e.problem.contains("cut short"), "\(e)")
        }
        #expect(decoded < 8)
    }

    @Test func writerErrorsLeaveNothingBehind() throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let unknown = dir.appendingPathComponent("clip.xyz")
        #expect(throws: FileError.self) { try VideoWriter(url: unknown, width: 8, height: 8, frameRate: FrameRate(1)) }
        let noEncoder = dir.appendingPathComponent("clip.mp4")
        #expect(throws: FileError.self) {
            try VideoWriter(url: noEncoder, width: 8, height: 8, frameRate: FrameRate(1), encoder: "no-such-encoder")
        }
        let noDir = dir.appendingPathComponent("missing/clip.mp4")
        do {
            _ = try VideoWriter(url: noDir, width: 8, height: 8, frameRate: FrameRate(1))
            Issue.record("a video was opened in a missing directory")
        } catch let e as FileError {
            #expect(e.file == noDir.path)
        }
        // Dropped unfinished: no file, no temporary.
        do {
            let writer = try VideoWriter(
                url: dir.appendingPathComponent("dropped.mp4"), width: 8, height: 8, frameRate: FrameRate(1))
            try writer.write(Image(width: 8, height: 8, fill: (1, 2, 3)))
        }
        let discarded = try VideoWriter(
            url: dir.appendingPathComponent("discarded.mp4"), width: 8, height: 8, frameRate: FrameRate(1))
        discarded.discard()
        #expect(throws: FileError.self) { try discarded.write(Image(width: 8, height: 8)) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    }

    @Test func extensionsAndDerivedNames() {
        #expect(VideoFile.isVideo("a/b/Clip.MP4") && VideoFile.isVideo("x.webm") && !VideoFile.isVideo("x.png"))
        #expect(
            VideoFile.derivedPath(for: "in/clip.mkv", suffix: "annotated", in: "out").path.hasSuffix(
                "out/clip.annotated.mkv"))
        #expect(
            VideoFile.derivedPath(for: "in/clip.ts", suffix: "annotated", in: "out").lastPathComponent
                == "clip.annotated.mp4")
        #expect(FrameRate(30, 1).divided(by: 4).value == 7.5)
    }
}
