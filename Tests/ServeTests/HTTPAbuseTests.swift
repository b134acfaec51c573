import Foundation
import Serving
import TestSupport
import Testing

/// Requests as careless or hostile clients send them, on raw loopback connections: each gets its
/// real status with a JSON error (and is counted under it in /metrics), stalled connections are
/// closed, and afterwards /healthz answers and a normal request equals `detr predict`.
@Suite(.serialized) struct HTTPAbuseTests {
    static func sample() throws -> Data { try Data(contentsOf: ServeHarness.samples[0]) }

    static func post(_ body: Data, extraHeaders: String = "", length: Int? = nil) -> Data {
        var head = "POST /v1/detect HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\nConnection: close\r\n"
        head += "Content-Length: \(length ?? body.count)\r\n\(extraHeaders)\r\n"
        return Data(head.utf8) + body
    }

    /// One raw exchange: what the server answers to `bytes` before it closes the connection.
    static func exchange(_ port: Int, _ bytes: Data, halfClose: Bool = false) async throws -> RawConnection.Response? {
        try await RawConnection.blocking {
            let c = try RawConnection(port: port)
            try c.send(bytes)
            if halfClose { c.halfClose() }
            return RawConnection.Response.final(c.readAll().data)
        }
    }

    /// The request of item 7 of the hardening issue: a client that sends a whole request and then
    /// closes its sending side is answered like any other; a malformed chunked body is 400; an
    /// upload abandoned half-way costs no forward and is counted as cancelled (499).
    @Test func halfCloseChunkedAndAbortedUploads() async throws {
        let server = try await ServeHarness.start()
        let png = try Self.sample()
        let expected = try await server.post("/v1/detect", png)
        #expect(expected.status == 200)

        let halfClosed = try #require(try await Self.exchange(server.port, Self.post(png), halfClose: true))
        #expect(halfClosed.status == 200)
        #expect(String(decoding: halfClosed.body, as: UTF8.self) == expected.text)

        let chunked =
            "POST /v1/detect HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n\r\n"
        let bad = try #require(try await Self.exchange(server.port, Data(chunked.utf8)))
        #expect(bad.status == 400)
        #expect(bad.errorMessage()?.contains("chunked") == true, "\(bad.errorMessage() ?? "")")

        let batchesBefore =
            ServeHarness.metric(
                "detr_batch_size_count", in: try await server.get("/metrics").text) ?? 0
        do {
            let c = try RawConnection(port: server.port)
            try c.send(Self.post(png.prefix(png.count / 2), length: png.count))
        }  // closed here, half-way through the body
        try await server.waitForMetric("detr_cancelled_requests_total", toRead: 1)
        let metrics = try await server.get("/metrics").text
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"499\"}", in: metrics) == 1)
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"400\"}", in: metrics) == 1)
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"500\"}", in: metrics) == nil)
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"503\"}", in: metrics) == nil)
        #expect(ServeHarness.metric("detr_batch_size_count", in: metrics) == batchesBefore)
        try await server.stop()
    }

    /// Item 8: what the HTTP parser refuses gets a JSON 400 counted by reason; HTTP/1.0 closes
    /// after its response; `Expect: 100-continue` is answered before the body is sent; query and
    /// form mistakes are 400; then /healthz answers and a detection equals `detr predict`.
    @Test func parserRejectionsProtocolAndQueries() async throws {
        let expected = try ServeHarness.predictLines()
        let server = try await ServeHarness.start()
        let png = try Self.sample()
        let rejected: [(String, Data)] = [
            ("unknown method", Data("BREW /v1/detect HTTP/1.1\r\nHost: localhost\r\n\r\n".utf8)),
            (
                "TLS hello",
                Data(
                    [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]
                        + [UInt8](repeating: 7, count: 64))
            ),
            ("HTTP/2 preface", Data("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)),
            (
                "1 MB URL",
                Data("GET /healthz?\(String(repeating: "a", count: 1 << 20)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            ),
            (
                "1001 headers",
                Data(
                    ("GET /healthz HTTP/1.1\r\nHost: x\r\n" + (0..<1001).map { "X-\($0): y\r\n" }.joined() + "\r\n")
                        .utf8)
            ),
        ]
        for (what, bytes) in rejected {
            let reply = try #require(try await Self.exchange(server.port, bytes), "\(what)")
            #expect(reply.status == 400, "\(what)")
            #expect(reply.errorMessage()?.hasPrefix("malformed HTTP request") == true, "\(what)")
        }
        var metrics = try await server.get("/metrics").text
        let counted = metrics.split(separator: "\n").filter { $0.hasPrefix("detr_rejected_requests_total{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(counted == Double(rejected.count), "\(metrics)")
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"400\"}", in: metrics) == Double(rejected.count))

        // HTTP/1.0 without keep-alive: the server closes after the response.
        let old = try RawConnection(port: server.port)
        try old.send("GET /healthz HTTP/1.0\r\n\r\n")
        let (oldReply, closed) = try await RawConnection.blocking { old.readAll() }
        #expect(RawConnection.Response(oldReply)?.status == 200)
        #expect(closed)

        // Expect: 100-continue is answered before the body is sent.
        let patient = try RawConnection(port: server.port)
        try patient.send(
            "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Length: \(png.count)\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
        )
        let interim = try await RawConnection.blocking { patient.read(until: "\r\n\r\n") }
        #expect(interim.hasPrefix("HTTP/1.1 100 Continue"), "\(interim)")
        try patient.send(png)
        let final = try await RawConnection.blocking { RawConnection.Response.final(patient.readAll().data) }
        #expect(final?.status == 200)

        // Query and form mistakes.
        for query in ["threshold=0.5&threshold=0.9", "threshold=0.9%00", "color=red", "top_k=1&draw=1&draw=0"] {
            let reply = try await server.post("/v1/detect?\(query)", png)
            #expect(reply.status == 400, "\(query)")
            #expect(try !reply.errorMessage().isEmpty)
        }
        let boundary = "detr-abuse-boundary"
        var doubled = Data()
        for name in ["a.png", "b.png"] {
            doubled += Data(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"image\"; filename=\"\(name)\"\r\n\r\n".utf8)
            doubled += png + Data("\r\n".utf8)
        }
        doubled += Data("--\(boundary)--\r\n".utf8)
        let formType = "multipart/form-data; boundary=\(boundary)"
        let form = try await server.post("/v1/detect", doubled, headers: [("Content-Type", formType)])
        #expect(form.status == 400)
        #expect(try form.errorMessage().contains("more than one field"))

        #expect(try await server.get("/healthz").status == 200)
        let reply = try await server.post(
            "/v1/detect?name=\(ServeHarness.samples[0].path.queryEncoded)", png)
        #expect(reply.text == expected[0])
        metrics = try await server.get("/metrics").text
        #expect(ServeHarness.metric("detr_http_requests_total{status=\"500\"}", in: metrics) == nil)
        try await server.stop()
    }

    /// Item 5: a connection that does not finish its request head within the header timeout is
    /// closed; beyond --max-connections the connection waiting longest for a request head makes
    /// room for the new one, which is answered.
    @Test func stalledConnectionsAndTheConnectionLimit() async throws {
        let server = try await ServeHarness.start { c in
            c.headerTimeout = .seconds(1)
            c.pressureHeaderTimeout = .seconds(1)
        }
        let stalled = try RawConnection(port: server.port)
        try stalled.send("POST /v1/detect HTTP/1.1\r\nHost: loc")
        let (data, closed) = try await RawConnection.blocking { stalled.readAll() }
        #expect(data.isEmpty)
        #expect(closed)
        #expect(try await server.get("/healthz").status == 200)
        let metrics = try await server.get("/metrics").text
        #expect(ServeHarness.metric("detr_timed_out_connections_total", in: metrics) == 1)
        try await server.stop()

        let limited = try await ServeHarness.start { c in
            c.maxConnections = 4
            c.headerTimeout = .seconds(600)
            c.pressureHeaderTimeout = .seconds(600)
        }
        let idle = try (0..<4).map { _ in try RawConnection(port: limited.port) }
        while limited.server.openConnections < 4 { try await Task.sleep(for: .milliseconds(20)) }
        // A fifth connection makes room (the one waiting longest for a request head is closed) and
        // is answered.
        let fifth = try RawConnection(port: limited.port)
        try fifth.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let answer = try await RawConnection.blocking { RawConnection.Response(fifth.readAll().data) }
        #expect(answer?.status == 200)
        // Exactly one of the four waiting connections was closed to make room.
        let evictionDeadline = ContinuousClock.now + .seconds(10)
        while idle.filter(\.closedByPeer).isEmpty && ContinuousClock.now < evictionDeadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(idle.filter(\.closedByPeer).count == 1)
        // The server half-closes after a `Connection: close` response (a lingering close, bounded
        // by the header deadline); the connection is gone once the client closes its side too.
        fifth.close()
        while limited.server.openConnections > 3 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(limited.server.openConnections == 3)
        for connection in idle { connection.close() }
        while limited.server.openConnections > 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(try await limited.get("/healthz").status == 200)
        let limitedMetrics = try await limited.get("/metrics").text
        #expect(ServeHarness.metric("detr_shed_connections_total", in: limitedMetrics) == 1)
        try await limited.stop()
    }
}
