import Datasets
import Foundation
import TestSupport
import Testing
import Video
import Vision

/// `detr predict` on videos with the bundled demo model: every frame's record equals `detr predict`
/// on that frame's decoded pixels saved as PNG (same pixels in, so the detections are identical).
@Suite(.serialized) struct PredictVideoCLITests {
    static let config = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.json").path
    static let weights = TestSupport.repoRoot.appendingPathComponent("demo/shapes-salience.safetensors").path
    static let model = ["--config", config, "--weights", weights, "--threshold", "0.05"]

    /// 8 synthetic-shape pictures of 128×128 at 5 frames/s, as a video in `dir`.
    static func makeVideo(_ name: String, in dir: URL) throws -> URL {
        let shapes = SyntheticShapes(seed: 11, sizeRange: 128...128)
        let url = dir.appendingPathComponent(name)
        let writer = try VideoWriter(url: url, width: 128, height: 128, frameRate: FrameRate(5))
        for i in 0..<8 { try writer.write(shapes.picture(index: i).image) }
        try writer.finish()
        return url
    }

    static func jsonObject(_ text: Substring) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    /// The objects of a JSON Lines text.
    static func lines(_ text: String) throws -> [[String: Any]] {
        #expect(text.hasSuffix("\n"))
        return try text.split(separator: "\n").map(jsonObject)
    }

    /// The image objects of `{"images":[...]}`.
    static func images(_ text: String) throws -> [[String: Any]] {
        try #require(try jsonObject(Substring(text))["images"] as? [[String: Any]])
    }

    /// A record's detections.
    static func detections(_ record: [String: Any]) -> DetectionList {
        let list = record["detections"] as? [[String: Any]] ?? []
        return DetectionList(
            scores: list.map { Float($0["score"] as? Double ?? -1) }, labels: list.map { $0["label"] as? Int ?? -1 },
            boxes: list.flatMap { ($0["box"] as? [Double] ?? [-1, -1, -1, -1]).map(Float.init) })
    }

    /// The same image predicted in two processes: the same detections up to float rounding (the
    /// matrix products' blocking follows the batch's shape and the threads the library gets, so
    /// separate runs may round differently; near-ties may then change places).
    static func expectSameDetections(_ a: [String: Any], _ b: [String: Any], _ what: String) {
        #expect(a["detections"] is [Any] && b["detections"] is [Any], "\(what): no detections list")
        TestSupport.expectSameDetections(
            detections(a), detections(b), scoreTolerance: 1e-5, boxTolerance: 1e-3, what)
    }

