import AsyncHTTPClient
import Foundation
import NIOCore
import Serving
import TestSupport
import Testing
import Vision

/// Every way a request can fail gets its status and `{"error": "..."}` naming the problem.
@Suite(.serialized) struct ServeErrorTests {
    static func sample() throws -> Data { try Data(contentsOf: ServeHarness.samples[0]) }

    @Test func badImages() async throws {
        let server = try await ServeHarness.start()
        let png = try Self.sample()
        let jpeg = try Image(data: png).encoded(.jpeg(quality: 90))
        let cases: [(Data, String)] = [
            (Data("hello, not an image".utf8), "is not a JPEG or PNG image"),
            (png.prefix(png.count / 2), "corrupt or truncated PNG"),
            (jpeg.prefix(jpeg.count / 2), "corrupt or truncated JPEG"),
            (png.prefix(20), "corrupt or truncated PNG"),
            (Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00]), "corrupt or truncated JPEG"),
            (Data(), "empty"),
        ]
        for (body, message) in cases {
            let reply = try await server.post("/v1/detect", body)
            #expect(reply.status == 400)
            #expect(reply.headers["content-type"] == "application/json")
            #expect(try reply.errorMessage().contains(message), "\(reply.text)")
        }
        var corrupt = png
        corrupt.replaceSubrange(200..<400, with: Data(repeating: 7, count: 200))
        let reply = try await server.post("/v1/detect", corrupt)
        #expect(reply.status == 400)
        #expect(try reply.errorMessage().contains("PNG"), "\(reply.text)")
        let form = ServeHarness.multipart(field: "picture", filename: "x.png", data: png)
        let noField = try await server.post("/v1/detect", form.body, headers: [("Content-Type", form.contentType)])
        #expect(noField.status == 400)
        #expect(try noField.errorMessage().contains("no field named image"))
        try await server.stop()
    }

    /// A 1x300 PNG (its resized width would be 0 pixels by the official rule) gets detections,
    /// without any key, and the server keeps answering.
    @Test func aVeryNarrowImageGetsDetections() async throws {
        let server = try await ServeHarness.start()
        for (w, h) in [(1, 300), (300, 1), (1, 5000)] {
            let png = try Image(width: w, height: h, pixels: [UInt8](repeating: 90, count: 3 * w * h)).encoded(.png)
            let reply = try await server.post("/v1/detect?threshold=0", png)
            #expect(reply.status == 200, "\(w)x\(h): \(reply.text)")
            #expect((try reply.json()["detections"] as? [Any])?.isEmpty == false, "\(w)x\(h)")
        }
        #expect(try await server.get("/healthz").status == 200)
        #expect(try await server.post("/v1/detect", try Self.sample()).status == 200)
        try await server.stop()
    }

    /// A 30000 x 30000 PNG header (900 MP) is refused from its header: the body is 2 KB.
    @Test func pixelLimitIsCheckedBeforeDecoding() async throws {
        let server = try await ServeHarness.start()
        var bomb = try Self.sample().prefix(2048)
        for (offset, value) in [(16, 30000), (20, 30000)] {
            for k in 0..<4 { bomb[bomb.startIndex + offset + k] = UInt8((value >> (24 - 8 * k)) & 0xFF) }
        }
        let reply = try await server.post("/v1/detect", Data(bomb))
        #expect(reply.status == 400)
        #expect(try reply.errorMessage().contains("30000x30000"), "\(reply.text)")
        #expect(try reply.errorMessage().contains("limit"))
        try await server.stop()
    }

    @Test func bodyOverTheLimitIs413() async throws {
        let server = try await ServeHarness.start { $0.bodyLimit = 1 << 20 }
        let big = Data(repeating: 0x41, count: 3 << 20)
        let reply = try await server.post("/v1/detect", big)
        #expect(reply.status == 413)
        #expect(try reply.errorMessage().contains("limit"))
        // Without a declared length (chunked), the limit holds while the body is read.
        var request = HTTPClientRequest(url: server.base + "/v1/detect")
        request.method = .POST
        let chunks = (0..<24).map { _ in ByteBuffer(repeating: 0x42, count: 128 << 10) }
        request.body = .stream(chunks.async, length: .unknown)
        let response = try await ServeHarness.client.execute(request, timeout: ServeHarness.patience)
        #expect(response.status.code == 413)
        // The server still answers afterwards.
        #expect(try await server.post("/v1/detect", try Self.sample()).status == 200)
        try await server.stop()
    }

    @Test func badQueriesAndPaths() async throws {
        let server = try await ServeHarness.start()
        let png = try Self.sample()
        for query in ["threshold=2", "threshold=abc", "top_k=0", "top_k=x", "draw=maybe"] {
            let reply = try await server.post("/v1/detect?\(query)", png)
            #expect(reply.status == 400, "\(query)")
            #expect(try !reply.errorMessage().isEmpty)
        }
        let missing = try await server.get("/v2/nothing")
        #expect(missing.status == 404)
        #expect(try missing.errorMessage() == "no such endpoint")
        let wrongMethod = try await server.get("/v1/detect")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.headers["allow"] == "POST")
        #expect(try !wrongMethod.errorMessage().isEmpty)
        try await server.stop()
    }

    /// Two requests wait in a queue of two for their batch; the third gets 503 with Retry-After.
    /// The batch's wait (10 s) is the window in which the third request must arrive: it is long
    /// so that a busy machine cannot close it between the queue poll and the third request.
    @Test func fullQueueIs503WithRetryAfter() async throws {
        let server = try await ServeHarness.start { c in
            c.maxBatch = 4
            c.maxWait = .seconds(10)
            c.queueCapacity = 2
        }
        let png = try Self.sample()
        async let first = server.post("/v1/detect", png)
        async let second = server.post("/v1/detect", png)
        try await server.waitForQueueDepth(2)
        let third = try await server.post("/v1/detect", png)
        #expect(third.status == 503)
        #expect(third.headers["retry-after"] == "1")
        #expect(try third.errorMessage().contains("queue is full"))
        #expect(try await first.status == 200)
        #expect(try await second.status == 200)
        let metrics = try await server.get("/metrics").text
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"503\"}", in: metrics) == 1)
        try await server.stop()
    }

    @Test func apiKeyGuardsEverythingButHealthz() async throws {
        let server = try await ServeHarness.start { $0.apiKey = "s3cret-key" }
        let png = try Self.sample()
        #expect(try await server.get("/healthz").status == 200)
        for path in ["/readyz", "/v1/model", "/metrics", "/"] {
            let reply = try await server.get(path)
            #expect(reply.status == 401, "\(path)")
            // The page challenges with Basic (a browser then asks for the key), the API with Bearer.
            #expect(
                reply.headers["www-authenticate"]
                    == (path == "/" ? "Basic realm=\"detr serve\", charset=\"UTF-8\"" : "Bearer"))
            #expect(try reply.errorMessage().contains("API key"))
            #expect(try await server.get(path, headers: [("Authorization", "Bearer wrong-key!")]).status == 401)
            #expect(try await server.get(path, headers: [("Authorization", "Bearer s3cret-key")]).status == 200)
            // Basic credentials carry the key as the password (any user name), as a browser sends them.
            let basic = { (credentials: String) in "Basic " + Data(credentials.utf8).base64EncodedString() }
            #expect(try await server.get(path, headers: [("Authorization", basic("me:s3cret-key"))]).status == 200)
            #expect(try await server.get(path, headers: [("Authorization", basic(":s3cret-key"))]).status == 200)
            #expect(try await server.get(path, headers: [("Authorization", basic("s3cret-key:"))]).status == 401)
            #expect(try await server.get(path, headers: [("Authorization", basic("s3cret-key"))]).status == 401)
            #expect(try await server.get(path, headers: [("Authorization", "Basic !!notbase64")]).status == 401)
            #expect(try await server.get(path, headers: [("Authorization", "Digest s3cret-key")]).status == 401)
        }
        #expect(try await server.post("/v1/detect", png).status == 401)
        #expect(
            try await server.post("/v1/detect", png, headers: [("Authorization", "Bearer s3cret-ke")]).status == 401)
        #expect(
            try await server.post("/v1/detect", png, headers: [("Authorization", "Bearer s3cret-key")]).status == 200)
        try await server.stop()
    }

    @Test func nonLoopbackNeedsAKeyOrInsecure() throws {
        var c = ServerConfiguration()
        c.host = "0.0.0.0"
        #expect(throws: ServerConfiguration.InvalidSetting.self) { try c.validate() }
        c.apiKey = "k"
        try c.validate()
        c.apiKey = nil
        c.insecure = true
        try c.validate()
        for host in ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"] {
            var l = ServerConfiguration()
            l.host = host
            #expect(l.bindsLoopbackOnly, "\(host)")
        }
        for host in ["0.0.0.0", "::", "192.0.2.1", "example.org"] {
            var l = ServerConfiguration()
            l.host = host
            #expect(!l.bindsLoopbackOnly, "\(host)")
        }
    }
}
