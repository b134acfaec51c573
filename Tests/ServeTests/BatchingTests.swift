import Detection
import Foundation
import NN
import Serving
import TestSupport
import Testing
import Torch
import Vision

/// Micro-batching: concurrent requests run together and each still gets its result alone.
@Suite(.serialized) struct BatchingTests {
    @Test func concurrentRequestsAreBatchedAndEqualPredict() async throws {
        let expected = try ServeHarness.predictLines()
        let server = try await ServeHarness.start { c in
            c.maxBatch = 4
            c.maxWait = .milliseconds(400)
        }
        // Every sample 4 times at once: samples of one padded size share batches.
        let jobs = (0..<4).flatMap { _ in Array(ServeHarness.samples.enumerated()) }
        let replies = try await withThrowingTaskGroup(of: (Int, ServeHarness.Reply).self) { group in
            for (i, url) in jobs {
                group.addTask {
                    (i, try await server.post("/v1/detect?name=\(url.path.queryEncoded)", try Data(contentsOf: url)))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        for (i, reply) in replies {
            #expect(reply.status == 200)
            let got = try Self.detections(reply.body), want = try Self.detections(Data(expected[i].utf8))
            #expect(Self.sameWithinRounding(got, want), "sample \(i + 1):\n\(reply.text)\n\(expected[i])")
        }
        let metrics = try await server.get("/metrics").text
        let count = try #require(ServeHarness.metric("detr_batch_size_count", in: metrics))
        let sum = try #require(ServeHarness.metric("detr_batch_size_sum", in: metrics))
        #expect(sum == Double(jobs.count))
        #expect(count < sum, "no batch had more than one image:\n\(metrics)")
        #expect(ServeHarness.metric("detr_batch_size_bucket{le=\"1.0\"}", in: metrics).map { $0 < count } == true)
        try await server.stop()
    }

    /// The detections of a record: (label, score, box).
    static func detections(_ json: Data) throws -> [DetectedObject] {
        let root = try #require(try JSONSerialization.jsonObject(with: json) as? [String: Any])
        return (root["detections"] as? [[String: Any]] ?? []).map {
            let c = ($0["box"] as! [Double]).map(Float.init)
            return DetectedObject(
                label: $0["label"] as! Int, score: Float($0["score"] as! Double),
                box: PixelBox(x0: c[0], y0: c[1], x1: c[2], y1: c[3]))
        }
    }

    /// The same detections (labels, order, count) with scores and boxes equal to float rounding.
    static func sameWithinRounding(_ a: [DetectedObject], _ b: [DetectedObject]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { x, y in
            x.label == y.label && abs(x.score - y.score) <= 1e-5
                && zip(x.box.corners, y.box.corners).allSatisfy { abs($0 - $1) <= 1e-3 * max(1, abs($1)) }
        }
    }

    /// The engine alone: images of one padded size batched together give the detections each
    /// gives alone, equal to float rounding (batched kernels are not bitwise batch-size
    /// invariant), for Salience DETR (demo model) and Conditional DETR. Reports the largest
    /// differences seen.
    @Test(arguments: ["salience", "conditional"])
    func batchOfOneKeyEqualsAlone(model: String) throws {
        let engine: DetectionEngine
        if model == "salience" {
            engine = try DetectionEngine.load(config: ServeHarness.demoConfig, weights: ServeHarness.demoWeights)
        } else {
            var c = TestSupport.tinyConditionalConfig(numClasses: 4, numQueries: 20, decoderLayers: 2, dropout: 0)
            c.minSize = 128
            c.maxSize = 213
            let store = try ParameterStore(dtype: .float32, device: .cpu)
            Torch.manualSeed(3)
            let detector = try DetectorFactory.make(config: c, store: store)
            engine = DetectionEngine(predictor: Predictor(detector: detector, names: []), configName: "tiny")
        }
        let images = try ServeHarness.samples.map { try Image(contentsOf: $0) }
        // Crops of the samples that resize to one padded size but differ in resized size.
        var prepared = try images.map { try engine.prepare($0) }
        prepared += try images.map { try engine.prepare($0.cropped(width: $0.width - 3, height: $0.height)) }
        prepared += try images.map { try engine.prepare($0) }  // the same image twice in a batch
        let options = DetectionOptions(threshold: 0)
        let alone = try prepared.map { try engine.detect([$0], options: [options])[0] }
        let groups = Dictionary(grouping: prepared.indices) { prepared[$0].batchKey }
        var batched = 0, differing = 0
        var maxScore: Float = 0, maxBox: Float = 0
        for (_, members) in groups {
            for start in stride(from: 0, to: members.count, by: 4) {
                let chunk = Array(members[start..<min(start + 4, members.count)])
                let results = try engine.detect(chunk.map { prepared[$0] }, options: chunk.map { _ in options })
                for (j, i) in chunk.enumerated() {
                    #expect(Self.sameWithinRounding(results[j], alone[i]), "\(model) image \(i)")
                    if results[j] != alone[i] { differing += 1 }
                    for (x, y) in zip(results[j], alone[i]) {
                        maxScore = max(maxScore, abs(x.score - y.score))
                        maxBox = max(maxBox, zip(x.box.corners, y.box.corners).map { abs($0 - $1) }.max() ?? 0)
                    }
                }
                if chunk.count > 1 { batched += 1 }
            }
        }
        #expect(batched > 0)
        print(
            "\(model): \(differing) of \(prepared.count) images not bitwise equal; "
                + "max |d score| \(maxScore), max |d box| \(maxBox) px"
        )
    }
}

extension Image {
    /// The top-left width × height pixels.
    fileprivate func cropped(width w: Int, height h: Int) -> Image {
        var out = Image(width: w, height: h)
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 { out.pixels[(y * w + x) * 3 + c] = pixels[(y * width + x) * 3 + c] }
            }
        }
        return out
    }
}