    @Test func everyFramesRecordMatchesPredictOnItsImage() throws {
        let dir = try PredictCLITests.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let video = try Self.makeVideo("shapes.mp4", in: dir)

        // The decoded frames as PNG files, predicted one by one and three at a time.
        let decoded = try VideoReader(contentsOf: video)
        var pngs: [String] = []
        var frames: [Image] = []
        while let frame = try decoded.next() {
            let url = dir.appendingPathComponent("frame\(frame.index).png")
            try frame.image.write(to: url)
            pngs.append(url.path)
            frames.append(frame.image)
        }
        #expect(pngs.count == 8)
        let p1 = try DetrProcess.run(["predict"] + Self.model + pngs)
        #expect(p1.status == 0, "stderr: \(p1.stderr)")
        let single = try Self.images(p1.stdout)
        #expect(single.count == 8)
        let detectionCount = single.reduce(0) { $0 + (($1["detections"] as? [Any])?.count ?? 0) }
        #expect(detectionCount >= 8, "the demo model should find the shapes")

        // The video, one frame per forward pass, with the annotated video.
        let out = dir.appendingPathComponent("video.jsonl"), saved = dir.appendingPathComponent("saved")
        let a = try DetrProcess.run(
            ["predict"] + Self.model + ["--output", out.path, "--save-dir", saved.path, video.path])
        #expect(a.status == 0 && a.stderr.isEmpty, "stderr: \(a.stderr)")
        let records = try Self.lines(try String(contentsOf: out, encoding: .utf8))
        #expect(records.count == 8)
        for (k, record) in records.enumerated() {
            #expect(Set(record.keys) == ["detections", "file", "frame", "height", "time", "width"])
            #expect(record["file"] as? String == video.path)
            #expect(record["frame"] as? Int == k)
            #expect(abs((record["time"] as? Double ?? -1) - Double(k) / 5) < 1e-9)
            #expect(record["width"] as? Int == 128 && record["height"] as? Int == 128)
            Self.expectSameDetections(record, single[k], "frame \(k)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: saved.path) == ["shapes.annotated.mp4"])
        let annotated = try VideoReader(contentsOf: saved.appendingPathComponent("shapes.annotated.mp4"))
        #expect(annotated.info.width == 128 && annotated.info.height == 128)
        #expect(annotated.info.frameRate == FrameRate(5) && annotated.info.codec == "h264")
        var drawn = 0
        while let frame = try annotated.next() {
            let changed = zip(frame.image.pixels, frames[frame.index].pixels).filter { abs(Int($0) - Int($1)) > 40 }
            if changed.count > 100 { drawn += 1 }  // boxes and labels drawn over the frame
        }
        #expect(drawn >= 6, "\(drawn) of 8 annotated frames show drawings")
        #expect(annotated.info.frameCount == 8)

        // --every 3: frames 0, 3, 6, the annotated video at 5/3 frames/s.
        let saved3 = dir.appendingPathComponent("saved3")
        let b = try DetrProcess.run(["predict"] + Self.model + ["--every", "3", "--save-dir", saved3.path, video.path])
        #expect(b.status == 0, "stderr: \(b.stderr)")
        let kept = try Self.lines(b.stdout)
        #expect(kept.map { $0["frame"] as? Int } == [0, 3, 6])
        for record in kept {
            let k = record["frame"] as? Int ?? 0
            Self.expectSameDetections(record, single[k], "--every 3, frame \(k)")
        }
        let annotated3 = try VideoReader(contentsOf: saved3.appendingPathComponent("shapes.annotated.mp4"))
        #expect(annotated3.info.frameRate == FrameRate(5, 3))
        var count3 = 0
        while try annotated3.next() != nil { count3 += 1 }
        #expect(count3 == 3)

        // --batch-size 3 with images around the video: JSON Lines in input order; each video's
        // frames batch on their own, as the same PNGs batch three at a time.
        let p3 = try DetrProcess.run(["predict"] + Self.model + ["--batch-size", "3"] + pngs)
        let triple = try Self.images(p3.stdout)
        let c = try DetrProcess.run(["predict"] + Self.model + ["--batch-size", "3", pngs[0], video.path, pngs[1]])
        #expect(c.status == 0, "stderr: \(c.stderr)")
        let mixed = try Self.lines(c.stdout)
        #expect(mixed.count == 10)
        guard mixed.count == 10 else { return }
        #expect(mixed[0]["file"] as? String == pngs[0] && mixed[0]["frame"] == nil)
        Self.expectSameDetections(mixed[0], single[0], "--batch-size 3, first image")
        Self.expectSameDetections(mixed[9], single[1], "--batch-size 3, last image")
        for k in 0..<8 {
            #expect(mixed[k + 1]["frame"] as? Int == k)
            Self.expectSameDetections(mixed[k + 1], triple[k], "--batch-size 3, frame \(k)")
        }
    }

    @Test func corruptAndTruncatedVideosAreOneLineErrors() throws {
        let dir = try PredictCLITests.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let random = dir.appendingPathComponent("random.mp4")
        // Fixed noise (a multiplicative hash of the index): unseeded random bytes are sometimes
        // probed as some raw format.
        try Data((0..<5000).map { UInt8(truncatingIfNeeded: (UInt32($0) &* 2_654_435_761) >> 13) }).write(to: random)
        let mp4 = try Data(contentsOf: try Self.makeVideo("whole.mp4", in: dir))
        let cutMP4 = dir.appendingPathComponent("cut.mp4")
        try mp4.prefix(mp4.count / 2).write(to: cutMP4)
        let mkv = try Data(contentsOf: try Self.makeVideo("whole.mkv", in: dir))
        let cutMKV = dir.appendingPathComponent("cut.mkv")
        try mkv.prefix(mkv.count * 2 / 3).write(to: cutMKV)
        let good = dir.appendingPathComponent("good.png")
        try SyntheticShapes(seed: 11, sizeRange: 128...128).picture(index: 0).image.write(to: good)

        let saved = dir.appendingPathComponent("saved"), out = dir.appendingPathComponent("out.jsonl")
        let r = try DetrProcess.run(
            ["predict"] + Self.model + [
                "--save-dir", saved.path, "--output", out.path, random.path, cutMP4.path, good.path, cutMKV.path,
            ])
        #expect(r.status == 1)
        let errors = r.stderr.split(separator: "\n")
        #expect(errors.count == 3, "stderr: \(r.stderr)")
        #expect(errors.allSatisfy { $0.hasPrefix("detr: error: ") })
        #expect(errors.contains { $0.contains(random.path) && $0.contains("Invalid data") })
        #expect(errors.contains { $0.contains(cutMP4.path) })
        #expect(errors.contains { $0.contains(cutMKV.path) && $0.contains("cut short") })
        // The image and the frames decoded before the cut still have their records; no annotated
        // video of the cut file is left.
        let records = try Self.lines(try String(contentsOf: out, encoding: .utf8))
        #expect(records.first?["file"] as? String == good.path)
        let frames = records.dropFirst()
        #expect(!frames.isEmpty && frames.count < 8 && frames.allSatisfy { $0["file"] as? String == cutMKV.path })
        #expect(try FileManager.default.contentsOfDirectory(atPath: saved.path) == ["good.png"])

        let usage = try DetrProcess.run(["predict"] + Self.model + ["--every", "0", good.path])
        #expect(usage.status == 64)
    }
}
