import Foundation
import Serving
import TestSupport
import Testing
import Vision

/// POST /v1/detect answers what `detr predict` writes, byte for byte, for every demo sample.
@Suite(.serialized) struct DetectEndpointTests {
    @Test func rawAndMultipartBodiesEqualPredict() async throws {
        let expected = try ServeHarness.predictLines()
        let server = try await ServeHarness.start()
        for (i, url) in ServeHarness.samples.enumerated() {
            let data = try Data(contentsOf: url)
            let reply: ServeHarness.Reply
            if i % 2 == 0 {
                reply = try await server.post("/v1/detect?name=\(url.path.queryEncoded)", data)
            } else {
                let form = ServeHarness.multipart(field: "image", filename: url.path, data: data)
                reply = try await server.post("/v1/detect", form.body, headers: [("Content-Type", form.contentType)])
            }
            #expect(reply.status == 200, "\(reply.text)")
            #expect(reply.headers["content-type"] == "application/json")
            #expect(reply.text == expected[i])
        }
        try await server.stop()
    }

    @Test func thresholdAndTopKEqualPredict() async throws {
        let expected = try ServeHarness.predictLines(threshold: "0.05", extra: ["--top-k", "3"])
        let server = try await ServeHarness.start()
        let url = ServeHarness.samples[1]
        let reply = try await server.post(
            "/v1/detect?threshold=0.05&top_k=3&name=\(url.path.queryEncoded)", try Data(contentsOf: url))
        #expect(reply.status == 200)
        #expect(reply.text == expected[1])
        try await server.stop()
    }

    @Test func drawAnswersTheAnnotatedPNG() async throws {
        let server = try await ServeHarness.start()
        let url = ServeHarness.samples[0]
        let reply = try await server.post("/v1/detect?draw=1", try Data(contentsOf: url))
        #expect(reply.status == 200)
        #expect(reply.headers["content-type"] == "image/png")
        let drawn = try Image(data: reply.body)
        let original = try Image(contentsOf: url)
        #expect(drawn.width == original.width && drawn.height == original.height)
        #expect(drawn != original)
        try await server.stop()
    }

    @Test func infoEndpoints() async throws {
        let server = try await ServeHarness.start()
        let health = try await server.get("/healthz")
        #expect(health.status == 200)
        #expect(try health.json()["status"] as? String == "ok")
        #expect(try await server.get("/readyz").status == 200)
        let model = try await server.get("/v1/model")
        #expect(model.status == 200)
        let info = try model.json()
        #expect(info["architecture"] as? String == "salience_detr")
        #expect(info["class_names"] as? [String] != nil)
        #expect(info["device"] as? String == "cpu")
        #expect((info["engine"] as? [String: Any])?["libtorch"] != nil)
        #expect((info["config"] as? [String: Any])?["num_queries"] as? Int == 30)
        let page = try await server.get("/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.text.contains("<canvas") && !page.text.contains("http://") && !page.text.contains("https://"))
        _ = try await server.post("/v1/detect", try Data(contentsOf: ServeHarness.samples[0]))
        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain") == true)
        for name in [
            "detr_http_requests_total{status=\"200\"}", "detr_detect_duration_seconds_count", "detr_batch_size_count",
            "detr_queue_depth",
        ] {
            #expect(ServeHarness.metric(name, in: metrics.text) != nil, "\(name) missing in \(metrics.text)")
        }
        try await server.stop()
    }
}
