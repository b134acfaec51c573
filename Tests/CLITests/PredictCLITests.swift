import Foundation
import TestSupport
import Testing
import Torch
import Vision

/// `detr predict` end to end on the fixture images (preprocessing included).
@Suite(.serialized) struct PredictCLITests {
    static func tempDir() throws -> URL {
        let dir = try TestSupport.temporaryDirectory("predict")
        return dir
    }

    /// Writes the fixture's raw images (`in.image.<i>`, one per batch element) as PNG files;
    /// returns their paths.
    static func fixtureImages(_ ref: StateDict, in dir: URL) throws -> [String] {
        try (0..<TestSupport.imageCount(ref)).map { i in
            let url = dir.appendingPathComponent("image\(i).png")
            try Image(tensor: try #require(ref["in.image.\(i)"])).write(to: url)
            return url.path
        }
    }

    struct Det { var label: Int; var score: Float; var box: [Float] }

    static func parse(_ json: Data) throws -> [[Det]] {
        let root = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        let images = try #require(root["images"] as? [[String: Any]])
        return images.map { img in
            (img["detections"] as? [[String: Any]] ?? []).map {
                Det(
                    label: $0["label"] as! Int, score: Float($0["score"] as! Double),
                    box: ($0["box"] as! [Double]).map(Float.init))
            }
        }
    }

    /// All fixture images in one batch of the fixture's size (Salience DETR's results depend on
    /// the batch's padding), as many detections as the fixture has per image, for every model of
    /// the fixture set (the large-backbone ones included): the official detections as a multiset
    /// (label equal, score within 1e-6, box within 1e-2 px, as the in-process parity tests;
    /// fixtures README quirk 12).
    @Test(
        .needsFixtures,
        arguments: ["conditional_detr", "salience_detr", "salience_detr_swin", "salience_detr_convnext",
            "salience_detr_focalnet"])
    func predictMatchesFixture(dir model: String) throws {
        let fx = try TestSupport.fixtures(model)
        let ref = try Safetensors.read(contentsOf: fx.appendingPathComponent("tiny_eval.safetensors")).tensors
        let count = try TestSupport.imageCount(ref)
        let topK = try #require(ref["post.0.scores"]).size(0)
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let files = try Self.fixtureImages(ref, in: tmp)
        let out = tmp.appendingPathComponent("out.json")
        let r = try DetrProcess.run(
            [
                "predict", "--config", fx.appendingPathComponent("tiny.config.json").path,
                "--weights", fx.appendingPathComponent("tiny.pth").path, "--threshold", "0",
                "--top-k", "\(topK)", "--batch-size", "\(count)", "--output", out.path,
                "--save-dir", tmp.appendingPathComponent("pictures").path,
            ] + files)
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let dets = try Self.parse(try Data(contentsOf: out))
        #expect(dets.count == count)
        for i in 0..<min(count, dets.count) {
            let worst = TestSupport.expectSameDetections(
                DetectionList(scores: dets[i].map(\.score), labels: dets[i].map(\.label), boxes: dets[i].flatMap(\.box)),
                try DetectionList(fixture: ref, image: i), "\(model) image \(i)")
            if ProcessInfo.processInfo.environment["SALIENCE_REPORT"] != nil {
                print("predict \(model) image \(i): max |Δscore| \(worst.score), max |Δbox| \(worst.box) px")
            }
            let picture = try Image(contentsOf: tmp.appendingPathComponent("pictures/image\(i).png"))
            let original = try Image(contentsOf: URL(fileURLWithPath: files[i]))
            #expect(picture.width == original.width && picture.pixels != original.pixels)
        }
    }

    /// Images a pixel or two wide or high (the official resize makes a side of them 0 pixels
    /// and fails): detections for each, alone and batched with an ordinary image, exit 0.
    @Test func veryNarrowImagesGetDetections() throws {
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        var files: [String] = []
        for (h, w) in [(1, 300), (300, 1), (2, 600), (1, 5000), (20000, 1)] {
            let url = tmp.appendingPathComponent("narrow-\(h)x\(w).png")
            try Image(width: w, height: h, pixels: [UInt8](repeating: 128, count: 3 * w * h)).write(to: url)
            files.append(url.path)
        }
        files.append(TestSupport.repoRoot.appendingPathComponent("demo/samples/shapes-1.png").path)
        let demo = ["--config", "demo/shapes-salience.json", "--weights", "demo/shapes-salience.safetensors"].map {
            $0.hasPrefix("demo/") ? TestSupport.repoRoot.appendingPathComponent($0).path : $0
        }
        for batch in ["1", "3"] {
            let out = tmp.appendingPathComponent("out-\(batch).json")
            let r = try DetrProcess.run(
                ["predict"] + demo + ["--threshold", "0", "--batch-size", batch, "-q", "--output", out.path] + files)
            #expect(r.status == 0, "batch \(batch): \(r.stderr)")
            let dets = try Self.parse(try Data(contentsOf: out))
            #expect(dets.count == files.count && dets.allSatisfy { !$0.isEmpty }, "batch \(batch)")
        }
    }

    @Test(.needsFixtures) func badInputsGiveOneLineErrorsAndOthersStillRun() throws {
        let fx = try TestSupport.fixtures("conditional_detr")
        let ref = try Safetensors.read(contentsOf: fx.appendingPathComponent("tiny_eval.safetensors")).tensors
        let tmp = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: tmp) }
        let good = try Self.fixtureImages(ref, in: tmp)[0]
        let corrupt = tmp.appendingPathComponent("corrupt.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3]).write(to: corrupt)
        let missing = tmp.appendingPathComponent("missing.png").path
        let cfg = fx.appendingPathComponent("tiny.config.json").path, w = fx.appendingPathComponent("tiny.pth").path

        let r = try DetrProcess.run(["predict", "--config", cfg, "--weights", w, corrupt.path, good, missing])
        #expect(r.status == 1)
        let errors = r.stderr.split(separator: "\n")
        #expect(errors.count == 2)
        #expect(errors.contains { $0.contains("corrupt.jpg") } && errors.contains { $0.contains("missing.png") })
        let dets = try Self.parse(Data(r.stdout.utf8))
        #expect(dets.count == 1)

        // Weights of the other model.
        let wrong = try TestSupport.fixtures("salience_detr/tiny.pth").path
        let r2 = try DetrProcess.run(["predict", "--config", cfg, "--weights", wrong, good])
        #expect(r2.status != 0)
        #expect(r2.stderr.split(separator: "\n").count == 1 && r2.stderr.contains("do not fit"))

        // A config with an unknown key.
        let badConfig = tmp.appendingPathComponent("bad.json")
        try Data(#"{"architecture": "conditional_detr", "hidden_dims": 64}"#.utf8).write(to: badConfig)
        let r3 = try DetrProcess.run(["predict", "--config", badConfig.path, "--weights", w, good])
        #expect(r3.status != 0)
        #expect(r3.stderr.split(separator: "\n").count == 1 && r3.stderr.contains("hidden_dims"))
    }
}
